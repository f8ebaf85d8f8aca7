// SPDX-License-Identifier: MIT
/* The agent's in-memory event store: events in arrival order, bounded (overflow is counted,
 * never silent), readable by connection so a control channel can serve one client's events. */
#ifndef PP_EVENTSTORE_H
#define PP_EVENTSTORE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pingpong.h"

/* One TCP connection, either direction: {a, b} matches events a->b and b->a. a_port 0 is the
 * all-ports wildcard (a is the client, PP_FETCH_ALL_PORTS): every connection between a_addr,
 * any port, and b_addr:b_port. b_port 0 is no wildcard, nor is an event's port 0. */
struct pp_conn {
	__u8 family;     /* PP_AF_INET or PP_AF_INET6 */
	__u8 a_addr[16]; /* IPv4 in the first 4 bytes, rest zero (as in struct pp_event) */
	__u8 b_addr[16];
	__u16 a_port;    /* host byte order; 0 = any */
	__u16 b_port;
};

struct pp_eventstore;

/* max_events >= 1; memory grows in chunks as events arrive, up to 80 bytes per event. */
int pp_eventstore_new(struct pp_eventstore **out, size_t max_events);
void pp_eventstore_free(struct pp_eventstore *s);

/* 0; -ENOSPC when full (counted in pp_eventstore_overflow); -ENOMEM (counted too). */
int pp_eventstore_append(struct pp_eventstore *s, const struct pp_event *ev);
size_t pp_eventstore_count(const struct pp_eventstore *s);
uint64_t pp_eventstore_overflow(const struct pp_eventstore *s);
/* Event i (0 <= i < count), in arrival order; NULL when out of range. */
const struct pp_event *pp_eventstore_get(const struct pp_eventstore *s, size_t i);

/* Whether extra more events (held elsewhere, e.g. follower queues that share the bound) and one
 * more still fit under the bound. */
bool pp_eventstore_room(const struct pp_eventstore *s, size_t extra);
size_t pp_eventstore_max(const struct pp_eventstore *s);
/* Takes events out: every stored event of conn for which take(ctx, ev) says true leaves the
 * store (the others keep their arrival order), and chunks no longer needed are freed. Returns
 * how many left. Indexes from pp_eventstore_get/order_by_time are stale afterwards. */
size_t pp_eventstore_remove(struct pp_eventstore *s, const struct pp_conn *conn,
			    bool (*take)(void *ctx, const struct pp_event *ev), void *ctx);

bool pp_conn_matches(const struct pp_conn *conn, const struct pp_event *ev);
/* Calls fn for every stored event of conn (NULL: all events), in arrival order, until fn
 * returns nonzero; returns that value, or 0. Not thread-safe against append. */
int pp_eventstore_foreach(const struct pp_eventstore *s, const struct pp_conn *conn,
			  int (*fn)(void *ctx, const struct pp_event *ev), void *ctx);
/* The indexes (for pp_eventstore_get) of conn's events (NULL: all) in time order: ts_ns, then
 * point, then arrival. Events arrive per CPU and per batch, a CPU's last partial batch only
 * when it is flushed, so arrival order can be far from time order. *index is malloc'ed (free
 * it); 0 or -ENOMEM. */
int pp_eventstore_order_by_time(const struct pp_eventstore *s, const struct pp_conn *conn,
				size_t **index, size_t *n);

#endif
