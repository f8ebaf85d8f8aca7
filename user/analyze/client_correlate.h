// SPDX-License-Identifier: MIT
/* What pingpong-client feeds the correlator after its run: its own events (sorted, in memory)
 * and the agent's, fetched over the control channel while the correlator consumes them; and
 * the run itself, which gives every row the loop's own round trip (rtt_app). */
#ifndef PP_CLIENT_CORRELATE_H
#define PP_CLIENT_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/fetch.h"
#include "analyze/correlate.h"
#include "common/err.h"
#include "pingpong.h"

/* Slots a row needs when only the client host was traced (no agent's events). */
#define PP_SLOTS_CLIENT ((1u << C_SEND) | (1u << C_XMIT) | (1u << C_RX) | (1u << C_RECV))
#define PP_CLIENT_REQUIRED_SLOTS(have_agent) ((have_agent) ? PP_SLOTS_SPLIT : PP_SLOTS_CLIENT)

/* ---- the client host's events: an array in time order ---- */
struct pp_array_source {
	const struct pp_event *ev;
	size_t n, at;
};
int pp_array_source_next(void *ctx, struct pp_event *ev);   /* pp_event_source_fn */

/* ---- the server host's events: the agent ---- */
struct pp_agent_source {
	struct pp_fetch *fetch;
	struct pp_event first;  /* read by open, handed out first */
	bool have_first;
	struct pp_err err;      /* why the events ended before the agent's END, in words
				 * ("connection refused (is pingpong-ebpf running there?)", "the
				 * agent answered: <text>", ...); code 0 = they did not */
	uint64_t events;        /* handed to the correlator */
};

/* Connects to the agent (each wait at most timeout_ms), asks for req's connection and reads
 * its first event, so that an agent without events is known before correlating.
 * 1 = events follow; 0 = the agent answered but has none of this connection (closed);
 * <0 = no agent or a failed fetch (closed; s->err says why). */
int pp_agent_source_open(struct pp_agent_source *s, const char *addr, uint16_t port,
			 const struct pp_fetch_req *req, int timeout_ms);
/* pp_event_source_fn. A failure after the first event ends the stream (0) and is kept in
 * s->err: the rows after it lack server points and are counted incomplete, not lost. */
int pp_agent_source_next(void *ctx, struct pp_event *ev);
/* The agent's END counters (valid once the stream ended without error). */
const struct pp_fetch_stats *pp_agent_source_stats(const struct pp_agent_source *s);
void pp_agent_source_close(struct pp_agent_source *s);

/* ---- the run ---- */
struct pp_client_correlate {
	uint32_t size;
	uint64_t count;                 /* rows: the recorded exchanges */
	struct pp_flow_key flow;
	uint64_t start_ns;              /* CLOCK_MONOTONIC just before exchange 0's send */
	const int64_t *rtt_app_ns;      /* count samples of the loop's clock */
	const struct pp_event *client_ev; /* in time order */
	size_t n_client;
	struct pp_agent_source *agent;  /* NULL: no server events */
	pp_row_fn on_row;               /* gets each row with rtt_app_ns set */
	void *ctx;
};

/* Correlates and calls on_row for rows 0..count-1 in order. 0, or the first error (the
 * row callback's, or -ENOMEM); st gets the correlator's counts. */
int pp_client_correlate_run(const struct pp_client_correlate *cc, struct pp_correlate_stats *st);

#endif
