// SPDX-License-Identifier: MIT
/* Exchanges from turn-taking on synthetic event streams: connections are scripted message by
 * message, every expected point is known, so rows are compared exactly (sizes 1 B..1 MiB, many
 * calls and segments, interleaved connections, reuse of a 4-tuple, reordering, a lost point,
 * pipelining; and the fixed-size case against correlate.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/correlate.h"
#include "analyze/turns.h"
#include "check_main.h"

#define OFF_SERVER_NS 7000000000ull /* the server's clock runs 7 s ahead of the client's */
#define ONE_WAY_NS    9000u

static const uint8_t client_ip[4] = { 198, 18, 0, 1 }, server_ip[4] = { 198, 18, 0, 2 };
#define SPORT 6379

struct expect {
	uint32_t isn;            /* the connection's instance */
	uint64_t index, req, resp;
	uint64_t ts[PP_NSLOTS];
	uint32_t flags;
};

struct gen {
	struct pp_event *ev[2];
	size_t n[2], cap[2];
	struct expect *exp;
	size_t nexp, capexp;
	uint64_t rng;
};

/* One scripted connection. */
struct tconn {
	uint16_t cport;
	uint32_t isn_c, isn_s;
	uint32_t next_seq[2];    /* per direction, 0 request, 1 response */
	uint64_t t;              /* true time (client clock) */
	uint64_t index;
	int calls, mss;          /* per message: calls of each end, bytes per segment */
	/* --sched points with each recv: the client's thread woken after rx (its CPU out of idle
	 * on even exchanges), the server's never switched out after its first recv (a stale
	 * oncpu, older than the previous exchange's send) */
	bool sched;
	uint64_t server_oncpu;
};

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static struct pp_event mkev(int point, uint64_t ts, int dir, uint16_t cport, uint32_t seq, uint32_t len)
{
	struct pp_event ev = { 0 };

	ev.point = (uint8_t)point;
	ev.ts_ns = ts;
	ev.seq = seq;
	ev.len = len;
	ev.family = PP_AF_INET;
	if (dir == 0) {
		memcpy(ev.saddr, client_ip, 4), memcpy(ev.daddr, server_ip, 4);
		ev.sport = cport, ev.dport = SPORT;
	} else {
		memcpy(ev.saddr, server_ip, 4), memcpy(ev.daddr, client_ip, 4);
		ev.sport = SPORT, ev.dport = cport;
	}
	return ev;
}

static void add(struct gen *g, int host, struct pp_event ev)
{
	if (host == PP_SERVER)
		ev.ts_ns += OFF_SERVER_NS;
	if (g->n[host] == g->cap[host]) {
		g->cap[host] = g->cap[host] ? g->cap[host] * 2 : 4096;
		g->ev[host] = realloc(g->ev[host], g->cap[host] * sizeof(struct pp_event));
		ck_assert_ptr_nonnull(g->ev[host]);
	}
	g->ev[host][g->n[host]++] = ev;
}

static uint32_t cut(uint32_t size, int k, int j)
{
	return (uint32_t)((uint64_t)size * (uint64_t)j / (uint64_t)k);
}

/* sender send/xmit/wire_tx, receiver wire_rx/rx/tcp/recv of one direction */
static const int slots_of[2][7] = {
	{ C_SEND, C_XMIT, C_WIRE_TX, S_WIRE_RX, S_RX, S_TCP, S_RECV },
	{ S_SEND, S_XMIT, S_WIRE_TX, C_WIRE_RX, C_RX, C_TCP, C_RECV },
};

/* The --sched points the kernel sends just before a recv event: copies of it (ts_other_ns 0)
 * with their own point and time. The call holding the message's last byte (last) fills the
 * slots. */
static void sched_points(struct gen *g, struct tconn *c, int receiver, struct pp_event recv,
			 bool last, uint64_t ts[PP_NSLOTS])
{
	uint64_t off = receiver == PP_SERVER ? OFF_SERVER_NS : 0, exit_ns = recv.ts_ns;
	struct pp_event ev = recv;

	ev.ts_other_ns = 0;
	if (receiver == PP_CLIENT) {
		if (last) {
			ev.point = PP_WAKE, ev.ts_ns = exit_ns - 1500;
			add(g, receiver, ev);
			ts[C_WAKE] = ev.ts_ns + off;
			if (c->index % 2 == 1) {   /* even exchanges: exchange() counted it already */
				ev.point = PP_IDLE, ev.ts_ns = exit_ns - 1200;
				add(g, receiver, ev);
				ts[C_IDLE] = ev.ts_ns + off;
			}
		}
		ev.point = PP_ONCPU, ev.ts_ns = exit_ns - 600;
	} else {
		if (!c->server_oncpu)
			c->server_oncpu = exit_ns - 600;
		ev.point = PP_ONCPU, ev.ts_ns = c->server_oncpu;
	}
	add(g, receiver, ev);
	if (last)
		ts[receiver == PP_CLIENT ? C_ONCPU : S_ONCPU] = ev.ts_ns + off;
}

/* One message of len bytes, dir 0 (request) or 1; fills its seven slots of ts (each host's
 * clock) and leaves c->t at the receiver's last recv. */
static void transfer(struct gen *g, struct tconn *c, int dir, uint32_t len, uint64_t ts[PP_NSLOTS])
{
	int sender = dir == 0 ? PP_CLIENT : PP_SERVER, receiver = 1 - sender;
	uint64_t off[2] = { 0, OFF_SERVER_NS };
	uint32_t seq0 = c->next_seq[dir];
	int calls = (uint32_t)c->calls > len ? (int)len : c->calls;
	uint32_t mss = (uint32_t)c->mss;
	uint32_t nseg = (len + mss - 1) / mss;
	uint64_t t = c->t, last_rx = 0;

	for (int k = 0; k < calls; k++) {
		struct pp_event ev = mkev(PP_SEND, t + (uint64_t)k * 300, dir, c->cport,
					  seq0 + cut(len, calls, k), cut(len, calls, k + 1) - cut(len, calls, k));

		ev.ts_other_ns = ev.ts_ns + 200;
		add(g, sender, ev);
	}
	ts[slots_of[dir][0]] = t + off[sender];
	t += (uint64_t)calls * 300;
	for (uint32_t j = 0; j < nseg; j++) {
		uint32_t a = j * mss, b = a + mss < len ? a + mss : len;
		uint64_t x = t + 1000 + (uint64_t)j * 120, w = x + 400 + ONE_WAY_NS;

		add(g, sender, mkev(PP_XMIT, x, dir, c->cport, seq0 + a, b - a));
		add(g, sender, mkev(PP_WIRE_TX, x + 400, dir, c->cport, seq0 + a, b - a));
		add(g, receiver, mkev(PP_WIRE_RX, w, dir, c->cport, seq0 + a, b - a));
		add(g, receiver, mkev(PP_RX, w + 700, dir, c->cport, seq0 + a, b - a));
		add(g, receiver, mkev(PP_TCP, w + 1000, dir, c->cport, seq0 + a, b - a));
		if (j == nseg - 1) {
			ts[slots_of[dir][1]] = x + off[sender];
			ts[slots_of[dir][2]] = x + 400 + off[sender];
			ts[slots_of[dir][3]] = w + off[receiver];
			ts[slots_of[dir][4]] = w + 700 + off[receiver];
			ts[slots_of[dir][5]] = w + 1000 + off[receiver];
			last_rx = w + 1000;
		}
	}
	for (int k = 0; k < calls; k++) {
		uint64_t exit_ns = last_rx + 2000 + (uint64_t)k * 200 + rnd(g) % 100;
		struct pp_event ev = mkev(PP_RECV, exit_ns, dir, c->cport, seq0 + cut(len, calls, k),
					  cut(len, calls, k + 1) - cut(len, calls, k));

		ev.ts_other_ns = exit_ns - 150;
		if (c->sched)
			sched_points(g, c, receiver, ev, k == calls - 1, ts);
		add(g, receiver, ev);
		ts[slots_of[dir][6]] = exit_ns + off[receiver];
	}
	c->t = last_rx + 2000 + (uint64_t)calls * 200 + 100;
	c->next_seq[dir] = seq0 + len;
}

static void tconn_open(struct gen *g, struct tconn *c, uint16_t cport, uint64_t t)
{
	memset(c, 0, sizeof(*c));
	c->cport = cport;
	c->isn_c = (uint32_t)rnd(g);
	c->isn_s = (uint32_t)rnd(g);
	c->next_seq[0] = c->isn_c + 1;
	c->next_seq[1] = c->isn_s + 1;
	c->t = t;
	c->calls = 1;
	c->mss = 1448;
	for (int h = 0; h < 2; h++) {
		struct pp_event syn = mkev(h == PP_CLIENT ? PP_XMIT : PP_RX, t + (uint64_t)h * ONE_WAY_NS, 0,
					   cport, c->isn_c, 0);
		struct pp_event synack = mkev(h == PP_CLIENT ? PP_RX : PP_XMIT,
					      t + 2 * ONE_WAY_NS - (uint64_t)h * ONE_WAY_NS, 1, cport, c->isn_s, 0);

		syn.tcp_flags = PP_TCP_SYN;
		synack.tcp_flags = PP_TCP_SYN | PP_TCP_ACK;
		add(g, h, syn);
		add(g, h, synack);
	}
	c->t = t + 3 * ONE_WAY_NS;
}

static void tconn_close(struct gen *g, struct tconn *c)
{
	for (int h = 0; h < 2; h++)
		for (int dir = 0; dir < 2; dir++) {
			int sender = dir == 0 ? PP_CLIENT : PP_SERVER;
			struct pp_event fin = mkev(h == sender ? PP_XMIT : PP_RX,
						   c->t + 1000 + (uint64_t)dir * 3 * ONE_WAY_NS +
						   (h == sender ? 0 : ONE_WAY_NS), dir, c->cport,
						   c->next_seq[dir], 0);

			fin.tcp_flags = PP_TCP_FIN | PP_TCP_ACK;
			add(g, h, fin);
		}
	c->t += 1000 + 5 * ONE_WAY_NS;
}

static struct expect *exchange(struct gen *g, struct tconn *c, uint32_t req, uint32_t resp)
{
	struct expect *e;

	if (g->nexp == g->capexp) {
		g->capexp = g->capexp ? g->capexp * 2 : 256;
		g->exp = realloc(g->exp, g->capexp * sizeof(*g->exp));
		ck_assert_ptr_nonnull(g->exp);
	}
	e = &g->exp[g->nexp++];
	memset(e, 0, sizeof(*e));
	e->isn = c->isn_c;
	e->index = c->index++;
	e->req = req;
	e->resp = resp;
	transfer(g, c, 0, req, e->ts);
	c->t += 5000 + rnd(g) % 3000;       /* server app */
	transfer(g, c, 1, resp, e->ts);
	c->t += 2000 + rnd(g) % 1000;       /* client think time */
	return e;
}

static int cmp_ts(const void *a, const void *b)
{
	const struct pp_event *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static void sort_hosts(struct gen *g)
{
	for (int h = 0; h < 2; h++)
		qsort(g->ev[h], g->n[h], sizeof(struct pp_event), cmp_ts);
}

static void gen_free(struct gen *g)
{
	free(g->ev[0]);
	free(g->ev[1]);
	free(g->exp);
}

/* ---- running ---- */

struct got_row {
	uint64_t conn, index, req, resp;
	uint16_t cport;
	struct pp_row row;
};

struct got {
	struct got_row *rows;
	size_t n, cap;
	struct pp_turns_conn conns[64];
	uint32_t isn_of[64];
	size_t nconns;
	bool identities_checked;
};

static int on_row(void *ctx, const struct pp_turn *turn)
{
	struct got *got = ctx;
	const struct pp_split *sp = turn->split;

	if (got->n == got->cap) {
		got->cap = got->cap ? got->cap * 2 : 256;
		got->rows = realloc(got->rows, got->cap * sizeof(*got->rows));
		ck_assert_ptr_nonnull(got->rows);
	}
	got->rows[got->n++] = (struct got_row){ .conn = turn->conn, .index = turn->row->index,
						 .req = turn->req_bytes, .resp = turn->resp_bytes,
						 .cport = turn->flow->client_port, .row = *turn->row };
	if (!(turn->row->flags & PP_ROW_INCOMPLETE)) {
		/* the two identities, exactly, on every complete row */
		ck_assert(pp_split_has(sp, PP_RTT) && pp_split_has(sp, PP_NETWORK));
		ck_assert_int_eq(sp->ns[PP_RTT], sp->ns[PP_CLIENT_STACK] + sp->ns[PP_NETWORK] +
						 sp->ns[PP_SERVER_STACK] + sp->ns[PP_SERVER_APP]);
		if (pp_split_has(sp, PP_WIRE))
			ck_assert_int_eq(sp->ns[PP_NETWORK], sp->ns[PP_CLIENT_DEV] + sp->ns[PP_WIRE] +
							     sp->ns[PP_SERVER_DEV]);
		got->identities_checked = true;
	}
	return 0;
}

static int on_conn(void *ctx, const struct pp_turns_conn *conn)
{
	struct got *got = ctx;

	ck_assert_uint_lt(got->nconns, 64);
	got->conns[got->nconns] = *conn;
	got->conns[got->nconns].flow = NULL;
	got->isn_of[got->nconns] = conn->isn;
	got->nconns++;
	return 0;
}

struct src {
	const struct pp_event *ev;
	size_t n, i;
};

static int src_next(void *ctx, struct pp_event *ev)
{
	struct src *s = ctx;

	if (s->i >= s->n)
		return 0;
	*ev = s->ev[s->i++];
	return 1;
}

static const struct pp_turns_stats *run(struct gen *g, struct got *got, struct pp_turns **tp,
					const struct pp_turns_config *base)
{
	struct pp_turns_config cfg = base ? *base : (struct pp_turns_config){ 0 };
	struct src s[2] = { { g->ev[0], g->n[0], 0 }, { g->ev[1], g->n[1], 0 } };

	memset(got, 0, sizeof(*got));
	cfg.on_row = on_row;
	cfg.on_conn = on_conn;
	cfg.ctx = got;
	ck_assert_int_eq(pp_turns_new(tp, &cfg), 0);
	ck_assert_int_eq(pp_turns_run(*tp, src_next, &s[0], src_next, &s[1]), 0);
	return pp_turns_stats(*tp);
}

static uint32_t isn_of_conn(const struct got *got, uint64_t conn)
{
	for (size_t i = 0; i < got->nconns; i++)
		if (got->conns[i].conn == conn)
			return got->isn_of[i];
	ck_abort_msg("connection %llu never ended", (unsigned long long)conn);
	return 0;
}

/* Every expected exchange came out once, exactly; nothing else did. */
static void check_rows(const struct gen *g, const struct got *got)
{
	ck_assert_uint_eq(got->n, g->nexp);
	for (size_t i = 0; i < g->nexp; i++) {
		const struct expect *e = &g->exp[i];
		const struct got_row *r = NULL;

		for (size_t j = 0; j < got->n && !r; j++)
			if (got->rows[j].index == e->index && isn_of_conn(got, got->rows[j].conn) == e->isn)
				r = &got->rows[j];
		ck_assert_msg(r, "exchange %zu (index %llu) missing", i, (unsigned long long)e->index);
		ck_assert_uint_eq(r->req, e->req);
		ck_assert_uint_eq(r->resp, e->resp);
		for (int s = 0; s < PP_NSLOTS; s++)
			ck_assert_msg(r->row.ts[s] == e->ts[s], "exchange %zu slot %s: %llu, want %llu", i,
				      pp_slot_name[s], (unsigned long long)r->row.ts[s],
				      (unsigned long long)e->ts[s]);
		ck_assert_uint_eq(r->row.flags, e->flags);
	}
}

static void cleanup(struct gen *g, struct got *got, struct pp_turns *t)
{
	pp_turns_free(t);
	free(got->rows);
	gen_free(g);
}

/* ---- the cases ---- */

static int fixed_row(void *ctx, struct pp_row *row, const struct pp_split *split)
{
	struct got *got = ctx;

	(void)split;
	if (got->n == got->cap) {
		got->cap = got->cap ? got->cap * 2 : 256;
		got->rows = realloc(got->rows, got->cap * sizeof(*got->rows));
	}
	got->rows[got->n++] = (struct got_row){ .index = row->index, .row = *row };
	return 0;
}

/* pingpong's own traffic is one case: the same rows as the fixed-size correlator. */
START_TEST(test_fixed_size_same_as_correlate)
{
	struct gen g = { .rng = 7 };
	struct got got, fixed = { 0 };
	struct pp_turns *t;
	struct pp_correlator *c;
	struct pp_correlate_config cc = { .size = 3000, .have_flow = true };
	struct src s[2];
	struct tconn tc;

	tconn_open(&g, &tc, 40000, 1000000);
	tc.calls = 2;
	for (int i = 0; i < 500; i++)
		exchange(&g, &tc, 3000, 3000);
	tconn_close(&g, &tc);
	sort_hosts(&g);
	run(&g, &got, &t, NULL);
	check_rows(&g, &got);

	cc.flow = (struct pp_flow_key){ .family = PP_AF_INET, .client_port = 40000, .server_port = SPORT };
	memcpy(cc.flow.client_addr, client_ip, 4);
	memcpy(cc.flow.server_addr, server_ip, 4);
	cc.on_row = fixed_row;
	cc.ctx = &fixed;
	ck_assert_int_eq(pp_correlate_new(&c, &cc), 0);
	s[0] = (struct src){ g.ev[0], g.n[0], 0 };
	s[1] = (struct src){ g.ev[1], g.n[1], 0 };
	ck_assert_int_eq(pp_correlate_run(c, src_next, &s[0], src_next, &s[1]), 0);
	ck_assert_uint_eq(fixed.n, got.n);
	for (size_t i = 0; i < got.n; i++) {
		ck_assert_uint_eq(got.rows[i].index, fixed.rows[i].index);
		ck_assert_uint_eq(got.rows[i].row.ping_seq, fixed.rows[i].row.ping_seq);
		ck_assert_uint_eq(got.rows[i].row.pong_seq, fixed.rows[i].row.pong_seq);
		ck_assert_uint_eq(got.rows[i].row.flags, fixed.rows[i].row.flags);
		ck_assert_mem_eq(got.rows[i].row.ts, fixed.rows[i].row.ts, sizeof(got.rows[i].row.ts));
	}
	ck_assert_uint_eq(pp_turns_stats(t)->connections, 1);
	ck_assert_uint_eq(pp_turns_stats(t)->complete, 500);
	pp_correlate_free(c);
	free(fixed.rows);
	cleanup(&g, &got, t);
}
END_TEST

/* --sched: the three points on both hosts land in the cell of the message whose last byte
 * their recv holds, as recv does, and move no turn: the server's oncpu, older than the
 * previous exchange's send, must not settle that exchange before its send is in. The rows are
 * those of the fixed-size correlator, and the parts come out as scripted. */
START_TEST(test_sched_points_on_both_hosts)
{
	struct gen g = { .rng = 19 };
	struct got got, fixed = { 0 };
	struct pp_turns *t;
	struct pp_correlator *c;
	struct pp_correlate_config cc = { .size = 2000, .have_flow = true, .no_reorder = true };
	struct src s[2];
	struct tconn tc;

	tconn_open(&g, &tc, 40020, 1000000);
	tc.calls = 2;
	tc.sched = true;
	for (int i = 0; i < 300; i++)
		exchange(&g, &tc, 2000, 2000);
	tconn_close(&g, &tc);
	sort_hosts(&g);
	/* each host's events processed as they come (no time-order stage holding them all), so
	 * the server's stale oncpu events come before the send of the exchange they follow */
	run(&g, &got, &t, &(struct pp_turns_config){ .no_reorder = true });
	check_rows(&g, &got);
	ck_assert_uint_eq(pp_turns_stats(t)->complete, 300);
	ck_assert_uint_eq(pp_turns_stats(t)->pipelined, 0);
	for (size_t i = 0; i < got.n; i++) {
		const struct pp_row *row = &got.rows[i].row;
		struct pp_split sp;

		pp_split_row(row, &sp);
		ck_assert(pp_split_identities_hold(&sp));
		/* client: woken 1.5 us before its recv, on a CPU 0.9 us later; its CPU idle for
		 * 0.3 us of that on even exchanges */
		ck_assert(pp_split_has(&sp, PP_CLIENT_PROC) && pp_split_has(&sp, PP_SERVER_PROC));
		ck_assert_int_eq(sp.ns[PP_CLIENT_WAKEUP], 900);
		ck_assert_int_eq(sp.ns[PP_CLIENT_IDLE], (got.rows[i].index % 2 == 0 ? 300 : 0));
		ck_assert_int_eq(sp.ns[PP_CLIENT_RETURN], 600);
		ck_assert_int_eq(sp.ns[PP_CLIENT_PROC],
				 (int64_t)(row->ts[C_XMIT] - row->ts[C_SEND] + row->ts[C_WAKE] - row->ts[C_RX]));
		/* server: switched in before the first recv's rx only on the first exchange */
		if (got.rows[i].index == 0) {
			ck_assert_int_eq(sp.ns[PP_SERVER_WAKEUP], (int64_t)(row->ts[S_ONCPU] - row->ts[S_RX]));
		} else {
			ck_assert_uint_lt(row->ts[S_ONCPU], row->ts[S_RX]);
			ck_assert_int_eq(sp.ns[PP_SERVER_WAKEUP], 0);
			ck_assert_int_eq(sp.ns[PP_SERVER_RETURN], 0);
			ck_assert_int_eq(sp.ns[PP_SERVER_PROC], sp.ns[PP_SERVER_STACK]);
		}
	}

	cc.flow = (struct pp_flow_key){ .family = PP_AF_INET, .client_port = 40020, .server_port = SPORT };
	memcpy(cc.flow.client_addr, client_ip, 4);
	memcpy(cc.flow.server_addr, server_ip, 4);
	cc.on_row = fixed_row;
	cc.ctx = &fixed;
	ck_assert_int_eq(pp_correlate_new(&c, &cc), 0);
	s[0] = (struct src){ g.ev[0], g.n[0], 0 };
	s[1] = (struct src){ g.ev[1], g.n[1], 0 };
	ck_assert_int_eq(pp_correlate_run(c, src_next, &s[0], src_next, &s[1]), 0);
	ck_assert_uint_eq(fixed.n, got.n);
	for (size_t i = 0; i < got.n; i++) {
		ck_assert_uint_eq(got.rows[i].row.flags, fixed.rows[i].row.flags);
		ck_assert_mem_eq(got.rows[i].row.ts, fixed.rows[i].row.ts, sizeof(got.rows[i].row.ts));
	}
	pp_correlate_free(c);

	/* A window of 16 exchanges: the stale oncpu events, all from exchange 0's time, come a
	 * window ahead for exchanges 16 on. They are dropped (counted), never force the window:
	 * every other point of every row is still there. */
	fixed.n = 0;
	cc.window_exchanges = 16;
	ck_assert_int_eq(pp_correlate_new(&c, &cc), 0);
	s[0] = (struct src){ g.ev[0], g.n[0], 0 };
	s[1] = (struct src){ g.ev[1], g.n[1], 0 };
	ck_assert_int_eq(pp_correlate_run(c, src_next, &s[0], src_next, &s[1]), 0);
	ck_assert_uint_eq(fixed.n, got.n);
	ck_assert_uint_eq(pp_correlate_stats(c)->rows_forced, 0);
	ck_assert_uint_eq(pp_correlate_stats(c)->events_sched_early, 2 * (300 - 16));
	for (size_t i = 0; i < got.n; i++) {
		uint64_t want[PP_NSLOTS];

		memcpy(want, got.rows[i].row.ts, sizeof(want));
		if (i >= 16)
			want[S_ONCPU] = 0;
		ck_assert_uint_eq(got.rows[i].row.flags, fixed.rows[i].row.flags);
		ck_assert_mem_eq(want, fixed.rows[i].row.ts, sizeof(want));
	}
	pp_correlate_free(c);
	free(fixed.rows);
	cleanup(&g, &got, t);
}
END_TEST

START_TEST(test_random_sizes_each_way)
{
	struct gen g = { .rng = 11 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc;

	tconn_open(&g, &tc, 40001, 1000000);
	tc.mss = 65536;  /* GSO-sized skbs keep 1 MiB messages quick */
	for (int i = 0; i < 60; i++) {
		uint32_t req = 1 + (uint32_t)(rnd(&g) % (1u << 20)), resp = 1 + (uint32_t)(rnd(&g) % (1u << 20));

		if (i % 3 == 0)
			req = 1 + (uint32_t)(rnd(&g) % 16);  /* small ones too */
		tc.calls = 1 + (int)(rnd(&g) % 4);
		exchange(&g, &tc, req, resp);
	}
	exchange(&g, &tc, 1u << 20, 1u << 20);
	exchange(&g, &tc, 1, 1);
	tconn_close(&g, &tc);
	sort_hosts(&g);
	run(&g, &got, &t, NULL);
	check_rows(&g, &got);
	ck_assert(got.identities_checked);
	cleanup(&g, &got, t);
}
END_TEST

START_TEST(test_message_over_many_calls_and_segments)
{
	struct gen g = { .rng = 13 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc;

	tconn_open(&g, &tc, 40002, 1000000);
	tc.calls = 37;
	tc.mss = 100;
	for (int i = 0; i < 20; i++)
		exchange(&g, &tc, 10000 + (uint32_t)i * 7, 25000 - (uint32_t)i * 11);
	tconn_close(&g, &tc);
	sort_hosts(&g);
	run(&g, &got, &t, NULL);
	check_rows(&g, &got);
	ck_assert_uint_eq(pp_turns_stats(t)->retransmitted, 0);
	cleanup(&g, &got, t);
}
END_TEST

/* Several connections at once, one opened and one closed mid-run, and a 4-tuple used twice. */
START_TEST(test_interleaved_connections_and_reuse)
{
	struct gen g = { .rng = 17 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc[5];
	const struct pp_turns_stats *st;

	for (int c = 0; c < 3; c++)
		tconn_open(&g, &tc[c], (uint16_t)(41000 + c), 1000000 + (uint64_t)c * 3333);
	for (int i = 0; i < 300; i++)
		for (int c = 0; c < 3; c++) {
			if (c == 2 && i == 100)
				tconn_close(&g, &tc[2]);              /* closed mid-run */
			if (c == 2 && i >= 100)
				continue;
			exchange(&g, &tc[c], 1 + (uint32_t)(rnd(&g) % 5000), 1 + (uint32_t)(rnd(&g) % 9000));
		}
	/* opened mid-run, on the closed one's 4-tuple: a second instance */
	tconn_open(&g, &tc[3], 41002, tc[2].t + 50000);
	tconn_open(&g, &tc[4], 41003, tc[0].t / 2);
	for (int i = 0; i < 50; i++) {
		exchange(&g, &tc[3], 100, 2000);
		exchange(&g, &tc[4], 10, 20);
	}
	for (int c = 0; c < 5; c++)
		if (c != 2)
			tconn_close(&g, &tc[c]);
	sort_hosts(&g);
	st = run(&g, &got, &t, NULL);
	check_rows(&g, &got);
	ck_assert_uint_eq(st->connections, 5);
	ck_assert_uint_eq(got.nconns, 5);
	ck_assert_uint_eq(st->pipelined, 0);
	ck_assert_uint_eq(st->incomplete, 0);
	ck_assert_uint_ge(st->conns_high_water, 4);
	cleanup(&g, &got, t);
}
END_TEST

/* Events arrive up to a few places (well inside reorder_ns) out of time order. */
START_TEST(test_out_of_order_within_window)
{
	struct gen g = { .rng = 19 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc[2];

	tconn_open(&g, &tc[0], 42000, 1000000);
	tconn_open(&g, &tc[1], 42001, 1001000);
	for (int i = 0; i < 200; i++)
		for (int c = 0; c < 2; c++)
			exchange(&g, &tc[c], 1 + (uint32_t)(rnd(&g) % 3000), 1 + (uint32_t)(rnd(&g) % 3000));
	tconn_close(&g, &tc[0]);
	tconn_close(&g, &tc[1]);
	sort_hosts(&g);
	for (int h = 0; h < 2; h++)
		for (size_t i = 0; i + 8 <= g.n[h]; i += 8)
			for (int k = 7; k > 0; k--) {   /* shuffle each block of 8 */
				size_t j = i + rnd(&g) % (uint64_t)(k + 1);
				struct pp_event tmp = g.ev[h][i + (size_t)k];

				g.ev[h][i + (size_t)k] = g.ev[h][j];
				g.ev[h][j] = tmp;
			}
	run(&g, &got, &t, NULL);
	check_rows(&g, &got);
	ck_assert_uint_eq(pp_turns_stats(t)->events_out_of_order, 0); /* all sorted back */
	cleanup(&g, &got, t);
}
END_TEST

START_TEST(test_missing_point_marks_row_incomplete)
{
	struct gen g = { .rng = 23 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc;
	struct expect *e = NULL;
	size_t drop = SIZE_MAX;

	tconn_open(&g, &tc, 43000, 1000000);
	for (int i = 0; i < 30; i++) {
		size_t before = g.n[PP_SERVER];

		if (i == 7) {
			e = exchange(&g, &tc, 500, 5000);
			/* the server's xmit of the response's last segment is lost */
			for (size_t k = before; k < g.n[PP_SERVER]; k++)
				if (g.ev[PP_SERVER][k].point == PP_XMIT &&
				    g.ev[PP_SERVER][k].ts_ns == e->ts[S_XMIT])
					drop = k;
		} else {
			exchange(&g, &tc, 500, 5000);
		}
	}
	tconn_close(&g, &tc);
	ck_assert_uint_ne(drop, SIZE_MAX);
	memmove(&g.ev[PP_SERVER][drop], &g.ev[PP_SERVER][drop + 1],
		(g.n[PP_SERVER] - drop - 1) * sizeof(struct pp_event));
	g.n[PP_SERVER]--;
	e = &g.exp[7];
	e->ts[S_XMIT] = 0;
	e->flags = PP_ROW_INCOMPLETE;
	sort_hosts(&g);
	run(&g, &got, &t, NULL);
	check_rows(&g, &got);
	ck_assert_uint_eq(pp_turns_stats(t)->incomplete, 1);
	ck_assert_uint_eq(pp_turns_stats(t)->missing[S_XMIT], 1);
	cleanup(&g, &got, t);
}
END_TEST

/* The client sends its next request while the previous response is still arriving: the
 * server sent those response bytes before it had read the request they are counted to. */
START_TEST(test_pipelining_detected_no_rows)
{
	struct gen g = { .rng = 29 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc, ok;
	const struct pp_turns_stats *st;
	uint64_t x;
	uint32_t rq, rs;

	tconn_open(&g, &tc, 44000, 1000000);
	tconn_open(&g, &ok, 44001, 1000500);
	for (int i = 0; i < 20; i++)
		exchange(&g, &ok, 100, 100);
	for (int i = 0; i < 5; i++)
		exchange(&g, &tc, 100, 100);       /* turn-taking first */
	g.nexp -= 5;                               /* ... but the connection gives no rows */
	/* then: request A; the server answers 2000 bytes in one send; the client reads 1000,
	 * sends request B, reads the other 1000 and B's answer */
	rq = tc.next_seq[0];
	rs = tc.next_seq[1];
	x = tc.t;
	add(&g, PP_CLIENT, mkev(PP_SEND, x, 0, tc.cport, rq, 100));
	add(&g, PP_CLIENT, mkev(PP_XMIT, x + 100, 0, tc.cport, rq, 100));
	add(&g, PP_SERVER, mkev(PP_RX, x + 10000, 0, tc.cport, rq, 100));
	add(&g, PP_SERVER, mkev(PP_RECV, x + 11000, 0, tc.cport, rq, 100));
	add(&g, PP_SERVER, mkev(PP_SEND, x + 12000, 1, tc.cport, rs, 2000));
	add(&g, PP_SERVER, mkev(PP_XMIT, x + 12100, 1, tc.cport, rs, 2000));
	add(&g, PP_CLIENT, mkev(PP_RX, x + 22000, 1, tc.cport, rs, 2000));
	add(&g, PP_CLIENT, mkev(PP_RECV, x + 23000, 1, tc.cport, rs, 1000));
	add(&g, PP_CLIENT, mkev(PP_SEND, x + 24000, 0, tc.cport, rq + 100, 100));
	add(&g, PP_CLIENT, mkev(PP_XMIT, x + 24100, 0, tc.cport, rq + 100, 100));
	add(&g, PP_CLIENT, mkev(PP_RECV, x + 25000, 1, tc.cport, rs + 1000, 1000));
	add(&g, PP_SERVER, mkev(PP_RX, x + 34000, 0, tc.cport, rq + 100, 100));
	add(&g, PP_SERVER, mkev(PP_RECV, x + 35000, 0, tc.cport, rq + 100, 100));
	add(&g, PP_SERVER, mkev(PP_SEND, x + 36000, 1, tc.cport, rs + 2000, 50));
	add(&g, PP_SERVER, mkev(PP_XMIT, x + 36100, 1, tc.cport, rs + 2000, 50));
	add(&g, PP_CLIENT, mkev(PP_RX, x + 46000, 1, tc.cport, rs + 2000, 50));
	add(&g, PP_CLIENT, mkev(PP_RECV, x + 47000, 1, tc.cport, rs + 2000, 50));
	tc.next_seq[0] = rq + 200;
	tc.next_seq[1] = rs + 2050;
	tc.t = x + 50000;
	for (int i = 0; i < 5; i++) {
		exchange(&g, &tc, 100, 100);
		g.nexp--;
	}
	tconn_close(&g, &tc);
	tconn_close(&g, &ok);
	sort_hosts(&g);
	st = run(&g, &got, &t, NULL);
	check_rows(&g, &got);                      /* only the other connection's 20 */
	ck_assert_uint_eq(st->pipelined, 1);
	ck_assert_uint_eq(got.nconns, 2);
	for (size_t i = 0; i < got.nconns; i++) {
		ck_assert(got.conns[i].pipelined == (got.isn_of[i] == tc.isn_c));
		if (got.conns[i].pipelined) {
			ck_assert_uint_eq(got.conns[i].rows, 0);
			ck_assert_uint_eq(got.conns[i].exchanges, 12);
		}
	}
	cleanup(&g, &got, t);
}
END_TEST

/* Without a traced SYN the service's port tells the client end; without the server host's
 * events the rows keep their client columns, incomplete. */
START_TEST(test_no_syn_no_server)
{
	struct gen g = { .rng = 31 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc;
	struct pp_turns_config cfg = { .server_port = SPORT };
	size_t k = 0;

	tconn_open(&g, &tc, 45000, 1000000);
	for (int i = 0; i < 40; i++)
		exchange(&g, &tc, 300, 700);
	tconn_close(&g, &tc);
	sort_hosts(&g);
	for (size_t i = 0; i < g.n[PP_CLIENT]; i++)
		if (!(g.ev[PP_CLIENT][i].tcp_flags & PP_TCP_SYN))
			g.ev[PP_CLIENT][k++] = g.ev[PP_CLIENT][i];
	g.n[PP_CLIENT] = k;
	g.n[PP_SERVER] = 0;
	run(&g, &got, &t, &cfg);
	ck_assert_uint_eq(got.n, 40);
	for (size_t i = 0; i < got.n; i++) {
		ck_assert_uint_eq(got.rows[i].index, i);
		ck_assert_uint_eq(got.rows[i].req, 300);
		ck_assert_uint_eq(got.rows[i].resp, 700);
		ck_assert_uint_eq(got.rows[i].row.ts[C_SEND], g.exp[i].ts[C_SEND]);
		ck_assert_uint_eq(got.rows[i].row.ts[C_RECV], g.exp[i].ts[C_RECV]);
		ck_assert_uint_eq(got.rows[i].row.ts[S_RECV], 0);
		ck_assert(got.rows[i].row.flags & PP_ROW_INCOMPLETE);
	}
	cleanup(&g, &got, t);
}
END_TEST

/* A long connection holds only the exchanges within the reorder window, not the run. */
START_TEST(test_memory_bounded_by_window)
{
	struct gen g = { .rng = 37 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc;
	struct pp_turns_config cfg = { .reorder_ns = 1000000 }; /* 1 ms: ~30 exchanges */
	const struct pp_turns_stats *st;

	tconn_open(&g, &tc, 46000, 1000000);
	for (int i = 0; i < 20000; i++)
		exchange(&g, &tc, 64, 64);
	tconn_close(&g, &tc);
	sort_hosts(&g);
	st = run(&g, &got, &t, &cfg);
	ck_assert_uint_eq(st->complete, 20000);
	ck_assert_uint_lt(st->open_high_water, 200);
	ck_assert_uint_lt(st->held_high_water, 5000);
	cleanup(&g, &got, t);
}
END_TEST

START_TEST(test_garbage_is_counted)
{
	struct gen g = { .rng = 41 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc;
	struct pp_event bad;
	const struct pp_turns_stats *st;

	tconn_open(&g, &tc, 47000, 1000000);
	for (int i = 0; i < 10; i++)
		exchange(&g, &tc, 10, 10);
	tconn_close(&g, &tc);
	bad = mkev(PP_POINT_MAX, tc.t, 0, tc.cport, 1, 1);
	add(&g, PP_CLIENT, bad);
	bad = mkev(PP_XMIT, 1ull << 62, 0, tc.cport, 1, 1);
	add(&g, PP_SERVER, bad);
	bad = mkev(PP_XMIT, tc.t, 0, tc.cport, 1, 1u << 31);
	add(&g, PP_SERVER, bad);
	sort_hosts(&g);
	st = run(&g, &got, &t, NULL);
	check_rows(&g, &got);
	ck_assert_uint_eq(st->events_bad, 3);
	cleanup(&g, &got, t);
}
END_TEST

/* The server's log also holds other clients' connections, which the client's log never shows:
 * they must not hold the client back to its end (nor their events pile up). */
START_TEST(test_other_clients_on_the_server)
{
	struct gen g = { .rng = 43 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc[9];
	struct pp_turns_config cfg = { .hold_max = 2000, .reorder_ns = 100000 };
	const struct pp_turns_stats *st;
	size_t k = 0, mine = 0;

	for (int c = 0; c < 9; c++)
		tconn_open(&g, &tc[c], (uint16_t)(48000 + c), 1000000 + (uint64_t)c * 777);
	for (int i = 0; i < 2000; i++)
		for (int c = 0; c < 9; c++) {
			struct expect *e = exchange(&g, &tc[c], 1 + (uint32_t)(rnd(&g) % 500), 200);

			if (c)
				g.nexp--;   /* only the traced client's rows are expected */
			else
				mine++;
			(void)e;
		}
	for (int c = 0; c < 9; c++)
		tconn_close(&g, &tc[c]);
	sort_hosts(&g);
	for (size_t i = 0; i < g.n[PP_CLIENT]; i++)
		if (g.ev[PP_CLIENT][i].sport == 48000 || g.ev[PP_CLIENT][i].dport == 48000)
			g.ev[PP_CLIENT][k++] = g.ev[PP_CLIENT][i];
	g.n[PP_CLIENT] = k;
	st = run(&g, &got, &t, &cfg);
	check_rows(&g, &got);
	ck_assert_uint_eq(st->complete, mine);
	ck_assert_uint_eq(st->connections, 9);
	ck_assert_uint_ge(st->conns_server_only, 1);
	/* well below the server's 8 x 2000 exchanges of events */
	ck_assert_uint_lt(st->held_high_water, 20000);
	cleanup(&g, &got, t);
}
END_TEST

/* A lost server recv makes the server look as if it answered before reading; the next recv
 * starting further on shows the loss: the row is incomplete, the connection not pipelined. */
START_TEST(test_lost_server_recv_is_not_pipelining)
{
	struct gen g = { .rng = 47 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc;
	const struct pp_turns_stats *st;
	size_t k = 0;
	uint64_t lost_ts = 0;

	tconn_open(&g, &tc, 49000, 1000000);
	for (int i = 0; i < 40; i++) {
		struct expect *e = exchange(&g, &tc, 300, 400);

		if (i == 9) {
			lost_ts = e->ts[S_RECV];
			e->ts[S_RECV] = 0;
			e->flags = PP_ROW_INCOMPLETE;
		}
	}
	tconn_close(&g, &tc);
	for (size_t i = 0; i < g.n[PP_SERVER]; i++)
		if (!(g.ev[PP_SERVER][i].point == PP_RECV && g.ev[PP_SERVER][i].ts_ns == lost_ts))
			g.ev[PP_SERVER][k++] = g.ev[PP_SERVER][i];
	ck_assert_uint_eq(k, g.n[PP_SERVER] - 1);
	g.n[PP_SERVER] = k;
	sort_hosts(&g);
	st = run(&g, &got, &t, NULL);
	check_rows(&g, &got);
	ck_assert_uint_eq(st->pipelined, 0);
	ck_assert_uint_eq(st->overlaps_dismissed, 1);
	cleanup(&g, &got, t);
}
END_TEST

/* One turn of two requests written at once, the server answering the first before it has read
 * the second (redis-benchmark -P 16 with large SETs): pipelined, no rows; the same bytes with
 * the server's recv of the first half lost are one exchange, merely incomplete. */
START_TEST(test_batch_answered_as_read_is_pipelined)
{
	struct gen g = { .rng = 31 };
	struct got got;
	struct pp_turns *t;
	struct tconn tc, ok;
	const struct pp_turns_stats *st;
	uint32_t rq, rs;
	uint64_t x;

	tconn_open(&g, &tc, 45000, 1000000);
	tconn_open(&g, &ok, 45001, 1000500);
	for (int i = 0; i < 20; i++)
		exchange(&g, &ok, 100, 100);
	for (int i = 0; i < 3; i++)
		exchange(&g, &tc, 100, 100);
	g.nexp -= 3;
	rq = tc.next_seq[0];
	rs = tc.next_seq[1];
	x = tc.t;
	/* the client writes 2000 bytes (two requests), then reads the two 5-byte answers */
	add(&g, PP_CLIENT, mkev(PP_SEND, x, 0, tc.cport, rq, 2000));
	add(&g, PP_CLIENT, mkev(PP_XMIT, x + 100, 0, tc.cport, rq, 2000));
	add(&g, PP_SERVER, mkev(PP_RX, x + 10000, 0, tc.cport, rq, 2000));
	add(&g, PP_SERVER, mkev(PP_RECV, x + 11000, 0, tc.cport, rq, 1000));
	add(&g, PP_SERVER, mkev(PP_SEND, x + 12000, 1, tc.cport, rs, 5));
	add(&g, PP_SERVER, mkev(PP_XMIT, x + 12100, 1, tc.cport, rs, 5));
	add(&g, PP_SERVER, mkev(PP_RECV, x + 13000, 0, tc.cport, rq + 1000, 1000));
	add(&g, PP_SERVER, mkev(PP_SEND, x + 14000, 1, tc.cport, rs + 5, 5));
	add(&g, PP_SERVER, mkev(PP_XMIT, x + 14100, 1, tc.cport, rs + 5, 5));
	add(&g, PP_CLIENT, mkev(PP_RX, x + 22000, 1, tc.cport, rs, 5));
	add(&g, PP_CLIENT, mkev(PP_RX, x + 24000, 1, tc.cport, rs + 5, 5));
	add(&g, PP_CLIENT, mkev(PP_RECV, x + 25000, 1, tc.cport, rs, 10));
	tc.next_seq[0] = rq + 2000;
	tc.next_seq[1] = rs + 10;
	tc.t = x + 50000;
	for (int i = 0; i < 3; i++) {
		exchange(&g, &tc, 100, 100);
		g.nexp--;
	}
	tconn_close(&g, &tc);
	tconn_close(&g, &ok);
	sort_hosts(&g);
	st = run(&g, &got, &t, NULL);
	check_rows(&g, &got);                      /* only the other connection's 20 */
	ck_assert_uint_eq(st->pipelined, 1);
	ck_assert_uint_eq(st->overlaps_dismissed, 0);
	for (size_t i = 0; i < got.nconns; i++)
		ck_assert(got.conns[i].pipelined == (got.isn_of[i] == tc.isn_c));
	cleanup(&g, &got, t);
}
END_TEST

PP_CHECK_TESTS("turns", 120, test_fixed_size_same_as_correlate, test_sched_points_on_both_hosts,
	       test_random_sizes_each_way,
	       test_message_over_many_calls_and_segments, test_interleaved_connections_and_reuse,
	       test_out_of_order_within_window, test_missing_point_marks_row_incomplete,
	       test_pipelining_detected_no_rows, test_no_syn_no_server, test_memory_bounded_by_window,
	       test_garbage_is_counted, test_other_clients_on_the_server,
	       test_lost_server_recv_is_not_pipelining, test_batch_answered_as_read_is_pipelined)
