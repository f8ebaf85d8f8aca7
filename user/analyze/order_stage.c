// SPDX-License-Identifier: MIT
/* The time-order stage (order_stage.h): sorted runs, best-fit insertion, the smallest head
 * leaves first. */
#include <errno.h>
#include <stdlib.h>

#include "analyze/order_stage.h"

static struct pp_event *run_at(const struct pp_order_run *r, uint32_t i)
{
	return &r->ev[(r->head + i) & (r->cap - 1)];
}

static int run_grow(struct pp_order_run *r)
{
	uint32_t cap = r->cap ? r->cap * 2 : 64;
	struct pp_event *ev = malloc((size_t)cap * sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->n; i++)
		ev[i] = *run_at(r, i);
	free(r->ev);
	r->ev = ev;
	r->cap = cap;
	r->head = 0;
	return 0;
}

/* The run whose head is the earliest event held. */
static uint32_t min_run(const struct pp_order_stage *s)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < s->nruns; i++)
		if (run_at(&s->runs[i], 0)->ts_ns < run_at(&s->runs[best], 0)->ts_ns)
			best = i;
	return best;
}

const struct pp_event *pp_order_top(const struct pp_order_stage *s)
{
	return run_at(&s->runs[min_run(s)], 0);
}

void pp_order_pop(struct pp_order_stage *s, struct pp_event *out)
{
	uint32_t i = min_run(s);
	struct pp_order_run *r = &s->runs[i];

	*out = *run_at(r, 0);
	r->head = (r->head + 1) & (r->cap - 1);
	r->n--;
	s->n--;
	if (!r->n) { /* retire the run, keeping its buffer in the spare slot */
		struct pp_order_run spare = *r;

		*r = s->runs[--s->nruns];
		s->runs[s->nruns] = spare;
	}
}

int pp_order_insert(struct pp_order_stage *s, const struct pp_event *ev)
{
	struct pp_order_run *r = NULL;
	uint32_t i, at;

	/* best fit: the run with the latest tail not after ev */
	for (i = 0; i < s->nruns; i++) {
		struct pp_order_run *cand = &s->runs[i];
		uint64_t tail = run_at(cand, cand->n - 1)->ts_ns;

		if (tail <= ev->ts_ns && (!r || tail > run_at(r, r->n - 1)->ts_ns))
			r = cand;
	}
	if (!r && s->nruns < PP_ORDER_MAX_RUNS) {
		r = &s->runs[s->nruns++];
		r->head = 0;
		r->n = 0;
	}
	if (!r) {
		/* more disorder than runs: shift it into the run whose tail is nearest */
		r = &s->runs[0];
		for (i = 1; i < s->nruns; i++)
			if (run_at(&s->runs[i], s->runs[i].n - 1)->ts_ns < run_at(r, r->n - 1)->ts_ns)
				r = &s->runs[i];
	}
	for (at = r->n; at > 0 && run_at(r, at - 1)->ts_ns > ev->ts_ns; at--)
		if (r->n - at >= PP_ORDER_MAX_SHIFT)
			return 1;
	if (r->n == r->cap && run_grow(r) < 0)
		return -ENOMEM;
	for (i = r->n; i > at; i--)
		*run_at(r, i) = *run_at(r, i - 1);
	*run_at(r, at) = *ev;
	r->n++;
	s->n++;
	return 0;
}

void pp_order_free(struct pp_order_stage *s)
{
	for (int r = 0; r < PP_ORDER_MAX_RUNS; r++) {
		free(s->runs[r].ev);
		s->runs[r].ev = NULL;
	}
}
