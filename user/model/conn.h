// SPDX-License-Identifier: MIT
/* One connection instance among the events of its 4-tuple: a 4-tuple can be reused by a later
 * connection, so the client's SYN (its ISN) tells the instances apart. Pure functions over
 * events, used by the agent when it serves a FETCH and by pingpong-analyze on two logs.
 *
 *	pp_instance_init(&in, &flow, have_isn, isn);
 *	for each event: pp_instance_scan(&in, ev);      // first pass: the SYNs
 *	pp_instance_decide(&in);
 *	for each event: if (pp_instance_has(&in, ev)) ...  // second pass
 *	pp_instance_free(&in);
 *
 * With an ISN: from that SYN to the next SYN of another seq; without: from the latest SYN on.
 * No such SYN among the events: every event of the 4-tuple. A flow with the all-ports wildcard
 * (client_port 0, PP_FETCH_ALL_PORTS) has no instance choice: every event of every port. */
#ifndef PP_CONN_H
#define PP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/proto.h"

struct pp_instance {
	struct pp_flow_key flow;
	bool have_isn;
	uint32_t isn;
	struct pp_instance_syn { uint64_t ts; uint32_t seq; } *syns;
	size_t nsyn, capsyn;
	uint64_t start_ns, end_ns;  /* after pp_instance_decide: [start, end) */
};

/* The client's SYN opening a connection: SYN without ACK. */
static inline bool pp_event_is_opening_syn(const struct pp_event *ev)
{
	return (ev->tcp_flags & (PP_TCP_SYN | PP_TCP_ACK)) == PP_TCP_SYN;
}

void pp_instance_init(struct pp_instance *in, const struct pp_flow_key *flow, bool have_isn, uint32_t isn);
void pp_instance_scan(struct pp_instance *in, const struct pp_event *ev);  /* first pass */
void pp_instance_decide(struct pp_instance *in);
bool pp_instance_has(const struct pp_instance *in, const struct pp_event *ev); /* second pass */
void pp_instance_free(struct pp_instance *in);

#endif
