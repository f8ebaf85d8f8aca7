// SPDX-License-Identifier: MIT
/* Each host's stack in parts (model/split.c, --sched): proc + wakeup + return = the stack
 * exactly, 0 <= idle <= wakeup, for every order the points can come in: woken or not, the CPU
 * idle or not, a switch-in before rx or after recv (stale), a wake-up before rx; and no parts
 * at all without a switch-in or without the host's send. Each case runs on both hosts. */
#include <stdint.h>

#include "pingpong.h"
#include "model/split.h"
#include "check_main.h"

/* One host's points as offsets in ns from a base (0: absent), and the parts they give (-1:
 * none). The send side is fixed: xmit - send = 2000. */
struct split_case {
	const char *what;
	uint64_t rx, wake, idle, oncpu, recv;
	int64_t proc, wakeup, idle_part, ret;   /* proc includes xmit - send */
};

static const struct split_case cases[] = {
	{ "woken, CPU out of idle", 10000, 11000, 11500, 13000, 15500, 2000 + 1000, 2000, 500, 2500 },
	{ "woken, CPU busy", 10000, 11000, 0, 13000, 15500, 2000 + 1000, 2000, 0, 2500 },
	{ "not woken, waited for a CPU: from rx", 10000, 0, 0, 13000, 15500, 2000, 3000, 0, 2500 },
	{ "idle exit with no wake-up: from rx", 10000, 0, 12000, 13000, 15500, 2000, 3000, 2000, 2500 },
	{ "running since before rx: all processing", 10000, 0, 0, 9000, 15500, 2000 + 5500, 0, 0, 0 },
	{ "stale wake and oncpu before rx", 10000, 8000, 8500, 9000, 15500, 2000 + 5500, 0, 0, 0 },
	{ "wake-up before rx: from rx", 10000, 9000, 0, 13000, 15500, 2000, 3000, 0, 2500 },
	{ "idle exit before the wake-up: ignored", 10000, 11000, 10500, 13000, 15500, 3000, 2000, 0, 2500 },
	{ "idle exit after the switch-in: ignored", 10000, 11000, 14000, 13000, 15500, 3000, 2000, 0, 2500 },
	{ "wake-up after the switch-in: from rx", 10000, 14000, 0, 13000, 15500, 2000, 3000, 0, 2500 },
	{ "switch-in after recv: all processing", 10000, 11000, 11500, 16000, 15500, 2000 + 5500, 0, 0, 0 },
	{ "switch-in at rx", 10000, 0, 0, 10000, 15500, 2000, 0, 0, 5500 },
	/* the kernel's mark for a thread not switched in since its previous recv */
	{ "switch-in at recv: on a CPU throughout, all processing", 10000, 11000, 0, 15500, 15500,
	  2000 + 5500, 0, 0, 0 },
	{ "wake-up at rx: from rx", 10000, 10000, 10000, 13000, 15500, 2000, 3000, 0, 2500 },
	{ "wake-up at the switch-in", 10000, 13000, 13000, 13000, 15500, 2000 + 3000, 0, 0, 2500 },
	{ "no switch-in: no parts", 10000, 11000, 11500, 0, 15500, -1, -1, -1, -1 },
};

static const struct {
	enum pp_slot send, xmit, rx, wake, idle, oncpu, recv;
	enum pp_component stack, proc, wakeup, idle_part, ret;
} hosts[2] = {
	{ C_SEND, C_XMIT, C_RX, C_WAKE, C_IDLE, C_ONCPU, C_RECV,
	  PP_CLIENT_STACK, PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN },
	{ S_SEND, S_XMIT, S_RX, S_WAKE, S_IDLE, S_ONCPU, S_RECV,
	  PP_SERVER_STACK, PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN },
};

/* The case's points on host h, from base; the host's send at base + 20000 (client: before). */
static void set_host(struct pp_row *row, int h, const struct split_case *k, uint64_t base)
{
	uint64_t send = h == 0 ? base : base + 20000;

	row->ts[hosts[h].send] = send;
	row->ts[hosts[h].xmit] = send + 2000;
	row->ts[hosts[h].rx] = k->rx ? base + k->rx : 0;
	row->ts[hosts[h].wake] = k->wake ? base + k->wake : 0;
	row->ts[hosts[h].idle] = k->idle ? base + k->idle : 0;
	row->ts[hosts[h].oncpu] = k->oncpu ? base + k->oncpu : 0;
	row->ts[hosts[h].recv] = k->recv ? base + k->recv : 0;
}

static void expect_parts(const struct pp_split *sp, int h, const struct split_case *k)
{
	const char *host = h ? "server" : "client";

	ck_assert_msg(pp_split_identities_hold(sp), "%s, %s: identities", k->what, host);
	ck_assert_msg(pp_split_has(sp, hosts[h].stack), "%s, %s: no stack", k->what, host);
	if (k->proc < 0) {
		ck_assert_msg(!pp_split_has(sp, hosts[h].proc) && !pp_split_has(sp, hosts[h].wakeup) &&
			      !pp_split_has(sp, hosts[h].idle_part) && !pp_split_has(sp, hosts[h].ret),
			      "%s, %s: parts without a switch-in", k->what, host);
		return;
	}
	ck_assert_msg(pp_split_has(sp, hosts[h].proc) && pp_split_has(sp, hosts[h].wakeup) &&
		      pp_split_has(sp, hosts[h].idle_part) && pp_split_has(sp, hosts[h].ret),
		      "%s, %s: parts missing", k->what, host);
	ck_assert_msg(sp->ns[hosts[h].proc] == k->proc && sp->ns[hosts[h].wakeup] == k->wakeup &&
		      sp->ns[hosts[h].idle_part] == k->idle_part && sp->ns[hosts[h].ret] == k->ret,
		      "%s, %s: proc %lld wakeup %lld idle %lld return %lld, want %lld %lld %lld %lld",
		      k->what, host, (long long)sp->ns[hosts[h].proc], (long long)sp->ns[hosts[h].wakeup],
		      (long long)sp->ns[hosts[h].idle_part], (long long)sp->ns[hosts[h].ret],
		      (long long)k->proc, (long long)k->wakeup, (long long)k->idle_part, (long long)k->ret);
	/* the identity, stated apart from pp_split_identities_hold */
	ck_assert_int_eq(sp->ns[hosts[h].stack],
			 sp->ns[hosts[h].proc] + sp->ns[hosts[h].wakeup] + sp->ns[hosts[h].ret]);
	ck_assert(sp->ns[hosts[h].idle_part] >= 0 && sp->ns[hosts[h].idle_part] <= sp->ns[hosts[h].wakeup]);
}

/* Case _i on one host, the other host without sched points (no parts there), then on both. */
START_TEST(test_stack_parts)
{
	const struct split_case *k = &cases[_i];

	for (int h = 0; h < 2; h++) {
		struct pp_row row = { .rtt_app_ns = -1 };
		struct split_case plain = { .rx = 10000, .recv = 15500 };
		struct pp_split sp;

		set_host(&row, h, k, 1000000);
		set_host(&row, 1 - h, &plain, 7000000000ull);
		pp_split_row(&row, &sp);
		expect_parts(&sp, h, k);
		ck_assert(!pp_split_has(&sp, hosts[1 - h].proc));
		set_host(&row, 1 - h, k, 7000000000ull);
		pp_split_row(&row, &sp);
		expect_parts(&sp, 0, k);
		expect_parts(&sp, 1, k);
	}
}
END_TEST

/* The parts need the whole stack: no send (or xmit, or rx) on the host, no parts. */
START_TEST(test_no_parts_without_the_stack)
{
	const enum pp_slot drop[] = { C_SEND, C_XMIT, C_RX, C_RECV };

	for (size_t d = 0; d < sizeof(drop) / sizeof(drop[0]); d++) {
		struct pp_row row = { .rtt_app_ns = -1 };
		struct pp_split sp;

		set_host(&row, 0, &cases[0], 1000000);
		row.ts[drop[d]] = 0;
		pp_split_row(&row, &sp);
		ck_assert(!pp_split_has(&sp, PP_CLIENT_STACK));
		ck_assert(!pp_split_has(&sp, PP_CLIENT_PROC) && !pp_split_has(&sp, PP_CLIENT_WAKEUP) &&
			  !pp_split_has(&sp, PP_CLIENT_IDLE) && !pp_split_has(&sp, PP_CLIENT_RETURN));
	}
}
END_TEST

/* pp_split_identities_hold checks the new identity too: parts that do not add up, a negative
 * part, or idle above the wake-up are refused. */
START_TEST(test_identities_refuse_parts_that_do_not_add_up)
{
	struct pp_row row = { .rtt_app_ns = -1 };
	struct pp_split sp, bad;

	set_host(&row, 1, &cases[0], 1000000);
	pp_split_row(&row, &sp);
	ck_assert(pp_split_identities_hold(&sp));
	bad = sp, bad.ns[PP_SERVER_PROC]++;
	ck_assert(!pp_split_identities_hold(&bad));
	bad = sp, bad.ns[PP_SERVER_IDLE] = bad.ns[PP_SERVER_WAKEUP] + 1;
	ck_assert(!pp_split_identities_hold(&bad));
	bad = sp, bad.ns[PP_SERVER_RETURN] = -1, bad.ns[PP_SERVER_PROC] += sp.ns[PP_SERVER_RETURN] + 1;
	ck_assert(!pp_split_identities_hold(&bad));
}
END_TEST

/* The new names and slots, as results.csv and events.csv spell them. */
START_TEST(test_names)
{
	ck_assert_str_eq(pp_component_name[PP_CLIENT_PROC], "client_proc");
	ck_assert_str_eq(pp_component_name[PP_SERVER_RETURN], "server_return");
	ck_assert_str_eq(pp_slot_name[C_ONCPU], "c_oncpu");
	ck_assert_str_eq(pp_slot_name[S_WAKE], "s_wake");
	for (int c = 0; c < PP_NCOMPONENTS; c++)
		ck_assert_ptr_nonnull(pp_component_name[c]);
	for (int s = 0; s < PP_NSLOTS; s++) {
		ck_assert_ptr_nonnull(pp_slot_name[s]);
		/* never a packet: two of them on one byte are not a retransmission */
		if (s == C_WAKE || s == C_IDLE || s == C_ONCPU || s == S_WAKE || s == S_IDLE || s == S_ONCPU)
			ck_assert(!pp_slot_is_packet[s]);
	}
	/* placed like recv: the message's last byte, the receiving stream */
	for (int h = 0; h < 2; h++)
		for (int p = PP_WAKE; p <= PP_ONCPU; p++) {
			struct pp_point_place m = pp_point_place(h, p), r = pp_point_place(h, PP_RECV);

			ck_assert_int_eq(m.stream, r.stream);
			ck_assert(!m.first_byte);
		}
	ck_assert_int_eq(pp_point_place(0, PP_ONCPU).slot, C_ONCPU);
	ck_assert_int_eq(pp_point_place(1, PP_WAKE).slot, S_WAKE);
}
END_TEST

PP_CHECK_TESTS_AND_TABLE("split", 0, test_stack_parts, cases, test_no_parts_without_the_stack,
			 test_identities_refuse_parts_that_do_not_add_up, test_names)
