// SPDX-License-Identifier: MIT
/* The loop -> correlator handoff (handoff.h): a list of chunks under one mutex. The loop
 * fills the tail chunk (one lock per event: uncontended, tens of ns); the thread takes the whole
 * list at once and consumes it unlocked, so the two meet once per batch. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "peer/handoff.h"

#define CHUNK_EVENTS 4096

struct item {
	struct pp_event ev;
	uint8_t tag;
};

struct chunk {
	struct chunk *next;
	uint32_t n;
	struct item items[CHUNK_EVENTS];
};

struct pp_handoff {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	pthread_t thread;
	struct chunk *head, *tail;  /* waiting */
	uint64_t waiting, max, high_water, refused;
	bool ended;
	int err;                    /* consume's first error */
	pp_handoff_fn consume;
	void *ctx;
};

static void free_list(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

static void *consumer(void *arg)
{
	struct pp_handoff *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct chunk *list;
		int err = 0;

		while (!h->head && !h->ended)
			pthread_cond_wait(&h->ready, &h->lock);
		if (!h->head)
			break;
		list = h->head;
		h->head = h->tail = NULL;
		h->waiting = 0;
		err = h->err;
		pthread_mutex_unlock(&h->lock);
		for (struct chunk *c = list; c && !err; c = c->next)
			for (uint32_t i = 0; i < c->n && !err; i++)
				err = h->consume(h->ctx, c->items[i].tag, &c->items[i].ev);
		free_list(list);
		pthread_mutex_lock(&h->lock);
		if (err && !h->err)
			h->err = err;
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int pp_handoff_new(struct pp_handoff **out, uint64_t max, pp_handoff_fn consume, void *ctx)
{
	struct pp_handoff *h = calloc(1, sizeof(*h));
	int err;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->max = max;
	h->consume = consume;
	h->ctx = ctx;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->ready, NULL);
	if ((err = pthread_create(&h->thread, NULL, consumer, h)) != 0) {
		pthread_cond_destroy(&h->ready);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -err;
	}
	*out = h;
	return 0;
}

int pp_handoff_put(struct pp_handoff *h, uint8_t tag, const struct pp_event *ev)
{
	struct chunk *c;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	if (h->waiting >= h->max || h->err) {
		h->refused++;
		rc = -ENOSPC;
		goto out;
	}
	c = h->tail;
	if (!c || c->n == CHUNK_EVENTS) {
		if (!(c = malloc(sizeof(*c)))) {
			h->refused++;
			rc = -ENOMEM;
			goto out;
		}
		c->next = NULL;
		c->n = 0;
		if (h->tail)
			h->tail->next = c;
		else
			h->head = c;
		h->tail = c;
	}
	c->items[c->n++] = (struct item){ .ev = *ev, .tag = tag };
	if (++h->waiting > h->high_water)
		h->high_water = h->waiting;
	/* wake the thread once per chunk, or for the first event of an empty list */
	if (c->n == 1 || c->n == CHUNK_EVENTS)
		pthread_cond_signal(&h->ready);
out:
	pthread_mutex_unlock(&h->lock);
	return rc;
}

int pp_handoff_end(struct pp_handoff *h)
{
	int err;

	pthread_mutex_lock(&h->lock);
	if (h->ended) {
		err = h->err;
		pthread_mutex_unlock(&h->lock);
		return err;
	}
	h->ended = true;
	pthread_cond_signal(&h->ready);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	return h->err;
}

uint64_t pp_handoff_refused(const struct pp_handoff *h)
{
	return h->refused;
}

uint64_t pp_handoff_high_water(const struct pp_handoff *h)
{
	return h->high_water;
}

void pp_handoff_free(struct pp_handoff *h)
{
	if (!h)
		return;
	pp_handoff_end(h);
	free_list(h->head);
	pthread_cond_destroy(&h->ready);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
