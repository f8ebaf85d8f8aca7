// SPDX-License-Identifier: MIT
/* libFuzzer target for exchanges from turn-taking (user/analyze/turns.c). The input is a config
 * byte and both hosts' events over four connections between two hosts: each event names its
 * host, point, connection, direction (right or wrong for its point), a byte offset near the
 * stream's start, a length, TCP flags (SYN, FIN, RST) and a clock step, so the fuzzer reaches
 * real turns, reuse of a 4-tuple, pipelining, gaps and reordering; an opcode also writes a raw
 * event. Whatever comes in: no crash, leak or hang; each connection's rows come in index order;
 * a row is incomplete exactly when a required point is missing; the two identities hold in
 * 128-bit arithmetic; every event is counted exactly once. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/turns.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_EVENTS 1024
#define NCONN 4
#define SERVER_CLOCK_NS 5000000000ull
#define SPORT 6379

struct input {
	const uint8_t *p;
	size_t len, pos;
};

static uint8_t take8(struct input *in)
{
	return in->pos < in->len ? in->p[in->pos++] : 0;
}

struct stream_events {
	struct pp_event ev[MAX_EVENTS];
	size_t n, at;
};

#define MAX_IDS 4096

struct fuzz_run {
	struct pp_turns_config cfg;
	bool use_run;
	uint64_t next_index[MAX_IDS];
	uint64_t rows, conns_over;
	uint64_t clock[2];
	struct stream_events host[2];
	struct pp_event order[2 * MAX_EVENTS];
	uint8_t order_host[2 * MAX_EVENTS];
	size_t norder;
};

static const uint8_t client_ip[4] = { 198, 18, 0, 1 }, server_ip[4] = { 198, 18, 0, 2 };
static const uint32_t isn[2][2] = { { 1000, 0xfffff000u }, { 0x7ffffff0u, 5 } }; /* [instance][dir] */

static int on_row(void *ctx, const struct pp_turn *turn)
{
	struct fuzz_run *f = ctx;
	const struct pp_row *row = turn->row;
	const struct pp_split *sp = turn->split;
	const uint64_t *t = row->ts;
	uint32_t required = f->cfg.required_slots ? f->cfg.required_slots : PP_SLOTS_SPLIT;
	bool have_all = true;

	CHECK(turn->conn < MAX_IDS);
	CHECK(row->index == f->next_index[turn->conn]++);
	for (int s = 0; s < PP_NSLOTS; s++)
		if ((required & (1u << s)) && !t[s])
			have_all = false;
	CHECK(have_all == !(row->flags & PP_ROW_INCOMPLETE));
	if (pp_split_has(sp, PP_RTT))
		CHECK((__int128)t[C_RECV] - t[C_SEND] == sp->ns[PP_RTT]);
	if (pp_split_has(sp, PP_RTT) && pp_split_has(sp, PP_CLIENT_STACK) &&
	    pp_split_has(sp, PP_SERVER_STACK) && pp_split_has(sp, PP_SERVER_APP) &&
	    pp_split_has(sp, PP_NETWORK))
		CHECK((__int128)sp->ns[PP_RTT] == (__int128)sp->ns[PP_CLIENT_STACK] +
		      sp->ns[PP_SERVER_STACK] + sp->ns[PP_SERVER_APP] + sp->ns[PP_NETWORK]);
	if (pp_split_has(sp, PP_NETWORK) && pp_split_has(sp, PP_CLIENT_DEV) &&
	    pp_split_has(sp, PP_WIRE) && pp_split_has(sp, PP_SERVER_DEV))
		CHECK((__int128)sp->ns[PP_NETWORK] == (__int128)sp->ns[PP_CLIENT_DEV] +
		      sp->ns[PP_WIRE] + sp->ns[PP_SERVER_DEV]);
	/* --sched: each host's stack = proc + wakeup + return, 0 <= idle <= wakeup */
	for (int h = 0; h < 2; h++) {
		static const enum pp_component parts[2][5] = {
			{ PP_CLIENT_STACK, PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN },
			{ PP_SERVER_STACK, PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN },
		};
		const enum pp_component *c = parts[h];

		if (!pp_split_has(sp, c[1]))
			continue;
		CHECK(pp_split_has(sp, c[0]));
		CHECK((__int128)sp->ns[c[0]] == (__int128)sp->ns[c[1]] + sp->ns[c[2]] + sp->ns[c[4]]);
		CHECK(sp->ns[c[3]] >= 0 && sp->ns[c[3]] <= sp->ns[c[2]]);
	}
	f->rows++;
	return 0;
}

static int on_conn(void *ctx, const struct pp_turns_conn *conn)
{
	struct fuzz_run *f = ctx;

	CHECK(conn->rows <= conn->exchanges);
	CHECK(!conn->pipelined || conn->rows == conn->rows_before_pipelined);
	f->conns_over++;
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

/* Which way a point's data runs on a host: the client sends requests, the server responses. */
static bool to_server_for(int host, int point)
{
	bool sending = point == PP_SEND || point == PP_XMIT || point == PP_WIRE_TX;

	return host == 0 ? sending : !sending;
}

/* op, where, len, dt; op: host 1 bit, point 3, conn 2, wrong way 1, raw 1; where: offset 6
 * bits, a --sched point instead (PP_WAKE + point % 3, the way of a recv) 1, instance 1 */
static void decode_event(struct fuzz_run *f, struct input *in)
{
	uint8_t op = take8(in), where = take8(in), lenb = take8(in), dt = take8(in);
	int host = op & 1, point = op >> 1 & 7, conn = op >> 4 & 3;
	struct pp_event ev = { 0 };
	bool to_server;
	int inst = where >> 7;

	if (op & 0x80) {
		uint8_t raw[sizeof(ev)] = { 0 };

		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = take8(in);
		memcpy(&ev, raw, sizeof(ev));
		goto add;
	}
	if (where & 0x40)
		point = PP_WAKE + point % 3;
	to_server = to_server_for(host, point);
	if (op & 0x40)
		to_server = !to_server;
	ev.point = (uint8_t)point;
	ev.family = PP_AF_INET;
	memcpy(to_server ? ev.saddr : ev.daddr, client_ip, 4);
	memcpy(to_server ? ev.daddr : ev.saddr, server_ip, 4);
	ev.sport = to_server ? (uint16_t)(40000 + conn) : SPORT;
	ev.dport = to_server ? SPORT : (uint16_t)(40000 + conn);
	ev.seq = isn[inst][!to_server] + 1 + (uint32_t)(where & 0x3f) * 97;
	ev.len = (lenb & 0x3f) * 31u;
	switch (lenb >> 6) {
	case 1: /* SYN or SYN+ACK */
		ev.seq = isn[inst][!to_server];
		ev.len = 0;
		ev.tcp_flags = to_server ? PP_TCP_SYN : PP_TCP_SYN | PP_TCP_ACK;
		break;
	case 2:
		ev.tcp_flags = PP_TCP_FIN | PP_TCP_ACK;
		break;
	case 3:
		ev.tcp_flags = lenb & 1 ? PP_TCP_RST : PP_TCP_ACK;
		break;
	}
	if (dt & 0x80)
		f->clock[host] -= (uint64_t)(dt & 0x7f) * 100;
	else
		f->clock[host] += (uint64_t)dt * 1000;
	ev.ts_ns = f->clock[host] + (host ? SERVER_CLOCK_NS : 0);
add:
	if (f->host[host].n < MAX_EVENTS) {
		f->host[host].ev[f->host[host].n++] = ev;
		f->order[f->norder] = ev;
		f->order_host[f->norder++] = (uint8_t)host;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_run f;
	struct input in = { data, size, 0 };
	const struct pp_turns_stats *st;
	struct pp_turns *t;
	uint8_t flags = take8(&in), conf = take8(&in);
	uint64_t accounted;
	int err = 0;

	memset(&f, 0, offsetof(struct fuzz_run, host));
	f.host[0].n = f.host[0].at = f.host[1].n = f.host[1].at = f.norder = 0;
	f.cfg.server_port = flags & 1 ? SPORT : 0;
	f.cfg.no_reorder = flags & 2;
	f.use_run = flags & 4;
	if (flags & 8)
		f.cfg.required_slots = PP_SLOTS_SPLIT | PP_SLOTS_WIRE;
	f.cfg.reorder_ns = flags & 0x10 ? (uint64_t)(conf & 0x0f) * 5000 + 1 : 0;
	f.cfg.hold_max = flags & 0x20 ? (conf >> 4) + 1u : 0;
	f.cfg.confirm = flags & 0x40 ? (conf & 3) + 1u : 0;
	f.cfg.max_open = flags & 0x80 ? (conf >> 2 & 7) + 1u : 0;
	f.cfg.on_row = on_row;
	f.cfg.on_conn = on_conn;
	f.cfg.ctx = &f;
	f.clock[0] = f.clock[1] = 1000000;
	while (in.pos < in.len && f.norder < 2 * MAX_EVENTS)
		decode_event(&f, &in);
	if (pp_turns_new(&t, &f.cfg) < 0)
		return 0;
	if (f.use_run) {
		err = pp_turns_run(t, source_next, &f.host[0], source_next, &f.host[1]);
	} else {
		for (size_t i = 0; i < f.norder && !err; i++)
			err = pp_turns_push(t, f.order_host[i], &f.order[i]);
		if (!err)
			err = pp_turns_finish(t);
	}
	CHECK(err == 0);
	st = pp_turns_stats(t);
	CHECK(st->rows == f.rows && st->rows == st->complete + st->incomplete);
	CHECK(st->conns_high_water <= st->connections && f.conns_over == st->connections);
	accounted = st->events_used + st->events_foreign + st->events_no_payload +
		    st->events_before_first + st->events_late + st->events_unplaced + st->events_no_client +
		    st->events_pipelined + st->events_bad;
	CHECK(st->events_in[0] + st->events_in[1] == f.host[0].n + f.host[1].n);
	CHECK(accounted == st->events_in[0] + st->events_in[1]);
	pp_turns_free(t);
	return 0;
}
