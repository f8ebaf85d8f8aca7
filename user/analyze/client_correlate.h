// SPDX-License-Identifier: MIT
/* pingpong-client's correlation while the run goes: its own events and the agent's are pushed
 * as they arrive (collect/client_trace.h), rows come out as their exchanges settle, each
 * completed with the loop's own round trip (rtt_app) from the sample ring. Memory is what is in
 * flight: the correlator's time-order stage and window, not the run.
 *
 *	pp_client_correlate_new(&cc, &opts);
 *	reader thread: pp_client_correlate_push(cc, PP_CLIENT or PP_SERVER, &ev);  // on_row...
 *	at the end:    pp_client_correlate_set_recorded(cc, n);  then end both hosts
 *	pp_client_correlate_stats(cc, &st);  pp_client_correlate_free(cc);
 * One thread at a time (the reader while it runs, then the one that stopped it). */
#ifndef PP_CLIENT_CORRELATE_H
#define PP_CLIENT_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/correlate.h"
#include "common/sample_ring.h"
#include "pingpong.h"

/* Slots a row needs when only the client host was traced (no agent's events). */
#define PP_SLOTS_CLIENT ((1u << C_SEND) | (1u << C_XMIT) | (1u << C_RX) | (1u << C_RECV))
#define PP_CLIENT_REQUIRED_SLOTS(have_agent) ((have_agent) ? PP_SLOTS_SPLIT : PP_SLOTS_CLIENT)

/* How late an event may arrive after later ones of its host, live: the capture hands frames
 * over a block at a time (100 ms) and a busy reader takes them later still; 250 ms (the
 * correlator's default, ample for sorted logs) let a loaded run emit some rows before their
 * wire points came (about 5% of them at 64 KiB with the ftrace witness running). */
#define PP_CLIENT_REORDER_NS 1000000000ull

/* Gets each row in index order with rtt_app_ns set (-1 if the ring lost it) and the time of
 * its send on the loop's clock (0 if unknown). 0 or a negative errno to stop. */
typedef int (*pp_client_row_fn)(void *ctx, struct pp_row *row, uint64_t start_ns);

struct pp_client_correlate_opts {
	uint32_t size;
	uint64_t count;             /* exchanges planned (set_recorded lowers it at the end) */
	struct pp_flow_key flow;
	/* Bytes each way before exchange 0: the handshake and the warm-up. */
	uint64_t ping_skip_bytes, pong_skip_bytes;
	bool agent;                 /* the agent's events will come; false: client points only */
	uint32_t hold_max;          /* events held waiting for their match; 0 = correlator default */
	struct pp_sample_ring *rtt; /* the loop's samples; NULL: no rtt_app */
	pp_client_row_fn on_row;
	void *ctx;
};

struct pp_client_correlate;

/* 0, -EINVAL or -ENOMEM. */
int pp_client_correlate_new(struct pp_client_correlate **out,
			    const struct pp_client_correlate_opts *o);
/* An event of host (PP_CLIENT, PP_SERVER). 0, or the first error (sticky: a row callback's,
 * -ENOMEM); events of a host that ended are ignored. */
int pp_client_correlate_push(struct pp_client_correlate *cc, enum pp_host host,
			     const struct pp_event *ev);
/* The run completed n exchanges (call before the client host ends): rows n.. are not made. */
int pp_client_correlate_set_recorded(struct pp_client_correlate *cc, uint64_t n);
/* No more events of host; once both ended every remaining row is out. 0 or the first error. */
int pp_client_correlate_end_host(struct pp_client_correlate *cc, enum pp_host host);
bool pp_client_correlate_ended(const struct pp_client_correlate *cc, enum pp_host host);
int pp_client_correlate_error(const struct pp_client_correlate *cc);

/* The correlator's counts; *rtt_missing: rows whose rtt_app the ring no longer held. */
const struct pp_correlate_stats *pp_client_correlate_stats(const struct pp_client_correlate *cc,
							   uint64_t *rtt_missing);
void pp_client_correlate_free(struct pp_client_correlate *cc);

#endif
