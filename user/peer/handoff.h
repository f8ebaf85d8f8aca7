// SPDX-License-Identifier: MIT
/* Events handed from the loop that reads them (perf buffers, capture, the agent's socket) to a
 * thread that correlates them, so that a burst of correlation work never leaves the kernel's
 * buffers unread: the loop only copies an event into a chunk. Bounded: past max events waiting
 * an event is refused and counted (the caller says so).
 *
 *	pp_handoff_new(&h, max, consume, ctx);    // starts the consuming thread
 *	pp_handoff_put(h, tag, ev);               // the loop; tag is the caller's (e.g. the host)
 *	pp_handoff_end(h);                        // waits until every event was consumed
 *	pp_handoff_free(h);
 * consume(ctx, tag, ev) runs on the thread, in put order; a negative return stops consuming
 * (the rest is dropped, counted) and is what pp_handoff_end returns. */
#ifndef PP_HANDOFF_H
#define PP_HANDOFF_H

#include <stdint.h>

#include "pingpong.h"

typedef int (*pp_handoff_fn)(void *ctx, uint8_t tag, const struct pp_event *ev);

struct pp_handoff;

/* 0 or -errno (-ENOMEM, or pthread_create's error). */
int pp_handoff_new(struct pp_handoff **out, uint64_t max, pp_handoff_fn consume, void *ctx);
/* 0, or -ENOSPC: max events wait already (refused, counted), or -ENOMEM (counted too). */
int pp_handoff_put(struct pp_handoff *h, uint8_t tag, const struct pp_event *ev);
/* No more puts: the thread consumes what waits and stops. 0, or consume's error. */
int pp_handoff_end(struct pp_handoff *h);
uint64_t pp_handoff_refused(const struct pp_handoff *h);
uint64_t pp_handoff_high_water(const struct pp_handoff *h);  /* most events waiting at once */
void pp_handoff_free(struct pp_handoff *h);

#endif
