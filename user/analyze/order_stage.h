// SPDX-License-Identifier: MIT
/* One host's time-order stage, for both correlators (correlate.c, turns.c): events come in the
 * order the perf buffers and the capture hand them over, C per-CPU streams each sorted, and
 * leave smallest time first once the caller says so (the host has shown one reorder_ns later,
 * or its source ended, or the stage is full). Patience sorting: the events are dealt into
 * sorted runs, about one per CPU, so an event costs O(C) (the heap turns.c had took 2.4 of
 * its 4.2 s CPU on 1M exchanges; now 1.5 s in all).
 *
 *	pp_order_insert(&s, ev);    // 0, 1 (too far back: not taken, place it at once), -ENOMEM
 *	while (s.n && ready(pp_order_top(&s)->ts_ns)) pp_order_pop(&s, &ev);
 *	pp_order_free(&s);
 * Equal times leave in arrival order within a run; across runs, in an unspecified order. */
#ifndef PP_ORDER_STAGE_H
#define PP_ORDER_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "pingpong.h"

/* One sorted run of held events (a ring buffer, ascending ts). */
struct pp_order_run {
	struct pp_event *ev;
	uint32_t cap, head, n;   /* cap a power of 2 */
};

#define PP_ORDER_MAX_RUNS 16
/* Sorting an event in further back than this is refused (the caller places it at once and
 * counts it out of order): per-CPU disorder moves an event a few places, but an adversarial
 * stream (each event older than all before it) made every insert shift the whole stage, 50 s
 * for 2^18 events. */
#define PP_ORDER_MAX_SHIFT 1024

struct pp_order_stage {
	struct pp_order_run runs[PP_ORDER_MAX_RUNS]; /* [0, nruns) in use; the rest keep buffers */
	uint32_t nruns;
	uint32_t n;                  /* events held */
	uint64_t max_ts;             /* the latest time pushed (the caller keeps it) */
	bool source_ended;           /* no more pushes: what is held may leave at once (caller's) */
};

/* 0, 1 if ev would have to move back more than PP_ORDER_MAX_SHIFT places (not taken), or
 * -ENOMEM. */
int pp_order_insert(struct pp_order_stage *s, const struct pp_event *ev);
/* The earliest event held; s->n must be > 0. */
const struct pp_event *pp_order_top(const struct pp_order_stage *s);
void pp_order_pop(struct pp_order_stage *s, struct pp_event *out);
void pp_order_free(struct pp_order_stage *s);

#endif
