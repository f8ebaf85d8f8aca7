// SPDX-License-Identifier: MIT
/* Which events of a 4-tuple are one connection's (model/conn.h): the client's SYNs, sorted by
 * time, bound the instance. */
#include <stdlib.h>
#include <string.h>

#include "model/conn.h"

#define MAX_SYNS 4096 /* SYNs remembered: one per connection of the 4-tuple */

void pp_instance_init(struct pp_instance *in, const struct pp_flow_key *flow, bool have_isn, uint32_t isn)
{
	memset(in, 0, sizeof(*in));
	in->flow = *flow;
	/* the all-ports wildcard spans every instance of every port: no ISN can pick one */
	in->have_isn = have_isn && !pp_flow_key_any_port(flow);
	in->isn = isn;
	in->end_ns = UINT64_MAX;
}

void pp_instance_scan(struct pp_instance *in, const struct pp_event *ev)
{
	/* the client's SYN (SYN without ACK, towards the server), at any point of either host;
	 * none for the all-ports wildcard, so every event of every port qualifies (decide) */
	if (pp_flow_key_any_port(&in->flow) || !pp_event_is_opening_syn(ev) ||
	    pp_flow_dir(&in->flow, ev) != PP_DIR_TO_SERVER || in->nsyn >= MAX_SYNS)
		return;
	if (in->nsyn == in->capsyn) {
		size_t cap = in->capsyn ? in->capsyn * 2 : 8;
		struct pp_instance_syn *syns = realloc(in->syns, cap * sizeof(*syns));

		if (!syns)
			return; /* fewer SYNs known: a wider range, never a wrong one */
		in->syns = syns;
		in->capsyn = cap;
	}
	in->syns[in->nsyn].ts = ev->ts_ns;
	in->syns[in->nsyn].seq = ev->seq;
	in->nsyn++;
}

static int cmp_syn(const void *a, const void *b)
{
	const struct pp_instance_syn *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

void pp_instance_decide(struct pp_instance *in)
{
	size_t first = in->nsyn, i;
	uint32_t seq;

	in->start_ns = 0;
	in->end_ns = UINT64_MAX;
	if (!in->nsyn)
		return;
	qsort(in->syns, in->nsyn, sizeof(*in->syns), cmp_syn);
	if (in->have_isn) {
		for (i = 0; i < in->nsyn && first == in->nsyn; i++)
			if (in->syns[i].seq == in->isn)
				first = i;
		if (first == in->nsyn)
			return; /* our SYN was not stored (agent started later): no time limit */
	} else {
		/* the latest connection: the first SYN of the last run of one seq (retransmits) */
		seq = in->syns[in->nsyn - 1].seq;
		for (first = in->nsyn; first > 0 && in->syns[first - 1].seq == seq; first--)
			;
	}
	seq = in->syns[first].seq;
	in->start_ns = in->syns[first].ts;
	for (i = first + 1; i < in->nsyn; i++)
		if (in->syns[i].seq != seq) {
			in->end_ns = in->syns[i].ts;
			break;
		}
}

bool pp_instance_has(const struct pp_instance *in, const struct pp_event *ev)
{
	return pp_flow_dir(&in->flow, ev) != PP_DIR_NONE && ev->ts_ns >= in->start_ns &&
	       ev->ts_ns < in->end_ns;
}

void pp_instance_free(struct pp_instance *in)
{
	free(in->syns);
	in->syns = NULL;
	in->nsyn = in->capsyn = 0;
}
