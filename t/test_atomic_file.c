// SPDX-License-Identifier: MIT
/* The output file that appears whole or not at all (common/atomic_file.h): written through its
 * fd, or by name by another program (gnuplot) and then checked non-empty. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "check_main.h"

static char dir[] = "/tmp/test_atomic_file.XXXXXX";
static char target[64];

static void make_dir(const char *name)
{
	strcpy(dir, "/tmp/test_atomic_file.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(target, sizeof(target), "%s/%s", dir, name);
}

START_TEST(test_written_file_appears_only_at_commit)
{
	struct pp_atomic_file f;
	struct stat st;

	make_dir("results.csv");
	ck_assert_int_eq(pp_atomic_open(&f, target), 0);
	ck_assert_int_eq(pp_atomic_write(&f, "seq\n0\n", 6), 0);
	ck_assert_int_ne(access(target, F_OK), 0);
	ck_assert_int_eq(pp_atomic_commit(&f), 0);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, 6);
	unlink(target);
	ck_assert_int_eq(rmdir(dir), 0); /* the temporary file is gone */
}
END_TEST

START_TEST(test_commit_by_name_renames_into_place)
{
	struct pp_atomic_file f;
	struct stat st;
	FILE *out;

	make_dir("plot.png");
	ck_assert_int_eq(pp_atomic_open(&f, target), 0);
	ck_assert_int_ne(access(target, F_OK), 0);
	out = fopen(f.tmp_path, "w"); /* as gnuplot does */
	ck_assert_ptr_nonnull(out);
	fputs("image", out);
	fclose(out);
	ck_assert_int_eq(pp_atomic_commit_nonempty(&f), 0);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, 5);
	ck_assert_int_eq(st.st_mode & 0777, 0666 & ~umask(022));
	unlink(target);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_empty_or_aborted_leaves_nothing)
{
	struct pp_atomic_file f;

	make_dir("plot.svg");
	ck_assert_int_eq(pp_atomic_open(&f, target), 0);
	ck_assert_int_eq(pp_atomic_commit_nonempty(&f), -ENODATA);
	pp_atomic_abort(&f); /* safe to repeat */
	ck_assert_int_eq(pp_atomic_open(&f, target), 0);
	ck_assert_int_eq(pp_atomic_write(&f, "x", 1), 0);
	pp_atomic_abort(&f);
	ck_assert_int_eq(rmdir(dir), 0); /* empty: no temporary file, no output */
	ck_assert_int_eq(pp_atomic_open(&f, "/nonexistent/dir/plot.png"), -ENOENT);
}
END_TEST

PP_CHECK_TESTS("atomic_file", 0,
	       test_written_file_appears_only_at_commit,
	       test_commit_by_name_renames_into_place,
	       test_empty_or_aborted_leaves_nothing)
