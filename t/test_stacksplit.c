// SPDX-License-Identifier: MIT
/* The stacked view's RTT split: parts come from whole exchanges, so each bar adds up. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "plot/stacksplit.h"
#include "common/stats.h"
#include "check_main.h"

#define ROWS 20000

static double rtt[ROWS], cs[ROWS], net[ROWS], ss[ROWS], app[ROWS];
static const double *const parts[PP_STACK_PARTS] = { cs, net, ss, app };

/* Row r: parts grow with r, the slow rows are slow in the network only. */
static void make_rows(void)
{
	for (int r = 0; r < ROWS; r++) {
		cs[r] = 10 + (r % 100) / 100.0;
		ss[r] = 8 + (r % 50) / 50.0;
		app[r] = 3;
		net[r] = r % 500 == 499 ? 500 + r / 100.0 : 20 + (r % 37) / 37.0;
		rtt[r] = cs[r] + net[r] + ss[r] + app[r];
	}
}

START_TEST(test_split_parts_sum_to_their_rtt)
{
	double pct[] = { 50, 90, 99, 99.9 };
	struct pp_stack_bar bar[4];

	make_rows();
	ck_assert_int_eq(pp_stack_split(rtt, parts, ROWS, pct, 4, bar), 0);
	for (int i = 0; i < 4; i++) {
		double sum = 0;

		for (int p = 0; p < PP_STACK_PARTS; p++)
			sum += bar[i].part_us[p];
		ck_assert_double_eq_tol(sum, bar[i].rtt_mean_us, 1e-9);
		ck_assert_double_eq(bar[i].pct, pct[i]);
	}
	ck_assert_uint_eq(bar[0].rows, 20);
	ck_assert_uint_eq(bar[3].rows, 2); /* a tenth of the 20 rows beyond p99.9 */
	ck_assert_double_eq_tol(bar[0].part_us[3], 3, 1e-12);
	ck_assert(bar[3].part_us[1] > 400); /* the slow rows are slow in the network */
	ck_assert(bar[0].part_us[1] < 22);
}
END_TEST

START_TEST(test_bar_is_near_its_percentile)
{
	double pct[] = { 10, 50, 99, 99.9 }, sorted[ROWS];
	struct pp_stack_bar bar[4];

	make_rows();
	for (int r = 0; r < ROWS; r++)
		sorted[r] = rtt[r];
	pp_sort_doubles(sorted, ROWS);
	ck_assert_int_eq(pp_stack_split(rtt, parts, ROWS, pct, 4, bar), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_double_eq(bar[i].rtt_us, pp_percentile(sorted, ROWS, pct[i]));
		ck_assert_double_eq_tol(bar[i].rtt_mean_us, bar[i].rtt_us, bar[i].rtt_us * 0.02);
	}
}
END_TEST

START_TEST(test_incomplete_rows_are_left_out)
{
	double pct[] = { 50 };
	struct pp_stack_bar bar;

	make_rows();
	for (int r = 0; r < ROWS; r += 2)
		ss[r] = NAN;
	ck_assert_int_eq(pp_stack_split(rtt, parts, ROWS, pct, 1, &bar), 0);
	ck_assert(!isnan(bar.part_us[2]));
	ck_assert_uint_eq(bar.rows, 10);
	for (int r = 0; r < ROWS; r++)
		ss[r] = NAN;
	ck_assert_int_eq(pp_stack_split(rtt, parts, ROWS, pct, 1, &bar), -ENODATA);
}
END_TEST

START_TEST(test_window_size)
{
	ck_assert_uint_eq(pp_stack_window(1000000, 50), 100);
	ck_assert_uint_eq(pp_stack_window(1000000, 99.9), 100);
	ck_assert_uint_eq(pp_stack_window(1000000, 99.99), 10);
	ck_assert_uint_eq(pp_stack_window(5000, 50), 5);
	ck_assert_uint_eq(pp_stack_window(5000, 99.9), 1);
	ck_assert_uint_eq(pp_stack_window(1, 100), 1);
}
END_TEST

PP_CHECK_TESTS("stacksplit", 0,
	       test_split_parts_sum_to_their_rtt,
	       test_bar_is_near_its_percentile,
	       test_incomplete_rows_are_left_out,
	       test_window_size)
