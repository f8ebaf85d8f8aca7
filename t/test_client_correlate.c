// SPDX-License-Identifier: MIT
/* The client's correlation on synthetic runs: its own events alone (no agent), and with an
 * agent's events served over loopback by the real control server in a thread. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent/control.h"
#include "analyze/client_correlate.h"
#include "check_main.h"

#define SIZE 100
#define EXCHANGES 50
#define PING0 1000001u      /* seq of exchange 0's first ping byte */
#define PONG0 4294967000u   /* near the wrap: the pong stream wraps during the run */
#define CPORT 40000
#define SPORT 12345
#define TIMEOUT_MS 2000

/* ---- synthetic events: exchange i starts at 1e9 + i * 100000 ns ---- */

struct events {
	struct pp_event ev[EXCHANGES * 5 + 8];
	size_t n;
};

static void add(struct events *e, int point, bool to_server, uint64_t ts, uint32_t seq, uint32_t len,
		uint8_t flags)
{
	struct pp_event *ev = &e->ev[e->n++];
	const uint8_t c[4] = { 198, 18, 0, 1 }, s[4] = { 198, 18, 0, 2 };

	*ev = (struct pp_event){ .ts_ns = ts, .seq = seq, .len = len, .point = (uint8_t)point,
				 .family = PP_AF_INET, .tcp_flags = flags };
	memcpy(to_server ? ev->saddr : ev->daddr, c, 4);
	memcpy(to_server ? ev->daddr : ev->saddr, s, 4);
	ev->sport = to_server ? CPORT : SPORT;
	ev->dport = to_server ? SPORT : CPORT;
}

static uint64_t t0(int i)
{
	return 1000000000ull + (uint64_t)i * 100000;
}

/* Offsets (ns) of each point from the exchange's start: client send 0, xmit 1000, server rx
 * 6000, recv 9000, send 12000, xmit 14000, client rx 20000, recv 23000. So rtt 23000 =
 * client_stack 4000 + server_stack 5000 + server_app 3000 + network 11000. */
static void client_events(struct events *e, int skip_exchange_xmit)
{
	e->n = 0;
	add(e, PP_XMIT, true, t0(0) - 50000, PING0 - 1 - 40, 0, PP_TCP_SYN); /* SYN, then 40 B of hello */
	for (int i = 0; i < EXCHANGES; i++) {
		uint32_t ping = PING0 + (uint32_t)i * SIZE, pong = PONG0 + (uint32_t)i * SIZE;

		add(e, PP_SEND, true, t0(i), ping, SIZE, 0);
		if (i != skip_exchange_xmit)
			add(e, PP_XMIT, true, t0(i) + 1000, ping, SIZE, 0x18);
		add(e, PP_RX, false, t0(i) + 20000, pong, SIZE, 0x18);
		add(e, PP_RECV, false, t0(i) + 23000, pong, SIZE, 0);
	}
}

static void server_events(struct events *e)
{
	e->n = 0;
	for (int i = 0; i < EXCHANGES; i++) {
		uint32_t ping = PING0 + (uint32_t)i * SIZE, pong = PONG0 + (uint32_t)i * SIZE;
		uint64_t base = t0(i) + 777000000; /* another host's clock: never compared */

		add(e, PP_RX, true, base + 6000, ping, SIZE, 0x18);
		add(e, PP_RECV, true, base + 9000, ping, SIZE, 0);
		add(e, PP_SEND, false, base + 12000, pong, SIZE, 0);
		add(e, PP_XMIT, false, base + 14000, pong, SIZE, 0x18);
	}
}

static struct pp_flow_key flow(void)
{
	struct pp_flow_key k;

	ck_assert_int_eq(pp_flow_key_set(&k, "198.18.0.1", CPORT, "198.18.0.2", SPORT), 0);
	return k;
}

/* ---- a sink that keeps the rows ---- */

struct sink {
	struct pp_row rows[EXCHANGES];
	struct pp_split splits[EXCHANGES];
	size_t n;
};

static int keep_row(void *ctx, struct pp_row *row, const struct pp_split *split)
{
	struct sink *k = ctx;

	ck_assert_uint_eq(row->index, k->n);
	k->rows[k->n] = *row;
	pp_split_row(row, &k->splits[k->n]); /* again: now with rtt_app */
	(void)split;
	k->n++;
	return 0;
}

static int64_t rtt_app[EXCHANGES];

static struct pp_client_correlate run_config(const struct events *client, struct sink *k)
{
	for (int i = 0; i < EXCHANGES; i++)
		rtt_app[i] = 25000 + i;
	return (struct pp_client_correlate){
		.size = SIZE, .count = EXCHANGES, .flow = flow(), .start_ns = t0(0) - 10,
		.rtt_app_ns = rtt_app, .client_ev = client->ev, .n_client = client->n,
		.on_row = keep_row, .ctx = k,
	};
}

START_TEST(test_without_agent_rows_have_client_columns_and_rtt_app)
{
	static struct events client;
	static struct sink k;
	struct pp_correlate_stats st;
	struct pp_client_correlate cc;

	memset(&k, 0, sizeof(k));
	client_events(&client, -1);
	cc = run_config(&client, &k);
	ck_assert_int_eq(pp_client_correlate_run(&cc, &st), 0);
	ck_assert_uint_eq(k.n, EXCHANGES);
	ck_assert_uint_eq(st.complete, EXCHANGES); /* the client's points are all it needs */
	for (int i = 0; i < EXCHANGES; i++) {
		const struct pp_split *sp = &k.splits[i];

		ck_assert_int_eq(k.rows[i].rtt_app_ns, 25000 + i);
		ck_assert_uint_eq(k.rows[i].ping_seq, PING0 + (uint32_t)i * SIZE);
		ck_assert(pp_split_has(sp, PP_RTT) && pp_split_has(sp, PP_CLIENT_STACK));
		ck_assert_int_eq(sp->ns[PP_RTT], 23000);
		ck_assert_int_eq(sp->ns[PP_CLIENT_STACK], 4000);
		ck_assert(!pp_split_has(sp, PP_SERVER_APP) && !pp_split_has(sp, PP_NETWORK));
		ck_assert_uint_eq(k.rows[i].ts[S_RECV], 0);
	}
}
END_TEST

START_TEST(test_a_missing_client_point_makes_that_row_incomplete)
{
	static struct events client;
	static struct sink k;
	struct pp_correlate_stats st;
	struct pp_client_correlate cc;

	memset(&k, 0, sizeof(k));
	client_events(&client, 7);
	cc = run_config(&client, &k);
	ck_assert_int_eq(pp_client_correlate_run(&cc, &st), 0);
	ck_assert_uint_eq(st.rows, EXCHANGES);
	ck_assert_uint_eq(st.incomplete, 1);
	ck_assert(k.rows[7].flags & PP_ROW_INCOMPLETE);
	ck_assert_uint_eq(k.rows[7].ts[C_XMIT], 0);
	ck_assert_int_eq(k.rows[7].rtt_app_ns, 25007); /* the loop's own clock is still there */
}
END_TEST

/* ---- an agent: the real control server over loopback, in a thread ---- */

struct agent {
	struct events ev;
	struct pp_control_server *srv;
	pthread_t thread;
	int served;
};

static int agent_each(void *ctx, const struct pp_flow_key *f, pp_emit_fn emit, void *emit_ctx)
{
	struct agent *a = ctx;
	int rc;

	(void)f;
	for (size_t i = 0; i < a->ev.n; i++)
		if ((rc = emit(emit_ctx, &a->ev.ev[i])) < 0)
			return rc;
	return 0;
}

static void *agent_main(void *arg)
{
	struct agent *a = arg;
	struct pollfd pfd = { .fd = pp_control_server_fd(a->srv), .events = POLLIN };

	if (poll(&pfd, 1, TIMEOUT_MS) == 1)
		a->served = pp_control_server_serve_one(a->srv, NULL);
	return NULL;
}

static void agent_start(struct agent *a)
{
	struct pp_control_server_opts o = {
		.bind_addr = "127.0.0.1", .timeout_ms = TIMEOUT_MS,
		.source = { .for_each_event = agent_each, .ctx = a },
	};

	ck_assert_int_eq(pp_control_server_open(&a->srv, &o), 0);
	ck_assert_int_eq(pthread_create(&a->thread, NULL, agent_main, a), 0);
}

static void agent_stop(struct agent *a)
{
	pthread_join(a->thread, NULL);
	pp_control_server_close(a->srv);
}

START_TEST(test_with_agent_every_row_is_split_exactly)
{
	static struct events client;
	static struct agent a;
	static struct sink k;
	struct pp_fetch_req req = { .flow = flow(), .flags = PP_FETCH_HAVE_ISN, .isn = PING0 - 41 };
	struct pp_agent_source src;
	struct pp_correlate_stats st;
	struct pp_client_correlate cc;

	memset(&k, 0, sizeof(k));
	memset(&a, 0, sizeof(a));
	client_events(&client, -1);
	server_events(&a.ev);
	agent_start(&a);
	ck_assert_int_eq(pp_agent_source_open(&src, "127.0.0.1", pp_control_server_port(a.srv), &req,
					      TIMEOUT_MS), 1);
	cc = run_config(&client, &k);
	cc.agent = &src;
	ck_assert_int_eq(pp_client_correlate_run(&cc, &st), 0);
	ck_assert_int_eq(src.err.code, 0);
	ck_assert(pp_agent_source_stats(&src)->complete);
	ck_assert_uint_eq(src.events, a.ev.n);
	pp_agent_source_close(&src);
	agent_stop(&a);
	ck_assert_int_eq(a.served, 1);
	ck_assert_uint_eq(st.complete, EXCHANGES);
	for (int i = 0; i < EXCHANGES; i++) {
		const struct pp_split *sp = &k.splits[i];

		ck_assert_uint_eq(k.rows[i].pong_seq, (uint32_t)(PONG0 + (uint32_t)i * SIZE));
		ck_assert_int_eq(sp->ns[PP_RTT], 23000);
		ck_assert_int_eq(sp->ns[PP_CLIENT_STACK], 4000);
		ck_assert_int_eq(sp->ns[PP_SERVER_STACK], 5000);
		ck_assert_int_eq(sp->ns[PP_SERVER_APP], 3000);
		ck_assert_int_eq(sp->ns[PP_NETWORK], 11000);
		ck_assert_int_eq(sp->ns[PP_RTT_APP], 25000 + i);
	}
}
END_TEST

START_TEST(test_agent_without_events_of_the_connection_answers_zero)
{
	static struct agent a;
	struct pp_fetch_req req = { .flow = flow() };
	struct pp_agent_source src;

	memset(&a, 0, sizeof(a));
	agent_start(&a);
	ck_assert_int_eq(pp_agent_source_open(&src, "127.0.0.1", pp_control_server_port(a.srv), &req,
					      TIMEOUT_MS), 0);
	pp_agent_source_close(&src);
	agent_stop(&a);
}
END_TEST

START_TEST(test_no_agent_is_a_refused_connection_in_words)
{
	static struct agent a;
	struct pp_fetch_req req = { .flow = flow() };
	struct pp_agent_source src;
	uint16_t port;

	/* a port that was free a moment ago: nobody listens there now */
	memset(&a, 0, sizeof(a));
	agent_start(&a);
	port = pp_control_server_port(a.srv);
	pthread_cancel(a.thread);
	agent_stop(&a);
	ck_assert_int_eq(pp_agent_source_open(&src, "127.0.0.1", port, &req, TIMEOUT_MS), -ECONNREFUSED);
	ck_assert_int_eq(src.err.code, -ECONNREFUSED);
	ck_assert_str_eq(pp_err_text(&src.err), "connection refused (is pingpong-ebpf running there?)");
	ck_assert_int_eq(pp_agent_source_next(&src, &a.ev.ev[0]), 0);
	pp_agent_source_close(&src);
}
END_TEST

PP_CHECK_TESTS("client_correlate", 20,
	       test_without_agent_rows_have_client_columns_and_rtt_app,
	       test_a_missing_client_point_makes_that_row_incomplete,
	       test_with_agent_every_row_is_split_exactly,
	       test_agent_without_events_of_the_connection_answers_zero,
	       test_no_agent_is_a_refused_connection_in_words)
