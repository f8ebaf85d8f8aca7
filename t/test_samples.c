// SPDX-License-Identifier: MIT
/* Loading latency components from results.csv. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot/samples.h"
#include "check_main.h"

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

/* text loads, with this many rows and as many rtt samples. */
static void expect_rtt_rows(const char *text, size_t rows)
{
	enum pp_component comps[] = { PP_RTT };
	struct pp_samples s;
	struct pp_samples_error err;

	ck_assert_int_eq(load(text, comps, 1, false, &s, &err), 0);
	ck_assert_uint_eq(s.rows, rows);
	ck_assert_uint_eq(s.col[0].n, rows);
	pp_samples_free(&s);
}

START_TEST(test_text_in_an_unused_column_is_ignored)
{
	expect_rtt_rows("host,rtt_us\nalpha,1\nbeta,2\n", 2);
}
END_TEST

START_TEST(test_header_only_has_no_rows)
{
	expect_rtt_rows("seq,rtt_us\n", 0);
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

PP_CHECK_TESTS("samples", 0,
	       test_components_load_by_name_in_any_order,
	       test_missing_column_is_absent_unless_required,
	       test_bad_cell_names_line_column_and_text,
	       test_text_in_an_unused_column_is_ignored,
	       test_header_only_has_no_rows,
	       test_component_names)
