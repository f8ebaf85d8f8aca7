// SPDX-License-Identifier: MIT
/* Matching both hosts' events to exchanges by flow and TCP sequence number, in bounded memory
 * and linear time, then the split of each exchange (see correlate.h for the model). */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/correlate.h"
#include "analyze/order_stage.h"

enum stream { PING = 0, PONG = 1 }; /* client->server, server->client */

#define CELL_EMPTY UINT64_MAX
#define DERIVE_LOOKAHEAD 64     /* client events after the first candidates, for per-CPU reorder */
/* Relative offsets are int32 (serial arithmetic): a window must stay well inside 2^31 bytes. */
#define MAX_AHEAD_BYTES (1 << 30)
/* --sched points wait for their recv (the kernel sends them just before it, on its CPU): at
 * most this many per host, for at most this many of the host's other events */
#define SCHED_HOLD        8
#define SCHED_HOLD_EVENTS 64

/* One point of one exchange. */
struct cell {
	uint64_t ex;      /* the exchange it holds, CELL_EMPTY if none */
	uint64_t ts;      /* earliest event holding the target byte; 0 = none yet */
	uint32_t bytes;   /* bytes of the exchange's range the events covered, duplicates counted */
	uint32_t hits;    /* events holding the target byte */
};

struct buffered {
	struct pp_event ev;
	uint8_t host;
};

struct sched_held {
	struct pp_event ev;
	uint64_t at;      /* the host's other events pushed when it came */
};

struct pp_correlator {
	struct pp_correlate_config cfg;
	uint32_t size, window, mask, reorder_ex, required;
	int error;                  /* sticky: a failed callback stops everything */

	/* before the connection and base seqs are known, events wait here */
	bool ready;
	struct buffered *buf;
	size_t nbuf, capbuf;
	bool need_send, need_recv, have_send, have_recv;
	uint32_t lookahead;
	uint64_t buf_min_ts, buf_max_ts;  /* the client host's buffered events span this */
	bool saw_syn[2];                  /* [stream]: the client host's SYN, SYN+ACK buffered */
	bool end_requested[2];

	bool ended[2];              /* source over and every event placed */
	bool base_known[2];
	uint32_t cur_seq[2];        /* first byte of exchange cur, per stream */
	uint64_t cur;               /* next exchange to emit */
	int64_t seen[2];            /* highest exchange a host's events have started, -1 none */
	int64_t max_touched;        /* highest exchange with a cell, -1 none */
	struct cell *cells;         /* [slot][window] */
	struct pp_order_stage stage[2];
	struct sched_held held[2][SCHED_HOLD];   /* --sched points waiting for their recv */
	uint32_t nheld[2];
	uint64_t pushed[2];                      /* each host's other events into its stage */
	struct pp_correlate_stats st;
};

int pp_correlate_slot(enum pp_host host, int point)
{
	if ((host != PP_CLIENT && host != PP_SERVER) || point <= 0 || point >= PP_POINT_MAX)
		return -1;
	return pp_point_place(host, point).slot;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static struct cell *cell_of(struct pp_correlator *c, int slot, uint64_t ex)
{
	return &c->cells[(size_t)slot * c->window + (ex & c->mask)];
}

/* ---- emitting rows ---- */

static int emit(struct pp_correlator *c, bool forced)
{
	struct pp_row row = { 0 };
	struct pp_split sp;
	int err = 0;

	row.index = c->cur;
	row.ping_seq = c->base_known[PING] ? c->cur_seq[PING] : 0;
	row.pong_seq = c->base_known[PONG] ? c->cur_seq[PONG] : 0;
	row.rtt_app_ns = -1;
	for (int slot = 0; slot < PP_NSLOTS; slot++) {
		struct cell *cl = cell_of(c, slot, c->cur);

		if (cl->ex == c->cur) {
			row.ts[slot] = cl->ts;
			/* The last byte seen twice, or more bytes than the message has: some segment
			 * went out (or arrived) more than once. */
			if (pp_slot_is_packet[slot] && (cl->hits > 1 || cl->bytes > c->size))
				row.flags |= PP_ROW_RETRANS;
			cl->ex = CELL_EMPTY;
		}
		if (!row.ts[slot]) {
			c->st.missing[slot]++;
			if (c->required & (1u << slot))
				row.flags |= PP_ROW_INCOMPLETE;
		}
	}
	c->st.rows++;
	if (row.flags & PP_ROW_INCOMPLETE)
		c->st.incomplete++;
	else
		c->st.complete++;
	if (row.flags & PP_ROW_RETRANS)
		c->st.retransmitted++;
	if (forced)
		c->st.rows_forced++;
	pp_split_row(&row, &sp);
	/* holds by construction; this guards split.c and the slot wiring */
	assert(pp_split_identities_hold(&sp));
	if (c->cfg.on_row)
		err = c->cfg.on_row(c->cfg.ctx, &row, &sp);
	c->cur++;
	c->cur_seq[PING] += c->size;
	c->cur_seq[PONG] += c->size;
	if (err < 0)
		c->error = err;
	return err < 0 ? err : 0;
}

/* A host is done with exchange cur once it has started exchange cur + reorder_ex: anything of
 * cur still to come would have to be that far out of order. */
static bool settled(const struct pp_correlator *c, int host)
{
	return c->ended[host] || c->seen[host] >= (int64_t)(c->cur + c->reorder_ex);
}

static int drain(struct pp_correlator *c)
{
	while (!c->error) {
		if (c->cfg.count && c->cur >= c->cfg.count)
			break;
		if (!c->cfg.count && c->ended[PP_CLIENT] && c->ended[PP_SERVER] &&
		    c->max_touched < (int64_t)c->cur)
			break;
		if (!settled(c, PP_CLIENT) || !settled(c, PP_SERVER))
			break;
		if (emit(c, false))
			break;
	}
	return c->error;
}

/* ---- placing one event ---- */

/* Offset of ev's first byte from exchange cur's first byte, and of its end. */
static void locate(const struct pp_correlator *c, int stream, const struct pp_event *ev,
		   int64_t *d, int64_t *end)
{
	*d = (int32_t)(ev->seq - c->cur_seq[stream]);
	*end = *d + ev->len;
}

/* The exchanges ev touches, relative to cur: 1 = [*r_first, *r_last] to place, 0 = nothing to
 * place (counted). Also records how far the host has got (not from a --sched point: its time
 * may be far older than its recv's, so it may come out of the time-order stage ahead of the
 * host's earlier exchanges, which must not settle before their own events are in). */
static int span(struct pp_correlator *c, int host, int stream, const struct pp_event *ev,
		int64_t *d, int64_t *end, int64_t *r_first, int64_t *r_last)
{
	locate(c, stream, ev, d, end);
	if (*end <= 0) {
		c->st.events_stale++;
		return 0;
	}
	if (*d >= MAX_AHEAD_BYTES) {
		c->st.events_after++;
		return 0;
	}
	*r_first = *d > 0 ? *d / c->size : 0;
	*r_last = (*end - 1) / c->size;
	if (*d >= 0 && !pp_point_is_sched(ev->point))
		c->seen[host] = max64(c->seen[host], (int64_t)c->cur + *r_first);
	if (c->cfg.count) {
		if (c->cur + (uint64_t)*r_first >= c->cfg.count) {
			c->st.events_after++;
			return 0;
		}
		*r_last = min64(*r_last, (int64_t)(c->cfg.count - 1 - c->cur));
	}
	return 1;
}

static int place(struct pp_correlator *c, int host, const struct pp_event *ev)
{
	struct pp_point_place m;
	enum pp_flow_dir dir;
	int64_t d, end, r_first, r_last;

	if (ev->point <= 0 || ev->point >= PP_POINT_MAX) {
		c->st.events_bad++;
		return 0;
	}
	m = pp_point_place(host, ev->point);
	if (!c->st.flow_known) {
		c->st.events_unplaced++;
		return 0;
	}
	dir = pp_flow_dir(&c->st.flow, ev);
	if (dir != (m.stream == PING ? PP_DIR_TO_SERVER : PP_DIR_TO_CLIENT)) {
		c->st.events_foreign++;
		return 0;
	}
	if (!ev->len) {
		c->st.events_no_payload++;
		return 0;
	}
	if (!c->base_known[m.stream]) {
		c->st.events_unplaced++;
		return 0;
	}
	if (!span(c, host, m.stream, ev, &d, &end, &r_first, &r_last))
		return drain(c);
	/* A host a whole window ahead: the oldest exchanges go out with what they have, which
	 * keeps memory bounded; pp_correlate_run keeps the hosts in step so this stays rare. A
	 * --sched point that far ahead only came out of the time-order stage early (a stale
	 * switch-in): it shows no progress of its host, so it forces nothing and is dropped. */
	if (r_last >= c->window && pp_point_is_sched(ev->point)) {
		c->st.events_sched_early++;
		return drain(c);
	}
	if (r_last >= c->window) {
		for (int64_t n = r_last - c->window + 1; n > 0; n--)
			if (emit(c, true))
				return c->error;
		if (!span(c, host, m.stream, ev, &d, &end, &r_first, &r_last))
			return drain(c);
	}
	for (int64_t r = r_first; r <= r_last; r++) {
		int64_t lo = r * c->size, hi = lo + c->size;
		int64_t target = m.first_byte ? lo : hi - 1;
		uint64_t ex = c->cur + (uint64_t)r;
		struct cell *cl = cell_of(c, m.slot, ex);
		int64_t overlap = min64(end, hi) - max64(d, lo);

		if (cl->ex != ex)
			*cl = (struct cell){ .ex = ex };
		cl->bytes = (uint32_t)min64((int64_t)cl->bytes + overlap, UINT32_MAX);
		/* (several --sched events on the last byte, e.g. two recvs holding it: the
		 * earliest too, which is the first recv's, as its recv point is) */
		if (d <= target && target < end) {
			cl->hits++;
			/* Several events on the target byte: a retransmission (or a duplicate
			 * arrival). The FIRST one counts: that is when the stack handed the byte
			 * on; the wait for the resend is time the network lost the packet in, so
			 * it belongs to `network` (C.rx - C.xmit grows), not to the sender's stack. */
			if (ev->ts_ns && (!cl->ts || ev->ts_ns < cl->ts))
				cl->ts = ev->ts_ns;
		}
	}
	c->max_touched = max64(c->max_touched, (int64_t)c->cur + r_last);
	if ((uint64_t)(c->max_touched - (int64_t)c->cur + 1) > c->st.window_high_water)
		c->st.window_high_water = (uint64_t)(c->max_touched - (int64_t)c->cur + 1);
	c->st.events_used++;
	return drain(c);
}

/* ---- the time-order stage ---- */

static uint64_t held_now(const struct pp_correlator *c)
{
	return c->stage[0].n + c->stage[1].n + c->nbuf;
}

static void note_held(struct pp_correlator *c)
{
	uint64_t n = held_now(c);

	if (n > c->st.held_high_water)
		c->st.held_high_water = n;
}

/* Exchange of ev's first byte, or -1 for an event that can go in at once (another flow, no
 * payload, old bytes, a --sched point, which settles nothing: see span). */
static int64_t position(const struct pp_correlator *c, const struct pp_event *ev)
{
	enum pp_flow_dir dir;
	int stream;
	int32_t d;

	if (!c->ready || !c->st.flow_known || !ev->len || pp_point_is_sched(ev->point))
		return -1;
	dir = pp_flow_dir(&c->st.flow, ev);
	if (dir == PP_DIR_NONE)
		return -1;
	stream = dir == PP_DIR_TO_SERVER ? PING : PONG;
	if (!c->base_known[stream])
		return -1;
	d = (int32_t)(ev->seq - c->cur_seq[stream]);
	if (d < 0 || d >= MAX_AHEAD_BYTES)
		return -1;
	return (int64_t)c->cur + d / c->size;
}

static int64_t top_position(const struct pp_correlator *c, int host)
{
	return position(c, pp_order_top(&c->stage[host]));
}

/* A --sched point leaves the stage with its own time back (see sched_insert). */
static void sched_restore(struct pp_event *ev)
{
	if (pp_point_is_sched(ev->point)) {
		ev->ts_ns = ev->ts_other_ns;
		ev->ts_other_ns = 0;
	}
}

/* An event may leave a host's stage once the host has shown one reorder_ns later, or the
 * host's source is over, or the stage is full. */
static bool stage_ready(const struct pp_correlator *c, int host)
{
	const struct pp_order_stage *s = &c->stage[host];
	uint64_t top;

	if (!s->n)
		return false;
	if (s->source_ended || s->n > c->cfg.hold_max)
		return true;
	top = pp_order_top(s)->ts_ns;
	return s->max_ts >= top && s->max_ts - top >= c->cfg.reorder_ns;
}

/* Moves events from the stages into the windows, the two hosts merged by exchange number: one
 * host's clock can jump (an idle gap, a late FIN) and free a whole stage at once, and placing
 * that alone would run a window ahead of the other host's held events. Then emits what is
 * settled. */
static int pump(struct pp_correlator *c)
{
	struct pp_event ev;

	/* a host whose source ended with nothing held (decide() ends them after its replay) must
	 * not hold the other one back */
	for (int h = 0; h < 2; h++)
		c->ended[h] = c->stage[h].source_ended && !c->stage[h].n;
	while (!c->error) {
		bool ready[2] = { stage_ready(c, PP_CLIENT), stage_ready(c, PP_SERVER) };
		struct pp_order_stage *s;
		int host;

		if (!ready[PP_CLIENT] && !ready[PP_SERVER])
			break;
		if (ready[PP_CLIENT] && ready[PP_SERVER]) {
			host = top_position(c, PP_SERVER) < top_position(c, PP_CLIENT) ? PP_SERVER : PP_CLIENT;
		} else {
			int other;

			host = ready[PP_CLIENT] ? PP_CLIENT : PP_SERVER;
			other = 1 - host;
			/* the other host may still hold earlier exchanges: lead it by no more than the
			 * settle margin, so both land in the window together */
			if (!c->ended[other] && c->stage[host].n <= c->cfg.hold_max &&
			    top_position(c, host) > max64(c->seen[other], (int64_t)c->cur) + c->reorder_ex)
				break;
		}
		s = &c->stage[host];
		if (!s->source_ended && s->n > c->cfg.hold_max)
			c->st.events_out_of_order++;
		pp_order_pop(s, &ev);
		sched_restore(&ev);
		c->ended[host] = s->source_ended && !s->n;
		place(c, host, &ev);
	}
	for (int h = 0; h < 2; h++)
		c->ended[h] = c->stage[h].source_ended && !c->stage[h].n;
	drain(c);
	return c->error;
}

/* Into the host's stage, or placed at once when far too old for it. */
static int stage_insert(struct pp_correlator *c, int host, const struct pp_event *ev)
{
	struct pp_order_stage *s = &c->stage[host];
	int err = pp_order_insert(s, ev);

	if (err < 0)
		return c->error = err;
	if (err > 0) {
		struct pp_event now = *ev;

		c->st.events_out_of_order++;
		sched_restore(&now);
		place(c, host, &now);
		return c->error;
	}
	if (ev->ts_ns > s->max_ts)
		s->max_ts = ev->ts_ns;
	note_held(c);
	return c->error;
}

/* A --sched point sorts in the stage at its recv's time (key), its own kept in ts_other_ns (0
 * in such an event): a point may be much older than its recv (a thread that ran a long while
 * since its previous recv; or an events.csv of a kernel side that sent a stale switch-in as
 * it was), and sorted by it, it would leave the stage a reorder window early, perhaps more
 * than a window of exchanges ahead of cur, and be dropped (events_sched_early): the parts
 * would lean to the rows whose points came in time. */
static int sched_insert(struct pp_correlator *c, int host, const struct pp_event *ev, uint64_t key)
{
	struct pp_event keyed = *ev;

	keyed.ts_other_ns = ev->ts_ns;
	keyed.ts_ns = key > ev->ts_ns ? key : ev->ts_ns;
	return stage_insert(c, host, &keyed);
}

static bool same_bytes(const struct pp_event *a, const struct pp_event *b)
{
	return a->seq == b->seq && a->len == b->len && a->family == b->family &&
	       a->sport == b->sport && a->dport == b->dport &&
	       !memcmp(a->saddr, b->saddr, sizeof(a->saddr)) && !memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}

/* Held --sched points into the stage: those of recv (if not NULL) at its time, the ones whose
 * recv did not come in time (lost, or the events were sorted by time) at their own, and with
 * all every one left (the host's source is over). */
static int sched_release(struct pp_correlator *c, int host, const struct pp_event *recv, bool all)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < c->nheld[host] && !c->error; i++) {
		struct sched_held *h = &c->held[host][i];

		if (recv && same_bytes(&h->ev, recv))
			sched_insert(c, host, &h->ev, recv->ts_ns);
		else if (all || c->pushed[host] - h->at > SCHED_HOLD_EVENTS)
			sched_insert(c, host, &h->ev, 0);
		else
			c->held[host][kept++] = *h;
	}
	c->nheld[host] = kept;
	return c->error;
}

static int stage_push(struct pp_correlator *c, int host, const struct pp_event *ev)
{
	if (c->cfg.no_reorder) {
		place(c, host, ev);
		return c->error;
	}
	if (pp_point_is_sched(ev->point)) {
		if (c->nheld[host] == SCHED_HOLD) {
			sched_insert(c, host, &c->held[host][0].ev, 0);
			memmove(&c->held[host][0], &c->held[host][1],
				(SCHED_HOLD - 1) * sizeof(c->held[host][0]));
			c->nheld[host]--;
		}
		c->held[host][c->nheld[host]++] = (struct sched_held){ .ev = *ev, .at = c->pushed[host] };
		return c->error ? c->error : pump(c);
	}
	c->pushed[host]++;
	if (c->nheld[host] && sched_release(c, host, ev->point == PP_RECV ? ev : NULL, false) < 0)
		return c->error;
	if (stage_insert(c, host, ev) < 0)
		return c->error;
	return pump(c);
}

/* ---- finding the connection and exchange 0 ---- */

static bool is_candidate(const struct pp_correlator *c, const struct pp_event *ev, int point,
			 enum pp_flow_dir want)
{
	if (ev->point != point || !ev->len || ev->ts_ns < c->cfg.start_ns)
		return false;
	return !c->st.flow_known || pp_flow_dir(&c->st.flow, ev) == want;
}

static const struct pp_event *earliest(const struct pp_correlator *c, int point, enum pp_flow_dir want)
{
	const struct pp_event *best = NULL;

	for (size_t i = 0; i < c->nbuf; i++) {
		const struct pp_event *ev = &c->buf[i].ev;

		if (c->buf[i].host == PP_CLIENT && is_candidate(c, ev, point, want) &&
		    (!best || ev->ts_ns < best->ts_ns))
			best = ev;
	}
	return best;
}

/* The SYN (flags SYN without ACK to the server, SYN+ACK to the client): its seq + 1 is the
 * stream's first data byte, exact even if the first send event was lost. */
static const struct pp_event *last_syn(const struct pp_correlator *c, enum pp_flow_dir want)
{
	const struct pp_event *found = NULL;
	uint8_t ack = want == PP_DIR_TO_SERVER ? 0 : PP_TCP_ACK;

	for (size_t i = 0; i < c->nbuf; i++) {
		const struct pp_event *ev = &c->buf[i].ev;

		if (c->buf[i].host == PP_CLIENT && (ev->tcp_flags & (PP_TCP_SYN | PP_TCP_ACK)) == (PP_TCP_SYN | ack) &&
		    pp_flow_dir(&c->st.flow, ev) == want)
			found = ev;
	}
	return found;
}

static void derive_base(struct pp_correlator *c, int stream)
{
	enum pp_flow_dir want = stream == PING ? PP_DIR_TO_SERVER : PP_DIR_TO_CLIENT;
	const struct pp_event *syn = c->cfg.start_ns ? NULL : last_syn(c, want);
	const struct pp_event *first;
	uint64_t skip = stream == PING ? c->cfg.ping_skip_bytes : c->cfg.pong_skip_bytes;
	uint32_t origin;

	if (syn) {
		origin = syn->seq + 1;
	} else {
		first = earliest(c, stream == PING ? PP_SEND : PP_RECV, want);
		if (!first)
			return;
		origin = first->seq;
	}
	c->cur_seq[stream] = origin + (uint32_t)skip;
	c->base_known[stream] = true;
}

static int replay(struct pp_correlator *c)
{
	struct buffered *buf = c->buf;
	size_t n = c->nbuf;

	c->buf = NULL;
	c->nbuf = c->capbuf = 0;
	for (size_t i = 0; i < n && !c->error; i++)
		stage_push(c, buf[i].host, &buf[i].ev);
	free(buf);
	return c->error;
}

static int decide(struct pp_correlator *c)
{
	if (!c->st.flow_known) {
		const struct pp_event *send = earliest(c, PP_SEND, PP_DIR_TO_SERVER);

		if (send) {
			pp_flow_key_from_event(&c->st.flow, send, true);
			c->st.flow_known = true;
		}
	}
	if (c->st.flow_known) {
		if (!c->base_known[PING])
			derive_base(c, PING);
		if (!c->base_known[PONG])
			derive_base(c, PONG);
	}
	c->st.ping_known = c->base_known[PING];
	c->st.pong_known = c->base_known[PONG];
	c->st.ping_seq = c->cur_seq[PING];
	c->st.pong_seq = c->cur_seq[PONG];
	c->ready = true;
	if (replay(c))
		return c->error;
	for (int h = 0; h < 2; h++)
		if (c->end_requested[h]) {
			if (sched_release(c, h, NULL, true) < 0)
				return c->error;
			c->stage[h].source_ended = true;
		}
	return pump(c);
}

static int buffer_event(struct pp_correlator *c, int host, const struct pp_event *ev)
{
	if (c->nbuf == c->capbuf) {
		size_t cap = c->capbuf ? c->capbuf * 2 : 256;
		struct buffered *buf = realloc(c->buf, cap * sizeof(*buf));

		if (!buf)
			return c->error = -ENOMEM;
		c->buf = buf;
		c->capbuf = cap;
	}
	c->buf[c->nbuf].ev = *ev;
	c->buf[c->nbuf].host = (uint8_t)host;
	c->nbuf++;
	note_held(c);
	if (host == PP_CLIENT) {
		if (!c->buf_min_ts || ev->ts_ns < c->buf_min_ts)
			c->buf_min_ts = ev->ts_ns;
		if (ev->ts_ns > c->buf_max_ts)
			c->buf_max_ts = ev->ts_ns;
		if (is_candidate(c, ev, PP_SEND, PP_DIR_TO_SERVER))
			c->have_send = true;
		if (is_candidate(c, ev, PP_RECV, PP_DIR_TO_CLIENT))
			c->have_recv = true;
		if ((c->have_send || !c->need_send) && (c->have_recv || !c->need_recv))
			c->lookahead++;
		if (c->st.flow_known && (ev->tcp_flags & PP_TCP_SYN)) {
			enum pp_flow_dir dir = pp_flow_dir(&c->st.flow, ev);
			uint8_t ack = ev->tcp_flags & PP_TCP_ACK;

			c->saw_syn[PING] |= dir == PP_DIR_TO_SERVER && !ack;
			c->saw_syn[PONG] |= dir == PP_DIR_TO_CLIENT && ack;
		}
	}
	if (c->nbuf >= c->cfg.hold_max)
		return decide(c);
	/* With exchange 0 given as bytes after the first (start_ns 0), the two SYNs place both
	 * streams exactly (derive_base), whatever order the other events come in. */
	if (!c->cfg.start_ns && c->saw_syn[PING] && c->saw_syn[PONG])
		return decide(c);
	/* Events that arrive as they come (not sorted) can be far out of time order: a CPU's last
	 * partial batch, with the SYN and the hello in it, may come after a whole reorder window
	 * of the next CPU's. Decide only once the client's events span that window, so that the
	 * earliest ones are in. */
	if (c->lookahead >= DERIVE_LOOKAHEAD &&
	    (c->cfg.no_reorder || c->buf_max_ts - c->buf_min_ts >= c->cfg.reorder_ns))
		return decide(c);
	return 0;
}

/* ---- the interface ---- */

int pp_correlate_new(struct pp_correlator **out, const struct pp_correlate_config *cfg)
{
	struct pp_correlator *c;
	uint32_t max_window;

	*out = NULL;
	if (!cfg->size || cfg->size > PP_MSG_SIZE_MAX || (cfg->have_flow && !pp_flow_key_valid(&cfg->flow)))
		return -EINVAL;
	if (cfg->window_exchanges & (cfg->window_exchanges - 1))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->size = cfg->size;
	c->required = cfg->required_slots ? cfg->required_slots : PP_SLOTS_SPLIT;
	c->reorder_ex = cfg->reorder_exchanges ? cfg->reorder_exchanges : PP_CORRELATE_DEFAULT_REORDER_EX;
	if (!c->cfg.reorder_ns)
		c->cfg.reorder_ns = PP_CORRELATE_DEFAULT_REORDER_NS;
	if (!c->cfg.hold_max)
		c->cfg.hold_max = PP_CORRELATE_DEFAULT_HOLD_MAX;
	c->window = cfg->window_exchanges ? cfg->window_exchanges : PP_CORRELATE_DEFAULT_WINDOW;
	/* the window's bytes must stay far inside the int32 offsets */
	for (max_window = 1; (uint64_t)max_window * 2 * c->size <= MAX_AHEAD_BYTES / 2; max_window *= 2)
		;
	if (c->window > max_window)
		c->window = max_window;
	if (c->reorder_ex >= c->window) {
		free(c);
		return -EINVAL;
	}
	c->mask = c->window - 1;
	c->cells = malloc((size_t)PP_NSLOTS * c->window * sizeof(*c->cells));
	if (!c->cells) {
		free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < (size_t)PP_NSLOTS * c->window; i++)
		c->cells[i] = (struct cell){ .ex = CELL_EMPTY };
	c->seen[0] = c->seen[1] = -1;
	c->max_touched = -1;
	if (cfg->have_flow) {
		c->st.flow = cfg->flow;
		c->st.flow_known = true;
	}
	c->base_known[PING] = cfg->have_ping_seq;
	c->base_known[PONG] = cfg->have_pong_seq;
	c->cur_seq[PING] = cfg->ping_seq;
	c->cur_seq[PONG] = cfg->pong_seq;
	c->need_send = !cfg->have_flow || !cfg->have_ping_seq;
	c->need_recv = !cfg->have_pong_seq;
	if (!c->need_send && !c->need_recv) {
		c->ready = true;
		c->st.ping_known = c->st.pong_known = true;
		c->st.ping_seq = cfg->ping_seq;
		c->st.pong_seq = cfg->pong_seq;
	}
	*out = c;
	return 0;
}

/* Events no host can produce, refused before they touch anything. A ping-pong has one message
 * in flight each way, so no skb or call covers a window of exchanges: placing one would force
 * every exchange it covers out at once, empty (t/fuzz/correlate found both). */
static bool impossible(const struct pp_correlator *c, const struct pp_event *ev)
{
	return ev->ts_ns >= PP_MAX_TS_NS || ev->len > (uint64_t)c->window * c->size;
}

int pp_correlate_push(struct pp_correlator *c, enum pp_host host, const struct pp_event *ev)
{
	if (c->error)
		return c->error;
	if ((host != PP_CLIENT && host != PP_SERVER) || c->stage[host].source_ended ||
	    c->end_requested[host])
		return -EINVAL;
	c->st.events_in[host]++;
	if (impossible(c, ev)) {
		c->st.events_bad++;
		return 0;
	}
	if (!c->ready)
		return buffer_event(c, host, ev);
	return stage_push(c, host, ev);
}

int pp_correlate_end_host(struct pp_correlator *c, enum pp_host host)
{
	if (host != PP_CLIENT && host != PP_SERVER)
		return -EINVAL;
	if (c->error)
		return c->error;
	if (!c->ready) {
		c->end_requested[host] = true;
		/* the bases come from the client: once it is over, decide with what there is */
		if (host == PP_CLIENT)
			return decide(c);
		return 0;
	}
	if (sched_release(c, host, NULL, true) < 0)
		return c->error;
	c->stage[host].source_ended = true;
	return pump(c);
}

int pp_correlate_set_count(struct pp_correlator *c, uint64_t n)
{
	if (c->cur > n)
		return -EINVAL;
	c->cfg.count = n;
	return 0;
}

int pp_correlate_finish(struct pp_correlator *c)
{
	if (pp_correlate_end_host(c, PP_CLIENT) || pp_correlate_end_host(c, PP_SERVER))
		return c->error;
	return pump(c);
}

struct pending {
	struct pp_event ev;
	int64_t pos;
	bool has, eof, pos_known;
};

int pp_correlate_run(struct pp_correlator *c, pp_event_source_fn client_next, void *client_ctx,
		     pp_event_source_fn server_next, void *server_ctx)
{
	pp_event_source_fn next[2] = { client_next, server_next };
	void *ctx[2] = { client_ctx, server_ctx };
	struct pending p[2] = { 0 };
	int err;

	for (;;) {
		int host;

		if (c->error)
			return c->error;
		for (int h = 0; h < 2; h++) {
			/* before the bases are known only the client's events can tell them */
			if (p[h].has || p[h].eof || (h == PP_SERVER && !c->ready && !p[PP_CLIENT].eof))
				continue;
			err = next[h](ctx[h], &p[h].ev);
			if (err < 0)
				return err;
			if (err == 0) {
				p[h].eof = true;
				if ((err = pp_correlate_end_host(c, h)) < 0)
					return err;
			} else {
				p[h].has = true;
				p[h].pos_known = false;
			}
		}
		if (!p[0].has && !p[1].has) {
			if (p[0].eof && p[1].eof)
				break;
			continue;
		}
		if (!c->ready || !p[PP_SERVER].has) {
			host = PP_CLIENT;
		} else if (!p[PP_CLIENT].has) {
			host = PP_SERVER;
		} else {
			/* merge by exchange number: neither host gets ahead of the other */
			for (int h = 0; h < 2; h++)
				if (!p[h].pos_known) {
					p[h].pos = position(c, &p[h].ev);
					p[h].pos_known = true;
				}
			host = p[PP_SERVER].pos < p[PP_CLIENT].pos ? PP_SERVER : PP_CLIENT;
		}
		if ((err = pp_correlate_push(c, host, &p[host].ev)) < 0)
			return err;
		p[host].has = false;
	}
	return pp_correlate_finish(c);
}

const struct pp_correlate_stats *pp_correlate_stats(const struct pp_correlator *c)
{
	return &c->st;
}

void pp_correlate_free(struct pp_correlator *c)
{
	if (!c)
		return;
	for (int h = 0; h < 2; h++)
		pp_order_free(&c->stage[h]);
	free(c->buf);
	free(c->cells);
	free(c);
}
