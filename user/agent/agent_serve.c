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

/* The flow's events in time order (the instance rules of docs/protocol.md go by the SYN that
 * comes first), built once and kept while the store does not grow: the control server walks
 * them twice per request, the second time a chunk at a time. Several requests at once take
 * turns with this one order; each change of flow builds it again. */
static int order_for(struct pp_agent_serve *s, const struct pp_flow_key *flow)
{
	struct pp_conn conn = {
		.family = flow->family,
		.a_port = flow->client_port,
		.b_port = flow->server_port,
	};
	int ret;

	if (s->order && s->order_count == pp_eventstore_count(s->store) && same_flow(&s->order_flow, flow))
		return 0;
	memcpy(conn.a_addr, flow->client_addr, sizeof(conn.a_addr));
	memcpy(conn.b_addr, flow->server_addr, sizeof(conn.b_addr));
	free(s->order);
	s->order = NULL;
	s->order_n = 0;
	if ((ret = pp_eventstore_order_by_time(s->store, &conn, &s->order, &s->order_n)) < 0)
		return ret;
	s->order_count = pp_eventstore_count(s->store);
	s->order_flow = *flow;
	return 0;
}

static int for_each_event_from(void *ctx, const struct pp_flow_key *flow, size_t start,
			       pp_emit_fn emit, void *emit_ctx)
{
	struct pp_agent_serve *s = ctx;
	int ret = order_for(s, flow);

	for (size_t i = start; i < s->order_n && !ret; i++)
		ret = emit(emit_ctx, pp_eventstore_get(s->store, s->order[i]));
	return ret;
}

static int for_each_event(void *ctx, const struct pp_flow_key *flow, pp_emit_fn emit, void *emit_ctx)
{
	return for_each_event_from(ctx, flow, 0, emit, emit_ctx);
}

static void store_wire_event(void *ctx, const struct pp_event *ev);

/* Before the answers of a round (not for every ready control fd: a flood of garbage must not
 * make the agent flush per connection): the tracer's partial batches, then the last exchange's
 * frames, which may still wait in the capture ring (PP_AGENT_CAPTURE_BATCH_MS), land in the
 * store first. */
static void prepare(void *ctx)
{
	struct pp_agent_serve *s = ctx;
	struct pp_err why = { 0 };

	if (s->flush)
		s->flush(s->flush_ctx);
	if (!s->capture)
		return;
	/* what the kernel queued so far, the ring's current block included (one sleep of a
	 * batch time and one dispatch missed frames of large bursts): bounded, since on a busy
	 * port frames keep coming */
	if (pp_capture_drain(s->capture, store_wire_event, s, PP_AGENT_ANSWER_DRAIN_MS, &why) < 0)
		s->capture_errors++;
}

/* Lost (the perf buffers) and dropped (no room here) are told apart: the first says the
 * kernel side could not keep up, the second that a client stalled or --max-events is small. */
static void get_counts(void *ctx, struct pp_end_counts *counts)
{
	struct pp_agent_serve *s = ctx;
	struct pp_capture_stats st = { 0 };

	if (s->capture)
		pp_capture_get_stats(s->capture, &st);
	counts->lost_samples = s->lost_samples;
	counts->pcap_drops = st.pcap_drop + st.unread; /* both lost frames the kernel saw */
	/* the control server adds its followers' own drops */
	counts->dropped = s->dropped + pp_eventstore_overflow(s->store);
	counts->bpf_known = s->bpf_cost &&
			    s->bpf_cost(s->bpf_cost_ctx, &counts->bpf_run_ns, &counts->bpf_runs);
}

static bool room(const struct pp_agent_serve *s)
{
	return pp_eventstore_room(s->store, s->control ? pp_control_server_queued(s->control) : 0);
}

int pp_agent_serve_event(struct pp_agent_serve *s, const struct pp_event *ev)
{
	bool free_room;

	if (s->sink) {
		s->sink(s->sink_ctx, ev);
		return 0;
	}
	free_room = room(s);
	if (s->tap)
		s->tap(s->tap_ctx, ev);
	if (s->control && pp_control_server_offer(s->control, ev, free_room))
		return free_room ? 0 : -ENOSPC;
	if (!free_room) {
		s->dropped++;
		return -ENOSPC;
	}
	return pp_eventstore_append(s->store, ev); /* a failure is counted by the store */
}

uint64_t pp_agent_serve_dropped(const struct pp_agent_serve *s)
{
	uint64_t n = s->dropped + pp_eventstore_overflow(s->store);

	if (s->control)
		n += pp_control_server_stats(s->control)->events_dropped;
	return n;
}

int pp_agent_serve_followers(const struct pp_agent_serve *s)
{
	return s->control ? pp_control_server_followers(s->control) : 0;
}

size_t pp_agent_serve_follow_report(const struct pp_agent_serve *s, char *buf, size_t len)
{
	const struct pp_control_server_stats *st;
	int n;

	if (!s->control || !(st = pp_control_server_stats(s->control))->follows || !len)
		return 0;
	n = snprintf(buf, len, "control: %llu follow conversation%s (%llu ended early), queues peaked "
		     "at %llu events", (unsigned long long)st->follows, st->follows == 1 ? "" : "s",
		     (unsigned long long)st->followers_lost, (unsigned long long)st->max_queued);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

size_t pp_agent_serve_notice(struct pp_agent_serve *s, char *buf, size_t len)
{
	return s->control ? pp_control_server_notice(s->control, buf, len) : 0;
}

static void store_wire_event(void *ctx, const struct pp_event *ev)
{
	struct pp_agent_serve *s = ctx;

	if (pp_agent_serve_event(s, ev) < 0)
		s->capture_errors++;
}

/* A follower took these events: they leave the store (its memory serves the next ones). */
static void take(void *ctx, const struct pp_flow_key *flow,
		 bool (*taken)(void *tctx, const struct pp_event *ev), void *tctx)
{
	struct pp_agent_serve *s = ctx;
	struct pp_conn conn = {
		.family = flow->family, .a_port = flow->client_port, .b_port = flow->server_port,
	};

	memcpy(conn.a_addr, flow->client_addr, sizeof(conn.a_addr));
	memcpy(conn.b_addr, flow->server_addr, sizeof(conn.b_addr));
	if (!pp_eventstore_remove(s->store, &conn, taken, tctx))
		return;
	free(s->order); /* its indexes point at moved events */
	s->order = NULL;
}

/* A vanished follower's unsent events: kept, as everything measured is, while there is room. */
static void put_back(void *ctx, const struct pp_event *ev)
{
	struct pp_agent_serve *s = ctx;

	if (!room(s)) {
		s->dropped++;
		return;
	}
	pp_eventstore_append(s->store, ev);
}

int pp_agent_serve_open(struct pp_agent_serve *s, struct pp_eventstore *store,
			const struct pp_agent_serve_opts *opts, struct pp_err *e)
{
	struct pp_control_server_opts copts = {
		.bind_addr = opts->control_bind,
		.port = opts->control_port,
		.source = { .for_each_event = for_each_event, .get_counts = get_counts,
			    .for_each_event_from = for_each_event_from, .prepare = prepare,
			    .take = take, .put_back = put_back, .ctx = s },
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
			.buffer_bytes = opts->capture_buffer_bytes,
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

	if (s->capture)
		fds[n++] = (struct pollfd){ .fd = pp_capture_fd(s->capture), .events = POLLIN };
	if (s->control)
		n += pp_control_server_pollfds(s->control, fds + n, PP_CONTROL_MAX_POLLFDS);
	return n;
}

int pp_agent_serve_handle(struct pp_agent_serve *s, const struct pollfd *fds, int n,
			  struct pp_err *e)
{
	struct pp_err why = { 0 };
	int rc, first = 0;

	if (e)
		*e = (struct pp_err){ 0 };
	if (s->capture && n > 0 && fds[0].fd == pp_capture_fd(s->capture) &&
	    (fds[0].revents & (POLLIN | POLLERR | POLLHUP))) {
		rc = pp_capture_dispatch(s->capture, store_wire_event, s, &why);
		if (rc < 0)
			first = pp_err_set(e, rc, "capture: %s", pp_err_text(&why));
	}
	/* every round, ready or not: the control server also runs its connections' deadlines */
	if (s->control) {
		why = (struct pp_err){ 0 };
		rc = pp_control_server_handle(s->control, fds, n, &why);
		if (rc < 0 && !first)
			first = pp_err_set(e, rc, "control request: %s", pp_err_text(&why));
	}
	return first;
}

size_t pp_agent_serve_summary(struct pp_agent_serve *s, bool force, char *buf, size_t len)
{
	return s->control ? pp_control_server_summary(s->control, force, buf, len) : 0;
}

int pp_agent_serve_finish(struct pp_agent_serve *s, struct pp_err *e)
{
	struct pp_err why = { 0 };
	int rc;

	if (!s->capture)
		return 0;
	/* the command's last frames may still wait in the ring's current block */
	rc = pp_capture_drain(s->capture, store_wire_event, s, PP_AGENT_CAPTURE_DRAIN_MAX_MS, &why);
	if (rc >= 0)
		rc = pp_capture_finish(s->capture, store_wire_event, s, &why);
	else
		pp_capture_finish(s->capture, store_wire_event, s, NULL);
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
