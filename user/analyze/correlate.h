// SPDX-License-Identifier: MIT
/* The correlator: turns the client host's and the server host's event streams into one
 * struct pp_row per exchange, in order, matched by flow and TCP sequence number (docs/design.md).
 *
 *	struct pp_correlate_config cfg = { .size = 1024, .count = n, .on_row = write_row, ... };
 *	pp_correlate_new(&c, &cfg);
 *	pp_correlate_run(c, client_next, cctx, server_next, sctx);   // or push + finish
 *	pp_correlate_free(c);
 *
 * Exchange i: the ping occupies [S_i, S_i+size) of the client->server stream, the pong
 * [P_i, P_i+size) of the other, S_i = S_0 + i*size (mod 2^32; all seq arithmetic is serial).
 * Packet points and recv are taken for the skb/frame/call holding the message's last byte, send
 * for the call holding its first byte (so C.recv - C.send is the round trip the program sees).
 *
 * Memory is bounded, not proportional to the run: each host's events pass through a time-order
 * stage (reorder_ns), then land in per (host, point) windows of window_exchanges exchanges.
 * An exchange is emitted once each host has shown events of exchange i + reorder_exchanges
 * (or has ended); whatever point is still empty then is missing. Linear time. */
#ifndef PP_CORRELATE_H
#define PP_CORRELATE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "pingpong.h"
#include "model/proto.h"
#include "model/split.h"

enum pp_host { PP_CLIENT = 0, PP_SERVER = 1 };

/* Slots a row needs for the four-way split; the default of required_slots. */
#define PP_SLOTS_SPLIT ((1u << C_SEND) | (1u << C_XMIT) | (1u << C_RX) | (1u << C_RECV) | \
			(1u << S_RX) | (1u << S_RECV) | (1u << S_SEND) | (1u << S_XMIT))
#define PP_SLOTS_WIRE  ((1u << C_WIRE_TX) | (1u << C_WIRE_RX) | (1u << S_WIRE_RX) | (1u << S_WIRE_TX))

/* --sched points (kern/pingpong.h): copies of a recv event, placed like it (the message's last
 * byte), never required, never a retransmission. Their times say nothing of how far the host
 * has got: each is later than the thread's previous recv (the kernel sends a switch-in from
 * before it as the recv's own time), but may be well before its own recv (a thread that ran a
 * long while between them), so they move no exchange boundary or progress. */
static inline bool pp_point_is_sched(int point)
{
	return point == PP_WAKE || point == PP_IDLE || point == PP_ONCPU;
}

#define PP_CORRELATE_DEFAULT_REORDER_NS   250000000ull /* per-CPU perf batches: > a poll period */
#define PP_CORRELATE_DEFAULT_REORDER_EX   4
#define PP_CORRELATE_DEFAULT_WINDOW       1024
#define PP_CORRELATE_DEFAULT_HOLD_MAX     (1u << 18)   /* events per host in the time-order stage */

/* Gets each row in index order. The row may be changed (e.g. rtt_app_ns set) before it is
 * written; split is computed without rtt_app. Return 0, or a negative errno to stop. */
typedef int (*pp_row_fn)(void *ctx, struct pp_row *row, const struct pp_split *split);
/* A source of one host's events: 1 = *ev filled, 0 = end, <0 = error. */
typedef int (*pp_event_source_fn)(void *ctx, struct pp_event *ev);

struct pp_correlate_config {
	uint32_t size;               /* message bytes each way, 1..2^24 */
	uint64_t count;              /* exchanges recorded; 0 = as many as the events show */

	/* The connection. Unset: the client host's earliest send with payload (see start_ns). */
	bool have_flow;
	struct pp_flow_key flow;

	/* First byte of exchange 0 in each stream. Each one not given is derived from the client
	 * host's events, as origin + skip bytes:
	 *  start_ns == 0: origin = the first byte of the connection (ISN + 1 from its SYN, or the
	 *                 earliest send / recv if no SYN was traced); skip = handshake + warm-up.
	 *  start_ns  > 0: origin = the earliest send / recv (client clock) at or after start_ns,
	 *                 e.g. taken just before exchange 0; skip is then normally 0. */
	bool have_ping_seq, have_pong_seq;
	uint32_t ping_seq, pong_seq;
	uint64_t start_ns;
	uint64_t ping_skip_bytes, pong_skip_bytes;

	uint32_t required_slots;     /* bit (1 << enum pp_slot); 0 = PP_SLOTS_SPLIT */
	uint64_t reorder_ns;         /* how late an event may arrive after later ones; 0 = default */
	bool     no_reorder;         /* the sources are already in time order (reorder_ns unused) */
	uint32_t reorder_exchanges;  /* 0 = PP_CORRELATE_DEFAULT_REORDER_EX */
	uint32_t window_exchanges;   /* a power of 2; 0 = PP_CORRELATE_DEFAULT_WINDOW */
	uint32_t hold_max;           /* 0 = PP_CORRELATE_DEFAULT_HOLD_MAX */

	pp_row_fn on_row;
	void *ctx;
};

struct pp_correlate_stats {
	uint64_t rows, complete, incomplete, retransmitted;
	uint64_t missing[PP_NSLOTS];      /* rows without this point (required or not) */
	uint64_t rows_forced;             /* emitted early because a host ran a window ahead */

	uint64_t events_in[2];            /* per host, everything pushed */
	uint64_t events_used;             /* placed in an exchange's window */
	uint64_t events_foreign;          /* another connection, or the wrong way for the point */
	uint64_t events_no_payload;       /* pure ACKs, SYN, FIN, RST */
	uint64_t events_stale;            /* bytes before the current exchange (handshake, warm-up) */
	uint64_t events_after;            /* bytes after the last recorded exchange */
	uint64_t events_unplaced;         /* the stream's base seq could not be derived */
	uint64_t events_sched_early;      /* --sched points timed so early (a stale oncpu) that
					   * they came a window ahead of the exchanges settling */
	uint64_t events_out_of_order;     /* placed early: hold_max reached, or far out of order */
	uint64_t events_bad;              /* unknown point, impossible time or length */

	uint64_t window_high_water;       /* most exchanges held at once */
	uint64_t held_high_water;         /* most events held at once (time-order stage + derivation) */

	bool flow_known, ping_known, pong_known;
	struct pp_flow_key flow;
	uint32_t ping_seq, pong_seq;      /* of exchange 0 */
};

struct pp_correlator;

/* 0, -EINVAL (bad config) or -ENOMEM. */
int pp_correlate_new(struct pp_correlator **out, const struct pp_correlate_config *cfg);

/* Pulls both sources to their end, keeping them in step (by exchange number) so memory stays
 * bounded, then finishes. 0, a source's error, or the row callback's error. */
int pp_correlate_run(struct pp_correlator *c, pp_event_source_fn client_next, void *client_ctx,
		     pp_event_source_fn server_next, void *server_ctx);

/* Push interface. Push the two hosts roughly in step (or use run): events of a host that is
 * ahead wait in its time-order stage, up to hold_max; past that, and for a host whose events
 * jump more than a window, the oldest exchanges are forced out with what they have. */
int pp_correlate_push(struct pp_correlator *c, enum pp_host host, const struct pp_event *ev);
int pp_correlate_end_host(struct pp_correlator *c, enum pp_host host);
/* Sets count to n, for a run whose length is known only at its end (pingpong-client correlates
 * while the exchanges run, with count the planned number, then n those that completed). 0, or
 * -EINVAL when rows past n were emitted already. */
int pp_correlate_set_count(struct pp_correlator *c, uint64_t n);
/* Ends both hosts and emits every remaining row. */
int pp_correlate_finish(struct pp_correlator *c);

const struct pp_correlate_stats *pp_correlate_stats(const struct pp_correlator *c);
void pp_correlate_free(struct pp_correlator *c);

/* The slot a host's point fills (e.g. PP_SERVER, PP_RX -> S_RX), or -1. */
int pp_correlate_slot(enum pp_host host, int point);

#endif
