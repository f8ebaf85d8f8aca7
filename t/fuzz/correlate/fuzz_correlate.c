// SPDX-License-Identifier: MIT
/* libFuzzer target for the correlator (user/analyze/correlate.c). The input is decoded into a config and
 * two hosts' event streams of one known connection: each event names its host, point, exchange,
 * byte offset and length compactly, so the fuzzer reaches real matches, retransmissions, gaps,
 * reordering and garbage; an opcode also lets it write a whole raw event. Whatever comes in, the
 * correlator must not crash, leak or hang, rows come in index order, and every row that has the
 * five components satisfies rtt == client_stack + server_stack + server_app + network exactly
 * (checked in 128-bit arithmetic, so an overflow inside the split shows). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/correlate.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_EVENTS 1024
/* With count 0 the rows are as many as the events' sequence numbers claim: one event 1 GiB
 * ahead of 1-byte messages means 2^30 rows, each of them real work. That is output in
 * proportion to the claim, not a loop; the callback stops such a run here (exercising the
 * stop path), so every input stays fast and a true loop still shows as a timeout. */
#define MAX_ROWS 2048
#define SERVER_CLOCK_NS 5000000000ull /* the server host's clock reads 5 s ahead */
#define CLIENT_ISN 1000u
#define SERVER_ISN 0xfffff000u        /* its stream wraps at 2^32 soon */
#define CPORT 40000
#define SPORT 12345

struct input {
	const uint8_t *p;
	size_t len, pos;
};

static uint8_t take8(struct input *in)
{
	return in->pos < in->len ? in->p[in->pos++] : 0;
}

static uint32_t take32(struct input *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | take8(in);
	return v;
}

struct stream_events {
	struct pp_event ev[MAX_EVENTS];
	size_t n, at;
};

struct fuzz_run {
	struct pp_correlate_config cfg;
	bool use_run;                  /* pp_correlate_run, else push in input order */
	bool ipv6;
	uint64_t next_index;
	uint64_t fail_at_row;          /* the row callback fails here (UINT64_MAX: never) */
	bool failed;
	uint64_t rows;
	uint64_t clock[2];
	struct stream_events host[2];
	struct pp_event order[2 * MAX_EVENTS]; /* push order */
	uint8_t order_host[2 * MAX_EVENTS];
	size_t norder;
};

static const uint8_t client_ip4[4] = { 198, 18, 0, 1 }, server_ip4[4] = { 198, 18, 0, 2 };
static const uint8_t client_ip6[16] = { 0xfd, 0, [15] = 1 }, server_ip6[16] = { 0xfd, 0, [15] = 2 };

static void set_flow(const struct fuzz_run *f, struct pp_event *ev, bool to_server, bool foreign)
{
	const uint8_t *c = f->ipv6 ? client_ip6 : client_ip4, *s = f->ipv6 ? server_ip6 : server_ip4;
	size_t n = f->ipv6 ? 16 : 4;

	ev->family = f->ipv6 ? PP_AF_INET6 : PP_AF_INET;
	memcpy(to_server ? ev->saddr : ev->daddr, c, n);
	memcpy(to_server ? ev->daddr : ev->saddr, s, n);
	ev->sport = to_server ? CPORT : SPORT;
	ev->dport = to_server ? SPORT : CPORT;
	if (foreign)
		ev->sport ^= 1; /* another connection between the same hosts */
}

static int64_t component(const struct pp_split *sp, enum pp_component c)
{
	return sp->ns[c];
}

/* The README's formulas, written apart from model/split.c: each component is
 * (t[a] - t[b]) + sign * (t[c] - t[d]); sign 0 for a single difference. */
static const struct formula {
	enum pp_component comp;
	enum pp_slot a, b;
	int sign;
	enum pp_slot c, d;
} formulas[] = {
	{ PP_RTT,          C_RECV,    C_SEND,    0,  0,         0 },
	{ PP_CLIENT_STACK, C_XMIT,    C_SEND,    +1, C_RECV,    C_RX },
	{ PP_NETWORK,      C_RX,      C_XMIT,    -1, S_XMIT,    S_RX },
	{ PP_SERVER_STACK, S_RECV,    S_RX,      +1, S_XMIT,    S_SEND },
	{ PP_SERVER_APP,   S_SEND,    S_RECV,    0,  0,         0 },
	{ PP_CLIENT_DEV,   C_WIRE_TX, C_XMIT,    +1, C_RX,      C_WIRE_RX },
	{ PP_SERVER_DEV,   S_RX,      S_WIRE_RX, +1, S_WIRE_TX, S_XMIT },
	{ PP_WIRE,         C_WIRE_RX, C_WIRE_TX, -1, S_WIRE_TX, S_WIRE_RX },
};

/* --sched: one host's stack parts, from the README's rules written apart from split.c (the
 * switch-in counts within [rx, recv], the wake-up within (rx, oncpu], the idle exit within the
 * wake-up), in 128 bits; and stack = proc + wakeup + return, 0 <= idle <= wakeup. */
static void check_stack_parts(const struct pp_row *row, const struct pp_split *sp, int host)
{
	static const struct {
		enum pp_slot send, xmit, rx, wake, idle, oncpu, recv;
		enum pp_component stack, proc, wakeup, idle_part, ret;
	} h[2] = {
		{ C_SEND, C_XMIT, C_RX, C_WAKE, C_IDLE, C_ONCPU, C_RECV, PP_CLIENT_STACK,
		  PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN },
		{ S_SEND, S_XMIT, S_RX, S_WAKE, S_IDLE, S_ONCPU, S_RECV, PP_SERVER_STACK,
		  PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN },
	};
	const uint64_t *t = row->ts;
	bool have = t[h[host].send] && t[h[host].xmit] && t[h[host].rx] && t[h[host].oncpu] &&
		    t[h[host].recv];
	__int128 rx, recv, w, r, i;

	CHECK(pp_split_has(sp, h[host].proc) == have && pp_split_has(sp, h[host].wakeup) == have &&
	      pp_split_has(sp, h[host].idle_part) == have && pp_split_has(sp, h[host].ret) == have);
	if (!have)
		return;
	rx = t[h[host].rx], recv = t[h[host].recv], r = t[h[host].oncpu];
	if (r < rx || r >= recv)
		w = r = recv;
	else if (t[h[host].wake] > rx && t[h[host].wake] <= r)
		w = t[h[host].wake];
	else
		w = rx;
	i = t[h[host].idle] && t[h[host].idle] >= w && t[h[host].idle] <= r ? t[h[host].idle] : w;
	CHECK((__int128)t[h[host].xmit] - t[h[host].send] + (w - rx) == component(sp, h[host].proc));
	CHECK(r - w == component(sp, h[host].wakeup));
	CHECK(i - w == component(sp, h[host].idle_part));
	CHECK(recv - r == component(sp, h[host].ret));
	CHECK((__int128)component(sp, h[host].stack) == (__int128)component(sp, h[host].proc) +
	      component(sp, h[host].wakeup) + component(sp, h[host].ret));
	CHECK(component(sp, h[host].idle_part) >= 0 &&
	      component(sp, h[host].idle_part) <= component(sp, h[host].wakeup));
}

/* The split from the row's timestamps, in 128 bits: no overflow can hide here. */
static void check_split(const struct pp_row *row, const struct pp_split *sp)
{
	const uint64_t *t = row->ts;

	for (size_t i = 0; i < sizeof(formulas) / sizeof(formulas[0]); i++) {
		const struct formula *f = &formulas[i];
		__int128 d = (__int128)t[f->a] - t[f->b];

		if (!pp_split_has(sp, f->comp))
			continue;
		if (f->sign)
			d += f->sign * ((__int128)t[f->c] - t[f->d]);
		CHECK(d == component(sp, f->comp));
	}
	if (pp_split_has(sp, PP_NETWORK) && pp_split_has(sp, PP_CLIENT_DEV) &&
	    pp_split_has(sp, PP_WIRE) && pp_split_has(sp, PP_SERVER_DEV))
		CHECK((__int128)component(sp, PP_NETWORK) ==
		      (__int128)component(sp, PP_CLIENT_DEV) + component(sp, PP_WIRE) +
		      component(sp, PP_SERVER_DEV));
	if (pp_split_has(sp, PP_RTT) && pp_split_has(sp, PP_CLIENT_STACK) &&
	    pp_split_has(sp, PP_SERVER_STACK) && pp_split_has(sp, PP_SERVER_APP) &&
	    pp_split_has(sp, PP_NETWORK))
		CHECK((__int128)component(sp, PP_RTT) ==
		      (__int128)component(sp, PP_CLIENT_STACK) + component(sp, PP_SERVER_STACK) +
		      component(sp, PP_SERVER_APP) + component(sp, PP_NETWORK));
	check_stack_parts(row, sp, 0);
	check_stack_parts(row, sp, 1);
}

static int on_row(void *ctx, struct pp_row *row, const struct pp_split *sp)
{
	struct fuzz_run *f = ctx;
	uint32_t required = f->cfg.required_slots ? f->cfg.required_slots : PP_SLOTS_SPLIT;
	bool have_all = true;

	CHECK(!f->failed); /* nothing after the callback said stop */
	CHECK(row->index == f->next_index++);
	CHECK(!f->cfg.count || row->index < f->cfg.count);
	for (int s = 0; s < PP_NSLOTS; s++)
		if ((required & (1u << s)) && !row->ts[s])
			have_all = false;
	CHECK(have_all == !(row->flags & PP_ROW_INCOMPLETE));
	CHECK(!(row->flags & ~(uint32_t)(PP_ROW_INCOMPLETE | PP_ROW_RETRANS)));
	check_split(row, sp);
	f->rows++;
	if (row->index == f->fail_at_row || f->rows == MAX_ROWS) {
		f->failed = true;
		return -5; /* -EIO: a full disk under results.csv */
	}
	return 0;
}

static int source_next(void *ctx, struct pp_event *ev)
{
	struct stream_events *s = ctx;

	if (s->at == s->n)
		return 0;
	*ev = s->ev[s->at++];
	return 1;
}

static const uint32_t sizes[8] = { 1, 2, 3, 100, 1024, 1448, 70000, 1u << 24 };

static void decode_config(struct fuzz_run *f, struct input *in)
{
	uint8_t sz = take8(in), cnt = take8(in), flags = take8(in), win = take8(in), hold = take8(in);
	uint8_t reorder = take8(in), skip = take8(in);

	memset(&f->cfg, 0, sizeof(f->cfg));
	f->cfg.size = sz & 0x80 ? (sz & 0x7f) + 1 : sizes[sz & 7];
	f->cfg.count = cnt & 0x80 ? 0 : cnt & 0x3f;
	f->ipv6 = flags & 0x80;
	if (flags & 0x01) {
		struct pp_event ev = { 0 };

		set_flow(f, &ev, true, false);
		f->cfg.have_flow = true;
		pp_flow_key_from_event(&f->cfg.flow, &ev, true);
	}
	if (flags & 0x02) {
		f->cfg.have_ping_seq = true;
		f->cfg.ping_seq = CLIENT_ISN + 1;
	}
	if (flags & 0x04) {
		f->cfg.have_pong_seq = true;
		f->cfg.pong_seq = SERVER_ISN + 1;
	}
	f->cfg.no_reorder = flags & 0x08;
	if (flags & 0x10)
		f->cfg.start_ns = 1000000 + (uint64_t)(skip & 0x0f) * 1000;
	f->use_run = flags & 0x20;
	if (flags & 0x40)
		f->cfg.required_slots = PP_SLOTS_SPLIT | PP_SLOTS_WIRE;
	f->cfg.ping_skip_bytes = (uint64_t)(skip & 0x03) * f->cfg.size;
	f->cfg.pong_skip_bytes = (uint64_t)(skip >> 2 & 0x03) * f->cfg.size;
	/* the default window (1024) costs a 340 KB table per input: 1 input in 16 uses it */
	f->cfg.window_exchanges = (win & 0x0f) == 0x0f ? 0 : 2u << (win & 0x07);
	f->cfg.reorder_exchanges = win >> 4;
	f->cfg.hold_max = hold & 0x1f;
	f->cfg.reorder_ns = reorder & 0x80 ? (uint64_t)(reorder & 0x7f) * 1000 : 0;
	f->fail_at_row = cnt & 0x40 ? take8(in) : UINT64_MAX;
	f->cfg.on_row = on_row;
	f->cfg.ctx = f;
}

/* One event: op byte (host, point, kind), then what the kind needs. */
static void decode_event(struct fuzz_run *f, struct input *in)
{
	uint8_t op = take8(in), where = take8(in), lens = take8(in), dt = take8(in);
	/* point: bits 1-3, and bit 6 for the --sched points 8..10 (11..15: unknown) */
	int host = op & 1, point = (op >> 1 & 7) | (op >> 3 & 8), kind = op >> 4 & 3;
	struct pp_event ev = { 0 };
	uint32_t size = f->cfg.size, off, len;
	bool to_server;
	int slot;

	if (kind == 3) { /* raw: every field from the input, whatever it holds */
		uint8_t raw[sizeof(ev)] = { 0 };

		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = take8(in);
		memcpy(&ev, raw, sizeof(ev));
		goto add;
	}
	/* the stream a point sees on this host, or the wrong one (kind 1), or another flow (2) */
	slot = pp_correlate_slot(host, point);
	to_server = slot < 0 ? host == PP_CLIENT
			     : slot <= C_WIRE_TX || (slot >= S_WIRE_RX && slot <= S_RECV);
	if (kind == 1)
		to_server = !to_server;
	ev.point = (uint8_t)point;
	set_flow(f, &ev, to_server, kind == 2);
	switch (where >> 6) {
	case 0: off = 0; break;
	case 1: off = size - 1; break;
	case 2: off = size / 2; break;
	default: off = take8(in); break;
	}
	switch (lens & 7) {
	case 0: len = size; break;
	case 1: len = size - off % size; break;
	case 2: len = 0; break;
	case 3: len = 1; break;
	case 4: len = 2 * size; break;
	case 5: len = lens >> 3; break;
	case 6: len = size / 3 + 1; break;
	default: len = take32(in); break;
	}
	ev.seq = (to_server ? CLIENT_ISN + 1 : SERVER_ISN + 1) + (uint32_t)(where & 0x3f) * size + off;
	ev.len = len;
	if (lens & 0x08) /* a SYN (SYN+ACK from the server) at the stream's start */
		ev.seq = to_server ? CLIENT_ISN : SERVER_ISN, ev.len = 0, ev.tcp_flags = to_server ? PP_TCP_SYN : PP_TCP_SYN | PP_TCP_ACK;
	else if (lens & 0x10)
		ev.tcp_flags = 0x18;
	/* each host's clock moves on, now and then back (per-CPU buffers arrive out of order);
	 * 0xff: a timestamp from the input, any 64-bit value */
	if (dt == 0xff)
		f->clock[host] = (uint64_t)take32(in) << 32 | take32(in);
	else if (dt & 0x80)
		f->clock[host] -= (uint64_t)(dt & 0x7f) * 100;
	else
		f->clock[host] += (uint64_t)dt * 1000;
	ev.ts_ns = f->clock[host] + (host == PP_SERVER ? SERVER_CLOCK_NS : 0);
	if (point == PP_SEND || point == PP_RECV)
		ev.ts_other_ns = ev.ts_ns + 500;
add:
	if (f->host[host].n < MAX_EVENTS) {
		f->host[host].ev[f->host[host].n++] = ev;
		f->order[f->norder] = ev;
		f->order_host[f->norder++] = (uint8_t)host;
	}
}

static void check_stats(const struct fuzz_run *f, const struct pp_correlator *c, int err)
{
	const struct pp_correlate_stats *st = pp_correlate_stats(c);
	uint64_t accounted = st->events_used + st->events_foreign + st->events_no_payload +
			     st->events_stale + st->events_after + st->events_unplaced + st->events_bad +
			     st->events_sched_early;

	CHECK(st->rows == f->rows && st->rows == st->complete + st->incomplete);
	CHECK(st->retransmitted <= st->rows);
	if (err)
		return;
	/* every event pushed ended up in exactly one place */
	CHECK(st->events_in[0] + st->events_in[1] == f->host[0].n + f->host[1].n);
	CHECK(accounted == st->events_in[0] + st->events_in[1]);
	CHECK(!f->cfg.count || st->rows == f->cfg.count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_run f; /* large: not on the stack */
	struct input in = { data, size, 0 };
	struct pp_correlator *c;
	int err;

	/* the event arrays are written before they are read: clearing 300 KB per input would
	 * cost more than the run */
	memset(&f, 0, offsetof(struct fuzz_run, host));
	f.host[0].n = f.host[0].at = f.host[1].n = f.host[1].at = f.norder = 0;
	decode_config(&f, &in);
	f.clock[0] = f.clock[1] = 1000000;
	while (in.pos < in.len && f.norder < 2 * MAX_EVENTS)
		decode_event(&f, &in);
	if (pp_correlate_new(&c, &f.cfg) < 0)
		return 0;
	if (f.use_run) {
		err = pp_correlate_run(c, source_next, &f.host[0], source_next, &f.host[1]);
	} else {
		err = 0;
		for (size_t i = 0; i < f.norder && !err; i++)
			err = pp_correlate_push(c, f.order_host[i], &f.order[i]);
		if (!err)
			err = pp_correlate_finish(c);
	}
	CHECK(err == 0 || (f.failed && err == -5));
	check_stats(&f, c, err);
	pp_correlate_free(c);
	return 0;
}
