// SPDX-License-Identifier: MIT
/* The agent's bounded in-memory event store: fixed-size chunks, so growing never moves
 * stored events and memory follows the event count, not the bound. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/eventstore.h"

#define CHUNK_EVENTS 4096 /* 320 KiB */

struct pp_eventstore {
	struct pp_event **chunks;
	size_t n_chunks;
	size_t count;
	size_t max_events;
	uint64_t overflow;
};

int pp_eventstore_new(struct pp_eventstore **out, size_t max_events)
{
	struct pp_eventstore *s;

	*out = NULL;
	if (max_events < 1)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->max_events = max_events;
	s->chunks = calloc((max_events + CHUNK_EVENTS - 1) / CHUNK_EVENTS, sizeof(*s->chunks));
	if (!s->chunks) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void pp_eventstore_free(struct pp_eventstore *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_chunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s);
}

int pp_eventstore_append(struct pp_eventstore *s, const struct pp_event *ev)
{
	size_t chunk = s->count / CHUNK_EVENTS;

	if (s->count >= s->max_events) {
		s->overflow++;
		return -ENOSPC;
	}
	if (chunk == s->n_chunks) {
		s->chunks[chunk] = malloc(CHUNK_EVENTS * sizeof(struct pp_event));
		if (!s->chunks[chunk]) {
			s->overflow++;
			return -ENOMEM;
		}
		s->n_chunks++;
	}
	s->chunks[chunk][s->count % CHUNK_EVENTS] = *ev;
	s->count++;
	return 0;
}

size_t pp_eventstore_count(const struct pp_eventstore *s)
{
	return s->count;
}

uint64_t pp_eventstore_overflow(const struct pp_eventstore *s)
{
	return s->overflow;
}

const struct pp_event *pp_eventstore_get(const struct pp_eventstore *s, size_t i)
{
	if (i >= s->count)
		return NULL;
	return &s->chunks[i / CHUNK_EVENTS][i % CHUNK_EVENTS];
}

bool pp_eventstore_room(const struct pp_eventstore *s, size_t extra)
{
	return s->count < s->max_events && extra < s->max_events - s->count;
}

size_t pp_eventstore_max(const struct pp_eventstore *s)
{
	return s->max_events;
}

size_t pp_eventstore_remove(struct pp_eventstore *s, const struct pp_conn *conn,
			    bool (*take)(void *ctx, const struct pp_event *ev), void *ctx)
{
	size_t i, kept = 0;

	/* one pass, compacting in place: a kept event only ever moves down */
	for (i = 0; i < s->count; i++) {
		struct pp_event *ev = &s->chunks[i / CHUNK_EVENTS][i % CHUNK_EVENTS];

		if (pp_conn_matches(conn, ev) && take(ctx, ev))
			continue;
		if (kept != i)
			s->chunks[kept / CHUNK_EVENTS][kept % CHUNK_EVENTS] = *ev;
		kept++;
	}
	i = s->count - kept;
	s->count = kept;
	/* memory follows the count down too: a long run frees what its followers took */
	while (s->n_chunks > (kept + CHUNK_EVENTS - 1) / CHUNK_EVENTS) {
		s->n_chunks--;
		free(s->chunks[s->n_chunks]);
		s->chunks[s->n_chunks] = NULL;
	}
	return i;
}

/* any_port: the wanted end is the wildcard, only its address must agree */
static bool end_is(const __u8 *addr, __u16 port, const __u8 *want_addr, __u16 want_port, bool any_port)
{
	return (port == want_port || any_port) && memcmp(addr, want_addr, 16) == 0;
}

bool pp_conn_matches(const struct pp_conn *c, const struct pp_event *ev)
{
	bool any = c->a_port == 0;

	if (ev->family != c->family)
		return false;
	return (end_is(ev->saddr, ev->sport, c->a_addr, c->a_port, any) &&
		end_is(ev->daddr, ev->dport, c->b_addr, c->b_port, false)) ||
	       (end_is(ev->saddr, ev->sport, c->b_addr, c->b_port, false) &&
		end_is(ev->daddr, ev->dport, c->a_addr, c->a_port, any));
}

int pp_eventstore_foreach(const struct pp_eventstore *s, const struct pp_conn *conn,
			  int (*fn)(void *ctx, const struct pp_event *ev), void *ctx)
{
	size_t i;
	int ret;

	for (i = 0; i < s->count; i++) {
		const struct pp_event *ev = &s->chunks[i / CHUNK_EVENTS][i % CHUNK_EVENTS];

		if (conn && !pp_conn_matches(conn, ev))
			continue;
		if ((ret = fn(ctx, ev)) != 0)
			return ret;
	}
	return 0;
}

struct by_time_key {
	uint64_t ts_ns;
	size_t index;
	uint8_t point;
};

static int cmp_by_time(const void *x, const void *y)
{
	const struct by_time_key *a = x, *b = y;

	if (a->ts_ns != b->ts_ns)
		return a->ts_ns < b->ts_ns ? -1 : 1;
	if (a->point != b->point)
		return a->point < b->point ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

int pp_eventstore_order_by_time(const struct pp_eventstore *s, const struct pp_conn *conn,
				size_t **index, size_t *n)
{
	size_t cap = s->count ? s->count : 1, i, m = 0;
	struct by_time_key *keys = malloc(cap * sizeof(*keys));
	size_t *order = malloc(cap * sizeof(*order));

	*index = NULL;
	*n = 0;
	if (!keys || !order) {
		free(keys);
		free(order);
		return -ENOMEM;
	}
	for (i = 0; i < s->count; i++) {
		const struct pp_event *ev = pp_eventstore_get(s, i);

		if (!conn || pp_conn_matches(conn, ev))
			keys[m++] = (struct by_time_key){ ev->ts_ns, i, ev->point };
	}
	qsort(keys, m, sizeof(*keys), cmp_by_time);
	for (i = 0; i < m; i++)
		order[i] = keys[i].index;
	free(keys);
	*index = order;
	*n = m;
	return 0;
}
