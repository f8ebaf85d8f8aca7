/* Loading latency components from results.csv, and the output file that appears whole or not
 * at all. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"
#include "plot/samples.h"

static char path[64];

static const char *write_temp(const char *text)
{
	int fd;

	strcpy(path, "/tmp/test_samples.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load(const char *text, const enum pp_component *comps, size_t n, bool required,
		struct pp_samples *s, struct pp_samples_error *err)
{
	int ret = pp_samples_load(s, write_temp(text), comps, n, required, err);

	unlink(path);
	return ret;
}

static const char csv[] =
	"seq,rtt_us,server_app_us,retransmitted,network_us\n"
	"0,50.5,3,0,20\n"
	"1,40,,0,21.5\n"
	"2,60,2.5,1,\n";

START_TEST(test_components_load_by_name_in_any_order)
{
	enum pp_component comps[] = { PP_NETWORK, PP_RTT, PP_SERVER_APP };
	struct pp_samples s;
	struct pp_samples_error err;

	ck_assert_int_eq(load(csv, comps, 3, true, &s, &err), 0);
	ck_assert_uint_eq(s.rows, 3);
	ck_assert_uint_eq(s.col[0].n, 2);
	ck_assert_uint_eq(s.col[1].n, 3);
	ck_assert_double_eq(s.col[1].v[0], 50.5);
	ck_assert(isnan(s.col[2].v[1]));
	pp_samples_sort(&s);
	ck_assert_double_eq(s.col[1].v[0], 40);
	ck_assert_double_eq(s.col[1].v[2], 60);
	ck_assert_double_eq(s.col[2].v[0], 2.5);
	ck_assert_double_eq(s.col[2].v[1], 3);
	pp_samples_free(&s);
}
END_TEST

START_TEST(test_missing_column_is_absent_unless_required)
{
	enum pp_component comps[] = { PP_RTT, PP_WIRE };
	struct pp_samples s;
	struct pp_samples_error err;

	ck_assert_int_eq(load(csv, comps, 2, false, &s, &err), 0);
	ck_assert(!s.col[1].in_header);
	ck_assert_uint_eq(s.col[1].n, 0);
	pp_samples_free(&s);
	ck_assert_int_eq(load(csv, comps, 2, true, &s, &err), -ENOENT);
	ck_assert_str_eq(err.column, "wire_us");
}
END_TEST

START_TEST(test_bad_cell_names_line_column_and_text)
{
	enum pp_component comps[] = { PP_RTT };
	struct pp_samples s;
	struct pp_samples_error err;

	ck_assert_int_eq(load("seq,rtt_us\n0,1\n1,fast\n", comps, 1, false, &s, &err), -EINVAL);
	ck_assert_uint_eq(err.line, 3);
	ck_assert_str_eq(err.column, "rtt_us");
	ck_assert_str_eq(err.cell, "fast");
	ck_assert_int_eq(load("rtt_us\n1\nNaN\n", comps, 1, false, &s, &err), -EINVAL);
	ck_assert_int_eq(load("rtt_us\n1e999\n", comps, 1, false, &s, &err), -ERANGE);
	ck_assert_int_eq(load("seq,rtt_us\n0,1,2\n", comps, 1, false, &s, &err), -EBADMSG);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_int_eq(load("", comps, 1, false, &s, &err), -ENODATA);
}
END_TEST

START_TEST(test_text_in_an_unused_column_is_ignored)
{
	enum pp_component comps[] = { PP_RTT };
	struct pp_samples s;
	struct pp_samples_error err;

	ck_assert_int_eq(load("host,rtt_us\nalpha,1\nbeta,2\n", comps, 1, false, &s, &err), 0);
	ck_assert_uint_eq(s.col[0].n, 2);
	pp_samples_free(&s);
}
END_TEST

START_TEST(test_header_only_has_no_rows)
{
	enum pp_component comps[] = { PP_RTT };
	struct pp_samples s;
	struct pp_samples_error err;

	ck_assert_int_eq(load("seq,rtt_us\n", comps, 1, false, &s, &err), 0);
	ck_assert_uint_eq(s.rows, 0);
	pp_samples_free(&s);
}
END_TEST

START_TEST(test_component_names)
{
	ck_assert_int_eq(pp_component_by_name("rtt"), PP_RTT);
	ck_assert_int_eq(pp_component_by_name("server_dev_us"), PP_SERVER_DEV);
	ck_assert_int_eq(pp_component_by_name("rtt_app"), PP_RTT_APP);
	ck_assert_int_eq(pp_component_by_name("latency"), -ENOENT);
	ck_assert_int_eq(pp_component_by_name("_us"), -ENOENT);
}
END_TEST

START_TEST(test_outfile_commit_renames_into_place)
{
	struct pp_outfile out;
	char target[] = "/tmp/test_outfile.XXXXXX", final[64];
	struct stat st;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(target));
	snprintf(final, sizeof(final), "%s/plot.png", target);
	ck_assert_int_eq(pp_outfile_begin(&out, final), 0);
	ck_assert_int_ne(access(final, F_OK), 0);
	f = fopen(out.tmp, "w");
	fputs("image", f);
	fclose(f);
	ck_assert_int_eq(pp_outfile_commit(&out), 0);
	ck_assert_int_eq(stat(final, &st), 0);
	ck_assert_int_eq(st.st_size, 5);
	ck_assert_int_eq(st.st_mode & 0777, 0666 & ~umask(022));
	unlink(final);
	rmdir(target);
}
END_TEST

START_TEST(test_outfile_empty_or_aborted_leaves_nothing)
{
	struct pp_outfile out;
	char target[] = "/tmp/test_outfile.XXXXXX", final[64];

	ck_assert_ptr_nonnull(mkdtemp(target));
	snprintf(final, sizeof(final), "%s/plot.svg", target);
	ck_assert_int_eq(pp_outfile_begin(&out, final), 0);
	ck_assert_int_eq(pp_outfile_commit(&out), -ENODATA);
	ck_assert_int_eq(pp_outfile_begin(&out, final), 0);
	pp_outfile_abort(&out);
	ck_assert_int_eq(rmdir(target), 0); /* empty: no temporary file, no output */
	ck_assert_int_eq(pp_outfile_begin(&out, "/nonexistent/dir/plot.png"), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("samples");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_components_load_by_name_in_any_order);
	tcase_add_test(tc, test_missing_column_is_absent_unless_required);
	tcase_add_test(tc, test_bad_cell_names_line_column_and_text);
	tcase_add_test(tc, test_text_in_an_unused_column_is_ignored);
	tcase_add_test(tc, test_header_only_has_no_rows);
	tcase_add_test(tc, test_component_names);
	tcase_add_test(tc, test_outfile_commit_renames_into_place);
	tcase_add_test(tc, test_outfile_empty_or_aborted_leaves_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
