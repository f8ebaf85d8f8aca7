// SPDX-License-Identifier: MIT
/* The client's correlation: its sorted events and the agent's streamed ones through the
 * correlator, each row completed with the loop's own round trip. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analyze/client_correlate.h"

int pp_array_source_next(void *ctx, struct pp_event *ev)
{
	struct pp_array_source *s = ctx;

	if (s->at >= s->n)
		return 0;
	*ev = s->ev[s->at++];
	return 1;
}

/* Records why the agent's events failed or ended early, in words, while the fetch (and the
 * agent's own error text) is still there. Returns err. */
static int agent_failed(struct pp_agent_source *s, int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return pp_err_set(&s->err, err, "connection refused (is pingpong-ebpf running there?)");
	case -ETIMEDOUT:
		return pp_err_set(&s->err, err, "no answer in time");
	case -ECONNRESET:
		return pp_err_set(&s->err, err, "the agent hung up before the end");
	case -EPROTO:
		return pp_err_set(&s->err, err, "the agent broke the control protocol");
	case -EPROTONOSUPPORT:
		return pp_err_set(&s->err, err, "the agent speaks another protocol version");
	case -EREMOTEIO:
		return pp_err_set(&s->err, err, "the agent answered: %s", s->fetch ?
				  pp_control_fetch_stats(s->fetch)->error_text : "an error");
	default:
		return pp_err_set(&s->err, err, "%s", strerror(-err));
	}
}

int pp_agent_source_open(struct pp_agent_source *s, const char *addr, uint16_t port,
			 const struct pp_fetch_req *req, int timeout_ms)
{
	int rc;

	*s = (struct pp_agent_source){ 0 };
	rc = pp_control_fetch_open(&s->fetch, addr, port, req, timeout_ms);
	if (rc < 0)
		return agent_failed(s, rc);
	rc = pp_control_fetch_next(s->fetch, &s->first);
	if (rc < 0)
		return agent_failed(s, rc);
	if (rc == 0)
		return 0;
	s->have_first = true;
	return 1;
}

int pp_agent_source_next(void *ctx, struct pp_event *ev)
{
	struct pp_agent_source *s = ctx;
	int rc;

	if (s->have_first) {
		*ev = s->first;
		s->have_first = false;
		s->events++;
		return 1;
	}
	if (!s->fetch || s->err.code)
		return 0;
	rc = pp_control_fetch_next(s->fetch, ev);
	if (rc < 0) {
		agent_failed(s, rc);
		return 0;
	}
	if (rc > 0)
		s->events++;
	return rc;
}

const struct pp_fetch_stats *pp_agent_source_stats(const struct pp_agent_source *s)
{
	static const struct pp_fetch_stats none;

	return s->fetch ? pp_control_fetch_stats(s->fetch) : &none;
}

void pp_agent_source_close(struct pp_agent_source *s)
{
	pp_control_fetch_close(s->fetch);
	s->fetch = NULL;
	s->have_first = false;
}

struct row_ctx {
	const struct pp_client_correlate *cc;
};

static int on_row(void *ctx, struct pp_row *row, const struct pp_split *split)
{
	const struct pp_client_correlate *cc = ((struct row_ctx *)ctx)->cc;

	if (row->index < cc->count && cc->rtt_app_ns)
		row->rtt_app_ns = cc->rtt_app_ns[row->index];
	return cc->on_row(cc->ctx, row, split);
}

/* Exchange 0 is found from start_ns: the client's first send and recv after it are the
 * first recorded ping and pong, whatever the handshake and the warm-up moved before. */
int pp_client_correlate_run(const struct pp_client_correlate *cc, struct pp_correlate_stats *st)
{
	struct pp_array_source client = { .ev = cc->client_ev, .n = cc->n_client };
	struct pp_array_source nothing = { 0 };
	struct row_ctx rctx = { .cc = cc };
	struct pp_correlate_config cfg = {
		.size = cc->size,
		.count = cc->count,
		.have_flow = true,
		.flow = cc->flow,
		.start_ns = cc->start_ns,
		.required_slots = PP_CLIENT_REQUIRED_SLOTS(cc->agent != NULL),
		.on_row = on_row,
		.ctx = &rctx,
	};
	struct pp_correlator *c;
	int rc;

	rc = pp_correlate_new(&c, &cfg);
	if (rc < 0)
		return rc;
	if (cc->agent)
		rc = pp_correlate_run(c, pp_array_source_next, &client, pp_agent_source_next, cc->agent);
	else
		rc = pp_correlate_run(c, pp_array_source_next, &client, pp_array_source_next, &nothing);
	if (st)
		*st = *pp_correlate_stats(c);
	pp_correlate_free(c);
	return rc;
}
