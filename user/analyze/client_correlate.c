// SPDX-License-Identifier: MIT
/* The client's live correlation: the correlator fed as events arrive, each row completed with
 * the loop's own round trip (client_correlate.h). */
#include <errno.h>
#include <stdlib.h>

#include "analyze/client_correlate.h"

/* Events held until the SYN and the SYN+ACK have both come by, at most this many; past it (or
 * at the client's end) the correlator derives the bases from what it holds. */
#define PENDING_MAX 65536

struct pending {
	struct pp_event ev;
	uint8_t host;
};

struct pp_client_correlate {
	struct pp_correlate_config cfg;
	struct pp_correlator *c;        /* NULL until the bases are known (or given up on) */
	struct pending *pend;
	size_t npend;
	bool have_syn, have_synack, end_server_pending;
	uint32_t isn, server_isn;
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

/* The correlator, from the SYN and the SYN+ACK when both came by (exact whatever order the
 * other events arrive in), else derived by the correlator from the events it holds. */
static int start_correlator(struct pp_client_correlate *cc)
{
	struct pp_correlate_config cfg = cc->cfg;
	int rc;

	if (cc->have_syn && cc->have_synack) {
		cfg.have_ping_seq = cfg.have_pong_seq = true;
		cfg.ping_seq = cc->isn + 1 + (uint32_t)cfg.ping_skip_bytes;
		cfg.pong_seq = cc->server_isn + 1 + (uint32_t)cfg.pong_skip_bytes;
	}
	if ((rc = pp_correlate_new(&cc->c, &cfg)) < 0)
		return rc;
	for (size_t i = 0; i < cc->npend; i++)
		if ((rc = pp_correlate_push(cc->c, cc->pend[i].host, &cc->pend[i].ev)) < 0)
			return rc;
	/* the server's end came after every server event held (they arrived before it) */
	if (cc->end_server_pending && (rc = pp_correlate_end_host(cc->c, PP_SERVER)) < 0)
		return rc;
	free(cc->pend);
	cc->pend = NULL;
	cc->npend = 0;
	return 0;
}

/* Exchange 0 starts skip bytes into each stream (ISN + 1 from the client's SYN, the server's
 * from its SYN+ACK), so events are placed as they come, without waiting for the warm-up. */
int pp_client_correlate_new(struct pp_client_correlate **out,
			    const struct pp_client_correlate_opts *o)
{
	struct pp_client_correlate *cc;

	*out = NULL;
	if (!o->on_row || !o->count || !o->size || o->size > PP_MSG_SIZE_MAX ||
	    !pp_flow_key_valid(&o->flow))
		return -EINVAL;
	if (!(cc = calloc(1, sizeof(*cc))))
		return -ENOMEM;
	if (!(cc->pend = malloc(PENDING_MAX * sizeof(*cc->pend)))) {
		free(cc);
		return -ENOMEM;
	}
	cc->rtt = o->rtt;
	cc->on_row = o->on_row;
	cc->ctx = o->ctx;
	cc->cfg = (struct pp_correlate_config){
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
		.ctx = cc,
	};
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

/* The client host's SYN (no ACK, to the server) and SYN+ACK (to the client), any point. */
static void note_syn(struct pp_client_correlate *cc, const struct pp_event *ev)
{
	enum pp_flow_dir dir = pp_flow_dir(&cc->cfg.flow, ev);

	if ((ev->tcp_flags & (PP_TCP_SYN | PP_TCP_ACK)) == PP_TCP_SYN && dir == PP_DIR_TO_SERVER) {
		cc->isn = ev->seq;
		cc->have_syn = true;
	} else if ((ev->tcp_flags & (PP_TCP_SYN | PP_TCP_ACK)) == (PP_TCP_SYN | PP_TCP_ACK) &&
		   dir == PP_DIR_TO_CLIENT) {
		cc->server_isn = ev->seq;
		cc->have_synack = true;
	}
}

int pp_client_correlate_push(struct pp_client_correlate *cc, enum pp_host host,
			     const struct pp_event *ev)
{
	if (cc->error || cc->ended[host])
		return cc->error;
	if (cc->c)
		return keep(cc, pp_correlate_push(cc->c, host, ev));
	if (host == PP_CLIENT)
		note_syn(cc, ev);
	cc->pend[cc->npend++] = (struct pending){ .ev = *ev, .host = (uint8_t)host };
	if ((cc->have_syn && cc->have_synack) || cc->npend == PENDING_MAX)
		return keep(cc, start_correlator(cc));
	return 0;
}

int pp_client_correlate_set_recorded(struct pp_client_correlate *cc, uint64_t n)
{
	if (!cc->c) {
		cc->cfg.count = n ? n : 1;
		return cc->error;
	}
	return keep(cc, pp_correlate_set_count(cc->c, n));
}

int pp_client_correlate_end_host(struct pp_client_correlate *cc, enum pp_host host)
{
	if (cc->ended[host])
		return cc->error;
	cc->ended[host] = true;
	if (cc->error)
		return cc->error;
	if (!cc->c) {
		if (host == PP_SERVER) {
			cc->end_server_pending = true;
			return 0;
		}
		if (keep(cc, start_correlator(cc)))
			return cc->error;
	}
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
	static const struct pp_correlate_stats none;

	if (rtt_missing)
		*rtt_missing = cc->rtt_missing;
	return cc->c ? pp_correlate_stats(cc->c) : &none;
}

void pp_client_correlate_free(struct pp_client_correlate *cc)
{
	if (!cc)
		return;
	pp_correlate_free(cc->c);
	free(cc->pend);
	free(cc);
}
