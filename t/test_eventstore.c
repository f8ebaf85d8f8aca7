// SPDX-License-Identifier: MIT
/* The agent's event store: keeps arrival order across chunks, counts what overflows its bound,
 * and serves one connection's events in both directions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/eventstore.h"
#include "check_main.h"

static struct pp_event event(__u32 seq, __u16 sport, __u16 dport, __u8 last_octet_src)
{
	struct pp_event ev = { .seq = seq, .sport = sport, .dport = dport, .family = PP_AF_INET,
			       .point = PP_XMIT };

	ev.saddr[0] = 198; ev.saddr[1] = 18; ev.saddr[3] = last_octet_src;
	ev.daddr[0] = 198; ev.daddr[1] = 18; ev.daddr[3] = last_octet_src == 1 ? 2 : 1;
	return ev;
}

static struct pp_conn conn_1_to_2(__u16 client_port)
{
	struct pp_conn c = { .family = PP_AF_INET, .a_port = client_port, .b_port = 12345 };

	c.a_addr[0] = 198; c.a_addr[1] = 18; c.a_addr[3] = 1;
	c.b_addr[0] = 198; c.b_addr[1] = 18; c.b_addr[3] = 2;
	return c;
}

START_TEST(test_events_keep_arrival_order_across_chunks)
{
	struct pp_eventstore *s;
	struct pp_event ev;

	ck_assert_int_eq(pp_eventstore_new(&s, 100000), 0);
	for (__u32 i = 0; i < 10000; i++) {
		ev = event(i, 40000, 12345, 1);
		ck_assert_int_eq(pp_eventstore_append(s, &ev), 0);
	}
	ck_assert_uint_eq(pp_eventstore_count(s), 10000);
	for (size_t i = 0; i < 10000; i++)
		ck_assert_uint_eq(pp_eventstore_get(s, i)->seq, i);
	ck_assert_ptr_null(pp_eventstore_get(s, 10000));
	ck_assert_uint_eq(pp_eventstore_overflow(s), 0);
	pp_eventstore_free(s);
}
END_TEST

START_TEST(test_overflow_is_counted_not_stored)
{
	struct pp_eventstore *s;
	struct pp_event ev = event(1, 40000, 12345, 1);

	ck_assert_int_eq(pp_eventstore_new(&s, 3), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pp_eventstore_append(s, &ev), 0);
	ck_assert_int_eq(pp_eventstore_append(s, &ev), -ENOSPC);
	ck_assert_int_eq(pp_eventstore_append(s, &ev), -ENOSPC);
	ck_assert_uint_eq(pp_eventstore_count(s), 3);
	ck_assert_uint_eq(pp_eventstore_overflow(s), 2);
	pp_eventstore_free(s);
}
END_TEST

START_TEST(test_zero_bound_is_refused)
{
	struct pp_eventstore *s;

	ck_assert_int_eq(pp_eventstore_new(&s, 0), -EINVAL);
	ck_assert_ptr_null(s);
}
END_TEST

static int collect_seq(void *ctx, const struct pp_event *ev)
{
	__u32 *seqs = ctx;

	seqs[seqs[0]++ + 1] = ev->seq;
	return 0;
}

START_TEST(test_connection_filter_takes_both_directions_only)
{
	struct pp_eventstore *s;
	struct pp_conn conn = conn_1_to_2(40000);
	struct pp_event evs[] = {
		event(10, 40000, 12345, 1), /* client -> server */
		event(11, 12345, 40000, 2), /* server -> client */
		event(12, 40001, 12345, 1), /* another client port */
		event(13, 12345, 40001, 2),
		event(14, 40000, 12345, 1),
	};
	__u32 seqs[8] = { 0 };

	evs[3].family = PP_AF_INET6; /* same numbers, other family: not the connection */
	ck_assert_int_eq(pp_eventstore_new(&s, 16), 0);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		ck_assert_int_eq(pp_eventstore_append(s, &evs[i]), 0);
	ck_assert_int_eq(pp_eventstore_foreach(s, &conn, collect_seq, seqs), 0);
	ck_assert_uint_eq(seqs[0], 3);
	ck_assert_uint_eq(seqs[1], 10);
	ck_assert_uint_eq(seqs[2], 11);
	ck_assert_uint_eq(seqs[3], 14);
	memset(seqs, 0, sizeof(seqs));
	ck_assert_int_eq(pp_eventstore_foreach(s, NULL, collect_seq, seqs), 0);
	ck_assert_uint_eq(seqs[0], 5);
	pp_eventstore_free(s);
}
END_TEST

static int stop_at_second(void *ctx, const struct pp_event *ev)
{
	int *seen = ctx;

	(void)ev;
	return ++*seen == 2 ? 42 : 0;
}

START_TEST(test_foreach_stops_when_asked)
{
	struct pp_eventstore *s;
	struct pp_event ev = event(1, 40000, 12345, 1);
	int seen = 0;

	ck_assert_int_eq(pp_eventstore_new(&s, 16), 0);
	for (int i = 0; i < 5; i++)
		pp_eventstore_append(s, &ev);
	ck_assert_int_eq(pp_eventstore_foreach(s, NULL, stop_at_second, &seen), 42);
	ck_assert_int_eq(seen, 2);
	pp_eventstore_free(s);
}
END_TEST

/* A CPU's partial batch arrives only when flushed, long after the other CPU's later events:
 * by time, the late ones take their place again; equal times keep their arrival order, and
 * other connections stay out. */
START_TEST(test_by_time_puts_a_late_batch_back_in_place)
{
	static const __u64 ts[] = { 10, 40, 50, 20, 30, 30, 60 };
	static const __u32 want[] = { 0, 3, 4, 5, 1, 2, 6 }; /* 30 and 30: arrival order */
	struct pp_conn conn = conn_1_to_2(40000);
	struct pp_event other = event(99, 40001, 12345, 1);
	struct pp_eventstore *s;
	size_t *order, n;

	ck_assert_int_eq(pp_eventstore_new(&s, 16), 0);
	for (__u32 i = 0; i < 7; i++) {
		struct pp_event ev = event(i, 40000, 12345, 1);

		ev.ts_ns = ts[i];
		ck_assert_int_eq(pp_eventstore_append(s, &ev), 0);
	}
	other.ts_ns = 15;
	pp_eventstore_append(s, &other);
	ck_assert_int_eq(pp_eventstore_order_by_time(s, &conn, &order, &n), 0);
	ck_assert_uint_eq(n, 7);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(pp_eventstore_get(s, order[i])->seq, want[i]);
		if (i)
			ck_assert_uint_ge(pp_eventstore_get(s, order[i])->ts_ns,
					  pp_eventstore_get(s, order[i - 1])->ts_ns);
	}
	free(order);
	ck_assert_int_eq(pp_eventstore_order_by_time(s, NULL, &order, &n), 0);
	ck_assert_uint_eq(n, 8); /* no filter: the other connection's event too */
	ck_assert_uint_eq(pp_eventstore_get(s, order[1])->seq, 99);
	free(order);
	pp_eventstore_free(s);
}
END_TEST

static bool take_all(void *ctx, const struct pp_event *ev)
{
	(void)ctx;
	(void)ev;
	return true;
}

static bool take_even(void *ctx, const struct pp_event *ev)
{
	(*(int *)ctx)++;
	return ev->seq % 2 == 0;
}

/* A follower takes its connection's events out: only those it says, of that connection only;
 * the rest keep their order, the freed room takes new events, and the bound counts them all. */
START_TEST(test_remove_takes_a_connections_events_out)
{
	struct pp_eventstore *s;
	struct pp_conn c = conn_1_to_2(40000);
	struct pp_event ev;
	int asked = 0;

	ck_assert_int_eq(pp_eventstore_new(&s, 20000), 0);
	for (__u32 i = 0; i < 10000; i++) {
		ev = event(i, i % 3 ? 40000 : 40001, 12345, 1); /* 2/3 of them 40000's */
		ck_assert_int_eq(pp_eventstore_append(s, &ev), 0);
	}
	ck_assert(pp_eventstore_room(s, 9999));
	ck_assert(!pp_eventstore_room(s, 10000));
	ck_assert_uint_eq(pp_eventstore_max(s), 20000);
	/* 40000's even seqs: i % 3 != 0 and i even */
	size_t want = 0;

	for (__u32 i = 0; i < 10000; i++)
		want += i % 3 && i % 2 == 0;
	ck_assert_uint_eq(pp_eventstore_remove(s, &c, take_even, &asked), want);
	ck_assert_int_eq(asked, 6666); /* asked about the connection's events only */
	ck_assert_uint_eq(pp_eventstore_count(s), 10000 - want);
	for (size_t i = 1; i < pp_eventstore_count(s); i++)
		ck_assert_uint_lt(pp_eventstore_get(s, i - 1)->seq, pp_eventstore_get(s, i)->seq);
	for (size_t i = 0; i < pp_eventstore_count(s); i++) {
		const struct pp_event *e = pp_eventstore_get(s, i);

		ck_assert(e->sport == 40001 || e->seq % 2);
	}
	ck_assert(pp_eventstore_room(s, 9999 + want));
	/* everything of 40000 out: the store shrinks, and fills again in order */
	ck_assert_uint_eq(pp_eventstore_remove(s, &c, take_all, NULL), 10000 - want - 3334);
	ck_assert_uint_eq(pp_eventstore_count(s), 3334);
	ev = event(77777, 40002, 12345, 1);
	ck_assert_int_eq(pp_eventstore_append(s, &ev), 0);
	ck_assert_uint_eq(pp_eventstore_get(s, 3334)->seq, 77777);
	ck_assert_uint_eq(pp_eventstore_get(s, 3333)->sport, 40001);
	ck_assert_uint_eq(pp_eventstore_remove(s, &c, take_all, NULL), 0);
	pp_eventstore_free(s);
}
END_TEST

/* a_port 0, the all-ports wildcard (PP_FETCH_ALL_PORTS): every client port of 198.18.0.1 to
 * 198.18.0.2:12345, both directions; not another client host, not another server port, not
 * the other family; b_port 0 is no wildcard, and an event's port 0 matches no named port. */
START_TEST(test_all_ports_wildcard)
{
	struct pp_eventstore *s;
	struct pp_conn all = conn_1_to_2(0), one = conn_1_to_2(40000), b_zero = conn_1_to_2(40000);
	struct pp_event evs[] = {
		event(10, 40000, 12345, 1), /* client -> server */
		event(11, 12345, 40001, 2), /* server -> another client port */
		event(12, 1, 12345, 1),
		event(13, 65535, 12345, 1),
		event(14, 40000, 12346, 1), /* another server port (the control port) */
		event(15, 12346, 40000, 2),
		event(16, 40002, 12345, 1), /* another family, below */
		event(17, 40003, 12345, 3), /* another client host (198.18.0.3 -> .1) */
		event(18, 0, 12345, 1),     /* port 0: any port is any port */
		event(19, 40000, 0, 1),     /* server port 0: not the service */
	};
	__u32 seqs[16] = { 0 };
	size_t n = sizeof(evs) / sizeof(evs[0]);

	evs[6].family = PP_AF_INET6;
	b_zero.b_port = 0;
	ck_assert_int_eq(pp_eventstore_new(&s, 64), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(pp_eventstore_append(s, &evs[i]), 0);
	ck_assert_int_eq(pp_eventstore_foreach(s, &all, collect_seq, seqs), 0);
	ck_assert_uint_eq(seqs[0], 5);
	ck_assert_uint_eq(seqs[1], 10);
	ck_assert_uint_eq(seqs[2], 11);
	ck_assert_uint_eq(seqs[3], 12);
	ck_assert_uint_eq(seqs[4], 13);
	ck_assert_uint_eq(seqs[5], 18);
	ck_assert(!pp_conn_matches(&one, &evs[8]));
	ck_assert(!pp_conn_matches(&b_zero, &evs[0]));
	ck_assert(!pp_conn_matches(&all, &evs[9]));
	/* the same set leaves the store, the others keep their order */
	ck_assert_uint_eq(pp_eventstore_remove(s, &all, take_all, NULL), 5);
	ck_assert_uint_eq(pp_eventstore_count(s), n - 5);
	ck_assert_uint_eq(pp_eventstore_get(s, 0)->seq, 14);
	ck_assert_uint_eq(pp_eventstore_get(s, 4)->seq, 19);
	pp_eventstore_free(s);
}
END_TEST

PP_CHECK_TESTS("eventstore", 0,
	       test_remove_takes_a_connections_events_out,
	       test_events_keep_arrival_order_across_chunks,
	       test_overflow_is_counted_not_stored,
	       test_zero_bound_is_refused,
	       test_connection_filter_takes_both_directions_only,
	       test_foreach_stops_when_asked,
	       test_by_time_puts_a_late_batch_back_in_place,
	       test_all_ports_wildcard)
