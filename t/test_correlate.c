// SPDX-License-Identifier: MIT
/* The correlator on synthetic event streams of a known connection: every expected timestamp is
 * known, so rows are compared exactly (GRO, many skbs and reads, reordering, loss, retransmits,
 * seq wrap, garbage, memory bounds). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/correlate.h"
#include "sanitized.h"
#include "check_main.h"

#define OFF_SERVER_NS 5000000000ull /* the server's clock runs 5 s ahead of the client's */
#define ONE_WAY_NS    8000u
#define RTO_NS        200000u

enum retrans_mode { RT_NONE, RT_LAST_LOST, RT_SPURIOUS, RT_FIRST_LOST };

struct gen_opts {
	uint32_t size;
	uint64_t n;              /* recorded exchanges */
	uint64_t warmup;         /* exchanges before exchange 0 */
	uint32_t handshake_c;    /* client bytes before the warm-up (one message) */
	uint32_t handshake_s;
	uint32_t isn_c, isn_s;   /* SYN seqs: data starts at isn + 1 */
	int skbs;                /* segments per message at the sender */
	bool gro;                /* the receiver merges them into one skb */
	int reads, sends;        /* calls per message */
	bool syn, wire, tcp;
	uint64_t server_app_ns;
	uint64_t seed;
	enum retrans_mode *retrans; /* per recorded exchange (ping), or NULL */
};

struct gen {
	struct gen_opts o;
	struct pp_event *ev[2];
	size_t n[2], cap[2];
	struct pp_row *expect;    /* o.n rows */
	uint64_t t;               /* true time */
	uint64_t rng;
	uint64_t start_ns;        /* client clock, just before exchange 0's send */
	uint32_t next_seq[2];     /* per direction (0 ping, 1 pong) */
};

static const uint8_t client_ip[4] = { 198, 18, 0, 1 }, server_ip[4] = { 198, 18, 0, 2 };
#define CPORT 40000
#define SPORT 12345

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static struct pp_event mkev(int point, uint64_t ts, int dir, uint32_t seq, uint32_t len)
{
	struct pp_event ev = { 0 };

	ev.point = (uint8_t)point;
	ev.ts_ns = ts;
	ev.seq = seq;
	ev.len = len;
	ev.family = PP_AF_INET;
	if (dir == 0) {
		memcpy(ev.saddr, client_ip, 4), memcpy(ev.daddr, server_ip, 4);
		ev.sport = CPORT, ev.dport = SPORT;
	} else {
		memcpy(ev.saddr, server_ip, 4), memcpy(ev.daddr, client_ip, 4);
		ev.sport = SPORT, ev.dport = CPORT;
	}
	return ev;
}

static void add(struct gen *g, int host, struct pp_event ev)
{
	if (host == PP_SERVER)
		ev.ts_ns += OFF_SERVER_NS;
	if (g->n[host] == g->cap[host]) {
		g->cap[host] = g->cap[host] ? g->cap[host] * 2 : 1024;
		g->ev[host] = realloc(g->ev[host], g->cap[host] * sizeof(struct pp_event));
		ck_assert_ptr_nonnull(g->ev[host]);
	}
	g->ev[host][g->n[host]++] = ev;
}

/* Splits [0, size) into k nearly equal parts: part j is [cut(j), cut(j+1)). */
static uint32_t cut(uint32_t size, int k, int j)
{
	return (uint32_t)((uint64_t)size * (uint64_t)j / (uint64_t)k);
}

/* The slots one direction fills: sender send/xmit/wire_tx, receiver wire_rx/rx/tcp/recv. */
static const int slots_of[2][7] = {
	{ C_SEND, C_XMIT, C_WIRE_TX, S_WIRE_RX, S_RX, S_TCP, S_RECV },
	{ S_SEND, S_XMIT, S_WIRE_TX, C_WIRE_RX, C_RX, C_TCP, C_RECV },
};

/* One message of len bytes in direction dir, sent at true time g->t; leaves g->t at the
 * receiver's recv exit. Fills exp (true time, later shifted to each host's clock). */
static void transfer(struct gen *g, int dir, uint32_t len, enum retrans_mode rt, uint64_t exp[7])
{
	int sender = dir == 0 ? PP_CLIENT : PP_SERVER, receiver = 1 - sender;
	uint32_t seq0 = g->next_seq[dir];
	int skbs = g->o.skbs < 1 ? 1 : g->o.skbs;
	int nskb = len < (uint32_t)skbs ? 1 : skbs;
	int sends = g->o.sends < 1 ? 1 : g->o.sends, reads = g->o.reads < 1 ? 1 : g->o.reads;
	uint64_t t = g->t, arrive_last = 0, rx_last = 0;
	uint64_t arrivals[64][2];
	int narr[64] = { 0 };

	if (len < (uint32_t)sends)
		sends = 1;
	if (len < (uint32_t)reads)
		reads = 1;
	ck_assert_int_le(nskb, 64);
	for (int k = 0; k < sends; k++) {
		struct pp_event ev = mkev(PP_SEND, t + k * 300u, dir, seq0 + cut(len, sends, k),
					  cut(len, sends, k + 1) - cut(len, sends, k));
		ev.ts_other_ns = ev.ts_ns + 200;
		add(g, sender, ev);
	}
	exp[0] = t;
	for (int j = 0; j < nskb; j++) {
		uint32_t a = cut(len, nskb, j), b = cut(len, nskb, j + 1);
		uint64_t xmit = t + sends * 300u + 1000 + (uint64_t)j * 150 + rnd(g) % 50;
		bool lost = (rt == RT_LAST_LOST && j == nskb - 1) || (rt == RT_FIRST_LOST && j == 0);
		bool resent = lost || (rt == RT_SPURIOUS && j == nskb - 1);

		add(g, sender, mkev(PP_XMIT, xmit, dir, seq0 + a, b - a));
		if (g->o.wire)
			add(g, sender, mkev(PP_WIRE_TX, xmit + 400, dir, seq0 + a, b - a));
		if (j == nskb - 1) {
			exp[1] = xmit;
			exp[2] = g->o.wire ? xmit + 400 : 0;
		}
		if (!lost)
			arrivals[j][narr[j]++] = xmit + 400 + ONE_WAY_NS;
		if (resent) {
			uint64_t again = xmit + RTO_NS;

			add(g, sender, mkev(PP_XMIT, again, dir, seq0 + a, b - a));
			if (g->o.wire)
				add(g, sender, mkev(PP_WIRE_TX, again + 400, dir, seq0 + a, b - a));
			arrivals[j][narr[j]++] = again + 400 + ONE_WAY_NS;
		}
	}
	/* receiver: frames, then skbs (GRO: one for all first arrivals), then the reads */
	for (int j = 0; j < nskb; j++) {
		uint32_t a = cut(len, nskb, j), b = cut(len, nskb, j + 1);

		for (int k = 0; k < narr[j]; k++) {
			uint64_t w = arrivals[j][k];

			if (g->o.wire)
				add(g, receiver, mkev(PP_WIRE_RX, w, dir, seq0 + a, b - a));
			if (w > arrive_last && k == 0)
				arrive_last = w;
			if (j == nskb - 1 && k == 0)
				exp[3] = g->o.wire ? w : 0;
			if (!g->o.gro || k > 0) {
				add(g, receiver, mkev(PP_RX, w + 700, dir, seq0 + a, b - a));
				if (g->o.tcp)
					add(g, receiver, mkev(PP_TCP, w + 1000, dir, seq0 + a, b - a));
				if (j == nskb - 1 && k == 0)
					exp[4] = w + 700, exp[5] = g->o.tcp ? w + 1000 : 0;
				if (k == 0 && w + 1000 > rx_last)
					rx_last = w + 1000;
			}
		}
	}
	if (g->o.gro) {
		add(g, receiver, mkev(PP_RX, arrive_last + 700, dir, seq0, len));
		if (g->o.tcp)
			add(g, receiver, mkev(PP_TCP, arrive_last + 1000, dir, seq0, len));
		exp[4] = arrive_last + 700, exp[5] = g->o.tcp ? arrive_last + 1000 : 0;
		if (arrive_last + 1000 > rx_last)
			rx_last = arrive_last + 1000;
	}
	for (int k = 0; k < reads; k++) {
		uint64_t exit_ns = rx_last + 2000 + (uint64_t)k * 200 + rnd(g) % 100;
		struct pp_event ev = mkev(PP_RECV, exit_ns, dir, seq0 + cut(len, reads, k),
					  cut(len, reads, k + 1) - cut(len, reads, k));

		ev.ts_other_ns = exit_ns - 150;
		add(g, receiver, ev);
		exp[6] = exit_ns;
	}
	g->t = exp[6];
	/* a spurious resend means the answer took longer than the RTO: it comes after the copy */
	for (int j = 0; j < nskb; j++)
		if (narr[j] > 1 && arrivals[j][1] + 2000 > g->t)
			g->t = arrivals[j][1] + 2000;
	g->next_seq[dir] = seq0 + len;
}

static int cmp_ts(const void *a, const void *b)
{
	const struct pp_event *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static void gen_run(struct gen *g, const struct gen_opts *o)
{
	uint64_t exp[7];

	memset(g, 0, sizeof(*g));
	g->o = *o;
	g->rng = o->seed ? o->seed : 88172645463325252ull;
	g->t = 1000000000ull;
	g->expect = calloc(o->n ? o->n : 1, sizeof(*g->expect));
	g->next_seq[0] = o->isn_c + 1;
	g->next_seq[1] = o->isn_s + 1;
	if (o->syn) {
		struct pp_event syn = mkev(PP_XMIT, g->t, 0, o->isn_c, 0), synack;

		syn.tcp_flags = PP_TCP_SYN;
		add(g, PP_CLIENT, syn);
		syn.point = PP_RX;
		add(g, PP_SERVER, syn);
		synack = mkev(PP_XMIT, g->t + 20000, 1, o->isn_s, 0);
		synack.tcp_flags = PP_TCP_SYN | PP_TCP_ACK;
		synack.ack = o->isn_c + 1;
		add(g, PP_SERVER, synack);
		synack.point = PP_RX;
		add(g, PP_CLIENT, synack);
		g->t += 50000;
	}
	if (o->handshake_c) {
		transfer(g, 0, o->handshake_c, RT_NONE, exp);
		transfer(g, 1, o->handshake_s, RT_NONE, exp);
		g->t += 3000;
	}
	for (uint64_t i = 0; i < o->warmup; i++) {
		transfer(g, 0, o->size, RT_NONE, exp);
		g->t += o->server_app_ns;
		transfer(g, 1, o->size, RT_NONE, exp);
		g->t += 3000;
	}
	g->start_ns = g->t - 1;
	for (uint64_t i = 0; i < o->n; i++) {
		struct pp_row *row = &g->expect[i];
		enum retrans_mode rt = o->retrans ? o->retrans[i] : RT_NONE;

		row->index = i;
		row->ping_seq = g->next_seq[0];
		row->pong_seq = g->next_seq[1];
		row->rtt_app_ns = -1;
		transfer(g, 0, o->size, rt, exp);
		for (int k = 0; k < 7; k++)
			row->ts[slots_of[0][k]] = exp[k];
		g->t += o->server_app_ns + rnd(g) % 1000;
		transfer(g, 1, o->size, RT_NONE, exp);
		for (int k = 0; k < 7; k++)
			row->ts[slots_of[1][k]] = exp[k];
		for (int s = S_WIRE_RX; s < PP_NSLOTS; s++)
			if (row->ts[s])
				row->ts[s] += OFF_SERVER_NS;
		if (rt != RT_NONE)
			row->flags |= PP_ROW_RETRANS;
		g->t += 3000 + rnd(g) % 2000;
	}
	for (int h = 0; h < 2; h++)
		qsort(g->ev[h], g->n[h], sizeof(struct pp_event), cmp_ts);
}

static void gen_free(struct gen *g)
{
	free(g->ev[0]);
	free(g->ev[1]);
	free(g->expect);
}

/* Per-CPU perf buffers: each event lands on one of two CPUs; the reader drains CPU 0's part
 * of every batch of `batch` events, then CPU 1's. */
static void percpu_reorder(struct gen *g, int host, size_t batch)
{
	struct pp_event *tmp = malloc(batch * sizeof(*tmp));

	for (size_t at = 0; at < g->n[host]; at += batch) {
		size_t n = g->n[host] - at < batch ? g->n[host] - at : batch, k = 0;
		uint8_t cpu[4096];

		ck_assert_uint_le(batch, sizeof(cpu));
		for (size_t i = 0; i < n; i++)
			cpu[i] = rnd(g) & 1;
		for (int c = 0; c < 2; c++)
			for (size_t i = 0; i < n; i++)
				if (cpu[i] == c)
					tmp[k++] = g->ev[host][at + i];
		memcpy(&g->ev[host][at], tmp, n * sizeof(*tmp));
	}
	free(tmp);
}

/* Any order within blocks of `block` events (far more disorder than per-CPU buffers make). */
static void shuffle_blocks(struct gen *g, int host, size_t block)
{
	for (size_t at = 0; at < g->n[host]; at += block) {
		size_t n = g->n[host] - at < block ? g->n[host] - at : block;

		for (size_t i = n; i > 1; i--) {
			size_t j = rnd(g) % i;
			struct pp_event t = g->ev[host][at + i - 1];

			g->ev[host][at + i - 1] = g->ev[host][at + j];
			g->ev[host][at + j] = t;
		}
	}
}

/* Removes the event of `point` on `host` holding exchange ex's target byte. */
static void drop_event(struct gen *g, int host, int point, uint64_t ex)
{
	int slot = pp_correlate_slot(host, point);
	bool ping = slot < S_WIRE_RX ? slot <= C_WIRE_TX : slot >= S_WIRE_RX && slot <= S_RECV;
	uint32_t first = ping ? g->expect[ex].ping_seq : g->expect[ex].pong_seq;
	uint32_t target = point == PP_SEND ? first : first + g->o.size - 1;

	for (size_t i = 0; i < g->n[host]; i++) {
		struct pp_event *ev = &g->ev[host][i];

		if (ev->point == point && ev->len && (uint32_t)(target - ev->seq) < ev->len &&
		    ev->ts_ns == g->expect[ex].ts[slot]) {
			memmove(ev, ev + 1, (g->n[host] - i - 1) * sizeof(*ev));
			g->n[host]--;
			g->expect[ex].ts[slot] = 0;
			if (PP_SLOTS_SPLIT & (1u << slot))
				g->expect[ex].flags |= PP_ROW_INCOMPLETE;
			return;
		}
	}
	ck_abort_msg("no event to drop");
}

/* ---- running the correlator ---- */

struct array_src {
	const struct pp_event *ev;
	size_t n, at;
};

static int array_next(void *ctx, struct pp_event *ev)
{
	struct array_src *s = ctx;

	if (s->at == s->n)
		return 0;
	*ev = s->ev[s->at++];
	return 1;
}

struct collected {
	struct pp_row *rows;
	size_t n, cap;
	uint64_t identity_checked;
};

static int collect(void *ctx, struct pp_row *row, const struct pp_split *sp)
{
	struct collected *c = ctx;

	if (!(row->flags & PP_ROW_INCOMPLETE)) {
		ck_assert(pp_split_has(sp, PP_RTT));
		ck_assert_int_eq(sp->ns[PP_RTT], sp->ns[PP_CLIENT_STACK] + sp->ns[PP_SERVER_STACK] +
						 sp->ns[PP_SERVER_APP] + sp->ns[PP_NETWORK]);
		c->identity_checked++;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->rows = realloc(c->rows, c->cap * sizeof(*c->rows));
		ck_assert_ptr_nonnull(c->rows);
	}
	c->rows[c->n++] = *row;
	return 0;
}

static struct pp_correlate_config base_config(const struct gen *g, struct collected *out)
{
	struct pp_correlate_config cfg = { 0 };

	cfg.size = g->o.size;
	cfg.count = g->o.n;
	cfg.have_flow = true;
	ck_assert_int_eq(pp_flow_key_set(&cfg.flow, "198.18.0.1", CPORT, "198.18.0.2", SPORT), 0);
	cfg.have_ping_seq = cfg.have_pong_seq = true;
	cfg.ping_seq = g->expect[0].ping_seq;
	cfg.pong_seq = g->expect[0].pong_seq;
	if (g->o.wire)
		cfg.required_slots = PP_SLOTS_SPLIT | PP_SLOTS_WIRE;
	cfg.on_row = collect;
	cfg.ctx = out;
	return cfg;
}

static struct pp_correlate_stats run_cfg(struct gen *g, const struct pp_correlate_config *cfg)
{
	struct pp_correlator *c;
	struct array_src cs = { g->ev[0], g->n[0], 0 }, ss = { g->ev[1], g->n[1], 0 };
	struct pp_correlate_stats st;

	ck_assert_int_eq(pp_correlate_new(&c, cfg), 0);
	ck_assert_int_eq(pp_correlate_run(c, array_next, &cs, array_next, &ss), 0);
	st = *pp_correlate_stats(c);
	pp_correlate_free(c);
	return st;
}

static void expect_rows(const struct gen *g, const struct collected *got)
{
	ck_assert_uint_eq(got->n, g->o.n);
	for (size_t i = 0; i < got->n; i++) {
		const struct pp_row *r = &got->rows[i], *e = &g->expect[i];

		ck_assert_uint_eq(r->index, i);
		ck_assert_uint_eq(r->ping_seq, e->ping_seq);
		ck_assert_uint_eq(r->pong_seq, e->pong_seq);
		for (int s = 0; s < PP_NSLOTS; s++)
			ck_assert_msg(r->ts[s] == e->ts[s], "row %zu slot %d: got %llu want %llu", i, s,
				      (unsigned long long)r->ts[s], (unsigned long long)e->ts[s]);
		ck_assert_msg(r->flags == e->flags, "row %zu flags %u want %u", i, r->flags, e->flags);
	}
}

static struct gen_opts default_opts(void)
{
	struct gen_opts o = { 0 };

	o.size = 1024;
	o.n = 300;
	o.isn_c = 1000000;
	o.isn_s = 3000000000u;
	o.skbs = 1;
	o.reads = o.sends = 1;
	o.wire = o.tcp = true;
	o.server_app_ns = 5000;
	return o;
}

static struct pp_correlate_stats run_and_expect(struct gen *g)
{
	struct collected got = { 0 };
	struct pp_correlate_config cfg = base_config(g, &got);
	struct pp_correlate_stats st = run_cfg(g, &cfg);

	expect_rows(g, &got);
	free(got.rows);
	return st;
}

/* One test's run: its generator, the config it gives the correlator, the rows that came out
 * and the counters. */
struct run {
	struct gen g;
	struct gen_opts o;
	struct collected got;
	struct pp_correlate_config cfg;
	struct pp_correlate_stats st;
};

static void run_free(struct run *r)
{
	free(r->got.rows);
	gen_free(&r->g);
}

/* ---- the tests ---- */

/* Runs that must come out exact, row for row: the generator's shape (over default_opts()),
 * the disorder the reader sees, and what the counters must say besides. */
struct exact_case {
	const char *name;
	uint32_t size;                 /* 0: default_opts()'s, likewise below */
	uint64_t n;
	int skbs, reads, sends;
	bool gro;
	uint32_t isn_c, isn_s;
	size_t percpu[2], shuffle[2];  /* per host: percpu_reorder / shuffle_blocks; 0 = none */
	struct { uint64_t at; enum retrans_mode mode; } rt[3]; /* RT_NONE ends the list */
	uint64_t retransmitted;
	bool in_order;                 /* per-CPU batches alone leave nothing out of order */
	bool wraps;                    /* the last ping's seq is below the first's */
};

static const struct exact_case exact_cases[] = {
	{ "one skb per message" },
	{ "GRO merges many segments", .size = 64000, .skbs = 44, .gro = true },
	{ "many skbs and calls per message", .size = 100000, .skbs = 10, .reads = 7, .sends = 3 },
	{ "one-byte messages", .size = 1 },
	{ "per-CPU reordering", .n = 2000, .skbs = 3, .reads = 2, .percpu = { 500, 37 },
	  .in_order = true },
	{ "heavy shuffle", .n = 1000, .skbs = 2, .shuffle = { 300, 150 } },
	/* the generator expects the FIRST transmission at xmit/wire_tx and the first arrival */
	{ "retransmits flagged", .skbs = 4,
	  .rt = { { 5, RT_LAST_LOST }, { 50, RT_SPURIOUS }, { 100, RT_FIRST_LOST } },
	  .retransmitted = 3 },
	{ "retransmits with GRO flagged", .skbs = 4, .gro = true,
	  .rt = { { 7, RT_SPURIOUS }, { 8, RT_LAST_LOST } }, .retransmitted = 2 },
	/* the ping's seq wraps after 50 exchanges, the pong's inside the first pong */
	{ "seq wraps at 2^32", .size = 3000, .skbs = 3, .reads = 2, .isn_c = 0xffffffffu - 150000,
	  .isn_s = 0xffffffffu - 7, .percpu = { 0, 64 }, .wraps = true },
};

START_TEST(test_exact_case)
{
	const struct exact_case *c = &exact_cases[_i];
	struct gen g;
	struct gen_opts o = default_opts();
	enum retrans_mode rt[300] = { 0 };
	struct pp_correlate_stats st;

	o.size = c->size ? c->size : o.size;
	o.n = c->n ? c->n : o.n;
	o.skbs = c->skbs ? c->skbs : o.skbs;
	o.reads = c->reads ? c->reads : o.reads;
	o.sends = c->sends ? c->sends : o.sends;
	o.gro = c->gro;
	o.isn_c = c->isn_c ? c->isn_c : o.isn_c;
	o.isn_s = c->isn_s ? c->isn_s : o.isn_s;
	for (int k = 0; k < 3 && c->rt[k].mode != RT_NONE; k++) {
		ck_assert_uint_lt(c->rt[k].at, o.n);
		rt[c->rt[k].at] = c->rt[k].mode;
		o.retrans = rt;
	}
	gen_run(&g, &o);
	for (int h = 0; h < 2; h++) {
		if (c->percpu[h])
			percpu_reorder(&g, h, c->percpu[h]);
		if (c->shuffle[h])
			shuffle_blocks(&g, h, c->shuffle[h]);
	}
	st = run_and_expect(&g);
	ck_assert_msg(st.rows == o.n && st.complete == o.n && st.incomplete == 0,
		      "%s: %llu rows, %llu complete, %llu incomplete", c->name,
		      (unsigned long long)st.rows, (unsigned long long)st.complete,
		      (unsigned long long)st.incomplete);
	ck_assert_msg(st.retransmitted == c->retransmitted, "%s: %llu retransmitted", c->name,
		      (unsigned long long)st.retransmitted);
	ck_assert_msg(!c->in_order || st.events_out_of_order == 0, "%s: %llu out of order", c->name,
		      (unsigned long long)st.events_out_of_order);
	if (c->wraps)
		ck_assert_uint_lt(g.expect[o.n - 1].ping_seq, g.expect[0].ping_seq);
	gen_free(&g);
}
END_TEST

/* A stage capped at 64 events still orders what fits in it, and says it ran full. */
START_TEST(test_full_time_order_stage_still_orders_what_fits)
{
	struct run r = { .o = default_opts() };

	r.o.n = 500;
	gen_run(&r.g, &r.o);
	percpu_reorder(&r.g, PP_CLIENT, 20);
	percpu_reorder(&r.g, PP_SERVER, 20);
	r.cfg = base_config(&r.g, &r.got);
	r.cfg.hold_max = 64;
	r.st = run_cfg(&r.g, &r.cfg);
	expect_rows(&r.g, &r.got);
	ck_assert_uint_gt(r.st.events_out_of_order, 0);
	ck_assert_uint_le(r.st.held_high_water, 2 * 64 + 2);
	run_free(&r);
}
END_TEST

/* As recorded by pingpong-ebpf: the run is shorter than the reorder time, and the server's
 * log ends with its close seconds later. That jump frees the server's whole stage at once;
 * the two hosts must still be placed in step (found on real logs). */
START_TEST(test_late_close_on_one_host_keeps_hosts_in_step)
{
	struct run r = { .o = default_opts() };
	struct pp_event fin;

	r.o.n = 3000;
	r.o.syn = true;
	gen_run(&r.g, &r.o);
	fin = r.g.ev[PP_SERVER][r.g.n[PP_SERVER] - 1];
	fin.ts_ns += 2800000000ull - OFF_SERVER_NS; /* add() puts the offset back */
	fin.len = 0;
	fin.tcp_flags = PP_TCP_FIN | PP_TCP_ACK;
	add(&r.g, PP_SERVER, fin);
	r.st = run_and_expect(&r.g);
	ck_assert_uint_eq(r.st.complete, r.o.n);
	ck_assert_uint_eq(r.st.rows_forced, 0);
	ck_assert_uint_le(r.st.window_high_water, 2 * PP_CORRELATE_DEFAULT_REORDER_EX + 4);
	run_free(&r);
}
END_TEST

START_TEST(test_lost_event_marks_only_its_row_incomplete)
{
	struct run r = { .o = default_opts() };

	r.o.skbs = 2;
	gen_run(&r.g, &r.o);
	drop_event(&r.g, PP_SERVER, PP_RX, 10);
	drop_event(&r.g, PP_CLIENT, PP_RECV, 20);
	drop_event(&r.g, PP_CLIENT, PP_SEND, 30);
	drop_event(&r.g, PP_SERVER, PP_XMIT, 30);
	drop_event(&r.g, PP_CLIENT, PP_TCP, 40);     /* not needed by the split */
	drop_event(&r.g, PP_SERVER, PP_SEND, r.o.n - 1);
	drop_event(&r.g, PP_CLIENT, PP_XMIT, 0);
	r.st = run_and_expect(&r.g);
	ck_assert_uint_eq(r.st.incomplete, 5);
	ck_assert_uint_eq(r.st.complete, r.o.n - 5);
	ck_assert_uint_eq(r.st.missing[S_RX], 1);
	ck_assert_uint_eq(r.st.missing[C_RECV], 1);
	ck_assert_uint_eq(r.st.missing[C_TCP], 1);
	run_free(&r);
}
END_TEST

/* --sched: before every recv event holding a message's last byte, its copies as the kernel
 * sends them (wake 1.5 us, idle 1.2 us, oncpu 0.6 us before it; the server's idle only on odd
 * exchanges), and after it a second recv holding that byte too (a MSG_PEEK'd message read
 * again) with its own, later oncpu. The slots take the first recv's points; no row is a
 * retransmission. */
static void add_sched(struct gen *g)
{
	for (int host = 0; host < 2; host++) {
		int slot = host == PP_CLIENT ? C_RECV : S_RECV;
		uint64_t off = host == PP_SERVER ? OFF_SERVER_NS : 0;
		size_t n = g->n[host];

		for (size_t i = 0; i < n; i++) {
			struct pp_event recv = g->ev[host][i], ev;
			uint64_t ex;

			if (recv.point != PP_RECV)
				continue;
			for (ex = 0; ex < g->o.n && g->expect[ex].ts[slot] != recv.ts_ns; ex++)
				;
			if (ex == g->o.n)
				continue;   /* warm-up or handshake */
			recv.ts_ns -= off;
			ev = recv, ev.ts_other_ns = 0;
			ev.point = PP_WAKE, ev.ts_ns = recv.ts_ns - 1500, add(g, host, ev);
			g->expect[ex].ts[host == PP_CLIENT ? C_WAKE : S_WAKE] = ev.ts_ns + off;
			if (host == PP_CLIENT || ex % 2) {
				ev.point = PP_IDLE, ev.ts_ns = recv.ts_ns - 1200, add(g, host, ev);
				g->expect[ex].ts[host == PP_CLIENT ? C_IDLE : S_IDLE] = ev.ts_ns + off;
			}
			ev.point = PP_ONCPU, ev.ts_ns = recv.ts_ns - 600, add(g, host, ev);
			g->expect[ex].ts[host == PP_CLIENT ? C_ONCPU : S_ONCPU] = ev.ts_ns + off;
			ev.point = PP_ONCPU, ev.ts_ns = recv.ts_ns + 50, add(g, host, ev);
			ev = recv, ev.ts_ns = recv.ts_ns + 80, add(g, host, ev);
		}
		qsort(g->ev[host], g->n[host], sizeof(struct pp_event), cmp_ts);
	}
}

START_TEST(test_sched_points_placed_like_recv)
{
	struct run r = { .o = default_opts() };

	r.o.skbs = 2;
	gen_run(&r.g, &r.o);
	add_sched(&r.g);
	percpu_reorder(&r.g, PP_CLIENT, 64);
	percpu_reorder(&r.g, PP_SERVER, 64);
	r.st = run_and_expect(&r.g);
	ck_assert_uint_eq(r.st.complete, r.o.n);
	ck_assert_uint_eq(r.st.retransmitted, 0);
	ck_assert_uint_eq(r.st.missing[C_ONCPU], 0);
	ck_assert_uint_eq(r.st.missing[S_IDLE], r.o.n / 2);
	ck_assert_uint_eq(r.st.events_sched_early, 0);
	run_free(&r);
}
END_TEST

/* A busy server thread, never switched out after exchange 0: each recv's oncpu is that one
 * switch-in, sent just before the recv (the events in the order the kernel sends them, not
 * sorted). Sorted by its own time it would leave the time-order stage (2 ms, some 40
 * exchanges) at once, a 16-exchange window ahead of cur, and be dropped; it waits for its recv
 * instead and sorts at that one's time: every row has it, none is forced. */
START_TEST(test_stale_oncpu_waits_for_its_recv)
{
	struct run r = { .o = default_opts() };
	struct pp_event *src;
	uint64_t first = 0;
	size_t n;

	gen_run(&r.g, &r.o);
	n = r.g.n[PP_SERVER];
	src = malloc(n * sizeof(*src));
	memcpy(src, r.g.ev[PP_SERVER], n * sizeof(*src));
	r.g.n[PP_SERVER] = 0;
	for (size_t i = 0; i < n; i++) {
		struct pp_event ev = src[i];
		uint64_t ex;

		ev.ts_ns -= OFF_SERVER_NS;
		for (ex = 0; ex < r.o.n && r.g.expect[ex].ts[S_RECV] != src[i].ts_ns; ex++)
			;
		if (ev.point == PP_RECV && ex < r.o.n) {
			struct pp_event oncpu = ev;

			if (!first)
				first = ev.ts_ns - 700;
			oncpu.point = PP_ONCPU, oncpu.ts_ns = first, oncpu.ts_other_ns = 0;
			add(&r.g, PP_SERVER, oncpu);
			r.g.expect[ex].ts[S_ONCPU] = first + OFF_SERVER_NS;
		}
		add(&r.g, PP_SERVER, ev);
	}
	free(src);
	r.cfg = base_config(&r.g, &r.got);
	r.cfg.window_exchanges = 16;
	r.cfg.reorder_ns = 2000000;
	r.st = run_cfg(&r.g, &r.cfg);
	expect_rows(&r.g, &r.got);
	ck_assert_uint_eq(r.st.complete, r.o.n);
	ck_assert_uint_eq(r.st.events_sched_early, 0);
	ck_assert_uint_eq(r.st.rows_forced, 0);
	ck_assert_uint_eq(r.st.missing[S_ONCPU], 0);
	run_free(&r);
}
END_TEST

/* Without their points the rows are just as complete: none of them is required. */
START_TEST(test_sched_points_are_never_required)
{
	struct run r = { .o = default_opts() };

	gen_run(&r.g, &r.o);
	r.st = run_and_expect(&r.g);
	ck_assert_uint_eq(r.st.complete, r.o.n);
	ck_assert_uint_eq(r.st.missing[C_WAKE] + r.st.missing[C_IDLE] + r.st.missing[C_ONCPU], 3 * r.o.n);
	ck_assert_uint_eq(r.st.missing[S_WAKE] + r.st.missing[S_IDLE] + r.st.missing[S_ONCPU], 3 * r.o.n);
	run_free(&r);
}
END_TEST

static void add_noise(struct gen *g, int host, uint64_t every)
{
	size_t n = g->n[host];
	struct pp_event *src = malloc(n * sizeof(*src));

	memcpy(src, g->ev[host], n * sizeof(*src));
	g->n[host] = 0;
	for (size_t i = 0; i < n; i++) {
		struct pp_event ev = src[i];

		ev.ts_ns -= host == PP_SERVER ? OFF_SERVER_NS : 0;
		add(g, host, ev);
		if (i % every)
			continue;
		struct pp_event other = ev, ack = ev, wrong = ev, bad = ev;

		other.sport ^= 1;                       /* another connection, same seqs */
		add(g, host, other);
		ack.len = 0;                            /* pure ACK */
		ack.tcp_flags = PP_TCP_ACK;
		add(g, host, ack);
		/* data the wrong way for the point: a client xmit of pong bytes */
		memcpy(wrong.saddr, ev.daddr, 16), memcpy(wrong.daddr, ev.saddr, 16);
		wrong.sport = ev.dport, wrong.dport = ev.sport;
		add(g, host, wrong);
		bad.point = (i & 1) ? 0 : 200;
		add(g, host, bad);
		other.family = PP_AF_INET6;             /* same ports, other family */
		other.sport = ev.sport;
		add(g, host, other);
	}
	free(src);
}

START_TEST(test_garbage_and_foreign_events_are_ignored)
{
	struct run r = { .o = default_opts() };

	r.o.skbs = 2;
	gen_run(&r.g, &r.o);
	add_noise(&r.g, PP_CLIENT, 3);
	add_noise(&r.g, PP_SERVER, 2);
	r.st = run_and_expect(&r.g);
	ck_assert_uint_eq(r.st.complete, r.o.n);
	ck_assert_uint_gt(r.st.events_foreign, 0);
	ck_assert_uint_gt(r.st.events_no_payload, 0);
	ck_assert_uint_gt(r.st.events_bad, 0);
	ck_assert_uint_eq(r.st.events_in[0] + r.st.events_in[1],
			  r.st.events_used + r.st.events_foreign + r.st.events_no_payload + r.st.events_stale +
			  r.st.events_after + r.st.events_unplaced + r.st.events_bad);
	run_free(&r);
}
END_TEST

/* Found by t/fuzz/correlate: a recv at 2^63 ns made a row whose rtt wrapped around int64. */
START_TEST(test_absurd_timestamp_is_refused)
{
	struct run r = { .o = default_opts() };
	struct pp_event late;

	gen_run(&r.g, &r.o);
	drop_event(&r.g, PP_CLIENT, PP_RECV, 5);
	late = mkev(PP_RECV, 1ull << 63, 1, r.g.expect[5].pong_seq, r.o.size);
	add(&r.g, PP_CLIENT, late);
	r.st = run_and_expect(&r.g);
	ck_assert_uint_eq(r.st.events_bad, 1);
	ck_assert_uint_eq(r.st.incomplete, 1);
	run_free(&r);
}
END_TEST

/* Found by t/fuzz/correlate: one event claiming 2 GiB covered every exchange's last byte, so
 * its time became every row's xmit (and with count 0 it forced millions of empty rows out). */
START_TEST(test_event_longer_than_window_is_refused)
{
	struct run r = { .o = default_opts() };
	struct pp_event huge;

	gen_run(&r.g, &r.o);
	huge = mkev(PP_XMIT, r.g.expect[0].ts[C_XMIT] - 100, 0, r.g.expect[0].ping_seq, 0x7fffffffu);
	add(&r.g, PP_CLIENT, huge);
	r.st = run_and_expect(&r.g);
	ck_assert_uint_eq(r.st.events_bad, 1);
	ck_assert_uint_eq(r.st.complete, r.o.n);
	ck_assert_uint_eq(r.st.retransmitted, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_split_sums_to_rtt)
{
	struct run r = { .o = default_opts() };
	enum retrans_mode rt[3000] = { 0 };

	r.o.n = 3000;
	r.o.skbs = 5;
	r.o.reads = 3;
	r.o.seed = 12345;
	for (int i = 0; i < 3000; i += 97)
		rt[i] = (enum retrans_mode)(1 + i % 3);
	r.o.retrans = rt;
	gen_run(&r.g, &r.o);
	for (uint64_t i = 3; i < r.o.n; i += 101)
		drop_event(&r.g, PP_SERVER, PP_RECV, i);
	percpu_reorder(&r.g, PP_CLIENT, 100);
	r.cfg = base_config(&r.g, &r.got);
	run_cfg(&r.g, &r.cfg);
	expect_rows(&r.g, &r.got);
	for (size_t i = 0; i < r.got.n; i++) {
		struct pp_split sp;

		if (r.got.rows[i].flags & PP_ROW_INCOMPLETE)
			continue;
		pp_split_row(&r.got.rows[i], &sp);
		ck_assert_int_eq(sp.ns[PP_RTT], sp.ns[PP_CLIENT_STACK] + sp.ns[PP_SERVER_STACK] +
						sp.ns[PP_SERVER_APP] + sp.ns[PP_NETWORK]);
		ck_assert_int_eq(sp.ns[PP_NETWORK], sp.ns[PP_CLIENT_DEV] + sp.ns[PP_WIRE] + sp.ns[PP_SERVER_DEV]);
		/* what the generator built: 8 us one way (a resend adds its wait to the wire) */
		if (!(r.got.rows[i].flags & PP_ROW_RETRANS))
			ck_assert_int_eq(sp.ns[PP_WIRE], 2 * ONE_WAY_NS);
	}
	ck_assert_uint_eq(r.got.identity_checked, r.o.n - 30);
	run_free(&r);
}
END_TEST

START_TEST(test_memory_stays_bounded)
{
	struct run r = { .o = default_opts() };

	r.o.n = 100000;
	r.o.size = 200;
	r.o.tcp = false;
	gen_run(&r.g, &r.o);
	percpu_reorder(&r.g, PP_CLIENT, 64);
	percpu_reorder(&r.g, PP_SERVER, 64);
	r.cfg = base_config(&r.g, &r.got);
	r.cfg.reorder_ns = 2000000; /* 2 ms: ~50 exchanges of this stream */
	r.st = run_cfg(&r.g, &r.cfg);
	ck_assert_uint_eq(r.got.n, r.o.n);
	ck_assert_uint_eq(r.st.complete, r.o.n);
	ck_assert_msg(r.st.window_high_water <= 2 * PP_CORRELATE_DEFAULT_REORDER_EX + 4,
		      "window high water %llu exchanges", (unsigned long long)r.st.window_high_water);
	/* 2 ms of events on two hosts (~7 per exchange per host), nowhere near the 1.2 M pushed */
	ck_assert_msg(r.st.held_high_water < 1000, "held high water %llu events",
		      (unsigned long long)r.st.held_high_water);
	run_free(&r);
}
END_TEST

/* Each event older than every one before it: sorting them in used to shift the whole stage
 * per event (5 s for 80,000 events, quadratic); far-back events now go in at once, counted. */
START_TEST(test_reverse_time_order_stays_linear)
{
	struct pp_correlate_config cfg = { 0 };
	struct pp_correlator *c;
	const struct pp_correlate_stats *st;
	struct timespec t0, t1;
	const uint32_t n = 100000;

	cfg.size = 1024;
	cfg.have_flow = true;
	ck_assert_int_eq(pp_flow_key_set(&cfg.flow, "198.18.0.1", CPORT, "198.18.0.2", SPORT), 0);
	cfg.have_ping_seq = cfg.have_pong_seq = true;
	cfg.ping_seq = 1;
	cfg.pong_seq = 1;
	ck_assert_int_eq(pp_correlate_new(&c, &cfg), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < n; i++) {
		struct pp_event ev = mkev(PP_XMIT, 2000000000ull - (uint64_t)i * 10, 0, 1 + (i % 500) * 1024, 1024);

		ck_assert_int_eq(pp_correlate_push(c, PP_CLIENT, &ev), 0);
	}
	ck_assert_int_eq(pp_correlate_finish(c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st = pp_correlate_stats(c);
	ck_assert_uint_gt(st->events_out_of_order, 0);
	ck_assert_uint_eq(st->events_in[PP_CLIENT],
			  st->events_used + st->events_stale + st->events_after);
	/* the time is the point here (quadratic took seconds); timed outside the sanitizers only */
	if (!PP_SANITIZED)
		ck_assert_msg(t1.tv_sec - t0.tv_sec < 3, "%d s for %u events", (int)(t1.tv_sec - t0.tv_sec), n);
	pp_correlate_free(c);
}
END_TEST

START_TEST(test_bases_from_syn_and_skip_bytes)
{
	struct run r = { .o = default_opts() };

	r.o.syn = true;
	r.o.handshake_c = 16;
	r.o.handshake_s = 8;
	r.o.warmup = 10;
	gen_run(&r.g, &r.o);
	/* the first send event is lost: the SYN still gives the exact origin */
	memmove(&r.g.ev[0][1], &r.g.ev[0][2], (r.g.n[0] - 2) * sizeof(struct pp_event));
	ck_assert_int_eq(r.g.ev[0][0].point, PP_XMIT);
	r.g.n[0]--;
	r.cfg = base_config(&r.g, &r.got);
	r.cfg.have_ping_seq = r.cfg.have_pong_seq = false;
	r.cfg.ping_skip_bytes = r.o.handshake_c + r.o.warmup * r.o.size;
	r.cfg.pong_skip_bytes = r.o.handshake_s + r.o.warmup * r.o.size;
	r.st = run_cfg(&r.g, &r.cfg);
	ck_assert(r.st.ping_known && r.st.pong_known);
	ck_assert_uint_eq(r.st.ping_seq, r.g.expect[0].ping_seq);
	ck_assert_uint_eq(r.st.pong_seq, r.g.expect[0].pong_seq);
	expect_rows(&r.g, &r.got);
	ck_assert_uint_gt(r.st.events_stale, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_bases_and_flow_from_start_time)
{
	struct run r = { .o = default_opts() };

	r.o.warmup = 5;
	r.o.reads = 3;
	gen_run(&r.g, &r.o);
	percpu_reorder(&r.g, PP_CLIENT, 16);
	r.cfg = base_config(&r.g, &r.got);
	r.cfg.have_flow = false;
	r.cfg.have_ping_seq = r.cfg.have_pong_seq = false;
	r.cfg.start_ns = r.g.start_ns;
	r.st = run_cfg(&r.g, &r.cfg);
	ck_assert(r.st.flow_known);
	ck_assert_uint_eq(r.st.flow.client_port, CPORT);
	ck_assert_uint_eq(r.st.flow.server_port, SPORT);
	expect_rows(&r.g, &r.got);
	run_free(&r);
}
END_TEST

START_TEST(test_unknown_count_ends_with_the_events)
{
	struct run r = { .o = default_opts() };

	r.o.n = 123;
	gen_run(&r.g, &r.o);
	r.cfg = base_config(&r.g, &r.got);
	r.cfg.count = 0;
	run_cfg(&r.g, &r.cfg);
	expect_rows(&r.g, &r.got);
	run_free(&r);
}
END_TEST

/* A burst of lost samples longer than the window on one host: the rows of the gap lack that
 * host's points, every row after it is whole again. */
START_TEST(test_server_gap_longer_than_window)
{
	struct run r = { .o = default_opts() };
	uint64_t lo_ns, hi_ns;
	size_t k = 0;

	r.o.n = 3000;
	r.o.tcp = r.o.wire = false;
	gen_run(&r.g, &r.o);
	lo_ns = r.g.expect[100].ts[S_RX];
	hi_ns = r.g.expect[2100].ts[S_XMIT];
	for (size_t i = 0; i < r.g.n[1]; i++)
		if (r.g.ev[1][i].ts_ns < lo_ns || r.g.ev[1][i].ts_ns > hi_ns)
			r.g.ev[1][k++] = r.g.ev[1][i];
	r.g.n[1] = k;
	for (uint64_t i = 100; i <= 2100; i++) {
		for (int s = S_WIRE_RX; s < PP_NSLOTS; s++)
			r.g.expect[i].ts[s] = 0;
		r.g.expect[i].flags |= PP_ROW_INCOMPLETE;
	}
	r.cfg = base_config(&r.g, &r.got);
	r.cfg.window_exchanges = 256;
	r.st = run_cfg(&r.g, &r.cfg);
	expect_rows(&r.g, &r.got);
	ck_assert_uint_eq(r.st.incomplete, 2001);
	ck_assert_uint_le(r.st.window_high_water, 256);
	run_free(&r);
}
END_TEST

START_TEST(test_no_server_events_keeps_client_columns)
{
	struct run r = { .o = default_opts() };

	r.o.n = 50;
	gen_run(&r.g, &r.o);
	r.g.n[1] = 0;
	for (uint64_t i = 0; i < r.o.n; i++) {
		for (int s = S_WIRE_RX; s < PP_NSLOTS; s++)
			r.g.expect[i].ts[s] = 0;
		r.g.expect[i].flags |= PP_ROW_INCOMPLETE;
	}
	r.cfg = base_config(&r.g, &r.got);
	r.st = run_cfg(&r.g, &r.cfg);
	expect_rows(&r.g, &r.got);
	ck_assert_uint_eq(r.st.incomplete, r.o.n);
	ck_assert_uint_eq(r.st.missing[S_RECV], r.o.n);
	ck_assert_uint_eq(r.st.missing[C_RECV], 0);
	run_free(&r);
}
END_TEST

START_TEST(test_push_interface_in_step)
{
	struct run r = { .o = default_opts() };
	struct pp_correlator *c;
	size_t at[2] = { 0, 0 };

	r.o.skbs = 2;
	gen_run(&r.g, &r.o);
	r.cfg = base_config(&r.g, &r.got);
	ck_assert_int_eq(pp_correlate_new(&c, &r.cfg), 0);
	/* alternate in chunks, as a caller that reads two files in step would */
	while (at[0] < r.g.n[0] || at[1] < r.g.n[1])
		for (int h = 0; h < 2; h++)
			for (int k = 0; k < 13 && at[h] < r.g.n[h]; k++)
				ck_assert_int_eq(pp_correlate_push(c, h, &r.g.ev[h][at[h]++]), 0);
	ck_assert_int_eq(pp_correlate_finish(c), 0);
	expect_rows(&r.g, &r.got);
	ck_assert_int_eq(pp_correlate_push(c, PP_CLIENT, &r.g.ev[0][0]), -EINVAL);
	pp_correlate_free(c);
	run_free(&r);
}
END_TEST

static int stop_at_ten(void *ctx, struct pp_row *row, const struct pp_split *sp)
{
	(void)ctx, (void)sp;
	return row->index == 10 ? -ECANCELED : 0;
}

START_TEST(test_row_callback_error_stops_the_run)
{
	struct run r = { .o = default_opts() };
	struct pp_correlator *c;
	struct array_src cs, ss;

	gen_run(&r.g, &r.o);
	r.cfg = base_config(&r.g, NULL);
	r.cfg.on_row = stop_at_ten;
	cs = (struct array_src){ r.g.ev[0], r.g.n[0], 0 };
	ss = (struct array_src){ r.g.ev[1], r.g.n[1], 0 };
	ck_assert_int_eq(pp_correlate_new(&c, &r.cfg), 0);
	ck_assert_int_eq(pp_correlate_run(c, array_next, &cs, array_next, &ss), -ECANCELED);
	ck_assert_uint_eq(pp_correlate_stats(c)->rows, 11);
	pp_correlate_free(c);
	run_free(&r);
}
END_TEST

START_TEST(test_bad_config_is_rejected)
{
	struct pp_correlate_config cfg = { .size = 0 };
	struct pp_correlator *c;

	ck_assert_int_eq(pp_correlate_new(&c, &cfg), -EINVAL);
	cfg.size = (1u << 24) + 1;
	ck_assert_int_eq(pp_correlate_new(&c, &cfg), -EINVAL);
	cfg.size = 100;
	cfg.window_exchanges = 1000;
	ck_assert_int_eq(pp_correlate_new(&c, &cfg), -EINVAL);
	cfg.window_exchanges = 0;
	cfg.have_flow = true; /* all zero: not a connection */
	ck_assert_int_eq(pp_correlate_new(&c, &cfg), -EINVAL);
	cfg.have_flow = false;
	cfg.size = PP_MSG_SIZE_MAX;  /* 16 MiB messages: the window shrinks to stay inside 2^30 bytes */
	ck_assert_int_eq(pp_correlate_new(&c, &cfg), 0);
	pp_correlate_free(c);
	ck_assert_int_eq(pp_correlate_slot(PP_SERVER, PP_RX), S_RX);
	ck_assert_int_eq(pp_correlate_slot(PP_CLIENT, PP_RX), C_RX);
	ck_assert_int_eq(pp_correlate_slot(PP_CLIENT, 0), -1);
}
END_TEST

PP_CHECK_TESTS_AND_TABLE("correlate", 60, test_exact_case, exact_cases,
			 test_full_time_order_stage_still_orders_what_fits,
			 test_late_close_on_one_host_keeps_hosts_in_step,
			 test_lost_event_marks_only_its_row_incomplete,
			 test_sched_points_placed_like_recv,
			 test_sched_points_are_never_required,
			 test_stale_oncpu_waits_for_its_recv,
			 test_garbage_and_foreign_events_are_ignored,
			 test_absurd_timestamp_is_refused,
			 test_event_longer_than_window_is_refused,
			 test_split_sums_to_rtt,
			 test_memory_stays_bounded,
			 test_reverse_time_order_stays_linear,
			 test_bases_from_syn_and_skip_bytes,
			 test_bases_and_flow_from_start_time,
			 test_unknown_count_ends_with_the_events,
			 test_server_gap_longer_than_window,
			 test_no_server_events_keeps_client_columns,
			 test_push_interface_in_step,
			 test_row_callback_error_stops_the_run,
			 test_bad_config_is_rejected)
