// SPDX-License-Identifier: MIT
/* The agent's end of the control channel over TCP (docs/protocol.md): serves the events of one
 * connection instance (model/conn.h) to the client that asks for it by 4-tuple. The client's
 * end is collect/fetch.h.
 *
 * With PP_FETCH_ALL_PORTS a request names every connection of one client address to the server's
 * port instead (client_port 0: any port, every instance), one-shot or followed alike.
 *
 * Many connections at once, none of them able to hold up the others: every socket is
 * non-blocking, each connection has its own deadline (a short one for its FETCH frame, then one
 * per write of the answer), the answer is streamed in chunks between polls, and there are caps on
 * connections in all and per peer address (idle ones, without a complete FETCH, are shed first).
 * Refusals are only counted, by kind: pp_control_server_summary gives a line now and then.
 *
 *	pp_control_server_open(&srv, &opts);
 *	loop: n = pp_control_server_pollfds(srv, fds, max);  poll them with the agent's other fds;
 *	      pp_control_server_handle(srv, fds, n, &err);   // never blocks; also runs the deadlines
 *	      if (pp_control_server_summary(srv, false, line, sizeof(line))) log line;
 * or, one client at a time (tests): pp_control_server_serve_one(srv, &err) (a follower is served
 * until its END, with nothing to offer it but what it finds stored).
 *
 * Followers (FETCH with PP_FETCH_FOLLOW, docs/protocol.md): at the FETCH the connection's stored
 * events leave the store (source.take) for the follower's queue; from then on the agent offers
 * every new event (pp_control_server_offer) before it stores it, and a follower's event goes to
 * its queue, encoded into the EVENTS frame being filled, sent without blocking when the frame
 * fills or at the end of the round. */
#ifndef PP_CONTROL_H
#define PP_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "model/proto.h"

/* Where the agent's events come from (its event store). for_each_event calls emit for the
 * stored events in the order they were stored: at least every event of flow (either direction;
 * it may pass others, the server filters), stopping with emit's error if emit fails. It is
 * called twice per request (the first pass finds the connection's SYN). */
struct pp_control_source {
	int (*for_each_event)(void *ctx, const struct pp_flow_key *flow, pp_emit_fn emit, void *emit_ctx);
	/* The agent's loss counters for END (lost_samples, pcap_drops, dropped: the server adds
	 * what its follower queues dropped) and its probe cost so far (bpf_*: since the agent
	 * started; a follower's END gets the difference since its FETCH); NULL reports zeros. */
	void (*get_counts)(void *ctx, struct pp_end_counts *counts);
	void *ctx;
	/* Optional: as for_each_event, but from the start-th event passed (0-based), so that an
	 * answer can be streamed in chunks without walking the skipped events again. emit may
	 * return PP_CONTROL_PAUSE (>0) to stop the walk, which is then returned. */
	int (*for_each_event_from)(void *ctx, const struct pp_flow_key *flow, size_t start,
				   pp_emit_fn emit, void *emit_ctx);
	/* Optional: called once before the answers of a round start (the agent lets its wire
	 * capture catch up). */
	void (*prepare)(void *ctx);
	/* Optional (follow mode): removes from the store every event of flow for which
	 * taken(tctx, ev) is true, the events a follower was just given. Without it they stay. */
	void (*take)(void *ctx, const struct pp_flow_key *flow,
		     bool (*taken)(void *tctx, const struct pp_event *ev), void *tctx);
	/* Optional (follow mode): an event a vanished follower never got goes back to the store. */
	void (*put_back)(void *ctx, const struct pp_event *ev);
};

#define PP_CONTROL_PAUSE 1

struct pp_control_server_opts {
	const char *bind_addr;  /* numeric address; NULL = all (IPv6 dual-stack, else IPv4) */
	uint16_t port;          /* 0 = any free port (see pp_control_server_port) */
	int timeout_ms;         /* each write (and the request, at most); 0 = PP_CONTROL_DEFAULT_TIMEOUT_MS */
	int first_frame_ms;     /* the whole FETCH frame after accept; 0 = PP_CONTROL_FIRST_FRAME_MS
				 * (never more than timeout_ms) */
	int max_conns;          /* connections at once; 0 = PP_CONTROL_MAX_CONNS */
	int max_per_peer;       /* of one peer address; 0 = PP_CONTROL_MAX_PER_PEER */
	struct pp_control_source source;
};

#define PP_CONTROL_FIRST_FRAME_MS 1000
#define PP_CONTROL_MAX_CONNS      64
#define PP_CONTROL_MAX_PER_PEER   8
#define PP_CONTROL_SUMMARY_MS     10000 /* at most one refusal summary line this often */
#define PP_CONTROL_HEARTBEAT_MS   1000  /* an empty EVENTS frame to a follower silent this long */
/* pollfds a server can ask for: its listener and every connection */
#define PP_CONTROL_MAX_POLLFDS    (1 + PP_CONTROL_MAX_CONNS)

/* The kinds of refusal, counted instead of logged (a flood must not flood the log). */
enum pp_control_refusal {
	PP_REFUSED_BAD_FRAME,   /* not a FETCH frame, another version, a malformed FETCH */
	PP_REFUSED_RESET,       /* the peer closed or reset before the end */
	PP_REFUSED_TIMEOUT,     /* no complete FETCH in time, or a reader too slow for a write */
	PP_REFUSED_SHED,        /* closed, idle, to make room for a newer connection */
	PP_REFUSED_OVER_CAP,    /* closed at accept: no room and nobody idle to shed */
	PP_REFUSED_INTERNAL,    /* the event store failed */
	PP_REFUSED_KINDS
};

struct pp_control_server_stats {
	uint64_t requests;      /* connections accepted */
	uint64_t served;        /* answered with END */
	uint64_t failed;        /* refused, timed out or broken off */
	uint64_t events_sent;
	uint64_t events_filtered; /* passed by the store but not of the asked connection */
	uint64_t follows;       /* follow conversations started */
	uint64_t followers_lost; /* followers that went away or stalled before their END */
	uint64_t events_dropped; /* a follower's events offered when there was no room */
	uint64_t max_queued;    /* the most events ever waiting in follower queues at once */
	uint64_t refused[PP_REFUSED_KINDS];
	uint32_t open_conns, max_open_conns;
};

struct pp_control_server;

/* 0, or -errno (-EADDRINUSE, -EACCES, -EINVAL for a bad address). */
int pp_control_server_open(struct pp_control_server **out, const struct pp_control_server_opts *opts);
int pp_control_server_fd(const struct pp_control_server *s);
uint16_t pp_control_server_port(const struct pp_control_server *s);
/* Fills at most max pollfds (PP_CONTROL_MAX_POLLFDS is enough): the listener, then every
 * connection with what it waits for. Returns how many. */
int pp_control_server_pollfds(const struct pp_control_server *s, struct pollfd *fds, int max);
/* Whether one of these pollfds (as filled by pp_control_server_pollfds) is the server's. */
bool pp_control_server_owns(const struct pp_control_server *s, int fd);
/* Does what the ready pollfds allow without blocking: accepts waiting clients, reads requests,
 * sends the next chunk of each answer; and closes the connections whose deadline passed (call
 * it every round, ready or not). Returns how many requests got their END, or <0 (only when the
 * event store failed, with the reason in err); refusals are counted, never returned. */
int pp_control_server_handle(struct pp_control_server *s, const struct pollfd *fds, int n,
			     struct pp_err *err);
/* Serves fd (connected, non-blocking; e.g. a socketpair end) as if it had been accepted from
 * the peer address peer (16 bytes, IPv4 as IPv4-mapped IPv6), within the caps: for tests and
 * the fuzz target. 0, or -EBUSY (over the caps: fd is closed). */
int pp_control_server_adopt(struct pp_control_server *s, int fd, const uint8_t peer[16]);
/* A line counting the refusals since the last one ("control port: refused 12 connections in
 * 10 s: 3 bad frame, ..."), when there are any and PP_CONTROL_SUMMARY_MS passed since the last
 * line (or force, e.g. at exit). Its length, or 0 when no line is due. */
size_t pp_control_server_summary(struct pp_control_server *s, bool force, char *buf, size_t len);
/* Accepts one waiting client and serves it to the end. 1 = served, 0 = nobody was waiting,
 * <0 = that request failed (-ETIMEDOUT, -EBADMSG, -EPIPE, ...) and err (may be NULL) says
 * what happened in one line; the server stays usable. */
int pp_control_server_serve_one(struct pp_control_server *s, struct pp_err *err);
/* Offers a new event (before the agent stores it): 1 = it belongs to a follower, which queued it
 * (room) or counted it dropped (!room: the agent's bound is reached; counted once per event);
 * 0 = nobody follows it. Every follower it belongs to gets it (an all-ports follower,
 * PP_FETCH_ALL_PORTS, and one of a single connection of that host may overlap); the cost is one
 * look at each follower. May send: call it from the agent's loop, never from inside a
 * pp_control_server_* call. */
int pp_control_server_offer(struct pp_control_server *s, const struct pp_event *ev, bool room);
/* Events waiting in follower queues (they count against the agent's bound with the store). */
size_t pp_control_server_queued(const struct pp_control_server *s);
/* Follow conversations in progress (the agent flushes the tracer often while there are any). */
int pp_control_server_followers(const struct pp_control_server *s);
/* The next line about a follower ("control: follower ... went away ..."), oldest first: its
 * length, or 0 when there is none. The main logs them. */
size_t pp_control_server_notice(struct pp_control_server *s, char *buf, size_t len);
const struct pp_control_server_stats *pp_control_server_stats(const struct pp_control_server *s);
void pp_control_server_close(struct pp_control_server *s);

#endif
