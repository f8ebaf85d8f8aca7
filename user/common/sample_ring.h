// SPDX-License-Identifier: MIT
/* The loop's own clock for each exchange, handed from the thread that measures it to the thread
 * that writes its row, in fixed memory: a ring of the latest samples. One writer, one reader, no
 * lock; the writer never waits. A run of any length needs only the samples not yet written out,
 * so the ring holds the last PP_SAMPLE_RING_MAX exchanges (16 MiB) however long the run.
 *
 *	pp_sample_ring_init(&r, count);            // touched now: no page fault in the timed loop
 *	writer: pp_sample_ring_put(&r, i, t0, rtt); // exchange i, in order 0, 1, 2, ...
 *	reader: if (pp_sample_ring_get(&r, i, &t0, &rtt)) ...   // false: not yet, or overwritten
 */
#ifndef PP_SAMPLE_RING_H
#define PP_SAMPLE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PP_SAMPLE_RING_MAX (1u << 20)

struct pp_sample_ring {
	_Atomic uint64_t *start_ns;  /* CLOCK_MONOTONIC before the exchange's send */
	_Atomic int64_t *rtt_ns;     /* send to the reply's last byte */
	uint64_t mask;
	_Atomic uint64_t written;    /* samples 0..written-1 were put */
};

/* Room for min(count, PP_SAMPLE_RING_MAX) samples (a power of 2), touched. 0 or -ENOMEM. */
int pp_sample_ring_init(struct pp_sample_ring *r, uint64_t count);
void pp_sample_ring_free(struct pp_sample_ring *r);

static inline void pp_sample_ring_put(struct pp_sample_ring *r, uint64_t i, uint64_t start_ns,
				      int64_t rtt_ns)
{
	atomic_store_explicit(&r->start_ns[i & r->mask], start_ns, memory_order_relaxed);
	atomic_store_explicit(&r->rtt_ns[i & r->mask], rtt_ns, memory_order_relaxed);
	atomic_store_explicit(&r->written, i + 1, memory_order_release);
}

/* Sample i, if it was put and not overwritten since (a reader more than the ring behind). */
bool pp_sample_ring_get(struct pp_sample_ring *r, uint64_t i, uint64_t *start_ns, int64_t *rtt_ns);
uint64_t pp_sample_ring_written(struct pp_sample_ring *r);

#endif
