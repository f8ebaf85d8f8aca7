// SPDX-License-Identifier: MIT
/* The results.csv reader: columns by name, empty = not measured, strict numbers that read the
 * same as strtod (and Python's float), and one clear error for every malformed input. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plot/csvread.h"
#include "sanitized.h"
#include "check_main.h"

static char path[64];

static const char *write_temp(const char *content, size_t len)
{
	int fd;

	strcpy(path, "/tmp/test_csvread.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static struct pp_csv *open_text(const char *text)
{
	struct pp_csv *csv;

	ck_assert_int_eq(pp_csv_open(&csv, write_temp(text, strlen(text))), 0);
	unlink(path);
	return csv;
}

static int open_error(const char *text, size_t len)
{
	struct pp_csv *csv = NULL;
	int err = pp_csv_open(&csv, write_temp(text, len));

	unlink(path);
	pp_csv_close(csv);
	return err;
}

static double cell(struct pp_csv *csv, const char *name)
{
	double v = -1;
	int col = pp_csv_find(csv, name);

	ck_assert_int_ge(col, 0);
	ck_assert_int_eq(pp_csv_double(csv, (size_t)col, &v), 0);
	return v;
}

/* The next row is there and its cell of column name holds v. */
static void expect_row_cell(struct pp_csv *csv, const char *name, double v)
{
	ck_assert_int_eq(pp_csv_next(csv), 1);
	ck_assert_double_eq(cell(csv, name), v);
}

/* The last row was on line lineno, no row follows; closes csv. */
static void expect_end(struct pp_csv *csv, int lineno)
{
	ck_assert_int_eq(pp_csv_lineno(csv), lineno);
	ck_assert_int_eq(pp_csv_next(csv), 0);
	pp_csv_close(csv);
}

START_TEST(test_columns_are_found_by_name)
{
	struct pp_csv *csv = open_text("seq,network_us,rtt_us\n0,1.5,40.25\n1,2.5,41\n");

	ck_assert_int_eq(pp_csv_ncols(csv), 3);
	ck_assert_str_eq(pp_csv_name(csv, 2), "rtt_us");
	ck_assert_int_eq(pp_csv_find(csv, "server_dev_us"), -ENOENT);
	expect_row_cell(csv, "rtt_us", 40.25);
	ck_assert_double_eq(cell(csv, "network_us"), 1.5);
	expect_row_cell(csv, "rtt_us", 41);
	expect_end(csv, 3);
}
END_TEST

START_TEST(test_empty_cell_is_not_measured)
{
	struct pp_csv *csv = open_text("rtt_us,server_app_us,wire_us\n40,,\n");
	double v;

	ck_assert_int_eq(pp_csv_next(csv), 1);
	ck_assert_int_eq(pp_csv_double(csv, 1, &v), -ENODATA);
	ck_assert_int_eq(pp_csv_double(csv, 2, &v), -ENODATA);
	pp_csv_close(csv);
}
END_TEST

START_TEST(test_crlf_blank_lines_and_missing_final_newline)
{
	struct pp_csv *csv = open_text("\r\nrtt_us,wire_us\r\n1.5,2\r\n\r\n\n3,4.25");

	ck_assert_str_eq(pp_csv_name(csv, 1), "wire_us");
	expect_row_cell(csv, "wire_us", 2);
	expect_row_cell(csv, "wire_us", 4.25);
	expect_end(csv, 6);
}
END_TEST

START_TEST(test_row_with_wrong_cell_count_is_an_error)
{
	struct pp_csv *csv = open_text("a,b,c\n1,2,3\n1,2\n");

	ck_assert_int_eq(pp_csv_next(csv), 1);
	ck_assert_int_eq(pp_csv_next(csv), -EBADMSG);
	ck_assert_int_eq(pp_csv_lineno(csv), 3);
	pp_csv_close(csv);

	csv = open_text("a,b\n1,2,3\n");
	ck_assert_int_eq(pp_csv_next(csv), -EBADMSG);
	pp_csv_close(csv);
}
END_TEST

START_TEST(test_bad_files_are_refused_at_open)
{
	struct pp_csv *csv;

	ck_assert_int_eq(open_error("", 0), -ENODATA);
	ck_assert_int_eq(open_error("\n\n", 2), -ENODATA);
	ck_assert_int_eq(open_error("a,,c\n", 5), -EBADMSG);
	ck_assert_int_eq(open_error("a,b,a\n", 6), -EBADMSG);
	ck_assert_int_eq(pp_csv_open(&csv, "/nonexistent/results.csv"), -ENOENT);
	ck_assert_ptr_null(csv);
}
END_TEST

/* Found by t/fuzz/csvread: "\0" read as an empty name, "a\0b" and "a\0c" as the same one. */
START_TEST(test_header_name_with_nul_is_refused)
{
#define OPEN_ERROR(text) open_error(text, sizeof(text) - 1)
	ck_assert_int_eq(OPEN_ERROR("\0\n1\n"), -EBADMSG);
	ck_assert_int_eq(OPEN_ERROR("a\0b,a\0c\n1,2\n"), -EBADMSG);
	ck_assert_int_eq(OPEN_ERROR("rtt_us,x\0\n1,2\n"), -EBADMSG);
#undef OPEN_ERROR
}
END_TEST

/* 100,000 distinct names, then the first one again at the end: found, and quickly (comparing
 * every pair of names took 20 s for a 1 MiB header). */
START_TEST(test_wide_header_is_checked_in_n_log_n)
{
	size_t n = 100000, len = 0, cap = n * 8 + 16;
	char *text = malloc(cap);
	struct pp_csv *csv;
	struct timespec t0, t1;

	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "c%zu,", i);
	text[len - 1] = '\n';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(pp_csv_open(&csv, write_temp(text, len)), 0);
	unlink(path);
	ck_assert_uint_eq(pp_csv_ncols(csv), n);
	ck_assert_int_eq(pp_csv_find(csv, "c99999"), 99999);
	pp_csv_close(csv);
	len += (size_t)snprintf(text + len - 1, cap - len, ",c0\n") - 1;
	ck_assert_int_eq(open_error(text, len), -EBADMSG);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the time is the point here (pairwise took 20 s); timed outside the sanitizers only */
	if (!PP_SANITIZED)
		ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 3);
	free(text);
}
END_TEST

START_TEST(test_overlong_line_is_e2big)
{
	size_t len = PP_CSV_MAX_LINE + 100;
	char *text = malloc(len);
	struct pp_csv *csv;

	memcpy(text, "rtt_us\n", 7);
	memset(text + 7, '1', len - 7);
	ck_assert_int_eq(pp_csv_open(&csv, write_temp(text, len)), 0);
	unlink(path);
	ck_assert_int_eq(pp_csv_next(csv), -E2BIG);
	ck_assert_int_eq(pp_csv_lineno(csv), 2);
	pp_csv_close(csv);
	free(text);
}
END_TEST

/* The buffer starts small and doubles: a line just under the limit still reads whole. */
START_TEST(test_line_just_under_the_limit_reads_whole)
{
	size_t cell = PP_CSV_MAX_LINE - 1, len = 7 + cell + 1 + 9;
	char *text = malloc(len);
	const char *got;
	size_t got_len;
	struct pp_csv *csv;

	memcpy(text, "rtt_us\n", 7);
	memset(text + 7, '1', cell);
	memcpy(text + 7 + cell, "\n2.500\n\n\n\n", 10);
	ck_assert_int_eq(pp_csv_open(&csv, write_temp(text, len)), 0);
	unlink(path);
	ck_assert_int_eq(pp_csv_next(csv), 1);
	got = pp_csv_cell(csv, 0, &got_len);
	ck_assert_uint_eq(got_len, cell);
	ck_assert(got[0] == '1' && got[cell - 1] == '1');
	ck_assert_int_eq(pp_csv_next(csv), 1);
	got = pp_csv_cell(csv, 0, &got_len);
	ck_assert_uint_eq(got_len, 5);
	ck_assert(memcmp(got, "2.500", 5) == 0);
	ck_assert_int_eq(pp_csv_next(csv), 0);
	pp_csv_close(csv);
	free(text);
}
END_TEST

START_TEST(test_many_rows_across_buffer_refills)
{
	size_t rows = 300000, seen = 0;
	FILE *f;
	struct pp_csv *csv;
	strcpy(path, "/tmp/test_csvread.XXXXXX");
	f = fdopen(mkstemp(path), "w");
	fputs("seq,rtt_us\n", f);
	for (size_t i = 0; i < rows; i++)
		fprintf(f, "%zu,%zu.%03zu\n", i, i % 1000, i % 7);
	fclose(f);
	ck_assert_int_eq(pp_csv_open(&csv, path), 0);
	unlink(path);
	while (pp_csv_next(csv) == 1) {
		double v;

		ck_assert_int_eq(pp_csv_double(csv, 1, &v), 0);
		ck_assert_double_eq(v, (double)(seen % 1000) + (double)(seen % 7) / 1000);
		seen++;
	}
	ck_assert_int_eq(seen, rows);
	ck_assert_int_eq(pp_csv_lineno(csv), rows + 1);
	pp_csv_close(csv);
}
END_TEST

static int parse(const char *s, double *v)
{
	return pp_parse_double(s, strlen(s), v);
}

START_TEST(test_number_grammar)
{
	static const char *const good[] = {
		"0", "12", "12.5", "-3.25", "+7", "5.", ".5", "-.5", "1e3", "1E-3", "2.5e+2", "000123.000",
		"123456789012345", "1234567890123456789012", "0.0000000000000000000001",
	};
	static const char *const bad[] = {
		"nan", "NaN", "inf", "-inf", "Infinity", "abc", "1.2.3", "1e", "e5", "--1", "+-1", "-", "+", ".",
		" 5", "5 ", "0x10", "1_000", "1,5", "\"5\"", "12us",
	};
	double v;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		ck_assert_msg(parse(good[i], &v) == 0, "'%s' should parse", good[i]);
		ck_assert_msg(v == strtod(good[i], NULL), "'%s' should read as strtod does", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(parse(bad[i], &v) == -EINVAL, "'%s' should be refused", bad[i]);
	ck_assert_int_eq(parse("1e999", &v), -ERANGE);
	ck_assert_int_eq(parse("-1e400", &v), -ERANGE);
	ck_assert_int_eq(parse("", &v), -ENODATA);
	ck_assert_int_eq(pp_parse_double("12\0" "3", 4, &v), -EINVAL);
}
END_TEST

START_TEST(test_negative_zero_reads_as_zero)
{
	double v;

	ck_assert_int_eq(parse("-0.000", &v), 0);
	ck_assert(v == 0 && !signbit(v));
	ck_assert_int_eq(parse("-0e5", &v), 0);
	ck_assert(!signbit(v));
}
END_TEST

/* The fast path must give strtod's bits exactly, or the two plot backends could disagree. */
START_TEST(test_fast_path_matches_strtod_bit_for_bit)
{
	uint64_t state = 88172645463325252ull;
	char text[40];

	for (int i = 0; i < 200000; i++) {
		double fast, slow;
		uint64_t digits;
		int frac;

		state ^= state << 13, state ^= state >> 7, state ^= state << 17;
		digits = state % 1000000000000000ull >> (state >> 60);
		frac = (int)((state >> 50) % 16);
		snprintf(text, sizeof(text), "%s%llu", (state >> 40) & 1 ? "-" : "", (unsigned long long)digits);
		if (frac > 0 && strlen(text) > (size_t)frac + 1) {
			size_t len = strlen(text);

			memmove(text + len - frac + 1, text + len - frac, (size_t)frac + 1);
			text[len - frac] = '.';
		}
		ck_assert_int_eq(parse(text, &fast), 0);
		slow = strtod(text, NULL) + 0.0;
		ck_assert_msg(memcmp(&fast, &slow, sizeof(fast)) == 0, "'%s': %.17g vs %.17g", text, fast, slow);
	}
}
END_TEST

PP_CHECK_TESTS("csvread", 60,
	       test_columns_are_found_by_name,
	       test_empty_cell_is_not_measured,
	       test_crlf_blank_lines_and_missing_final_newline,
	       test_row_with_wrong_cell_count_is_an_error,
	       test_bad_files_are_refused_at_open,
	       test_header_name_with_nul_is_refused,
	       test_wide_header_is_checked_in_n_log_n,
	       test_overlong_line_is_e2big,
	       test_line_just_under_the_limit_reads_whole,
	       test_many_rows_across_buffer_refills,
	       test_number_grammar,
	       test_negative_zero_reads_as_zero,
	       test_fast_path_matches_strtod_bit_for_bit)
