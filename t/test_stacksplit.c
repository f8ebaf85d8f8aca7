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
static const double *const parts[4] = { cs, net, ss, app };
/* --sched parts: proc, wakeup, idle, return per host (client, server), as split.c makes them */
static double sched[2][4][ROWS];

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

/* Rows with each host's stack in its --sched parts: proc + wakeup + return = stack, idle a part
 * of the wake-up; the slow client rows are slow in leaving idle. */
static void make_sched_rows(void)
{
	make_rows();
	for (int r = 0; r < ROWS; r++) {
		for (int h = 0; h < 2; h++) {
			double stack = h ? ss[r] : cs[r], proc = 4 + (r % 7) / 7.0, ret = 2.5;

			sched[h][0][r] = proc;
			sched[h][1][r] = stack - proc - ret;
			sched[h][2][r] = sched[h][1][r] * (r % 3) / 4;
			sched[h][3][r] = ret;
		}
		if (r % 500 == 250) {
			sched[0][1][r] += 300;
			sched[0][2][r] += 290;
			cs[r] += 300;
			rtt[r] += 300;
		}
	}
}

/* The component columns pp_stack_parts_choose reads; sched_hosts: 0 none, 1 client, 2 both. */
static void sched_cols(const double *col[PP_NCOMPONENTS], int sched_hosts)
{
	static const enum pp_component first[2] = { PP_CLIENT_PROC, PP_SERVER_PROC };

	for (int c = 0; c < PP_NCOMPONENTS; c++)
		col[c] = NULL;
	col[PP_RTT] = rtt;
	col[PP_CLIENT_STACK] = cs;
	col[PP_NETWORK] = net;
	col[PP_SERVER_STACK] = ss;
	col[PP_SERVER_APP] = app;
	for (int h = 0; h < sched_hosts; h++)
		for (int k = 0; k < 4; k++)
			col[first[h] + k] = sched[h][k];
}

static double bar_sum(const struct pp_stack_bar *bar)
{
	double sum = 0;

	for (size_t p = 0; p < bar->nparts; p++)
		sum += bar->part_us[p];
	return sum;
}

START_TEST(test_split_parts_sum_to_their_rtt)
{
	double pct[] = { 50, 90, 99, 99.9 };
	struct pp_stack_bar bar[4];

	make_rows();
	ck_assert_int_eq(pp_stack_split(rtt, parts, 4, ROWS, pct, 4, bar), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(bar[i].nparts, 4);
		ck_assert_double_eq_tol(bar_sum(&bar[i]), bar[i].rtt_mean_us, 1e-9);
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
	ck_assert_int_eq(pp_stack_split(rtt, parts, 4, ROWS, pct, 4, bar), 0);
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
	ck_assert_int_eq(pp_stack_split(rtt, parts, 4, ROWS, pct, 1, &bar), 0);
	ck_assert(!isnan(bar.part_us[2]));
	ck_assert_uint_eq(bar.rows, 10);
	for (int r = 0; r < ROWS; r++)
		ss[r] = NAN;
	ck_assert_int_eq(pp_stack_split(rtt, parts, 4, ROWS, pct, 1, &bar), -ENODATA);
}
END_TEST

START_TEST(test_part_count_is_checked)
{
	const double *const none[1] = { NULL };
	const double *many[PP_STACK_PARTS_MAX + 1];
	double pct[] = { 50 };
	struct pp_stack_bar bar;

	make_rows();
	for (int p = 0; p <= PP_STACK_PARTS_MAX; p++)
		many[p] = cs;
	ck_assert_int_eq(pp_stack_split(rtt, parts, 0, ROWS, pct, 1, &bar), -EINVAL);
	ck_assert_int_eq(pp_stack_split(rtt, many, PP_STACK_PARTS_MAX + 1, ROWS, pct, 1, &bar), -EINVAL);
	ck_assert_int_eq(pp_stack_split(rtt, none, 1, ROWS, pct, 1, &bar), -ENODATA);
}
END_TEST

/* Without the --sched columns, or with them empty, the bars are the four of before --sched. */
START_TEST(test_without_sched_parts_four_bars)
{
	static const enum pp_stack_part four[] = {
		PP_PART_CLIENT_STACK, PP_PART_NETWORK, PP_PART_SERVER_STACK, PP_PART_SERVER_APP,
	};
	double pct[] = { 50, 90, 99, 99.9 };
	struct pp_stack_bar want[4], bar[4];
	const double *col[PP_NCOMPONENTS];
	struct pp_stack_parts sp;

	make_sched_rows();
	ck_assert_int_eq(pp_stack_split(rtt, parts, 4, ROWS, pct, 4, want), 0);
	for (int empty = 0; empty < 2; empty++) {
		sched_cols(col, empty ? 2 : 0);
		for (int h = 0; empty && h < 2; h++)
			for (int r = 0; r < ROWS; r++)
				sched[h][0][r] = NAN; /* proc never measured: the host has no parts */
		ck_assert_int_eq(pp_stack_parts_choose(&sp, col, ROWS), 0);
		ck_assert_uint_eq(sp.n, 4);
		ck_assert(!sp.split[0] && !sp.split[1]);
		for (int p = 0; p < 4; p++) {
			ck_assert_int_eq(sp.part[p], four[p]);
			ck_assert_ptr_eq(sp.v[p], parts[p]);
		}
		ck_assert_int_eq(pp_stack_split(rtt, sp.v, sp.n, ROWS, pct, 4, bar), 0);
		for (int i = 0; i < 4; i++) {
			ck_assert_uint_eq(bar[i].rows, want[i].rows);
			for (int p = 0; p < 4; p++)
				ck_assert_double_eq(bar[i].part_us[p], want[i].part_us[p]);
		}
		pp_stack_parts_free(&sp);
	}
}
END_TEST

/* With the --sched parts each bar has ten parts that add up to its rows' RTT, the wait and the
 * idle exit add up to the wake-up, and the slow client rows show as leaving idle. */
START_TEST(test_sched_parts_sum_to_rtt)
{
	static const enum pp_stack_part ten[] = {
		PP_PART_CLIENT_PROC, PP_PART_CLIENT_WAIT, PP_PART_CLIENT_IDLE, PP_PART_CLIENT_RETURN,
		PP_PART_NETWORK,
		PP_PART_SERVER_PROC, PP_PART_SERVER_WAIT, PP_PART_SERVER_IDLE, PP_PART_SERVER_RETURN,
		PP_PART_SERVER_APP,
	};
	double pct[] = { 50, 90, 99, 99.7, 99.99 };
	struct pp_stack_bar bar[5], whole[5];
	const double *col[PP_NCOMPONENTS];
	struct pp_stack_parts sp;

	make_sched_rows();
	sched_cols(col, 2);
	ck_assert_int_eq(pp_stack_parts_choose(&sp, col, ROWS), 0);
	ck_assert_uint_eq(sp.n, 10);
	ck_assert(sp.split[0] && sp.split[1]);
	for (int p = 0; p < 10; p++)
		ck_assert_int_eq(sp.part[p], ten[p]);
	ck_assert_double_eq(sp.v[1][7], sched[0][1][7] - sched[0][2][7]);
	ck_assert_ptr_eq(sp.v[2], sched[0][2]);
	ck_assert_int_eq(pp_stack_split(rtt, sp.v, sp.n, ROWS, pct, 5, bar), 0);
	ck_assert_int_eq(pp_stack_split(rtt, parts, 4, ROWS, pct, 5, whole), 0);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(bar[i].nparts, 10);
		ck_assert_double_eq_tol(bar_sum(&bar[i]), bar[i].rtt_mean_us, 1e-9);
		/* the same rows as the four-part bar, the client's stack in its parts */
		ck_assert_uint_eq(bar[i].rows, whole[i].rows);
		ck_assert_double_eq_tol(bar[i].part_us[0] + bar[i].part_us[1] + bar[i].part_us[2] +
					bar[i].part_us[3], whole[i].part_us[0], 1e-9);
		ck_assert_double_eq_tol(bar[i].part_us[4], whole[i].part_us[1], 1e-9);
		ck_assert_double_eq_tol(bar[i].part_us[9], whole[i].part_us[3], 1e-9);
		for (int p = 0; p < 10; p++)
			ck_assert(bar[i].part_us[p] >= 0);
	}
	ck_assert(bar[3].part_us[2] > 250); /* p99.7: the client rows slow in leaving idle */
	ck_assert(bar[4].part_us[4] > 400); /* p99.99: the network rows */
	ck_assert(bar[0].part_us[2] < 10);
	pp_stack_parts_free(&sp);
	ck_assert_ptr_null(sp.wait[0]);
}
END_TEST

/* Only the client traced with --sched: its stack in parts, the server's whole; rows without
 * the client's parts (its thread's first recv) are left out of the bars. */
START_TEST(test_one_host_split)
{
	double pct[] = { 50, 99 };
	struct pp_stack_bar bar[2];
	const double *col[PP_NCOMPONENTS];
	struct pp_stack_parts sp;

	make_sched_rows();
	for (int r = 0; r < ROWS; r += 4)
		sched[0][3][r] = NAN;
	sched_cols(col, 1);
	ck_assert_int_eq(pp_stack_parts_choose(&sp, col, ROWS), 0);
	ck_assert_uint_eq(sp.n, 7);
	ck_assert(sp.split[0] && !sp.split[1]);
	ck_assert_int_eq(sp.part[3], PP_PART_CLIENT_RETURN);
	ck_assert_int_eq(sp.part[4], PP_PART_NETWORK);
	ck_assert_int_eq(sp.part[5], PP_PART_SERVER_STACK);
	ck_assert_ptr_eq(sp.v[5], ss);
	ck_assert_int_eq(sp.part[6], PP_PART_SERVER_APP);
	ck_assert_int_eq(pp_stack_split(rtt, sp.v, sp.n, ROWS, pct, 2, bar), 0);
	ck_assert_uint_eq(bar[0].rows, 15); /* three quarters of the rows are complete */
	for (int i = 0; i < 2; i++)
		ck_assert_double_eq_tol(bar_sum(&bar[i]), bar[i].rtt_mean_us, 1e-9);
	pp_stack_parts_free(&sp);
}
END_TEST

START_TEST(test_part_names)
{
	for (int p = 0; p < PP_NPARTS; p++) {
		const struct pp_stack_part_info *info = &pp_stack_part_info[p];

		ck_assert_ptr_nonnull(info->name);
		ck_assert_ptr_nonnull(info->key);
		ck_assert(info->family == PP_CLIENT_STACK || info->family == PP_SERVER_STACK ||
			  info->family == PP_NETWORK || info->family == PP_SERVER_APP);
	}
	ck_assert_str_eq(pp_stack_part_info[PP_PART_CLIENT_IDLE].key, "client: CPU leaving idle");
	ck_assert_str_eq(pp_stack_part_info[PP_PART_SERVER_WAIT].key, "server: waiting for CPU");
	ck_assert_int_eq(pp_stack_part_info[PP_PART_SERVER_WAIT].comp, PP_SERVER_WAKEUP);
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
	       test_window_size,
	       test_part_count_is_checked,
	       test_without_sched_parts_four_bars,
	       test_sched_parts_sum_to_rtt,
	       test_one_host_split,
	       test_part_names)
