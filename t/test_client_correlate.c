// SPDX-License-Identifier: MIT
/* The client's live correlation on synthetic runs: its own events alone (no agent), and with
 * the agent's pushed as they would come, later than the client's; rtt_app from the ring. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/client_correlate.h"
#include "check_main.h"

#define SIZE 100
#define EXCHANGES 50
#define PING0 1000001u      /* seq of exchange 0's first ping byte */
#define PONG0 4294967000u   /* near the wrap: the pong stream wraps during the run */
#define HELLO 40            /* bytes before exchange 0, client -> server */
#define REPLY 12            /* server -> client */
#define CPORT 40000
#define SPORT 12345
#define TIMEOUT_MS 2000

/* ---- synthetic events: exchange i starts at 1e9 + i * 100000 ns ---- */

struct events {
	struct pp_event ev[EXCHANGES * 5 + 16];
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
	/* SYN, SYN+ACK, then the hello and its reply: exchange 0 is HELLO and REPLY bytes in */
	add(e, PP_XMIT, true, t0(0) - 50000, PING0 - 1 - HELLO, 0, PP_TCP_SYN);
	add(e, PP_RX, false, t0(0) - 49000, PONG0 - 1 - REPLY, 0, PP_TCP_SYN | PP_TCP_ACK);
	add(e, PP_SEND, true, t0(0) - 40000, PING0 - HELLO, HELLO, 0);
	add(e, PP_RECV, false, t0(0) - 30000, PONG0 - REPLY, REPLY, 0);
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
	uint64_t start_ns[EXCHANGES];
	size_t n;
};

static int keep_row(void *ctx, struct pp_row *row, uint64_t start_ns)
{
	struct sink *k = ctx;

	ck_assert_uint_eq(row->index, k->n);
	k->rows[k->n] = *row;
	k->start_ns[k->n] = start_ns;
	pp_split_row(row, &k->splits[k->n]);
	k->n++;
	return 0;
}

static struct pp_sample_ring ring;

/* The loop's samples: exchange i took 25000 + i ns. */
static void fill_ring(uint64_t count, int samples)
{
	ck_assert_int_eq(pp_sample_ring_init(&ring, count), 0);
	for (int i = 0; i < samples; i++)
		pp_sample_ring_put(&ring, (uint64_t)i, t0(i), 25000 + i);
}

static struct pp_client_correlate *start(struct sink *k, bool agent)
{
	struct pp_client_correlate_opts o = {
		.size = SIZE, .count = EXCHANGES, .flow = flow(),
		.ping_skip_bytes = HELLO, .pong_skip_bytes = REPLY,
		.agent = agent, .rtt = &ring, .on_row = keep_row, .ctx = k,
	};
	struct pp_client_correlate *cc;

	memset(k, 0, sizeof(*k));
	ck_assert_int_eq(pp_client_correlate_new(&cc, &o), 0);
	return cc;
}

/* The client's events, and the server's `lag` exchanges behind them (4 events each), as a
 * live run delivers them; then both hosts end. */
static void push_all(struct pp_client_correlate *cc, const struct events *client,
		     const struct events *server, uint64_t recorded, int lag)
{
	size_t s = 0;

	for (size_t i = 0; i < client->n; i++) {
		ck_assert_int_eq(pp_client_correlate_push(cc, PP_CLIENT, &client->ev[i]), 0);
		while (server && s < server->n && (int)(s / 4) + lag < (int)(i / 4))
			ck_assert_int_eq(pp_client_correlate_push(cc, PP_SERVER, &server->ev[s++]), 0);
	}
	ck_assert_int_eq(pp_client_correlate_set_recorded(cc, recorded), 0);
	ck_assert_int_eq(pp_client_correlate_end_host(cc, PP_CLIENT), 0);
	while (server && s < server->n)
		ck_assert_int_eq(pp_client_correlate_push(cc, PP_SERVER, &server->ev[s++]), 0);
	ck_assert_int_eq(pp_client_correlate_end_host(cc, PP_SERVER), 0);
}

START_TEST(test_without_agent_rows_have_client_columns_and_rtt_app)
{
	static struct events client;
	static struct sink k;
	struct pp_client_correlate *cc;
	const struct pp_correlate_stats *st;

	client_events(&client, -1);
	fill_ring(EXCHANGES, EXCHANGES);
	cc = start(&k, false);
	push_all(cc, &client, NULL, EXCHANGES, 0);
	st = pp_client_correlate_stats(cc, NULL);
	ck_assert_uint_eq(k.n, EXCHANGES);
	ck_assert_uint_eq(st->complete, EXCHANGES); /* the client's points are all it needs */
	for (int i = 0; i < EXCHANGES; i++) {
		const struct pp_split *sp = &k.splits[i];

		ck_assert_int_eq(k.rows[i].rtt_app_ns, 25000 + i);
		ck_assert_uint_eq(k.start_ns[i], t0(i));
		ck_assert_uint_eq(k.rows[i].ping_seq, PING0 + (uint32_t)i * SIZE);
		ck_assert(pp_split_has(sp, PP_RTT) && pp_split_has(sp, PP_CLIENT_STACK));
		ck_assert_int_eq(sp->ns[PP_RTT], 23000);
		ck_assert_int_eq(sp->ns[PP_CLIENT_STACK], 4000);
		ck_assert(!pp_split_has(sp, PP_SERVER_APP) && !pp_split_has(sp, PP_NETWORK));
		ck_assert_uint_eq(k.rows[i].ts[S_RECV], 0);
	}
	pp_client_correlate_free(cc);
	pp_sample_ring_free(&ring);
}
END_TEST

START_TEST(test_a_missing_client_point_makes_that_row_incomplete)
{
	static struct events client;
	static struct sink k;
	struct pp_client_correlate *cc;
	const struct pp_correlate_stats *st;

	client_events(&client, 7);
	fill_ring(EXCHANGES, EXCHANGES);
	cc = start(&k, false);
	push_all(cc, &client, NULL, EXCHANGES, 0);
	st = pp_client_correlate_stats(cc, NULL);
	ck_assert_uint_eq(st->rows, EXCHANGES);
	ck_assert_uint_eq(st->incomplete, 1);
	ck_assert(k.rows[7].flags & PP_ROW_INCOMPLETE);
	ck_assert_uint_eq(k.rows[7].ts[C_XMIT], 0);
	ck_assert_int_eq(k.rows[7].rtt_app_ns, 25007); /* the loop's own clock is still there */
	pp_client_correlate_free(cc);
	pp_sample_ring_free(&ring);
}
END_TEST

/* The agent's events come later than the client's (its poll period, the network): the rows
 * wait for them, and every one is split exactly. */
static void with_agent(int lag)
{
	static struct events client, server;
	static struct sink k;
	struct pp_client_correlate *cc;
	const struct pp_correlate_stats *st;

	client_events(&client, -1);
	server_events(&server);
	fill_ring(EXCHANGES, EXCHANGES);
	cc = start(&k, true);
	push_all(cc, &client, &server, EXCHANGES, lag);
	st = pp_client_correlate_stats(cc, NULL);
	ck_assert_uint_eq(st->complete, EXCHANGES);
	ck_assert_uint_eq(k.n, EXCHANGES);
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
	pp_client_correlate_free(cc);
	pp_sample_ring_free(&ring);
}

START_TEST(test_with_agent_in_step_every_row_is_split_exactly)
{
	with_agent(0);
}
END_TEST

START_TEST(test_with_agent_lagging_every_row_is_split_exactly)
{
	with_agent(20);
}
END_TEST

/* A run that ended early (Ctrl-C, a lost server): rows only for the exchanges completed. */
START_TEST(test_a_short_run_has_rows_for_the_recorded_exchanges_only)
{
	static struct events client, server;
	static struct sink k;
	struct pp_client_correlate *cc;

	client_events(&client, -1);
	server_events(&server);
	client.n -= 4 * 20; /* the last 20 exchanges never happened */
	server.n -= 4 * 20;
	fill_ring(EXCHANGES, EXCHANGES - 20);
	cc = start(&k, true);
	push_all(cc, &client, &server, EXCHANGES - 20, 3);
	ck_assert_uint_eq(k.n, EXCHANGES - 20);
	ck_assert_uint_eq(pp_client_correlate_stats(cc, NULL)->complete, EXCHANGES - 20);
	pp_client_correlate_free(cc);
	pp_sample_ring_free(&ring);
}
END_TEST

/* An agent that went away mid-run: its host ends early, the client's rows still come, the
 * later ones without server points (incomplete, never lost). */
START_TEST(test_an_agent_gone_mid_run_leaves_later_rows_incomplete)
{
	static struct events client, server;
	static struct sink k;
	struct pp_client_correlate *cc;
	const struct pp_correlate_stats *st;

	client_events(&client, -1);
	server_events(&server);
	fill_ring(EXCHANGES, EXCHANGES);
	cc = start(&k, true);
	for (size_t i = 0; i < 4 * 10; i++)
		ck_assert_int_eq(pp_client_correlate_push(cc, PP_SERVER, &server.ev[i]), 0);
	ck_assert_int_eq(pp_client_correlate_end_host(cc, PP_SERVER), 0);
	for (size_t i = 0; i < client.n; i++)
		ck_assert_int_eq(pp_client_correlate_push(cc, PP_CLIENT, &client.ev[i]), 0);
	ck_assert_int_eq(pp_client_correlate_end_host(cc, PP_CLIENT), 0);
	st = pp_client_correlate_stats(cc, NULL);
	ck_assert_uint_eq(k.n, EXCHANGES);
	ck_assert_uint_eq(st->complete, 10);
	ck_assert_uint_eq(st->incomplete, EXCHANGES - 10);
	ck_assert_uint_eq(k.rows[10].ts[S_RECV], 0);
	ck_assert_uint_ne(k.rows[10].ts[C_RECV], 0);
	pp_client_correlate_free(cc);
	pp_sample_ring_free(&ring);
}
END_TEST

/* A reader a whole ring behind the loop: those rows say they have no rtt_app, and are counted. */
START_TEST(test_samples_the_ring_no_longer_holds_are_counted)
{
	static struct events client;
	static struct sink k;
	struct pp_client_correlate *cc;
	uint64_t missing = 0;

	client_events(&client, -1);
	/* room for 16, and the next put may be writing one of them: the latest 15 are sure */
	fill_ring(16, EXCHANGES);
	cc = start(&k, false);
	push_all(cc, &client, NULL, EXCHANGES, 0);
	pp_client_correlate_stats(cc, &missing);
	ck_assert_uint_eq(missing, EXCHANGES - 15);
	ck_assert_int_eq(k.rows[0].rtt_app_ns, -1);
	ck_assert_int_eq(k.rows[EXCHANGES - 1].rtt_app_ns, 25000 + EXCHANGES - 1);
	pp_client_correlate_free(cc);
	pp_sample_ring_free(&ring);
}
END_TEST

/* The SYN and the hello in a CPU's partial batch that comes late, after many later events (as
 * the kernel hands them over while the run goes): exchange 0 is still found where it is. */
START_TEST(test_a_late_batch_with_the_syn_still_places_exchange_0)
{
	static struct events client, reordered;
	static struct sink k;
	struct pp_client_correlate *cc;
	const size_t head = 4, later = 4 * 20; /* SYN, SYN+ACK, hello, reply; 20 exchanges */

	client_events(&client, -1);
	reordered.n = 0;
	for (size_t i = head; i < head + later; i++)
		reordered.ev[reordered.n++] = client.ev[i];
	for (size_t i = 0; i < head; i++)
		reordered.ev[reordered.n++] = client.ev[i];
	for (size_t i = head + later; i < client.n; i++)
		reordered.ev[reordered.n++] = client.ev[i];
	fill_ring(EXCHANGES, EXCHANGES);
	cc = start(&k, false);
	push_all(cc, &reordered, NULL, EXCHANGES, 0);
	ck_assert_uint_eq(k.n, EXCHANGES);
	ck_assert_uint_eq(pp_client_correlate_stats(cc, NULL)->complete, EXCHANGES);
	for (int i = 0; i < EXCHANGES; i++) {
		ck_assert_uint_eq(k.rows[i].ping_seq, PING0 + (uint32_t)i * SIZE);
		ck_assert_int_eq(k.splits[i].ns[PP_RTT], 23000);
	}
	pp_client_correlate_free(cc);
	pp_sample_ring_free(&ring);
}
END_TEST

PP_CHECK_TESTS("client_correlate", 20,
	       test_a_late_batch_with_the_syn_still_places_exchange_0,
	       test_without_agent_rows_have_client_columns_and_rtt_app,
	       test_a_missing_client_point_makes_that_row_incomplete,
	       test_with_agent_in_step_every_row_is_split_exactly,
	       test_with_agent_lagging_every_row_is_split_exactly,
	       test_a_short_run_has_rows_for_the_recorded_exchanges_only,
	       test_an_agent_gone_mid_run_leaves_later_rows_incomplete,
	       test_samples_the_ring_no_longer_holds_are_counted)
