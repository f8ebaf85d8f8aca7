// SPDX-License-Identifier: MIT
/* Exchanges from turn-taking: any request/response service, many connections, any message
 * sizes (docs/design.md, 3.4). Both hosts' events in, one struct pp_row per exchange out.
 *
 *	struct pp_turns_config cfg = { .server_port = 6379, .on_row = write_row, ... };
 *	pp_turns_new(&t, &cfg);
 *	pp_turns_run(t, client_next, cctx, server_next, sctx);   // or push + end_host + finish
 *	pp_turns_free(t);
 *
 * A connection (4-tuple + instance, told apart by the client's SYN) has two streams. The client
 * host's own calls cut them into turns: a run of sends with no recv between is request k,
 * the recvs until the next send its response. Exchange k is request bytes [R_k, R_k+1) and
 * response bytes [P_k, P_k+1); the points are those of the fixed-size correlator (send at the
 * message's first byte, every other point at its last), and so is the split.
 *
 * A connection whose turns overlap (the client sent again while a response was still coming,
 * or the server answered a request after reading the next one) cannot be split by turns: it is
 * marked pipelined and gives no rows. Memory is bounded by the connections open at once and the
 * events within the reorder window, not by the length of the run. */
#ifndef PP_TURNS_H
#define PP_TURNS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "pingpong.h"
#include "analyze/correlate.h"   /* enum pp_host, PP_SLOTS_SPLIT, pp_event_source_fn */
#include "model/proto.h"
#include "model/split.h"

#define PP_TURNS_DEFAULT_CONFIRM   16        /* exchanges held back per connection, see confirm */
#define PP_TURNS_DEFAULT_MAX_OPEN  (1u << 18) /* exchanges waiting, all connections (~70 MB) */

/* One exchange of one connection. */
struct pp_turn {
	uint64_t conn;               /* connection id, 0.. in order of first appearance */
	const struct pp_flow_key *flow;
	uint64_t req_bytes, resp_bytes;
	struct pp_row *row;          /* row->index: the exchange's number within its connection */
	const struct pp_split *split;
};

/* What became of a connection, once it is over (closed on both hosts, or the logs ended). */
struct pp_turns_conn {
	uint64_t conn;
	const struct pp_flow_key *flow;
	bool have_isn;
	uint32_t isn;                /* the client's SYN */
	bool seen[2];                /* [enum pp_host]: that host's log holds events of it */
	bool pipelined;              /* its turns overlap: not split */
	uint64_t exchanges;          /* turns seen (pipelined or not) */
	uint64_t rows, complete;     /* rows emitted */
	uint64_t rows_before_pipelined; /* rows already emitted when the overlap was found */
};

/* Return 0, or a negative errno to stop. */
typedef int (*pp_turn_fn)(void *ctx, const struct pp_turn *turn);
typedef int (*pp_turns_conn_fn)(void *ctx, const struct pp_turns_conn *conn);

struct pp_turns_config {
	uint16_t server_port;        /* the service's port; 0 = any (the client's SYN or its calls
				      * tell which end is the client) */
	uint32_t required_slots;     /* 0 = PP_SLOTS_SPLIT */
	uint64_t reorder_ns;         /* 0 = PP_CORRELATE_DEFAULT_REORDER_NS */
	bool     no_reorder;         /* each host's events come in time order */
	uint32_t hold_max;           /* events per host in the time-order stage; 0 = default */
	/* A connection's rows are held until this many later exchanges were settled without
	 * overlap (or it ended): pipelining shows at once, so most such connections give none. */
	uint32_t confirm;            /* 0 = PP_TURNS_DEFAULT_CONFIRM */
	uint32_t max_open;           /* exchanges waiting in all; past it the oldest are forced */

	pp_turn_fn on_row;
	pp_turns_conn_fn on_conn;
	void *ctx;
};

struct pp_turns_stats {
	uint64_t connections, pipelined;
	uint64_t overlaps_dismissed;      /* answers ahead explained by a lost server recv event */
	uint64_t rows, complete, incomplete, retransmitted;
	uint64_t missing[PP_NSLOTS];
	uint64_t rows_forced;             /* emitted early: max_open reached */

	uint64_t events_in[2];
	uint64_t events_used;             /* placed in an exchange */
	uint64_t events_foreign;          /* another port, or the wrong way for its point */
	uint64_t events_no_payload;       /* pure ACKs, SYN, FIN, RST */
	uint64_t events_before_first;     /* bytes before the connection's first request or response */
	uint64_t events_late;             /* bytes of an exchange already emitted */
	uint64_t events_unplaced;         /* outside every turn the client's calls showed */
	uint64_t events_no_client;        /* of connections the client's events never showed */
	uint64_t events_pipelined;        /* of a pipelined connection */
	uint64_t events_out_of_order;
	uint64_t events_bad;              /* unknown point, impossible time or length */
	uint64_t calls_before_request;    /* client recvs before any send (a server greeting) */

	uint64_t conns_server_only;       /* the client's log ran far on without them (pp_turns_run) */

	uint64_t open_high_water;         /* most exchanges waiting at once */
	uint64_t conns_high_water;        /* most connections open at once */
	uint64_t held_high_water;         /* most events held at once (stages + pending) */
};

struct pp_turns;

int pp_turns_new(struct pp_turns **out, const struct pp_turns_config *cfg); /* 0, -EINVAL, -ENOMEM */
int pp_turns_push(struct pp_turns *t, enum pp_host host, const struct pp_event *ev);
int pp_turns_end_host(struct pp_turns *t, enum pp_host host);
/* Ends both hosts: every connection left is over, its rows emitted. */
int pp_turns_finish(struct pp_turns *t);
/* Pulls both sources to their end, the client just far enough ahead to tell the turns of the
 * server's next event, then finishes. */
int pp_turns_run(struct pp_turns *t, pp_event_source_fn client_next, void *client_ctx,
		 pp_event_source_fn server_next, void *server_ctx);
const struct pp_turns_stats *pp_turns_stats(const struct pp_turns *t);
void pp_turns_free(struct pp_turns *t);

#endif
