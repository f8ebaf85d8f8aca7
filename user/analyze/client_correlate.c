// SPDX-License-Identifier: MIT
/* The client's live correlation: the correlator fed as events arrive, each row completed with
 * the loop's own round trip (client_correlate.h). */
#include <errno.h>
#include <stdlib.h>

#include "analyze/client_correlate.h"

struct pp_client_correlate {
	struct pp_correlator *c;
	struct pp_sample_ring *rtt;
	pp_client_row_fn on_row;
	void *ctx;
	bool ended[2];
	int error;
	uint64_t rtt_missing;
};

static int on_row(void *ctx, struct pp_row *row, const struct pp_split *split)
{
	struct pp_client_correlate *cc = ctx;
	uint64_t start_ns = 0;
	int64_t rtt = -1;

	(void)split;
	if (cc->rtt && !pp_sample_ring_get(cc->rtt, row->index, &start_ns, &rtt)) {
		cc->rtt_missing++;
		start_ns = 0;
		rtt = -1;
	}
	row->rtt_app_ns = rtt;
	return cc->on_row(cc->ctx, row, start_ns);
}

/* Exchange 0 starts skip bytes into each stream (ISN + 1 from the client's SYN, the server's
 * from its SYN+ACK: the correlator decides on both as soon as they came by), so events are
 * placed as they come, without waiting for the warm-up. */
int pp_client_correlate_new(struct pp_client_correlate **out,
			    const struct pp_client_correlate_opts *o)
{
	struct pp_client_correlate *cc;
	struct pp_correlate_config cfg = {
		.size = o->size,
		.count = o->count,
		.have_flow = true,
		.flow = o->flow,
		.ping_skip_bytes = o->ping_skip_bytes,
		.pong_skip_bytes = o->pong_skip_bytes,
		.required_slots = PP_CLIENT_REQUIRED_SLOTS(o->agent),
		.hold_max = o->hold_max,
		.reorder_ns = PP_CLIENT_REORDER_NS,
		.on_row = on_row,
	};
	int rc;

	*out = NULL;
	if (!o->on_row || !o->count)
		return -EINVAL;
	if (!(cc = calloc(1, sizeof(*cc))))
		return -ENOMEM;
	cc->rtt = o->rtt;
	cc->on_row = o->on_row;
	cc->ctx = o->ctx;
	cfg.ctx = cc;
	if ((rc = pp_correlate_new(&cc->c, &cfg)) < 0) {
		free(cc);
		return rc;
	}
	*out = cc;
	/* without an agent the client's rows need not wait for anyone */
	if (!o->agent)
		return pp_client_correlate_end_host(cc, PP_SERVER);
	return 0;
}

static int keep(struct pp_client_correlate *cc, int rc)
{
	if (rc < 0 && !cc->error)
		cc->error = rc;
	return cc->error;
}

int pp_client_correlate_push(struct pp_client_correlate *cc, enum pp_host host,
			     const struct pp_event *ev)
{
	if (cc->error || cc->ended[host])
		return cc->error;
	return keep(cc, pp_correlate_push(cc->c, host, ev));
}

int pp_client_correlate_set_recorded(struct pp_client_correlate *cc, uint64_t n)
{
	return keep(cc, pp_correlate_set_count(cc->c, n));
}

int pp_client_correlate_end_host(struct pp_client_correlate *cc, enum pp_host host)
{
	if (cc->ended[host])
		return cc->error;
	cc->ended[host] = true;
	if (cc->error)
		return cc->error;
	return keep(cc, pp_correlate_end_host(cc->c, host));
}

bool pp_client_correlate_ended(const struct pp_client_correlate *cc, enum pp_host host)
{
	return cc->ended[host];
}

int pp_client_correlate_error(const struct pp_client_correlate *cc)
{
	return cc->error;
}

const struct pp_correlate_stats *pp_client_correlate_stats(const struct pp_client_correlate *cc,
							   uint64_t *rtt_missing)
{
	if (rtt_missing)
		*rtt_missing = cc->rtt_missing;
	return pp_correlate_stats(cc->c);
}

void pp_client_correlate_free(struct pp_client_correlate *cc)
{
	if (!cc)
		return;
	pp_correlate_free(cc->c);
	free(cc);
}
