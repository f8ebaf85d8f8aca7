// SPDX-License-Identifier: MIT
/* A single-writer ring of the loop's samples (see sample_ring.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/sample_ring.h"

int pp_sample_ring_init(struct pp_sample_ring *r, uint64_t count)
{
	uint64_t cap = 1;

	while (cap < count && cap < PP_SAMPLE_RING_MAX)
		cap *= 2;
	memset(r, 0, sizeof(*r));
	r->start_ns = calloc(cap, sizeof(*r->start_ns));
	r->rtt_ns = calloc(cap, sizeof(*r->rtt_ns));
	if (!r->start_ns || !r->rtt_ns) {
		pp_sample_ring_free(r);
		return -ENOMEM;
	}
	/* calloc's zero pages are mapped on first write: write them now, not in the timed loop */
	for (uint64_t i = 0; i < cap; i++) {
		atomic_init(&r->start_ns[i], 0);
		atomic_init(&r->rtt_ns[i], -1);
	}
	r->mask = cap - 1;
	atomic_init(&r->written, 0);
	return 0;
}

void pp_sample_ring_free(struct pp_sample_ring *r)
{
	free((void *)r->start_ns);
	free((void *)r->rtt_ns);
	r->start_ns = NULL;
	r->rtt_ns = NULL;
}

uint64_t pp_sample_ring_written(struct pp_sample_ring *r)
{
	return atomic_load_explicit(&r->written, memory_order_acquire);
}

/* The writer overwrites slot i when it puts sample i + cap, after it published written = i + cap
 * (the previous put): so while written - i < cap before and after the read, the slot held i. */
bool pp_sample_ring_get(struct pp_sample_ring *r, uint64_t i, uint64_t *start_ns, int64_t *rtt_ns)
{
	uint64_t cap = r->mask + 1, w = pp_sample_ring_written(r);

	if (!r->rtt_ns || i >= w || w - i >= cap)
		return false;
	*start_ns = atomic_load_explicit(&r->start_ns[i & r->mask], memory_order_relaxed);
	*rtt_ns = atomic_load_explicit(&r->rtt_ns[i & r->mask], memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	return pp_sample_ring_written(r) - i < cap;
}
