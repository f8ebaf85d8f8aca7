// SPDX-License-Identifier: MIT
/* The live report: one line per period once a later period begins, over that period's rows
 * only, the parts in a fixed order, late rows counted where they land, a partial period on
 * flush, and the summary's figures (exact while small, within the bound when binned). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/live_report.h"
#include "check_main.h"

#define MS 1000000ull
#define T0 (7 * 1000 * MS + 123) /* the client's clock at the first row: not a period edge */

struct out {
	char *text;
	size_t len;
	FILE *f;
	struct pp_live_report *r;
};

static void open_report(struct out *o, uint64_t period_ns)
{
	o->text = NULL;
	o->f = open_memstream(&o->text, &o->len);
	ck_assert_ptr_nonnull(o->f);
	ck_assert_int_eq(pp_live_report_new(&o->r, period_ns, o->f), 0);
}

/* What was printed so far (the report flushes after each line). */
static const char *printed(struct out *o)
{
	fflush(o->f);
	return o->text ? o->text : "";
}

static void close_report(struct out *o)
{
	pp_live_report_free(o->r);
	fclose(o->f);
	free(o->text);
}

static struct pp_row untraced(int64_t rtt_app_ns)
{
	return (struct pp_row){ .rtt_app_ns = rtt_app_ns };
}

/* Every point, no capture: rtt = 10 + client_stack 4 + network 3 + server_stack 2 +
 * server_app 1, in us times k. */
static struct pp_row traced(uint64_t k, bool complete)
{
	struct pp_row row = { .rtt_app_ns = -1, .flags = complete ? 0 : PP_ROW_INCOMPLETE };
	uint64_t *ts = row.ts, us = 1000 * k;

	ts[C_SEND] = 1000000;
	ts[C_XMIT] = ts[C_SEND] + 2 * us;
	ts[S_RX] = 5000000;
	ts[S_TCP] = ts[S_RX];
	ts[S_RECV] = ts[S_RX] + 1 * us;
	ts[S_SEND] = ts[S_RECV] + 1 * us;
	ts[S_XMIT] = ts[S_SEND] + 1 * us;
	ts[C_RX] = ts[C_XMIT] + 3 * us + (ts[S_XMIT] - ts[S_RX]);
	ts[C_TCP] = ts[C_RX];
	ts[C_RECV] = ts[C_RX] + 2 * us;
	return row;
}

START_TEST(test_untraced_periods_print_rtt_app_once_a_later_period_begins)
{
	struct out o;
	size_t len;

	open_report(&o, 1000 * MS);
	/* 250 rows 10 ms apart: periods 0 and 1 hold 100 each (1..100 us), 2 holds 50 */
	for (int i = 0; i < 250; i++) {
		struct pp_row row = untraced((i % 100 + 1) * 1000);

		ck_assert_int_eq(pp_live_report_add(o.r, T0 + (uint64_t)i * 10 * MS, &row), 0);
		if (i == 99)
			ck_assert_str_eq(printed(&o), ""); /* period 0 still open: not even the legend */
	}
	ck_assert_str_eq(printed(&o),
			 "every 1.0 s: exchanges, matched (complete) and late rows; p50/p99 in us of each part\n"
			 "[   1.0 s] 100 exchanges, 0 matched | rtt_app 50.500/99.010\n"
			 "[   2.0 s] 100 exchanges, 0 matched | rtt_app 50.500/99.010\n");
	ck_assert_int_eq(pp_live_report_flush(o.r), 0);
	/* the partial period: stamped at its latest row, 2.49 s */
	ck_assert_msg(strstr(printed(&o), "\n[   2.5 s] 50 exchanges, 0 matched | rtt_app 25.500/49.510\n"),
		      "%s", printed(&o));
	/* nothing left: a second flush adds nothing */
	len = strlen(printed(&o));
	ck_assert_int_eq(pp_live_report_flush(o.r), 0);
	ck_assert_uint_eq(strlen(printed(&o)), len);
	close_report(&o);
}
END_TEST

START_TEST(test_traced_parts_in_fixed_order_without_rtt_app)
{
	struct out o;

	open_report(&o, 1000 * MS);
	for (uint64_t k = 1; k <= 4; k++) {
		struct pp_row row = traced(k, k != 3);

		row.rtt_app_ns = 99000; /* measured too, but rtt stands for the round trip */
		ck_assert_int_eq(pp_live_report_add(o.r, T0 + k * MS, &row), 0);
	}
	{
		struct pp_row next = traced(1, true);

		ck_assert_int_eq(pp_live_report_add(o.r, T0 + 2000 * MS, &next), 0);
	}
	/* k = 1..4: p50 at 2.5 k, p99 at 3.97 k */
	ck_assert_msg(strstr(printed(&o), "\n[   1.0 s] 4 exchanges, 3 matched | rtt 25.000/39.700 | "
				"client_stack 10.000/15.880 | network 7.500/11.910 | server_stack "
				"5.000/7.940 | server_app 2.500/3.970\n"), "%s", printed(&o));
	ck_assert_ptr_null(strstr(printed(&o), "rtt_app"));
	close_report(&o);
}
END_TEST

/* Only the parts measured: no agent, so no server_stack, server_app or network. */
START_TEST(test_parts_without_samples_are_left_out)
{
	struct out o;
	struct pp_row row = traced(1, true);

	for (int s = S_WIRE_RX; s <= S_WIRE_TX; s++)
		row.ts[s] = 0;
	open_report(&o, 1000 * MS);
	ck_assert_int_eq(pp_live_report_add(o.r, T0, &row), 0);
	ck_assert_int_eq(pp_live_report_flush(o.r), 0);
	ck_assert_msg(strstr(printed(&o), "\n[   0.0 s] 1 exchanges, 1 matched | rtt 10.000/10.000 | "
				"client_stack 4.000/4.000\n"), "%s", printed(&o));
	close_report(&o);
}
END_TEST

/* --sched on the client only: its stack's parts follow it; the server's, not measured, do not
 * show. */
START_TEST(test_stack_parts_follow_their_stack)
{
	struct out o;
	struct pp_row row = traced(1, true);

	row.ts[C_WAKE] = row.ts[C_RX] + 500;
	row.ts[C_ONCPU] = row.ts[C_RX] + 1500;
	open_report(&o, 1000 * MS);
	ck_assert_int_eq(pp_live_report_add(o.r, T0, &row), 0);
	ck_assert_int_eq(pp_live_report_flush(o.r), 0);
	ck_assert_msg(strstr(printed(&o), "\n[   0.0 s] 1 exchanges, 1 matched | rtt 10.000/10.000 | "
				"client_stack 4.000/4.000 | client_proc 2.500/2.500 | client_wakeup "
				"1.000/1.000 | client_idle 0.000/0.000 | client_return 0.500/0.500 | "
				"network 3.000/3.000 | server_stack 2.000/2.000 | server_app 1.000/1.000\n"),
		      "%s", printed(&o));
	ck_assert_ptr_null(strstr(printed(&o), "server_proc"));
	close_report(&o);
}
END_TEST

/* A row of a printed period, or from before the first row, joins the open one, said as late. */
START_TEST(test_late_rows_count_in_the_open_period)
{
	struct out o;
	struct pp_row a = untraced(10000), b = untraced(20000), c = untraced(30000);

	open_report(&o, 1000 * MS);
	ck_assert_int_eq(pp_live_report_add(o.r, T0, &a), 0);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 1100 * MS, &b), 0);  /* closes period 0 */
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 900 * MS, &c), 0);   /* period 0: late */
	ck_assert_int_eq(pp_live_report_add(o.r, T0 - 5 * MS, &c), 0);     /* before the origin */
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 2000 * MS, &a), 0); /* closes period 1 */
	ck_assert_int_eq(pp_live_report_flush(o.r), 0);
	ck_assert_msg(strstr(printed(&o), "\n[   1.0 s] 1 exchanges, 0 matched | rtt_app 10.000/10.000\n"
				"[   2.0 s] 3 exchanges, 0 matched, 2 late | rtt_app 30.000/30.000\n"
				"[   2.0 s] 1 exchanges, 0 matched | rtt_app 10.000/10.000\n"),
		      "%s", printed(&o));
	close_report(&o);
}
END_TEST

/* A stall: periods without rows print nothing; the next line's stamp shows the gap. Rows a
 * little out of order within the open period are not late. */
START_TEST(test_empty_periods_print_nothing)
{
	struct out o;
	struct pp_row row = untraced(5000);

	open_report(&o, 1000 * MS);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 300 * MS, &row), 0);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 100 * MS, &row), 0);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 3500 * MS, &row), 0);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 3400 * MS, &row), 0);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 4400 * MS, &row), 0);
	ck_assert_str_eq(strchr(printed(&o), '\n') + 1,
			 "[   1.0 s] 2 exchanges, 0 matched, 1 late | rtt_app 5.000/5.000\n"
			 "[   4.0 s] 2 exchanges, 0 matched | rtt_app 5.000/5.000\n");
	close_report(&o);
}
END_TEST

/* A period not in whole tenths of a second stamps the ms. */
START_TEST(test_short_period_stamps_ms)
{
	struct out o;
	struct pp_row row = untraced(5000);

	open_report(&o, 250 * MS);
	ck_assert_int_eq(pp_live_report_add(o.r, T0, &row), 0);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 260 * MS, &row), 0);
	ck_assert_int_eq(pp_live_report_add(o.r, T0 + 520 * MS, &row), 0);
	ck_assert_msg(strstr(printed(&o), "every 0.250 s: "), "%s", printed(&o));
	ck_assert_msg(strstr(printed(&o), "\n[   0.250 s] 1 exchanges, 0 matched | rtt_app 5.000/5.000\n"
				"[   0.500 s] 1 exchanges"), "%s", printed(&o));
	close_report(&o);
}
END_TEST

/* A busy period (past the exact samples) reads within histogram.h's bound; the next, small,
 * is exact again: the histograms are reset, not grown. Negative parts print with their sign. */
START_TEST(test_busy_period_is_binned_then_reset)
{
	struct out o;
	const int n = 200000;
	double p50, p99, want50, want99;
	const char *line;
	int rc = 0;

	open_report(&o, 1000 * MS);
	/* rtt_app 100.000 .. 299.999 us, evenly: p50 = 199.9995, p99 = 297.999 */
	for (int i = 0; i < n; i++) {
		struct pp_row row = untraced(100000 + (int64_t)((uint64_t)i * 7919 % (uint64_t)n));

		rc |= pp_live_report_add(o.r, T0 + (uint64_t)i * 4000, &row);
	}
	ck_assert_int_eq(rc, 0);
	{
		struct pp_row row = traced(1, true);

		/* network -1 us: the pong left the server after the client got it (misordered) */
		row.ts[C_RX] -= 4000;
		row.ts[C_RECV] -= 4000;
		ck_assert_int_eq(pp_live_report_add(o.r, T0 + 1000 * MS, &row), 0);
	}
	ck_assert_int_eq(pp_live_report_flush(o.r), 0);
	line = strstr(printed(&o), "\n[   1.0 s] 200000 exchanges, 0 matched | rtt_app ");
	ck_assert_msg(line, "%s", printed(&o));
	ck_assert_int_eq(sscanf(line, "\n[ 1.0 s] 200000 exchanges, 0 matched | rtt_app %lf/%lf",
				&p50, &p99), 2);
	want50 = 100 + (n - 1) * 0.5 / 1000, want99 = 100 + (n - 1) * 0.99 / 1000;
	ck_assert_msg(fabs(p50 - want50) <= want50 / 2048 + 0.0005, "p50 %.3f vs %.4f", p50, want50);
	ck_assert_msg(fabs(p99 - want99) <= want99 / 2048 + 0.0005, "p99 %.3f vs %.4f", p99, want99);
	ck_assert_msg(strstr(printed(&o), "\n[   1.0 s] 1 exchanges, 1 matched | rtt 6.000/6.000 | "
				"client_stack 4.000/4.000 | network -1.000/-1.000 | server_stack "
				"2.000/2.000 | server_app 1.000/1.000\n"), "%s", printed(&o));
	close_report(&o);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct pp_live_report *r;
	struct out o;

	ck_assert_int_eq(pp_live_report_new(&r, 0, stdout), -EINVAL);
	ck_assert_int_eq(pp_live_report_new(&r, 1, NULL), -EINVAL);
	open_report(&o, 1000 * MS);
	ck_assert_int_eq(pp_live_report_flush(o.r), 0); /* no rows: no line, no legend */
	ck_assert_str_eq(printed(&o), "");
	close_report(&o);
	pp_live_report_free(NULL);
}
END_TEST

PP_CHECK_TESTS("live_report", 30,
	       test_untraced_periods_print_rtt_app_once_a_later_period_begins,
	       test_traced_parts_in_fixed_order_without_rtt_app,
	       test_parts_without_samples_are_left_out,
	       test_stack_parts_follow_their_stack,
	       test_late_rows_count_in_the_open_period,
	       test_empty_periods_print_nothing,
	       test_short_period_stamps_ms,
	       test_busy_period_is_binned_then_reset,
	       test_bad_arguments)
