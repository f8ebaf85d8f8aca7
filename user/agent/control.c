// SPDX-License-Identifier: MIT
/* The agent's end of the control channel (agent/control.h): many connections at once over the
 * agent's event store, each a small state machine on a non-blocking socket (read the FETCH
 * frame, then stream the answer a chunk at a time) with its own deadline. Nothing here blocks;
 * only pp_control_server_serve_one waits, for one connection, with poll. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"
#include "common/net.h"
#include "model/conn.h"

/* Events per EVENTS frame of an answer: a chunk, sent before the next is read from the store
 * (the fuzz target makes it small, so that its small store still spans several). */
#ifndef PP_CONTROL_CHUNK_EVENTS
#define PP_CONTROL_CHUNK_EVENTS 1024
#endif
#define CHUNK_EVENTS   PP_CONTROL_CHUNK_EVENTS
#define CHUNK_FRAME    (PP_PROTO_HDR_LEN + 4 + PP_PROTO_EVENT_LEN * CHUNK_EVENTS)
#define OUT_SIZE       (CHUNK_FRAME + PP_PROTO_HDR_LEN + PP_PROTO_END_LEN)
/* Chunks one connection may send per round, so that a large answer does not delay others. */
#define CHUNKS_PER_ROUND 4
/* Connections accepted per round (the rest wait in the listen backlog). */
#define ACCEPTS_PER_ROUND 256
#define REQ_SIZE       (PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN)

/* C_FOLLOW: a follower (its queue is sent as it fills; reads STOP); C_DRAIN: after STOP, the
 * rest of its queue and END. */
enum conn_state { C_FREE, C_READ, C_SEND, C_FOLLOW, C_DRAIN };

/* A follower's queue: EVENTS frames, each encoded an event at a time as the events come, sealed
 * (header written) when full or at the end of a round, freed once sent. 72 bytes per event. */
struct fbuf {
	struct fbuf *next;
	uint32_t n;                   /* events in it */
	bool sealed;                  /* ready to send: no event is added any more */
	bool is_end;                  /* holds the END frame */
	size_t len, off;              /* bytes to send, bytes sent */
	uint8_t data[CHUNK_FRAME];
};

#define NOTICES      8
#define NOTICE_LEN   200

struct conn {
	int fd;
	enum conn_state state;
	uint64_t order;               /* accept order: the smallest is the oldest */
	uint64_t round;               /* the round of the loop it came in */
	int64_t deadline;             /* CLOCK_MONOTONIC ms */
	uint8_t peer[16];             /* the peer's address, IPv4 as IPv4-mapped IPv6 */
	uint8_t req[REQ_SIZE];
	uint32_t got, need;
	struct pp_fetch_req fetch;
	struct pp_instance inst;
	bool inst_live, walked, end_queued;
	size_t pos;                   /* events the store has passed to the send walk */
	uint8_t *out;                 /* OUT_SIZE while sending */
	size_t out_len, out_off;
	uint64_t sent;
	/* follow mode */
	struct pp_control_server *srv;
	struct fbuf *head, *tail;
	size_t queued;                /* events in head..tail not yet wholly sent */
	bool stop_pending, broken, had_pending;
	uint8_t rx[PP_PROTO_HDR_LEN];
	uint32_t rx_got;
	int64_t last_frame;           /* ms: the last frame that left, for heartbeats */
	struct pp_end_counts at_start; /* follow mode: the source's counts at FETCH (probe cost) */
};

struct pp_control_server {
	int fd;
	uint16_t port;
	int timeout_ms, first_frame_ms, max_conns, max_per_peer;
	struct pp_control_source src;
	struct conn *conns;           /* max_conns */
	uint64_t next_order;
	uint64_t round;               /* pp_control_server_handle calls */
	struct pp_event *batch;       /* CHUNK_EVENTS */
	bool prepared;                /* src.prepare ran this round */
	struct pp_control_server_stats st;
	uint64_t logged[PP_REFUSED_KINDS]; /* refusals already in a summary line */
	int64_t last_summary;
	struct pp_err last_err;       /* why the last connection failed (serve_one) */
	size_t queued;                /* events in every follower queue */
	int followers;
	char notices[NOTICES][NOTICE_LEN];
	unsigned notice_first, notice_n;
};

static int64_t now_ms(void)
{
	return pp_net_deadline_ms(0);
}

/* The long END (with the probe's cost) to a client that asked for it; older clients reject it. */
static uint32_t end_len(const struct conn *c)
{
	return c->fetch.flags & PP_FETCH_COST ? PP_PROTO_END_LEN : PP_PROTO_END_LEN_SHORT;
}

int pp_control_server_open(struct pp_control_server **out, const struct pp_control_server_opts *opts)
{
	struct pp_control_server *s;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int fd;

	*out = NULL;
	if (!opts->source.for_each_event || opts->timeout_ms < 0 || opts->first_frame_ms < 0 ||
	    opts->max_conns < 0 || opts->max_per_peer < 0)
		return -EINVAL;
	if ((fd = pp_listen_one(opts->bind_addr, opts->port)) < 0)
		return fd;
	if (!(s = calloc(1, sizeof(*s)))) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	s->timeout_ms = opts->timeout_ms ? opts->timeout_ms : PP_CONTROL_DEFAULT_TIMEOUT_MS;
	s->first_frame_ms = opts->first_frame_ms ? opts->first_frame_ms : PP_CONTROL_FIRST_FRAME_MS;
	if (s->first_frame_ms > s->timeout_ms)
		s->first_frame_ms = s->timeout_ms;
	s->max_conns = opts->max_conns ? opts->max_conns : PP_CONTROL_MAX_CONNS;
	if (s->max_conns > PP_CONTROL_MAX_CONNS)
		s->max_conns = PP_CONTROL_MAX_CONNS;
	s->max_per_peer = opts->max_per_peer ? opts->max_per_peer : PP_CONTROL_MAX_PER_PEER;
	s->src = opts->source;
	s->conns = calloc((size_t)s->max_conns, sizeof(*s->conns));
	s->batch = malloc(CHUNK_EVENTS * sizeof(*s->batch));
	s->last_summary = now_ms();
	if (!s->conns || !s->batch) {
		pp_control_server_close(s);
		return -ENOMEM;
	}
	for (int i = 0; i < s->max_conns; i++)
		s->conns[i].fd = -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	*out = s;
	return 0;
}

int pp_control_server_fd(const struct pp_control_server *s)
{
	return s->fd;
}

uint16_t pp_control_server_port(const struct pp_control_server *s)
{
	return s->port;
}

const struct pp_control_server_stats *pp_control_server_stats(const struct pp_control_server *s)
{
	return &s->st;
}

/* ---- connections ---- */

static void queue_free(struct pp_control_server *s, struct conn *c)
{
	while (c->head) {
		struct fbuf *b = c->head;

		c->head = b->next;
		free(b);
	}
	c->tail = NULL;
	s->queued -= c->queued;
	c->queued = 0;
}

static void conn_close(struct pp_control_server *s, struct conn *c)
{
	if (c->state == C_FREE)
		return;
	if (c->state == C_FOLLOW || c->state == C_DRAIN)
		s->followers--;
	queue_free(s, c);
	close(c->fd);
	if (c->inst_live)
		pp_instance_free(&c->inst);
	free(c->out);
	*c = (struct conn){ .fd = -1 };
	s->st.open_conns--;
}

/* The end of a connection that failed: counted by kind, its reason kept for serve_one. */
static void conn_fail(struct pp_control_server *s, struct conn *c, enum pp_control_refusal kind,
		      int code, const char *why)
{
	s->st.refused[kind]++;
	s->st.failed++;
	pp_err_set(&s->last_err, code, "%s", why);
	conn_close(s, c);
}

/* Best effort, never waits: an ERROR frame for a peer that is refused anyway, in the version
 * the peer spoke (when this agent knows its ERROR layout: 1 and 2). */
static void send_error_in(int fd, uint16_t version, uint16_t code, const char *text)
{
	uint8_t frame[PP_PROTO_HDR_LEN + 4 + PP_PROTO_ERROR_TEXT_MAX];
	ssize_t len = pp_proto_encode_error_in(frame, sizeof(frame),
					       version == 1 ? 1 : PP_PROTO_VERSION, code, text);

	if (len > 0 && send(fd, frame, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* nothing to do: the connection is closed next */
	}
}

static void send_error(int fd, uint16_t code, const char *text)
{
	send_error_in(fd, PP_PROTO_VERSION, code, text);
}

static void peer_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static int scan_one(void *ctx, const struct pp_event *ev)
{
	pp_instance_scan(&((struct conn *)ctx)->inst, ev);
	return 0;
}

struct chunk {
	struct pp_control_server *s;
	struct conn *c;
	size_t skip;                  /* events to pass over first (sources without _from) */
	uint32_t n;
	bool full;
};

static int chunk_one(void *ctx, const struct pp_event *ev)
{
	struct chunk *k = ctx;
	struct pp_event *out;

	if (k->full)
		return PP_CONTROL_PAUSE;
	if (k->skip) {
		k->skip--;
		return 0;
	}
	k->c->pos++;
	/* the store may pass more than was asked; only this connection's events leave */
	if (!pp_instance_has(&k->c->inst, ev) || ev->point < PP_SEND || ev->point >= PP_POINT_MAX) {
		k->s->st.events_filtered++;
		return 0;
	}
	out = &k->s->batch[k->n++];
	*out = *ev;
	if (out->family == PP_AF_INET) {
		memset(out->saddr + 4, 0, 12);
		memset(out->daddr + 4, 0, 12);
	}
	memset(out->pad, 0, sizeof(out->pad));
	if (k->n == CHUNK_EVENTS) {
		k->full = true;
		return PP_CONTROL_PAUSE;
	}
	return 0;
}

/* The next frame(s) of the answer into c->out: up to CHUNK_EVENTS events, and END once the
 * store has passed everything. 0 or -errno (the store failed). */
static int next_chunk(struct pp_control_server *s, struct conn *c)
{
	struct chunk k = { .s = s, .c = c };
	ssize_t len = 0, end;
	int rc;

	if (s->src.for_each_event_from) {
		rc = s->src.for_each_event_from(s->src.ctx, &c->fetch.flow, c->pos, chunk_one, &k);
	} else {
		k.skip = c->pos;
		rc = s->src.for_each_event(s->src.ctx, &c->fetch.flow, chunk_one, &k);
	}
	if (rc < 0)
		return rc;
	if (!k.full)
		c->walked = true;
	if (k.n) {
		len = pp_proto_encode_events(c->out, CHUNK_FRAME, s->batch, k.n);
		if (len < 0)
			return (int)len;
		c->sent += k.n;
		s->st.events_sent += k.n;
	}
	if (c->walked) {
		struct pp_end_counts counts = { .events_sent = c->sent };

		if (s->src.get_counts)
			s->src.get_counts(s->src.ctx, &counts);
		counts.events_sent = c->sent;
		counts.dropped += s->st.events_dropped;
		end = pp_proto_encode_end_len(c->out + len, OUT_SIZE - (size_t)len, &counts,
					      end_len(c));
		if (end < 0)
			return (int)end;
		len += end;
		c->end_queued = true;
	}
	c->out_len = (size_t)len;
	c->out_off = 0;
	return 0;
}

/* ---- followers ---- */

static void notice(struct pp_control_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A line for the main to log (pp_control_server_notice); past NOTICES waiting, the newest go. */
static void notice(struct pp_control_server *s, const char *fmt, ...)
{
	va_list ap;

	if (s->notice_n == NOTICES)
		return;
	va_start(ap, fmt);
	vsnprintf(s->notices[(s->notice_first + s->notice_n) % NOTICES], NOTICE_LEN, fmt, ap);
	va_end(ap);
	s->notice_n++;
}

size_t pp_control_server_notice(struct pp_control_server *s, char *buf, size_t len)
{
	size_t n;

	if (!s->notice_n || !len)
		return 0;
	n = (size_t)snprintf(buf, len, "%s", s->notices[s->notice_first]);
	s->notice_first = (s->notice_first + 1) % NOTICES;
	s->notice_n--;
	return n < len ? n : len - 1;
}

/* "198.18.0.1:40000": the followed connection's client end ("198.18.0.1:*" for all ports). */
static const char *client_end(const struct conn *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	bool v6 = c->fetch.flow.family == PP_AF_INET6;

	inet_ntop(v6 ? AF_INET6 : AF_INET, c->fetch.flow.client_addr, a, sizeof(a));
	if (pp_flow_key_any_port(&c->fetch.flow))
		snprintf(buf, len, v6 ? "[%s]:*" : "%s:*", a);
	else
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", a, c->fetch.flow.client_port);
	return buf;
}

static void seal(struct fbuf *b)
{
	if (b->sealed)
		return;
	pp_proto_encode_events_head(b->data, PP_PROTO_HDR_LEN + 4, b->n);
	b->len = PP_PROTO_HDR_LEN + 4 + (size_t)b->n * PP_PROTO_EVENT_LEN;
	b->sealed = true;
}

static struct fbuf *fbuf_add(struct conn *c)
{
	struct fbuf *b = malloc(sizeof(*b));

	if (!b)
		return NULL;
	b->next = NULL;
	b->n = 0;
	b->sealed = b->is_end = false;
	b->len = b->off = 0;
	if (c->tail)
		c->tail->next = b;
	else
		c->head = b;
	c->tail = b;
	return b;
}

/* Appends ev to the frame being filled (a new one when there is none or it is sealed).
 * 1 = that frame is now full (sealed), 0, or -ENOMEM / -EINVAL (an event the protocol cannot
 * carry: not counted as sent). */
static int queue_event(struct pp_control_server *s, struct conn *c, const struct pp_event *ev)
{
	struct fbuf *b = c->tail;
	struct pp_event out = *ev;

	if (out.family == PP_AF_INET) {
		memset(out.saddr + 4, 0, 12);
		memset(out.daddr + 4, 0, 12);
	}
	if (!b || b->sealed) {
		if (!(b = fbuf_add(c)))
			return -ENOMEM;
	}
	if (pp_proto_encode_event(b->data + PP_PROTO_HDR_LEN + 4 + (size_t)b->n * PP_PROTO_EVENT_LEN,
				  PP_PROTO_EVENT_LEN, &out) < 0)
		return -EINVAL;
	b->n++;
	c->queued++;
	if (++s->queued > s->st.max_queued)
		s->st.max_queued = s->queued;
	c->sent++;
	s->st.events_sent++;
	if (b->n < CHUNK_EVENTS)
		return 0;
	seal(b);
	return 1;
}

/* Sends sealed frames while the socket takes them. 0, or -errno (the connection is not
 * closed here: the caller decides). */
static int follow_write(struct pp_control_server *s, struct conn *c)
{
	int64_t now = now_ms();
	bool pending = c->head && c->head->sealed;

	if (pending && !c->had_pending)
		c->deadline = now + s->timeout_ms; /* the write deadline starts with something to send */
	while (c->head && c->head->sealed) {
		struct fbuf *b = c->head;
		ssize_t w = send(c->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			c->had_pending = true;
			return -errno;
		}
		b->off += (size_t)w;
		c->deadline = now + s->timeout_ms; /* progress renews it */
		if (b->off < b->len)
			continue;
		c->last_frame = now;
		c->queued -= b->n;
		s->queued -= b->n;
		c->head = b->next;
		if (!c->head)
			c->tail = NULL;
		free(b);
	}
	c->had_pending = c->head && c->head->sealed;
	return 0;
}

/* A follower that went away or stalled: what it never got (frames not begun) goes back to the
 * store, and so do its connection's later events, since nobody takes them now. */
static void follower_gone(struct pp_control_server *s, struct conn *c, enum pp_control_refusal kind,
			  const char *how)
{
	char end[INET6_ADDRSTRLEN + 10];
	struct pp_event *ev = s->batch; /* CHUNK_EVENTS, free between the answers' chunks */

	notice(s, "control: follower %s %s after %llu events; its later events go to the store",
	       client_end(c, end, sizeof(end)), how, (unsigned long long)(c->sent - c->queued));
	for (struct fbuf *b = c->head; b && s->src.put_back; b = b->next) {
		uint32_t n = 0;

		if (b->off || b->is_end || !b->n)
			continue;
		/* the count at the head of the payload: written here if the frame was open */
		pp_proto_encode_events_head(b->data, PP_PROTO_HDR_LEN + 4, b->n);
		if (pp_proto_decode_events(b->data + PP_PROTO_HDR_LEN, 4 + (size_t)b->n * PP_PROTO_EVENT_LEN,
					   ev, CHUNK_EVENTS, &n) < 0)
			continue;
		for (uint32_t i = 0; i < n; i++)
			s->src.put_back(s->src.ctx, &ev[i]);
	}
	s->st.followers_lost++;
	s->st.refused[kind]++; /* in the summary's counts too, so they add up */
	pp_err_set(&s->last_err, kind == PP_REFUSED_TIMEOUT ? -ETIMEDOUT : kind == PP_REFUSED_INTERNAL ?
		   -ENOMEM : kind == PP_REFUSED_BAD_FRAME ? -EBADMSG : -ECONNRESET, "follower %s", how);
	s->st.failed++;
	conn_close(s, c);
}

int pp_control_server_offer(struct pp_control_server *s, const struct pp_event *ev, bool room)
{
	bool mine = false, lost = false;

	/* every event of the host passes here: stop once every follower was looked at. Each
	 * follower the event belongs to gets it, not only the first: an all-ports follower
	 * (PP_FETCH_ALL_PORTS) and one of a single connection of that host may both want it. */
	for (int i = 0, seen = 0; i < s->max_conns && seen < s->followers; i++) {
		struct conn *c = &s->conns[i];
		int rc;

		if (c->state != C_FOLLOW && c->state != C_DRAIN)
			continue;
		seen++;
		if (c->state != C_FOLLOW || c->broken || !pp_instance_has(&c->inst, ev))
			continue;
		mine = true;
		if (!room) {
			lost = true;
			continue;
		}
		if (ev->point < PP_SEND || ev->point >= PP_POINT_MAX)
			return 1; /* nothing the protocol can carry; never stored either */
		rc = queue_event(s, c, ev);
		if (rc == -ENOMEM)
			lost = true;
		if (rc == 1 && follow_write(s, c) < 0)
			c->broken = true; /* closed by the next pp_control_server_handle */
	}
	if (lost)
		s->st.events_dropped++; /* once per event, however many followers missed it */
	return mine;
}

size_t pp_control_server_queued(const struct pp_control_server *s)
{
	return s->queued;
}

int pp_control_server_followers(const struct pp_control_server *s)
{
	return s->followers;
}

static bool taken_by(void *ctx, const struct pp_event *ev)
{
	const struct conn *c = ctx;

	return pp_instance_has(&c->inst, ev) && ev->point >= PP_SEND && ev->point < PP_POINT_MAX;
}

static int follow_one(void *ctx, const struct pp_event *ev)
{
	struct conn *c = ctx;

	if (!taken_by(c, ev))
		return 0;
	return queue_event(c->srv, c, ev) < 0 ? -ENOMEM : 0;
}

/* FETCH with FOLLOW: the stored events of the instance (in the source's order, time order) go
 * into the queue and leave the store, the first frame is sealed even when empty (the client
 * learns at once that it is followed), and from now on offer() routes its events here. */
static int start_follow(struct pp_control_server *s, struct conn *c)
{
	int rc;

	c->srv = s;
	/* An all-ports follower (pingpong-ebpf --peer) measures from now on: what the store holds
	 * of its host is earlier clients' (up to --max-events of them), which it could not place
	 * and which would only delay its live events. It stays in the store for others. */
	if (!(c->fetch.flags & PP_FETCH_ALL_PORTS)) {
		rc = s->src.for_each_event(s->src.ctx, &c->fetch.flow, follow_one, c);
		if (rc < 0)
			return rc;
		if (s->src.take)
			s->src.take(s->src.ctx, &c->fetch.flow, taken_by, c);
	}
	if (!c->tail || c->tail->sealed) {
		if (!fbuf_add(c))
			return -ENOMEM;
	}
	seal(c->tail);
	c->state = C_FOLLOW;
	c->last_frame = now_ms();
	if (s->src.get_counts)
		s->src.get_counts(s->src.ctx, &c->at_start); /* the probe's cost from here on */
	s->followers++;
	s->st.follows++;
	if (follow_write(s, c) < 0)
		c->broken = true;
	return 0;
}

/* What a follower sends: only STOP (12 bytes, no payload). End of stream: it went away. */
static void follow_read(struct pp_control_server *s, struct conn *c)
{
	struct pp_frame_hdr hdr;

	while (c->state == C_FOLLOW && !c->stop_pending) {
		ssize_t r = recv(c->fd, c->rx + c->rx_got, sizeof(c->rx) - c->rx_got, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			follower_gone(s, c, PP_REFUSED_RESET, "went away");
			return;
		}
		c->rx_got += (uint32_t)r;
		if (c->rx_got < sizeof(c->rx))
			continue;
		if (pp_proto_decode_hdr(c->rx, sizeof(c->rx), &hdr) < 0 || hdr.type != PP_MSG_STOP) {
			send_error(c->fd, PP_ERR_BAD_REQUEST, "a follower may only send STOP");
			follower_gone(s, c, PP_REFUSED_BAD_FRAME, "sent a frame other than STOP");
			return;
		}
		c->stop_pending = true;
	}
}

/* After STOP (and the source's prepare): everything queued, then END; the connection drains. */
static int finish_follow(struct pp_control_server *s, struct conn *c)
{
	struct pp_end_counts counts = { 0 };
	struct fbuf *b;

	if (c->tail && c->tail->n)
		seal(c->tail);
	if (!(b = fbuf_add(c)))
		return -ENOMEM;
	if (s->src.get_counts)
		s->src.get_counts(s->src.ctx, &counts);
	counts.events_sent = c->sent;
	counts.dropped += s->st.events_dropped;
	/* the probe's cost of this conversation: since its FETCH */
	counts.bpf_known = counts.bpf_known && c->at_start.bpf_known;
	counts.bpf_run_ns -= counts.bpf_known ? c->at_start.bpf_run_ns : counts.bpf_run_ns;
	counts.bpf_runs -= counts.bpf_known ? c->at_start.bpf_runs : counts.bpf_runs;
	b->len = (size_t)pp_proto_encode_end_len(b->data, sizeof(b->data), &counts, end_len(c));
	b->sealed = b->is_end = true;
	c->state = C_DRAIN;
	c->stop_pending = false;
	return 0;
}

/* The end of a round for every follower: the frame being filled goes out (a follower must not
 * wait for 1024 events), a heartbeat when nothing went out for PP_CONTROL_HEARTBEAT_MS, STOPs
 * are answered, and a drained END closes the conversation. */
static void followers_round(struct pp_control_server *s)
{
	int64_t now = now_ms();
	bool stops = false;

	for (int i = 0; i < s->max_conns; i++)
		stops |= s->conns[i].state == C_FOLLOW && s->conns[i].stop_pending;
	if (stops && s->src.prepare) {
		/* the last exchanges: the capture's batch and the tracer's partial batches */
		s->src.prepare(s->src.ctx);
		s->prepared = true;
	}
	for (int i = 0; i < s->max_conns; i++) {
		struct conn *c = &s->conns[i];

		if (c->state != C_FOLLOW && c->state != C_DRAIN)
			continue;
		if (c->broken) {
			follower_gone(s, c, PP_REFUSED_RESET, "went away");
			continue;
		}
		if (c->state == C_FOLLOW && c->stop_pending && finish_follow(s, c) < 0) {
			follower_gone(s, c, PP_REFUSED_INTERNAL, "could not be answered (out of memory)");
			continue;
		}
		if (c->tail && !c->tail->sealed && c->tail->n)
			seal(c->tail);
		/* nothing to send but maybe an empty open frame (an event the codec refused) */
		if (c->state == C_FOLLOW && (!c->head || !c->head->sealed) &&
		    now - c->last_frame >= PP_CONTROL_HEARTBEAT_MS) {
			struct fbuf *hb = c->tail && !c->tail->sealed ? c->tail : fbuf_add(c);

			if (hb)
				seal(hb);
		}
		if (follow_write(s, c) < 0) {
			follower_gone(s, c, PP_REFUSED_RESET, "went away");
			continue;
		}
		if (c->state == C_DRAIN && !c->head) {
			s->st.served++;
			conn_close(s, c);
		}
	}
}

/* A complete FETCH: find the connection instance (first pass), then the answer starts. */
static void start_answer(struct pp_control_server *s, struct conn *c)
{
	/* A follower starts at once, without prepare: what the tracer and the capture still
	 * hold comes to it through offer() anyway, and prepare (reading the capture to its end)
	 * would stall the agent's loop while the client's traffic may already run. An all-ports
	 * follower takes nothing stored (start_follow), so it needs no scan either. */
	bool follow = c->fetch.flags & PP_FETCH_FOLLOW;
	bool live_only = follow && (c->fetch.flags & PP_FETCH_ALL_PORTS);
	int rc = 0;

	if (!follow && !s->prepared && s->src.prepare) {
		s->src.prepare(s->src.ctx);
		s->prepared = true;
	}
	pp_instance_init(&c->inst, &c->fetch.flow, c->fetch.flags & PP_FETCH_HAVE_ISN, c->fetch.isn);
	c->inst_live = true;
	if (!live_only)
		rc = s->src.for_each_event(s->src.ctx, &c->fetch.flow, scan_one, c);
	if (rc >= 0 && (c->fetch.flags & PP_FETCH_FOLLOW)) {
		pp_instance_decide(&c->inst);
		rc = start_follow(s, c);
		if (rc >= 0)
			return;
	} else if (rc >= 0) {
		pp_instance_decide(&c->inst);
		rc = (c->out = malloc(OUT_SIZE)) ? 0 : -ENOMEM;
	}
	if (rc >= 0) {
		c->state = C_SEND;
		c->deadline = now_ms() + s->timeout_ms;
		rc = next_chunk(s, c);
	}
	if (rc < 0) {
		char why[128];

		send_error(c->fd, PP_ERR_INTERNAL, "the agent failed to read its event store");
		snprintf(why, sizeof(why), "the event store failed: %s", strerror(-rc));
		conn_fail(s, c, PP_REFUSED_INTERNAL, rc, why);
	}
}

/* Reads what has arrived of the FETCH frame. Leaves c in C_READ (more to come), C_SEND, or
 * closed (refused). */
static void read_step(struct pp_control_server *s, struct conn *c)
{
	struct pp_frame_hdr hdr;
	ssize_t r;
	int err;

	while (c->state == C_READ) {
		r = recv(c->fd, c->req + c->got, c->need - c->got, MSG_DONTWAIT);
		if (r == 0) {
			conn_fail(s, c, PP_REFUSED_RESET, -ECONNRESET, "request: the peer hung up");
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			err = -errno;
			conn_fail(s, c, PP_REFUSED_RESET, err, "request: the peer reset the connection");
			return;
		}
		c->got += (uint32_t)r;
		if (c->got < c->need)
			continue;
		if (c->need == PP_PROTO_HDR_LEN) {
			err = pp_proto_decode_hdr(c->req, PP_PROTO_HDR_LEN, &hdr);
			if (err == -EPROTONOSUPPORT) {
				send_error_in(c->fd, hdr.version, PP_ERR_VERSION,
					      "this agent speaks pingpong control protocol version 2");
				conn_fail(s, c, PP_REFUSED_BAD_FRAME, err, "request: another protocol version");
				return;
			}
			if (err == 0 && (hdr.type != PP_MSG_FETCH || hdr.length > PP_PROTO_FETCH_LEN))
				err = -EBADMSG;
			if (err < 0) {
				char why[96];

				snprintf(why, sizeof(why), "request: not a FETCH frame (%s)", strerror(-err));
				send_error(c->fd, PP_ERR_BAD_REQUEST, "expected a FETCH frame");
				conn_fail(s, c, PP_REFUSED_BAD_FRAME, err, why);
				return;
			}
			c->need = PP_PROTO_HDR_LEN + hdr.length;
			if (c->got < c->need)
				continue;
		}
		if (pp_proto_decode_fetch(c->req + PP_PROTO_HDR_LEN, c->need - PP_PROTO_HDR_LEN, &c->fetch) < 0) {
			send_error(c->fd, PP_ERR_BAD_REQUEST, "malformed FETCH payload");
			conn_fail(s, c, PP_REFUSED_BAD_FRAME, -EBADMSG, "request: malformed FETCH");
			return;
		}
		start_answer(s, c);
	}
}

/* Sends what the socket takes, at most CHUNKS_PER_ROUND chunks. 1 when END went out (c is
 * closed), else 0. */
static int write_step(struct pp_control_server *s, struct conn *c)
{
	int chunks = 0, rc;
	ssize_t w;

	while (c->state == C_SEND) {
		if (c->out_off == c->out_len) {
			if (c->end_queued) {
				s->st.served++;
				conn_close(s, c);
				return 1;
			}
			if (++chunks > CHUNKS_PER_ROUND)
				return 0;
			if ((rc = next_chunk(s, c)) < 0) {
				send_error(c->fd, PP_ERR_INTERNAL, "the agent failed to read its event store");
				conn_fail(s, c, PP_REFUSED_INTERNAL, rc, "sending events: the event store failed");
				return 0;
			}
			continue;
		}
		w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			conn_fail(s, c, PP_REFUSED_RESET, -errno, "sending events: the client hung up");
			return 0;
		}
		c->out_off += (size_t)w;
		c->deadline = now_ms() + s->timeout_ms; /* a write deadline: progress renews it */
	}
	return 0;
}

static int peer_count(const struct pp_control_server *s, const uint8_t key[16])
{
	int n = 0;

	for (int i = 0; i < s->max_conns; i++)
		n += s->conns[i].state != C_FREE && !memcmp(s->conns[i].peer, key, 16);
	return n;
}

/* The oldest connection (of peer key, or of anyone when key is NULL) without a complete FETCH,
 * after a last look at what it sent; NULL when none is idle. One that came in this round is
 * not idle yet: a client's FETCH follows its connect by a moment, and a flood of newcomers
 * must not shed it before the next poll has had a chance to see that FETCH. */
static struct conn *oldest_idle(struct pp_control_server *s, const uint8_t *key)
{
	for (;;) {
		struct conn *best = NULL;

		for (int i = 0; i < s->max_conns; i++) {
			struct conn *c = &s->conns[i];

			if (c->state == C_READ && c->round != s->round &&
			    (!key || !memcmp(c->peer, key, 16)) && (!best || c->order < best->order))
				best = c;
		}
		if (!best)
			return NULL;
		read_step(s, best);
		if (best->state == C_READ)
			return best;
		/* it had sent its FETCH (now answered) or was gone: look again */
	}
}

static struct conn *free_slot(struct pp_control_server *s)
{
	for (int i = 0; i < s->max_conns; i++)
		if (s->conns[i].state == C_FREE)
			return &s->conns[i];
	return NULL;
}

/* Takes fd in as a connection of peer key, within the caps: 1 = taken (*taken set), or refused
 * (counted, fd closed, *taken NULL). */
static int admit(struct pp_control_server *s, int fd, const uint8_t key[16], struct conn **taken)
{
	struct conn *c, *victim = NULL;

	*taken = NULL;
	s->st.requests++;
	if (peer_count(s, key) >= s->max_per_peer &&
	    !(victim = oldest_idle(s, key)) && peer_count(s, key) >= s->max_per_peer)
		goto over_cap;
	if (!victim && !free_slot(s) && !(victim = oldest_idle(s, NULL)) && !free_slot(s))
		goto over_cap;
	if (victim) /* no ERROR: a client that did ask hears a reset and asks again */
		conn_fail(s, victim, PP_REFUSED_SHED, -ETIMEDOUT, "request: shed to make room");
	c = free_slot(s);
	*c = (struct conn){
		.fd = fd, .state = C_READ, .order = s->next_order++, .round = s->round,
		.deadline = now_ms() + s->first_frame_ms, .need = PP_PROTO_HDR_LEN,
	};
	memcpy(c->peer, key, 16);
	s->st.open_conns++;
	if (s->st.open_conns > s->st.max_open_conns)
		s->st.max_open_conns = s->st.open_conns;
	*taken = c;
	return 1;
over_cap:
	close(fd);
	s->st.refused[PP_REFUSED_OVER_CAP]++;
	s->st.failed++;
	return 1;
}

/* Accepts one waiting client. 1 = accepted (or refused: counted), 0 = nobody waiting. */
static int accept_one(struct pp_control_server *s, struct conn **accepted)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	uint8_t key[16];
	int fd;

	*accepted = NULL;
	fd = accept4(s->fd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == ECONNABORTED || errno == EINTR)
			return 1;
		return 0; /* EAGAIN, or out of fds (EMFILE): the backlog keeps them */
	}
	peer_key(&ss, key);
	return admit(s, fd, key, accepted);
}

int pp_control_server_adopt(struct pp_control_server *s, int fd, const uint8_t peer[16])
{
	struct conn *c;

	admit(s, fd, peer, &c);
	return c ? 0 : -EBUSY;
}

static void expire(struct pp_control_server *s, struct conn *c, int64_t now)
{
	if (c->state == C_FREE || now < c->deadline)
		return;
	if (c->state == C_FOLLOW || c->state == C_DRAIN) {
		char how[64];

		if (!c->had_pending)
			return; /* nothing to send: a follower may wait as long as its run lasts */
		snprintf(how, sizeof(how), "took nothing for %d ms", s->timeout_ms);
		follower_gone(s, c, PP_REFUSED_TIMEOUT, how);
		return;
	}
	if (c->state == C_READ) {
		send_error(c->fd, PP_ERR_TIMEOUT, "no request within the timeout");
		conn_fail(s, c, PP_REFUSED_TIMEOUT, -ETIMEDOUT, "request: Connection timed out");
	} else {
		conn_fail(s, c, PP_REFUSED_TIMEOUT, -ETIMEDOUT, "sending events: the client reads too slowly");
	}
}

int pp_control_server_pollfds(const struct pp_control_server *s, struct pollfd *fds, int max)
{
	int n = 0;

	if (max > 0)
		fds[n++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (int i = 0; i < s->max_conns && n < max; i++) {
		const struct conn *c = &s->conns[i];

		short ev = c->state == C_READ ? POLLIN : POLLOUT;

		if (c->state == C_FOLLOW || c->state == C_DRAIN) /* STOP, or the end of the stream */
			ev = (short)((c->state == C_FOLLOW ? POLLIN : 0) |
				     (c->head && c->head->sealed ? POLLOUT : 0));
		if (c->state != C_FREE)
			fds[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	return n;
}

bool pp_control_server_owns(const struct pp_control_server *s, int fd)
{
	if (fd < 0)
		return false;
	if (fd == s->fd)
		return true;
	for (int i = 0; i < s->max_conns; i++)
		if (s->conns[i].state != C_FREE && s->conns[i].fd == fd)
			return true;
	return false;
}

static struct conn *conn_of(struct pp_control_server *s, int fd)
{
	for (int i = 0; i < s->max_conns; i++)
		if (s->conns[i].state != C_FREE && s->conns[i].fd == fd)
			return &s->conns[i];
	return NULL;
}

int pp_control_server_handle(struct pp_control_server *s, const struct pollfd *fds, int n,
			     struct pp_err *e)
{
	uint64_t served = s->st.served, internal = s->st.refused[PP_REFUSED_INTERNAL];
	bool listener_ready = false;
	int64_t now;

	s->prepared = false;
	s->round++;
	/* the connections first: a request that has arrived is not shed for a newcomer */
	for (int i = 0; i < n; i++) {
		struct conn *c;

		if (!fds[i].revents)
			continue;
		if (fds[i].fd == s->fd) {
			listener_ready = true;
			continue;
		}
		if (!(c = conn_of(s, fds[i].fd)))
			continue; /* closed earlier this round (shed) */
		if (c->state == C_READ)
			read_step(s, c);
		if (c->state == C_SEND)
			write_step(s, c);
		if (c->state == C_FOLLOW && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
			follow_read(s, c);
		if ((c->state == C_FOLLOW || c->state == C_DRAIN) && (fds[i].revents & POLLOUT) &&
		    follow_write(s, c) < 0)
			follower_gone(s, c, PP_REFUSED_RESET, "went away");
	}
	for (int i = 0; listener_ready && i < ACCEPTS_PER_ROUND; i++) {
		struct conn *c;

		if (!accept_one(s, &c))
			break;
		if (c)
			read_step(s, c); /* a client's FETCH usually came with the connection */
		if (c && c->state == C_SEND)
			write_step(s, c);
	}
	followers_round(s);
	now = now_ms();
	for (int i = 0; i < s->max_conns; i++)
		expire(s, &s->conns[i], now);
	if (s->st.refused[PP_REFUSED_INTERNAL] != internal)
		return pp_err_set(e, s->last_err.code, "%s", s->last_err.msg);
	return (int)(s->st.served - served);
}

size_t pp_control_server_summary(struct pp_control_server *s, bool force, char *buf, size_t len)
{
	static const char *const names[PP_REFUSED_KINDS] = {
		[PP_REFUSED_BAD_FRAME] = "bad frame", [PP_REFUSED_RESET] = "reset",
		[PP_REFUSED_TIMEOUT] = "timed out", [PP_REFUSED_SHED] = "shed",
		[PP_REFUSED_OVER_CAP] = "over the cap", [PP_REFUSED_INTERNAL] = "store failure",
	};
	int64_t now = now_ms();
	uint64_t total = 0, all = 0;
	size_t at;
	int w;

	for (int k = 0; k < PP_REFUSED_KINDS; k++) {
		total += s->st.refused[k] - s->logged[k];
		all += s->st.refused[k];
	}
	if (!total || !len || (!force && now - s->last_summary < PP_CONTROL_SUMMARY_MS))
		return 0;
	w = snprintf(buf, len, "control port: refused %llu connection%s in %.0f s (",
		     (unsigned long long)total, total == 1 ? "" : "s", (double)(now - s->last_summary) / 1000);
	at = w < 0 ? 0 : (size_t)w < len ? (size_t)w : len - 1;
	for (int k = 0, first = 1; k < PP_REFUSED_KINDS; k++) {
		uint64_t d = s->st.refused[k] - s->logged[k];

		if (!d)
			continue;
		w = snprintf(buf + at, len - at, "%s%llu %s", first ? "" : ", ", (unsigned long long)d, names[k]);
		at = w < 0 ? at : at + (size_t)w < len ? at + (size_t)w : len - 1;
		first = 0;
		s->logged[k] = s->st.refused[k];
	}
	w = snprintf(buf + at, len - at, "); %llu served, %llu refused in all",
		     (unsigned long long)s->st.served, (unsigned long long)all);
	at = w < 0 ? at : at + (size_t)w < len ? at + (size_t)w : len - 1;
	s->last_summary = now;
	return at;
}

/* One client at a time: accepts it and drives it to the end, waiting on its socket. */
int pp_control_server_serve_one(struct pp_control_server *s, struct pp_err *e)
{
	uint64_t order, over = s->st.refused[PP_REFUSED_OVER_CAP];
	struct conn *c;
	int slot;

	s->prepared = false;
	s->last_err = (struct pp_err){ 0 };
	if (!accept_one(s, &c))
		return 0;
	if (!c && s->st.refused[PP_REFUSED_OVER_CAP] != over)
		return pp_err_set(e, -EBUSY, "request: over the connection cap");
	if (!c)
		return 0; /* aborted before we took it */
	order = c->order;
	slot = (int)(c - s->conns);
	for (;;) {
		struct pollfd p = { .fd = c->fd };
		int64_t wait;

		if (c->state == C_READ) {
			read_step(s, c);
		} else if (c->state == C_FOLLOW || c->state == C_DRAIN) {
			uint64_t served = s->st.served;

			if (c->state == C_FOLLOW)
				follow_read(s, c);
			followers_round(s);
			if (s->st.served != served)
				return 1;
		} else if (write_step(s, c) == 1) {
			return 1;
		}
		if (s->conns[slot].state == C_FREE || s->conns[slot].order != order)
			return pp_err_set(e, s->last_err.code ? s->last_err.code : -EIO, "%s", s->last_err.msg);
		p.events = c->state == C_READ || c->state == C_FOLLOW ? POLLIN : POLLOUT;
		if (c->state == C_FOLLOW && c->head && c->head->sealed)
			p.events |= POLLOUT;
		wait = c->deadline - now_ms();
		/* a follower's deadline runs only while it has something to take: rounds go on for
		 * its heartbeats */
		if (c->state == C_FOLLOW || c->state == C_DRAIN)
			wait = 50;
		if (wait > 0)
			poll(&p, 1, (int)(wait > 1000 ? 1000 : wait)); /* EINTR: the deadline still holds */
		expire(s, c, now_ms());
		if (s->conns[slot].state == C_FREE)
			return pp_err_set(e, s->last_err.code, "%s", s->last_err.msg);
	}
}

/* Also frees a server that pp_control_server_open could not finish. */
void pp_control_server_close(struct pp_control_server *s)
{
	if (!s)
		return;
	for (int i = 0; s->conns && i < s->max_conns; i++)
		conn_close(s, &s->conns[i]);
	close(s->fd);
	free(s->conns);
	free(s->batch);
	free(s);
}
