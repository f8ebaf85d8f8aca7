// SPDX-License-Identifier: MIT
/* Exchanges from turn-taking (turns.h, docs/design.md 3.4): per connection, the client host's
 * calls cut both streams into messages; every other event is placed by sequence number once
 * the message holding its bytes is closed; an exchange leaves when both hosts are past it. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/order_stage.h"
#include "analyze/turns.h"
#include "model/conn.h"

enum stream { REQ = 0, RESP = 1 };         /* client->server, server->client */
enum phase { PH_NONE, PH_REQ, PH_RESP };    /* what the client's calls are doing */

#define MAX_EVENT_LEN (1u << 30)    /* far above any skb or call; keeps offsets in range */
#define PENDING_MAX   (1u << 18)    /* events of one connection waiting for its turns */
/* ... of a connection the client's log seems not to hold (server_only): a few, in case it
 * does after all */
#define PENDING_SERVER_ONLY 64
#define NBUCKETS      (1u << 14)
#define NO_OFF        INT64_MIN

struct cell {
	uint64_t ts;      /* earliest event holding the target byte; 0 = none */
	uint32_t bytes;   /* bytes of the message the events covered, duplicates counted
			   * (saturating: 16-byte cells keep a waiting exchange at 264 bytes) */
	uint32_t hits;    /* events holding the target byte */
};

/* One exchange; offsets are bytes from the stream's first message (64-bit, never wrap). */
struct exch {
	uint64_t k;
	int64_t start[2], end[2];   /* NO_OFF: not known yet */
	struct cell cells[PP_NSLOTS];
};

struct pend {
	struct pp_event ev;
	uint8_t host;
	bool hw_known;              /* server sends: how far the server had read at that time */
	uint32_t recv_hw;
};

struct conn {
	struct conn *hnext;         /* hash chain, newest first */
	struct conn *prev, *next;   /* every open connection */
	uint32_t bucket;
	uint64_t id;
	struct pp_flow_key flow;    /* oriented once `oriented` */
	bool oriented;
	bool have_isn;
	uint32_t isn;
	bool current[2];            /* the host's present instance of the 4-tuple */
	bool seen[2];               /* the host showed any event of it */
	bool server_only;           /* the client ran hold_max events ahead without showing it */
	bool closed[2];             /* the host saw it end (both FINs, an RST, a newer SYN) */
	uint8_t fins[2];            /* per host, bit 1 << stream */
	bool client_done;           /* the client's turns are final */
	bool pipelined;
	bool confirmed;             /* `confirm` exchanges settled without overlap */

	/* the client's turns */
	enum phase phase;
	bool base_known[2];
	uint32_t base[2];
	uint32_t ref_seq[2];        /* seq <-> offset anchor, moved with every message */
	int64_t ref_off[2];
	int64_t next_off[2];        /* end of the client's latest send / recv */
	int64_t closed_end[2];      /* bytes before it lie in closed messages */
	uint64_t nex;               /* turns started */

	/* the server's progress, raw seqs (the bases may not be known yet) */
	bool req_hw_known, recv_hw_known;
	uint32_t req_hw;            /* end of the furthest request bytes any server event held */
	uint32_t recv_hw;           /* ... any server recv returned */
	/* Where the server's recvs jumped (a recv event lost): a send recorded at such a read
	 * position may have followed the lost read, so it proves nothing (STALE_HW kept). */
	uint32_t stale_hw[8];
	uint32_t nstale;
	bool suspect;               /* a send answered ahead at suspect_hw: the next recv decides */
	uint32_t suspect_hw;

	struct exch *ex;            /* ring of exchanges not emitted yet */
	uint32_t ex_cap, ex_head, ex_n;

	struct pend *pend;          /* a ring: pend_n events from pend_head on */
	uint32_t pend_head, pend_n, pend_cap;
	uint64_t client_mark;       /* the client's events pushed when the server's first came */
	bool client_mark_set;
	bool flushing;              /* flush_pending runs: the ring's head stays put */

	uint64_t rows, complete, rows_before_pipelined;
};

struct pp_turns {
	struct pp_turns_config cfg;
	uint32_t required, confirm;
	int error;
	bool ended[2];
	struct pp_order_stage stage[2];  /* per host, time order (order_stage.h) */
	uint64_t last_out[2];            /* the latest time released, per host */
	struct conn *buckets[NBUCKETS];
	struct conn *open;          /* list of open connections */
	uint64_t nopen, open_ex, pend_total;
	struct pp_turns_stats st;
};

/* ---- small helpers ---- */

static bool serial_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static int64_t off_of(const struct conn *c, int s, uint32_t seq)
{
	return c->ref_off[s] + (int32_t)(seq - c->ref_seq[s]);
}

static void set_ref(struct conn *c, int s, uint32_t seq, int64_t off)
{
	c->ref_seq[s] = seq;
	c->ref_off[s] = off;
}

static struct exch *ex_at(const struct conn *c, uint32_t i)
{
	return &c->ex[(c->ex_head + i) & (c->ex_cap - 1)];
}

/* One end of a connection, mixed a word at a time (it runs for every event). */
static uint32_t hash_end(const uint8_t *addr, uint16_t port)
{
	uint64_t w[2], h;

	memcpy(w, addr, sizeof(w));
	h = w[0] * 0x9e3779b97f4a7c15ull ^ w[1] * 0xc2b2ae3d27d4eb4full ^
	    (uint64_t)port * 0x165667b19e3779f9ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h ^ h >> 32);
}

/* The same for both directions of a connection. */
static uint32_t bucket_of(const struct pp_event *ev)
{
	return (hash_end(ev->saddr, ev->sport) ^ hash_end(ev->daddr, ev->dport) ^ ev->family) &
	       (NBUCKETS - 1);
}

static void note_held(struct pp_turns *t)
{
	uint64_t n = t->stage[0].n + t->stage[1].n + t->pend_total;

	if (n > t->st.held_high_water)
		t->st.held_high_water = n;
}

/* ---- rows ---- */

static uint64_t msg_bytes(const struct exch *e, int s)
{
	return e->start[s] != NO_OFF && e->end[s] != NO_OFF && e->end[s] > e->start[s]
	       ? (uint64_t)(e->end[s] - e->start[s]) : 0;
}

/* Emits (or, for a pipelined connection, drops) the oldest exchange of c. */
static int pop_exchange(struct pp_turns *t, struct conn *c, bool forced)
{
	struct exch *e = ex_at(c, 0);
	struct pp_row row = { 0 };
	struct pp_split sp;
	struct pp_turn turn;
	int err = 0;

	c->ex_head = (c->ex_head + 1) & (c->ex_cap - 1);
	c->ex_n--;
	t->open_ex--;
	if (c->pipelined)
		return 0;
	row.index = e->k;
	row.ping_seq = c->base[REQ] + (uint32_t)e->start[REQ];
	row.pong_seq = e->start[RESP] != NO_OFF ? c->base[RESP] + (uint32_t)e->start[RESP] : 0;
	row.rtt_app_ns = -1;
	for (int slot = 0; slot < PP_NSLOTS; slot++) {
		const struct cell *cl = &e->cells[slot];
		int s = slot < S_WIRE_RX ? (slot <= C_WIRE_TX ? REQ : RESP)
					 : (slot <= S_RECV ? REQ : RESP);

		row.ts[slot] = cl->ts;
		if (cl->ts && pp_slot_is_packet[slot] &&
		    (cl->hits > 1 || (cl->bytes < UINT32_MAX && cl->bytes > msg_bytes(e, s))))
			row.flags |= PP_ROW_RETRANS;
		if (!cl->ts) {
			t->st.missing[slot]++;
			if (t->required & (1u << slot))
				row.flags |= PP_ROW_INCOMPLETE;
		}
	}
	t->st.rows++;
	c->rows++;
	if (row.flags & PP_ROW_INCOMPLETE) {
		t->st.incomplete++;
	} else {
		t->st.complete++;
		c->complete++;
	}
	if (row.flags & PP_ROW_RETRANS)
		t->st.retransmitted++;
	if (forced)
		t->st.rows_forced++;
	pp_split_row(&row, &sp);
	assert(pp_split_identities_hold(&sp));
	turn = (struct pp_turn){ .conn = c->id, .flow = &c->flow, .req_bytes = msg_bytes(e, REQ),
				 .resp_bytes = msg_bytes(e, RESP), .row = &row, .split = &sp };
	if (t->cfg.on_row)
		err = t->cfg.on_row(t->cfg.ctx, &turn);
	if (err < 0)
		t->error = err;
	return err < 0 ? err : 0;
}

/* Exchange i (a ring position) is settled when both its messages are closed and the server has
 * shown bytes of the next request: every server point of i came before those in server time,
 * and the time-order stage has let them all through. */
static bool settled(const struct pp_turns *t, const struct conn *c, uint32_t i)
{
	const struct exch *e = ex_at(c, i);
	bool closed = e->end[REQ] != NO_OFF && (e->end[RESP] != NO_OFF || c->client_done);

	if (!closed || c->suspect)
		return false;
	if (c->closed[PP_SERVER] || t->ended[PP_SERVER])
		return true;
	if (i + 1 >= c->ex_n || !c->req_hw_known || !c->base_known[REQ])
		return false;
	return off_of(c, REQ, c->req_hw) > ex_at(c, i + 1)->start[REQ];
}

static int drain_conn(struct pp_turns *t, struct conn *c, bool final)
{
	while (c->ex_n && !t->error) {
		if (!final) {
			if (!settled(t, c, 0))
				break;
			/* overlap shows within a few turns: hold rows until confirm more settle */
			if (!c->confirmed) {
				if (c->ex_n <= t->confirm || !settled(t, c, t->confirm))
					break;
				c->confirmed = true;
			}
		}
		if (pop_exchange(t, c, false))
			break;
	}
	return t->error;
}

/* ---- connections ---- */

static void orient(struct conn *c, const struct pp_event *ev, bool src_is_client)
{
	pp_flow_key_from_event(&c->flow, ev, src_is_client);
	c->oriented = true;
}

static struct conn *new_conn(struct pp_turns *t, const struct pp_event *ev, uint32_t bucket)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		t->error = -ENOMEM;
		return NULL;
	}
	c->id = t->st.connections++;
	c->bucket = bucket;
	/* tentative: source as client, turned round once a SYN, a client call or the port tells */
	pp_flow_key_from_event(&c->flow, ev, true);
	if (t->cfg.server_port) {
		if (ev->dport == t->cfg.server_port)
			orient(c, ev, true);
		else if (ev->sport == t->cfg.server_port)
			orient(c, ev, false);
	}
	for (int s = 0; s < 2; s++)
		c->next_off[s] = c->closed_end[s] = 0;
	c->hnext = t->buckets[bucket];
	t->buckets[bucket] = c;
	c->next = t->open;
	if (t->open)
		t->open->prev = c;
	t->open = c;
	if (++t->nopen > t->st.conns_high_water)
		t->st.conns_high_water = t->nopen;
	return c;
}

static void free_conn(struct pp_turns *t, struct conn *c)
{
	struct conn **pp = &t->buckets[c->bucket];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->open = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->nopen--;
	t->open_ex -= c->ex_n;
	t->pend_total -= c->pend_n;
	free(c->ex);
	free(c->pend);
	free(c);
}

static bool same_conn(const struct conn *c, const struct pp_event *ev)
{
	return pp_flow_dir(&c->flow, ev) != PP_DIR_NONE;
}

/* The host's present instance of ev's 4-tuple, without creating one. */
static struct conn *find_conn(const struct pp_turns *t, int host, const struct pp_event *ev)
{
	struct conn *c, *latest = NULL;

	for (c = t->buckets[bucket_of(ev)]; c; c = c->hnext)
		if (same_conn(c, ev)) {
			if (c->current[host])
				return c;
			if (!latest && !c->closed[host])
				latest = c;
		}
	return latest;
}

/* ---- the client's turns ---- */

static int place(struct pp_turns *t, struct conn *c, int host, const struct pp_event *ev,
		 bool hw_known, uint32_t recv_hw);

static struct pend *pend_at(const struct conn *c, uint32_t i)
{
	return &c->pend[(c->pend_head + i) % c->pend_cap];
}

/* hw_known, recv_hw: a server send's read position when it arrived, kept through re-queues */
static void add_pending(struct pp_turns *t, struct conn *c, int host, const struct pp_event *ev,
			bool hw_known, uint32_t recv_hw)
{
	struct pend *p;

	bool few = c->server_only && c->pend_n >= PENDING_SERVER_ONLY && !c->flushing;

	if (c->pend_n == c->pend_cap || few) {
		uint32_t cap = c->pend_cap ? c->pend_cap * 2 : 16;

		if (cap > PENDING_MAX || few) {
			/* the turns of this connection never come: the oldest gives way (a ring, so
			 * a connection the client never shows costs O(1) an event, not a move of
			 * the whole array) */
			c->pend_head = (c->pend_head + 1) % c->pend_cap;
			c->pend_n--;
			t->pend_total--;
			if (c->seen[PP_CLIENT])
				t->st.events_unplaced++;
			else
				t->st.events_no_client++;
		} else {
			p = malloc(cap * sizeof(*p));
			if (!p) {
				t->error = -ENOMEM;
				return;
			}
			for (uint32_t i = 0; i < c->pend_n; i++)
				p[i] = *pend_at(c, i);
			free(c->pend);
			c->pend = p;
			c->pend_cap = cap;
			c->pend_head = 0;
		}
	}
	p = pend_at(c, c->pend_n++);
	p->ev = *ev;
	p->host = (uint8_t)host;
	p->hw_known = hw_known;
	p->recv_hw = recv_hw;
	t->pend_total++;
	note_held(t);
}

/* Places every waiting event whose bytes now lie in closed messages (all of them once the
 * client's turns are final). */
static void flush_pending(struct pp_turns *t, struct conn *c)
{
	uint32_t i, n = c->pend_n;

	/* place() queues what still waits back into the same ring, from the same head, at a
	 * position never past the one being read (so never past its capacity): the order is
	 * kept, nothing is overwritten */
	c->pend_n = 0;
	t->pend_total -= n;
	c->flushing = true;
	for (i = 0; i < n && !t->error; i++) {
		struct pend cur = *pend_at(c, i);

		if (place(t, c, cur.host, &cur.ev, cur.hw_known, cur.recv_hw) < 0)
			break;
	}
	c->flushing = false;
}

static int grow_ex(struct pp_turns *t, struct conn *c)
{
	uint32_t cap = c->ex_cap ? c->ex_cap * 2 : 8;
	struct exch *ex = malloc((size_t)cap * sizeof(*ex));

	if (!ex)
		return t->error = -ENOMEM;
	for (uint32_t i = 0; i < c->ex_n; i++)
		ex[i] = *ex_at(c, i);
	free(c->ex);
	c->ex = ex;
	c->ex_cap = cap;
	c->ex_head = 0;
	return 0;
}

static struct exch *last_ex(struct conn *c)
{
	return c->ex_n ? ex_at(c, c->ex_n - 1) : NULL;
}

/* The client's calls moved on: the open message of stream s ends where they left it. */
static void close_msg(struct conn *c, int s)
{
	struct exch *e = last_ex(c);

	if (e && e->start[s] != NO_OFF && e->end[s] == NO_OFF)
		e->end[s] = c->next_off[s] > e->start[s] ? c->next_off[s] : e->start[s];
	c->closed_end[s] = c->next_off[s];
}

static int start_request(struct pp_turns *t, struct conn *c, const struct pp_event *ev)
{
	struct exch *e;
	int64_t off;

	if (!c->base_known[REQ]) {
		c->base_known[REQ] = true;
		c->base[REQ] = ev->seq;
		set_ref(c, REQ, ev->seq, 0);
	}
	off = off_of(c, REQ, ev->seq);
	set_ref(c, REQ, ev->seq, off);
	c->nex++;
	if (c->pipelined)
		return 0;
	if (c->ex_n == c->ex_cap && grow_ex(t, c))
		return t->error;
	e = ex_at(c, c->ex_n++);
	memset(e, 0, sizeof(*e));
	e->k = c->nex - 1;
	e->start[REQ] = off;
	e->end[REQ] = e->start[RESP] = e->end[RESP] = NO_OFF;
	if (++t->open_ex > t->st.open_high_water)
		t->st.open_high_water = t->open_ex;
	if (t->open_ex > t->cfg.max_open && c->ex_n > 1)
		return pop_exchange(t, c, true);
	return 0;
}

/* A send or recv of the client host: where the turns change hands. */
static int client_call(struct pp_turns *t, struct conn *c, const struct pp_event *ev)
{
	int s = ev->point == PP_SEND ? REQ : RESP;
	int64_t end;

	if (s == REQ) {
		if (c->phase != PH_REQ) {
			if (c->phase == PH_RESP) {
				close_msg(c, RESP);
				flush_pending(t, c);
			}
			c->phase = PH_REQ;
			if (start_request(t, c, ev))
				return t->error;
		}
	} else {
		if (c->phase == PH_NONE) {
			t->st.calls_before_request++;
			return 0;
		}
		if (c->phase == PH_REQ) {
			struct exch *e = last_ex(c);
			int64_t off;

			close_msg(c, REQ);
			if (!c->base_known[RESP]) {
				c->base_known[RESP] = true;
				c->base[RESP] = ev->seq;
				set_ref(c, RESP, ev->seq, 0);
				c->next_off[RESP] = c->closed_end[RESP] = 0;
			}
			off = off_of(c, RESP, ev->seq);
			set_ref(c, RESP, ev->seq, off);
			if (e && !c->pipelined)
				e->start[RESP] = off;
			c->phase = PH_RESP;
			flush_pending(t, c);
		}
	}
	end = off_of(c, s, ev->seq) + ev->len;
	if (end > c->next_off[s])
		c->next_off[s] = end;
	return t->error;
}

/* The client's turns are over: the open message ends where the client's calls did. */
static void client_final(struct pp_turns *t, struct conn *c)
{
	if (c->client_done)
		return;
	if (c->phase == PH_REQ)
		close_msg(c, REQ);
	else if (c->phase == PH_RESP)
		close_msg(c, RESP);
	c->client_done = true;
	flush_pending(t, c);
}

/* ---- pipelining ---- */

static void mark_pipelined(struct pp_turns *t, struct conn *c)
{
	if (c->pipelined)
		return;
	c->pipelined = true;
	c->rows_before_pipelined = c->rows;
	t->st.pipelined++;
	t->st.events_pipelined += c->pend_n;
	t->pend_total -= c->pend_n;
	c->pend_n = 0;
	while (c->ex_n)
		pop_exchange(t, c, false);   /* dropped, not emitted */
}

static bool is_stale(const struct conn *c, uint32_t hw)
{
	for (uint32_t i = 0; i < c->nstale && i < 8; i++)
		if (c->stale_hw[i] == hw)
			return true;
	return false;
}

/* A server send holding bytes of response j, sent when the server had read up to recv_hw:
 *  - none of request j+1 may have been read (else it read ahead, as a pipelining client makes
 *    it): pipelined at once, since a lost event can only make recv_hw lag, never lead;
 *  - all of request j must have been (else it answered ahead: the client sent request j while
 *    response j-1 was still coming, if none was read; the client's turn held several
 *    requests, answered one by one as read, if part was). A lost recv event makes recv_hw lag
 *    just so, so the next recv decides: it starts at recv_hw (nothing was lost: pipelined) or
 *    beyond (dismissed). */
static void check_overlap(struct pp_turns *t, struct conn *c, uint32_t j, uint32_t recv_hw)
{
	int64_t hw = off_of(c, REQ, recv_hw), start = ex_at(c, j)->start[REQ];
	int64_t end = ex_at(c, j)->end[REQ];
	/* the server answered having read only part of request j: the client's turn was several
	 * requests (written at once, read as they came, each answered when read: redis-benchmark
	 * -P 16 with SETs larger than redis's 16 KiB reads) */
	bool partial = end != NO_OFF && hw > start && hw < end;

	if (j + 1 < c->ex_n && hw > ex_at(c, j + 1)->start[REQ]) {
		mark_pipelined(t, c);
		return;
	}
	if ((hw > start && !partial) || is_stale(c, recv_hw)) {
		if (hw <= start || partial)
			t->st.overlaps_dismissed++;
		return;
	}
	if (c->recv_hw != recv_hw) {
		mark_pipelined(t, c);   /* the next recv came, and started right there */
		return;
	}
	c->suspect = true;
	c->suspect_hw = recv_hw;
}

/* ---- placing an event by sequence number ---- */

/* First ring position whose message on stream s starts after off (ex_n if none). */
static uint32_t after(const struct conn *c, int s, int64_t off)
{
	uint32_t lo = 0, hi = c->ex_n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t st = ex_at(c, mid)->start[s];

		if (st != NO_OFF && st <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int place(struct pp_turns *t, struct conn *c, int host, const struct pp_event *ev,
		 bool hw_known, uint32_t recv_hw)
{
	struct pp_point_place m = pp_point_place(host, ev->point);
	int s = m.stream;
	int slot = m.slot;
	bool first = m.first_byte;
	int64_t a, b;
	uint32_t i;
	bool used = false;

	if (c->pipelined) {
		t->st.events_pipelined++;
		return 0;
	}
	if (!c->oriented || !c->base_known[s]) {
		if (c->client_done && !c->seen[PP_CLIENT])
			t->st.events_no_client++;
		else if (c->client_done)
			t->st.events_unplaced++;
		else
			add_pending(t, c, host, ev, hw_known, recv_hw);
		return t->error;
	}
	a = off_of(c, s, ev->seq);
	b = a + ev->len;
	if (b <= 0) {
		t->st.events_before_first++;
		return 0;
	}
	if (b > c->closed_end[s] && !c->client_done) {
		add_pending(t, c, host, ev, hw_known, recv_hw);
		return t->error;
	}
	i = after(c, s, a);
	if (i > 0)
		i--;
	for (; i < c->ex_n; i++) {
		struct exch *e = ex_at(c, i);
		int64_t lo, hi, target;
		struct cell *cl;

		if (e->start[s] == NO_OFF || e->start[s] >= b)
			break;
		if (e->end[s] == NO_OFF || e->end[s] <= e->start[s])
			continue;
		lo = a > e->start[s] ? a : e->start[s];
		hi = b < e->end[s] ? b : e->end[s];
		if (lo >= hi)
			continue;
		if (host == PP_SERVER && ev->point == PP_SEND && s == RESP && hw_known) {
			check_overlap(t, c, i, recv_hw);
			if (c->pipelined) {
				t->st.events_pipelined++;
				return 0;
			}
		}
		used = true;
		cl = &e->cells[slot];
		cl->bytes = (uint64_t)cl->bytes + (uint64_t)(hi - lo) > UINT32_MAX
			    ? UINT32_MAX : cl->bytes + (uint32_t)(hi - lo);
		target = first ? e->start[s] : e->end[s] - 1;
		if (a <= target && target < b) {
			cl->hits++;
			if (!cl->ts || ev->ts_ns < cl->ts)
				cl->ts = ev->ts_ns;
		}
	}
	if (used)
		t->st.events_used++;
	else if (!c->ex_n || b <= ex_at(c, 0)->start[s] || ex_at(c, 0)->start[s] == NO_OFF)
		t->st.events_late++;
	else
		t->st.events_unplaced++;   /* bytes between turns the client's calls did not cover */
	return 0;
}

/* ---- one event, in time order ---- */

static int conn_over(struct pp_turns *t, struct conn *c)
{
	struct pp_turns_conn info;
	int err = 0;

	client_final(t, c);
	if (c->suspect) {
		c->suspect = false;
		mark_pipelined(t, c);   /* no recv came after: nothing shows an event was lost */
	}
	if (drain_conn(t, c, true))
		return t->error;
	info = (struct pp_turns_conn){ .conn = c->id, .flow = &c->flow, .have_isn = c->have_isn,
				       .isn = c->isn, .seen = { c->seen[0], c->seen[1] },
				       .pipelined = c->pipelined, .exchanges = c->nex,
				       .rows = c->rows, .complete = c->complete,
				       .rows_before_pipelined = c->rows_before_pipelined };
	if (t->cfg.on_conn)
		err = t->cfg.on_conn(t->cfg.ctx, &info);
	free_conn(t, c);
	if (err < 0)
		t->error = err;
	return t->error;
}

static int maybe_over(struct pp_turns *t, struct conn *c)
{
	/* another client's connection, over on the server: nothing will come for it */
	if (c->server_only && !c->seen[PP_CLIENT] && c->closed[PP_SERVER])
		return conn_over(t, c);
	if ((c->closed[PP_CLIENT] || t->ended[PP_CLIENT]) && (c->closed[PP_SERVER] || t->ended[PP_SERVER]))
		return conn_over(t, c);
	if (c->closed[PP_CLIENT] || t->ended[PP_CLIENT])
		client_final(t, c);
	return drain_conn(t, c, false);
}

static void host_closed(struct pp_turns *t, struct conn *c, int host)
{
	c->closed[host] = true;
	c->current[host] = false;
	if (host == PP_CLIENT)
		client_final(t, c);
}

/* An opening SYN: the client is its source; its seq names the instance on both hosts. */
static int on_syn(struct pp_turns *t, int host, const struct pp_event *ev)
{
	uint32_t bucket = bucket_of(ev);
	struct conn *c, *found = NULL;

	t->st.events_no_payload++;
	for (c = t->buckets[bucket]; c; c = c->hnext)
		if (same_conn(c, ev)) {
			if (!found && c->have_isn && c->isn == ev->seq)
				found = c;
			else if (!found && !c->have_isn && !c->closed[host] && !c->nex && !c->pend_n)
				found = c;   /* made by the other host's SYN-less event: same one */
		}
	/* the instance this host was using is over on it; one it never saw (the other host's,
	 * taken ahead) is not */
	for (c = t->buckets[bucket]; c; c = c->hnext)
		if (c != found && same_conn(c, ev) && c->current[host] && !c->closed[host])
			host_closed(t, c, host);
	if (!found && !(found = new_conn(t, ev, bucket)))
		return t->error;
	found->have_isn = true;
	found->isn = ev->seq;
	found->current[host] = true;
	found->seen[host] = true;
	if (!found->oriented || !t->cfg.server_port)
		orient(found, ev, true);
	/* older instances closed above may be complete now */
	for (c = t->buckets[bucket]; c;) {
		struct conn *nx = c->hnext;

		if (c != found && same_conn(c, ev) && maybe_over(t, c))
			return t->error;
		c = nx;
	}
	return t->error;
}

static int process(struct pp_turns *t, int host, const struct pp_event *ev)
{
	struct conn *c;
	bool call = ev->point == PP_SEND || ev->point == PP_RECV;
	/* --sched points are copies of a recv, placed like it (the cell of the message whose last
	 * byte they hold) but neither calls (they cut no turn) nor packets (no SYN, FIN or RST),
	 * and their times may be far older than their recv's (a thread that ran a long while
	 * since its previous recv), so they say nothing of how far the server has read: no
	 * req_hw, recv_hw or suspect from them */
	bool sched = pp_point_is_sched(ev->point);
	bool packet = !call && !sched;
	uint8_t fl = ev->tcp_flags;

	if (!ev->point || ev->point >= PP_POINT_MAX) {
		t->st.events_bad++;
		return 0;
	}
	if (t->cfg.server_port && ev->sport != t->cfg.server_port && ev->dport != t->cfg.server_port) {
		t->st.events_foreign++;
		return 0;
	}
	if (packet && pp_event_is_opening_syn(ev))
		return on_syn(t, host, ev);
	c = find_conn(t, host, ev);
	if (!ev->len) {
		t->st.events_no_payload++;
		if (!c || !packet || !(fl & (PP_TCP_FIN | PP_TCP_RST)))
			return 0;
	} else if (!c && sched) {
		/* a stale switch-in can be older than the connection's SYN: it would start an
		 * instance of its own, which the SYN then ends */
		t->st.events_before_first++;
		return 0;
	} else if (!c) {
		if (!(c = new_conn(t, ev, bucket_of(ev))))
			return t->error;
	}
	c->current[host] = true;
	c->seen[host] = true;
	/* pushed live: a connection the client's events have not shown while hold_max of them
	 * went by is another client's on the server (pp_turns_run decides it by its lead) */
	if (host == PP_SERVER && !c->seen[PP_CLIENT] && !c->server_only) {
		if (!c->client_mark_set) {
			c->client_mark = t->st.events_in[PP_CLIENT];
			c->client_mark_set = true;
		} else if (t->st.events_in[PP_CLIENT] - c->client_mark > t->cfg.hold_max) {
			c->server_only = true;
			t->st.conns_server_only++;
		}
	}
	if (!c->oriented && host == PP_CLIENT && call)
		orient(c, ev, ev->point == PP_SEND);
	if (ev->len) {
		int s = pp_point_place(host, ev->point).stream;
		enum pp_flow_dir dir = pp_flow_dir(&c->flow, ev);

		if (c->oriented && dir != (s == REQ ? PP_DIR_TO_SERVER : PP_DIR_TO_CLIENT)) {
			t->st.events_foreign++;   /* the wrong way for its point */
			return 0;
		}
		if (host == PP_SERVER && s == REQ && !sched) {
			uint32_t end = ev->seq + ev->len;

			if (!c->req_hw_known || serial_gt(end, c->req_hw))
				c->req_hw = end, c->req_hw_known = true;
			if (ev->point == PP_RECV && c->recv_hw_known && serial_gt(ev->seq, c->recv_hw))
				c->stale_hw[c->nstale++ % 8] = c->recv_hw;   /* a recv was lost */
			if (ev->point == PP_RECV && c->suspect && c->recv_hw == c->suspect_hw) {
				c->suspect = false;
				if (serial_gt(ev->seq, c->suspect_hw))
					t->st.overlaps_dismissed++;
				else
					mark_pipelined(t, c);
			}
			if (ev->point == PP_RECV && (!c->recv_hw_known || serial_gt(end, c->recv_hw)))
				c->recv_hw = end, c->recv_hw_known = true;
		}
		if (host == PP_CLIENT && call && c->oriented && !c->pipelined && client_call(t, c, ev))
			return t->error;
		if (host == PP_CLIENT && call && c->pipelined)
			client_call(t, c, ev);   /* still counts its turns */
		if (place(t, c, host, ev, host == PP_SERVER && ev->point == PP_SEND && c->recv_hw_known,
			  c->recv_hw) < 0)
			return t->error;
	}
	if (packet && (fl & (PP_TCP_FIN | PP_TCP_RST))) {
		enum pp_flow_dir dir = pp_flow_dir(&c->flow, ev);

		c->fins[host] |= (uint8_t)(dir == PP_DIR_TO_SERVER ? 1 : 2);
		if ((fl & PP_TCP_RST) || c->fins[host] == 3)
			host_closed(t, c, host);
	}
	return maybe_over(t, c);
}

/* ---- the time-order stage ---- */

static int release(struct pp_turns *t, int host, const struct pp_event *ev)
{
	if (ev->ts_ns < t->last_out[host])
		t->st.events_out_of_order++;
	else
		t->last_out[host] = ev->ts_ns;
	return process(t, host, ev);
}

static int pump(struct pp_turns *t, int host)
{
	struct pp_order_stage *s = &t->stage[host];
	struct pp_event ev;

	while (s->n && !t->error) {
		uint64_t top = pp_order_top(s)->ts_ns;
		bool full = s->n > t->cfg.hold_max;

		if (!s->source_ended && !full && !(s->max_ts >= top && s->max_ts - top >= t->cfg.reorder_ns))
			break;
		pp_order_pop(s, &ev);
		if (release(t, host, &ev))
			break;
	}
	return t->error;
}

/* ---- the interface ---- */

int pp_turns_new(struct pp_turns **out, const struct pp_turns_config *cfg)
{
	struct pp_turns *t;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	t->cfg = *cfg;
	t->required = cfg->required_slots ? cfg->required_slots : PP_SLOTS_SPLIT;
	t->confirm = cfg->confirm ? cfg->confirm : PP_TURNS_DEFAULT_CONFIRM;
	if (!t->cfg.reorder_ns)
		t->cfg.reorder_ns = PP_CORRELATE_DEFAULT_REORDER_NS;
	if (!t->cfg.hold_max)
		t->cfg.hold_max = PP_CORRELATE_DEFAULT_HOLD_MAX;
	if (!t->cfg.max_open)
		t->cfg.max_open = PP_TURNS_DEFAULT_MAX_OPEN;
	*out = t;
	return 0;
}

int pp_turns_push(struct pp_turns *t, enum pp_host host, const struct pp_event *ev)
{
	struct pp_order_stage *s;
	int err;

	if (t->error)
		return t->error;
	if ((host != PP_CLIENT && host != PP_SERVER) || t->stage[host].source_ended)
		return -EINVAL;
	t->st.events_in[host]++;
	if (ev->ts_ns >= PP_MAX_TS_NS || ev->len > MAX_EVENT_LEN) {
		t->st.events_bad++;
		return 0;
	}
	if (t->cfg.no_reorder)
		return release(t, host, ev);
	s = &t->stage[host];
	if ((err = pp_order_insert(s, ev)) < 0)
		return t->error = err;
	if (err == 1)   /* far older than what is held: placed at once, counted out of order */
		return release(t, host, ev);
	if (ev->ts_ns > s->max_ts)
		s->max_ts = ev->ts_ns;
	note_held(t);
	return pump(t, host);
}

int pp_turns_end_host(struct pp_turns *t, enum pp_host host)
{
	struct conn *c, *nx;

	if (host != PP_CLIENT && host != PP_SERVER)
		return -EINVAL;
	if (t->error || t->ended[host])
		return t->error;
	t->stage[host].source_ended = true;
	if (pump(t, host))
		return t->error;
	t->ended[host] = true;
	for (c = t->open; c && !t->error; c = nx) {
		nx = c->next;
		maybe_over(t, c);
	}
	return t->error;
}

int pp_turns_finish(struct pp_turns *t)
{
	if (pp_turns_end_host(t, PP_CLIENT) || pp_turns_end_host(t, PP_SERVER))
		return t->error;
	return t->error;
}

/* Whether the server's next event could be placed now (or starts something new), or the
 * client must first show more of its turns. */
static bool server_ready(const struct pp_turns *t, const struct pp_event *ev)
{
	const struct conn *c;
	int s;

	if (!ev->len || !ev->point || ev->point >= PP_POINT_MAX)
		return true;
	if (!(c = find_conn(t, PP_SERVER, ev)) || c->pipelined || c->client_done || c->server_only)
		return true;
	s = pp_point_place(PP_SERVER, ev->point).stream;
	if (!c->oriented || !c->base_known[s])
		return false;
	return off_of(c, s, ev->seq) + ev->len <= c->closed_end[s];
}

int pp_turns_run(struct pp_turns *t, pp_event_source_fn client_next, void *client_ctx,
		 pp_event_source_fn server_next, void *server_ctx)
{
	pp_event_source_fn next[2] = { client_next, server_next };
	void *ctx[2] = { client_ctx, server_ctx };
	struct pp_event ev[2];
	bool has[2] = { false, false }, eof[2] = { false, false };
	uint64_t lead = 0;   /* client events taken since the server's last */
	int err;

	for (;;) {
		int host;

		if (t->error)
			return t->error;
		for (int h = 0; h < 2; h++) {
			if (has[h] || eof[h])
				continue;
			if ((err = next[h](ctx[h], &ev[h])) < 0)
				return err;
			if (err == 0) {
				eof[h] = true;
				if ((err = pp_turns_end_host(t, h)) < 0)
					return err;
			} else {
				has[h] = true;
			}
		}
		if (!has[0] && !has[1])
			break;
		if (!has[PP_SERVER]) {
			host = PP_CLIENT;
		} else if (!has[PP_CLIENT] || server_ready(t, &ev[PP_SERVER])) {
			host = PP_SERVER;
		} else if (lead >= t->cfg.hold_max) {
			/* the client's log went this far without the server's connection: it is
			 * another client's, and waits no more (a server serves many) */
			struct conn *c = find_conn(t, PP_SERVER, &ev[PP_SERVER]);

			if (c && !c->seen[PP_CLIENT] && !c->server_only) {
				c->server_only = true;
				t->st.conns_server_only++;
			}
			host = PP_SERVER;
		} else {
			host = PP_CLIENT;
		}
		if ((err = pp_turns_push(t, host, &ev[host])) < 0)
			return err;
		has[host] = false;
		lead = host == PP_CLIENT ? lead + 1 : 0;
	}
	return pp_turns_finish(t);
}

const struct pp_turns_stats *pp_turns_stats(const struct pp_turns *t)
{
	return &t->st;
}

void pp_turns_free(struct pp_turns *t)
{
	if (!t)
		return;
	while (t->open)
		free_conn(t, t->open);
	for (int h = 0; h < 2; h++)
		pp_order_free(&t->stage[h]);
	free(t);
}
