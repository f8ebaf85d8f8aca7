// SPDX-License-Identifier: MIT
/* The agent's routing of new events (agent_serve): every event to the tap, a followed
 * connection's to its follower, the rest to the store, and the store and the follower queues
 * together under one bound, past which events are counted as dropped. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_serve.h"
#include "collect/fetch.h"
#include "check_main.h"

static struct pp_event conn_event(uint16_t cport, uint64_t ts)
{
	struct pp_event ev = { .ts_ns = ts, .seq = (uint32_t)ts, .len = 10, .family = PP_AF_INET,
			       .point = PP_RX, .sport = cport, .dport = 12345 };
	uint8_t c[4] = { 198, 18, 0, 1 }, s[4] = { 198, 18, 0, 2 };

	memcpy(ev.saddr, c, 4);
	memcpy(ev.daddr, s, 4);
	return ev;
}

static int tapped;

static void tap(void *ctx, const struct pp_event *ev)
{
	(void)ctx;
	(void)ev;
	tapped++;
}

static int got;

static int count(void *ctx, const struct pp_event *ev)
{
	(void)ctx;
	(void)ev;
	got++;
	return 0;
}

static void rounds(struct pp_agent_serve *s, struct pp_fetch *f, int n)
{
	for (int i = 0; i < n; i++) {
		struct pollfd fds[PP_AGENT_SERVE_MAX_POLLFDS];
		int nfds = pp_agent_serve_pollfds(s, fds);

		poll(fds, (nfds_t)nfds, 5);
		ck_assert_int_eq(pp_agent_serve_handle(s, fds, nfds, NULL), 0);
		if (f)
			ck_assert_int_ge(pp_control_follow_read(f, count, NULL), 0);
	}
}

START_TEST(test_routing_and_the_shared_bound)
{
	struct pp_agent_serve_opts opts = { .control = true, .control_bind = "127.0.0.1" };
	struct pp_fetch_req req = { 0 };
	struct pp_eventstore *store;
	struct pp_agent_serve s;
	struct pp_fetch *f;
	struct pp_err e = { 0 };
	struct pp_event ev;

	ck_assert_int_eq(pp_eventstore_new(&store, 10), 0);
	ck_assert_int_eq(pp_agent_serve_open(&s, store, &opts, &e), 0);
	s.tap = tap;
	for (int i = 0; i < 4; i++) {
		ev = conn_event(40000, 100 + (uint64_t)i);
		ck_assert_int_eq(pp_agent_serve_event(&s, &ev), 0);
	}
	ck_assert_uint_eq(pp_eventstore_count(store), 4);

	/* a follower of 40000 takes its 4 stored events out of the store */
	ck_assert_int_eq(pp_flow_key_set(&req.flow, "198.18.0.1", 40000, "198.18.0.2", 12345), 0);
	ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", pp_control_server_port(s.control), &req, 1000), 0);
	rounds(&s, f, 20);
	ck_assert_int_eq(pp_agent_serve_followers(&s), 1);
	ck_assert_uint_eq(pp_eventstore_count(store), 0);
	ck_assert_int_eq(got, 4);

	/* another connection's events fill the store to its bound, then are dropped */
	for (int i = 0; i < 12; i++) {
		ev = conn_event(40001, 200 + (uint64_t)i);
		ck_assert_int_eq(pp_agent_serve_event(&s, &ev), i < 10 ? 0 : -ENOSPC);
	}
	ck_assert_uint_eq(pp_agent_serve_dropped(&s), 2);
	/* the store full, the follower's events have no room either: dropped, counted */
	ev = conn_event(40000, 300);
	ck_assert_int_eq(pp_agent_serve_event(&s, &ev), -ENOSPC);
	ck_assert_uint_eq(pp_agent_serve_dropped(&s), 3);
	ck_assert_int_eq(tapped, 4 + 12 + 1);

	/* STOP: END reports the drops, apart from the (zero) lost samples */
	ck_assert_int_eq(pp_control_follow_stop(f), 0);
	for (int i = 0; i < 100; i++) {
		int r;

		rounds(&s, NULL, 1);
		if ((r = pp_control_follow_read(f, count, NULL)) != 0) {
			ck_assert_int_eq(r, 1);
			break;
		}
	}
	ck_assert(pp_control_fetch_stats(f)->complete);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.dropped, 3);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.lost_samples, 0);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.events_sent, 4);
	pp_control_fetch_close(f);
	pp_agent_serve_close(&s);
	pp_eventstore_free(store);
}
END_TEST

static int flushes;

static int count_flush(void *ctx)
{
	(void)ctx;
	flushes++;
	return 0;
}

/* With a tap (--output), the rounds send the tracer's partial batches up at most every
 * PP_AGENT_LOG_FLUSH_MS, so that a quiet CPU's events reach the log in time; without a tap
 * nothing asks for them. */
START_TEST(test_tap_flushes_now_and_then)
{
	struct pp_agent_serve_opts opts = { 0 };
	struct timespec period = { 0, (PP_AGENT_LOG_FLUSH_MS + 10) * 1000000L };
	struct pp_eventstore *store;
	struct pp_agent_serve s;
	struct pp_err e = { 0 };

	ck_assert_int_eq(pp_eventstore_new(&store, 10), 0);
	ck_assert_int_eq(pp_agent_serve_open(&s, store, &opts, &e), 0);
	s.flush = count_flush;
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(pp_agent_serve_handle(&s, NULL, 0, NULL), 0);
	ck_assert_int_eq(flushes, 0);
	s.tap = tap;
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(pp_agent_serve_handle(&s, NULL, 0, NULL), 0);
	ck_assert_int_eq(flushes, 1);
	nanosleep(&period, NULL);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(pp_agent_serve_handle(&s, NULL, 0, NULL), 0);
	ck_assert_int_eq(flushes, 2);
	pp_agent_serve_close(&s);
	pp_eventstore_free(store);
}
END_TEST

PP_CHECK_TESTS("agent_serve", 30,
	       test_routing_and_the_shared_bound,
	       test_tap_flushes_now_and_then)
