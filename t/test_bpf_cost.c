// SPDX-License-Identifier: MIT
/* The probe's own cost: the difference of two snapshots of the programs' run-time statistics,
 * matched by name, and the lines that say it. No BPF: the snapshots are made up. */
#include <stdio.h>
#include <string.h>

#include "collect/bpf_cost.h"
#include "check_main.h"

static void add(struct pp_bpf_cost *c, const char *name, uint64_t ns, uint64_t runs)
{
	struct pp_bpf_prog_cost *p = &c->prog[c->n++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->run_ns = ns;
	p->runs = runs;
	c->run_ns += ns;
	c->runs += runs;
}

START_TEST(test_delta_by_name)
{
	struct pp_bpf_cost a = { .known = true }, b = { .known = true }, d;

	add(&a, "on_net_dev_queue", 1000, 10);
	add(&a, "enter_sendto", 500, 2);
	add(&a, "on_fork", 50, 1);            /* gone by the end: not in the delta */
	add(&b, "enter_sendto", 2500, 12);    /* another order than a's */
	add(&b, "on_net_dev_queue", 1600, 13);
	add(&b, "on_tcp_probe", 700, 7);      /* new: counts from 0 */
	pp_bpf_cost_delta(&a, &b, &d);
	ck_assert(d.known);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_str_eq(d.prog[0].name, "enter_sendto");
	ck_assert_uint_eq(d.prog[0].run_ns, 2000);
	ck_assert_uint_eq(d.prog[0].runs, 10);
	ck_assert_uint_eq(d.prog[1].run_ns, 600);
	ck_assert_uint_eq(d.prog[1].runs, 3);
	ck_assert_uint_eq(d.prog[2].run_ns, 700);
	ck_assert_uint_eq(d.prog[2].runs, 7);
	ck_assert_uint_eq(d.run_ns, 3300);
	ck_assert_uint_eq(d.runs, 20);

	/* in place: d may be the later snapshot itself */
	pp_bpf_cost_delta(&a, &b, &b);
	ck_assert_uint_eq(b.run_ns, 3300);
}
END_TEST

START_TEST(test_counter_going_back_counts_zero)
{
	struct pp_bpf_cost a = { .known = true }, b = { .known = true }, d;

	add(&a, "p", 5000, 50);
	add(&b, "p", 100, 1);                 /* replaced by a new program of the same name */
	pp_bpf_cost_delta(&a, &b, &d);
	ck_assert_uint_eq(d.run_ns, 0);
	ck_assert_uint_eq(d.runs, 0);
}
END_TEST

START_TEST(test_unknown_unless_both_known)
{
	struct pp_bpf_cost a = { .known = false }, b = { .known = true }, d;

	add(&a, "p", 0, 0);
	add(&b, "p", 100, 1);
	pp_bpf_cost_delta(&a, &b, &d);
	ck_assert(!d.known);
	pp_bpf_cost_delta(&b, &a, &d);
	ck_assert(!d.known);
	memset(&a, 0, sizeof(a));             /* never taken (a run that did not start) */
	pp_bpf_cost_delta(&a, &a, &d);
	ck_assert(!d.known);
	ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(test_per_and_format)
{
	struct pp_bpf_prog_cost p = { .name = "on_netif_receive_skb", .run_ns = 1234567, .runs = 10000 };
	char buf[160];
	double per;

	ck_assert(pp_bpf_cost_per(8855, 2, &per));
	ck_assert(per == 4427.5);
	ck_assert(!pp_bpf_cost_per(8855, 0, &per));
	ck_assert(per == 0.0);

	pp_bpf_cost_format(buf, sizeof(buf), true, 18595241, 219596, 2100);
	ck_assert_str_eq(buf, "8.855 us of BPF per exchange (104.6 runs, 18.595 ms in 219596 runs)");
	pp_bpf_cost_format(buf, sizeof(buf), true, 95559000, 1402391, 0);
	ck_assert_str_eq(buf, "95.559 ms of BPF in 1402391 runs");
	pp_bpf_cost_format(buf, sizeof(buf), false, 95559000, 1402391, 2100);
	ck_assert_str_eq(buf, "unknown");

	pp_bpf_cost_format_prog(buf, sizeof(buf), &p);
	ck_assert_str_eq(buf, "on_netif_receive_skb: 10000 runs, 123.5 ns per run");
	p.runs = 0;
	pp_bpf_cost_format_prog(buf, sizeof(buf), &p);
	ck_assert_str_eq(buf, "on_netif_receive_skb: not run");
	/* cut to the buffer, terminated */
	p.runs = 1;
	ck_assert_int_gt(pp_bpf_cost_format_prog(buf, 8, &p), 7);
	ck_assert_str_eq(buf, "on_neti");
}
END_TEST

/* More programs than a snapshot holds: the delta keeps its bound. */
START_TEST(test_bounded)
{
	struct pp_bpf_cost a = { .known = true }, d;
	char name[16];

	for (int i = 0; i < PP_BPF_COST_MAX_PROGS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		add(&a, name, 10, 1);
	}
	pp_bpf_cost_delta(&(struct pp_bpf_cost){ .known = true }, &a, &d);
	ck_assert_uint_eq(d.n, PP_BPF_COST_MAX_PROGS);
	ck_assert_uint_eq(d.run_ns, 10 * PP_BPF_COST_MAX_PROGS);
	ck_assert_uint_eq(d.runs, PP_BPF_COST_MAX_PROGS);
}
END_TEST

PP_CHECK_TESTS("bpf_cost", 30,
	       test_delta_by_name,
	       test_counter_going_back_counts_zero,
	       test_unknown_unless_both_known,
	       test_per_and_format,
	       test_bounded)
