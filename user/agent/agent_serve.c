// SPDX-License-Identifier: MIT
/* The agent's service: the control channel serves stored events by connection, and the wire
 * capture adds this host's wire_tx / wire_rx points to the same store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_serve.h"

static bool same_flow(const struct pp_flow_key *a, const struct pp_flow_key *b)
{
	return a->family == b->family && a->client_port == b->client_port &&
	       a->server_port == b->server_port &&
	       !memcmp(a->client_addr, b->client_addr, sizeof(a->client_addr)) &&
	       !memcmp(a->server_addr, b->server_addr, sizeof(a->server_addr));
}

/* In time order: the instance rules (docs/protocol.md) go by the SYN that comes first. The
 * order is built once per request: the control server walks the events twice. */
static int for_each_event(void *ctx, const struct pp_flow_key *flow, pp_emit_fn emit, void *emit_ctx)
{
	struct pp_agent_serve *s = ctx;
	struct pp_conn conn = {
		.family = flow->family,
		.a_port = flow->client_port,
		.b_port = flow->server_port,
	};
	int ret = 0;

	if (!s->order || s->order_count != pp_eventstore_count(s->store) ||
	    !same_flow(&s->order_flow, flow)) {
		memcpy(conn.a_addr, flow->client_addr, sizeof(conn.a_addr));
		memcpy(conn.b_addr, flow->server_addr, sizeof(conn.b_addr));
		free(s->order);
		s->order = NULL;
		if ((ret = pp_eventstore_order_by_time(s->store, &conn, &s->order, &s->order_n)) < 0)
			return ret;
		s->order_count = pp_eventstore_count(s->store);
		s->order_flow = *flow;
	}
	for (size_t i = 0; i < s->order_n && !ret; i++)
		ret = emit(emit_ctx, pp_eventstore_get(s->store, s->order[i]));
	return ret;
}

static void get_counts(void *ctx, uint64_t *lost_samples, uint64_t *pcap_drops)
{
	struct pp_agent_serve *s = ctx;
	struct pp_capture_stats st = { 0 };

	if (s->capture)
		pp_capture_get_stats(s->capture, &st);
	/* Events the store had no room for are lost to the client just like perf losses. */
	*lost_samples = s->lost_samples + pp_eventstore_overflow(s->store);
	*pcap_drops = st.pcap_drop;
}

static void store_wire_event(void *ctx, const struct pp_event *ev)
{
	struct pp_agent_serve *s = ctx;

	if (pp_eventstore_append(s->store, ev) < 0)
		s->capture_errors++;
}

int pp_agent_serve_open(struct pp_agent_serve *s, struct pp_eventstore *store,
			const struct pp_agent_serve_opts *opts, struct pp_err *e)
{
	struct pp_control_server_opts copts = {
		.bind_addr = opts->control_bind,
		.port = opts->control_port,
		.source = { .for_each_event = for_each_event, .get_counts = get_counts, .ctx = s },
	};
	int rc;

	*s = (struct pp_agent_serve){ .store = store };
	rc = opts->control ? pp_control_server_open(&s->control, &copts) : 0;
	if (rc < 0)
		return pp_err_set(e, rc, "cannot serve events on control port %u: %s%s",
				  opts->control_port, strerror(-rc),
				  rc == -EADDRINUSE ? " (--control-port to choose another)" : "");
	if (opts->capture) {
		struct pp_capture_opts cap = {
			.iface = opts->iface ? opts->iface : "any",
			.port = opts->port,
			.tstamp_type = opts->tstamp_type,
			.pcap_out = opts->pcap_out,
			.keep_acks = opts->keep_acks,
			/* Frames wait in the ring instead of waking the agent per frame, which
			 * would perturb the server it measures; see PP_AGENT_CAPTURE_BATCH_MS. */
			.batch_ms = PP_AGENT_CAPTURE_BATCH_MS,
		};
		struct pp_err why = { 0 };

		rc = pp_capture_open(&s->capture, &cap, &why);
		if (rc < 0) {
			pp_err_set(e, rc, "wire capture: %s (--no-capture to run without)",
				   pp_err_text(&why));
			pp_control_server_close(s->control);
			s->control = NULL;
			return rc;
		}
	}
	return 0;
}

int pp_agent_serve_pollfds(const struct pp_agent_serve *s, struct pollfd *fds)
{
	int n = 0;

	if (s->control)
		fds[n++] = (struct pollfd){ .fd = pp_control_server_fd(s->control), .events = POLLIN };
	if (s->capture)
		fds[n++] = (struct pollfd){ .fd = pp_capture_fd(s->capture), .events = POLLIN };
	return n;
}

bool pp_agent_serve_request_waiting(const struct pp_agent_serve *s, const struct pollfd *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (s->control && fds[i].fd == pp_control_server_fd(s->control) &&
		    (fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
			return true;
	return false;
}

/* Keeps the first failure of a round in e; the others cost only their own request. */
static int first_failure(struct pp_err *e, int rc, const struct pp_err *why, const char *what)
{
	if (rc >= 0 || (e && e->code))
		return 0;
	return pp_err_set(e, rc, "%s: %s", what, pp_err_text(why));
}

int pp_agent_serve_handle(struct pp_agent_serve *s, const struct pollfd *fds, int n,
			  struct pp_err *e)
{
	struct pp_err why = { 0 };
	int rc, first = 0;

	if (e)
		*e = (struct pp_err){ 0 };
	for (int i = 0; i < n; i++) {
		if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		if (s->control && fds[i].fd == pp_control_server_fd(s->control)) {
			if (s->capture) {
				struct timespec wait = { 0, PP_AGENT_CAPTURE_BATCH_MS * 1000000L };

				nanosleep(&wait, NULL);
				rc = pp_capture_dispatch(s->capture, store_wire_event, s, &why);
				first = first ? first : first_failure(e, rc, &why, "capture");
			}
			why = (struct pp_err){ 0 };
			rc = pp_control_server_serve_one(s->control, &why);
			first = first ? first : first_failure(e, rc, &why, "control request");
		} else if (s->capture && fds[i].fd == pp_capture_fd(s->capture)) {
			rc = pp_capture_dispatch(s->capture, store_wire_event, s, &why);
			first = first ? first : first_failure(e, rc, &why, "capture");
		}
	}
	return first;
}

int pp_agent_serve_finish(struct pp_agent_serve *s, struct pp_err *e)
{
	struct pp_err why = { 0 };
	int rc;

	if (!s->capture)
		return 0;
	rc = pp_capture_finish(s->capture, store_wire_event, s, &why);
	return rc < 0 ? pp_err_set(e, rc, "capture: %s", pp_err_text(&why)) : 0;
}

size_t pp_agent_serve_report(const struct pp_agent_serve *s, char *buf, size_t len)
{
	if (!s->capture) {
		if (len)
			buf[0] = '\0';
		return 0;
	}
	return pp_capture_report(s->capture, buf, len);
}

void pp_agent_serve_close(struct pp_agent_serve *s)
{
	free(s->order);
	s->order = NULL;
	pp_capture_close(s->capture);
	pp_control_server_close(s->control);
	s->capture = NULL;
	s->control = NULL;
}
