// SPDX-License-Identifier: MIT
/* The percentile table and the CDF's quantile grid: what both plot backends print and draw. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/quantiles.h"
#include "common/stats.h"
#include "check_main.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

START_TEST(test_radix_sort_matches_qsort)
{
	size_t sizes[] = { 0, 1, 5, 2047, 2048, 100000 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++) {
		size_t n = sizes[s];
		double *a = malloc((n + 1) * sizeof(*a)), *b = malloc((n + 1) * sizeof(*b));

		for (size_t i = 0; i < n; i++) {
			uint64_t r = next_random();

			switch (r % 5) {
			case 0: a[i] = (double)(r >> 40) / 1000; break;          /* typical latencies */
			case 1: a[i] = -(double)(r >> 44) / 1000; break;         /* negative (clock trouble) */
			case 2: a[i] = (double)(r % 7); break;                   /* many duplicates, zero */
			case 3: a[i] = ldexp((double)(r >> 11), -1074 - 53 + 60); break; /* tiny, denormal */
			default: a[i] = ldexp((double)(r >> 11), (int)(r % 200) - 100); break; /* wide range */
			}
			b[i] = a[i];
		}
		pp_sort_doubles(a, n);
		pp_sort_doubles_radix(b, n);
		ck_assert_msg(n == 0 || memcmp(a, b, n * sizeof(*a)) == 0, "n=%zu differs", n);
		free(a);
		free(b);
	}
}
END_TEST

START_TEST(test_parse_percentiles_lists)
{
	double pct[PP_MAX_PERCENTILES];
	size_t n = 0;

	ck_assert_int_eq(pp_parse_percentiles("50,90,99,99.9", pct, &n), 0);
	ck_assert_int_eq(n, 4);
	ck_assert_double_eq(pct[3], 99.9);
	ck_assert_int_eq(pp_parse_percentiles(" 0  100\t", pct, &n), 0);
	ck_assert_int_eq(n, 6);
	ck_assert_double_eq(pct[5], 100);
	n = 0;
	ck_assert_int_eq(pp_parse_percentiles("101", pct, &n), -EINVAL);
	ck_assert_int_eq(pp_parse_percentiles("-1", pct, &n), -EINVAL);
	ck_assert_int_eq(pp_parse_percentiles("p99", pct, &n), -EINVAL);
	ck_assert_int_eq(pp_parse_percentiles("nan", pct, &n), -EINVAL);
	ck_assert_int_eq(pp_parse_percentiles("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", pct, &n), -E2BIG);
}
END_TEST

static char *table_row(const double *x, size_t n, const double *pct, size_t npct)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pp_table_row(f, "rtt", x, n, pct, npct);
	fclose(f);
	return buf;
}

START_TEST(test_table_has_fixed_columns_and_rounding)
{
	double x[] = { 10, 20, 30, 40.0005 }, pct[] = { 50, 90, 99.9 };
	char *buf = NULL, *row;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pp_table_header(f, pct, 3);
	fclose(f);
	ck_assert_str_eq(buf, "component         count        p50        p90      p99.9        max       mean  (us)\n");
	free(buf);
	row = table_row(x, 4, pct, 3);
	/* p50: h = 1.5 -> 25; p90: h = 2.7 -> 30 + 0.7 * 10.0005; mean 25.000125 */
	ck_assert_str_eq(row, "rtt                   4     25.000     37.000     39.970     40.001     25.000\n");
	free(row);
}
END_TEST

START_TEST(test_table_values_are_the_shared_percentile)
{
	double x[1000], pct[] = { 0, 12.5, 50, 99, 99.9, 100 };
	char expect[256], *row;
	int off;

	for (int i = 0; i < 1000; i++)
		x[i] = (double)((i * 7919) % 1000) / 7.0;
	pp_sort_doubles(x, 1000);
	off = snprintf(expect, sizeof(expect), "%-13s %9d", "rtt", 1000);
	for (int k = 0; k < 6; k++)
		off += snprintf(expect + off, sizeof(expect) - (size_t)off, " %10.3f", pp_percentile(x, 1000, pct[k]));
	snprintf(expect + off, sizeof(expect) - (size_t)off, " %10.3f %10.3f\n", x[999], pp_mean(x, 1000));
	row = table_row(x, 1000, pct, 6);
	ck_assert_str_eq(row, expect);
	free(row);
}
END_TEST

START_TEST(test_grid_is_dense_in_the_tail)
{
	double grid[PP_GRID_MAX];
	size_t n = pp_quantile_grid(grid, PP_GRID_MAX, 1000000), tail_99_999 = 0;

	ck_assert_double_eq(grid[0], 0);
	ck_assert_double_eq(grid[n - 1], 100);
	ck_assert_uint_ge(n, 500);
	ck_assert_uint_le(n, 1000);
	for (size_t i = 1; i < n; i++) {
		ck_assert(grid[i] > grid[i - 1]);
		tail_99_999 += grid[i] >= 99 && grid[i] < 99.9;
	}
	ck_assert_uint_eq(tail_99_999, 100); /* as many points in the 99..99.9 decade as in 0..25% */
	ck_assert_uint_lt(pp_quantile_grid(grid, PP_GRID_MAX, 100), n);
	ck_assert_uint_le(pp_quantile_grid(grid, PP_GRID_MAX, 1000000000000ull), PP_GRID_MAX);
	ck_assert_uint_eq(pp_quantile_grid(grid, 10, 1000), 10);
}
END_TEST

START_TEST(test_nines_axis)
{
	ck_assert_double_eq_tol(pp_nines(90, 10000), 1, 1e-12);
	ck_assert_double_eq_tol(pp_nines(99.9, 10000), 3, 1e-12);
	ck_assert_double_eq_tol(pp_nines(0, 10000), 0, 1e-12);
	ck_assert_double_eq_tol(pp_nines(100, 10000), 4, 1e-12);
	ck_assert_double_eq_tol(pp_nines(99.999, 1000), 3, 1e-12); /* capped at the sample's resolution */
	ck_assert_double_eq(pp_nines_top(3), 1);
}
END_TEST

PP_CHECK_TESTS("quantiles", 0,
	       test_radix_sort_matches_qsort,
	       test_parse_percentiles_lists,
	       test_table_has_fixed_columns_and_rounding,
	       test_table_values_are_the_shared_percentile,
	       test_grid_is_dense_in_the_tail,
	       test_nines_axis)
