/* The agent's service: the control channel serves stored events by connection, and the wire
 * capture adds this host's wire_tx / wire_rx points to the same store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent_serve.h"

#define PROG "pingpong-ebpf"

struct emit_adapter {
	pp_emit_fn emit;
	void *emit_ctx;
};

static int emit_stored(void *ctx, const struct pp_event *ev)
{
	struct emit_adapter *a = ctx;

	return a->emit(a->emit_ctx, ev);
}

static int for_each_event(void *ctx, const struct pp_flow_key *flow, pp_emit_fn emit, void *emit_ctx)
{
	struct pp_agent_serve *s = ctx;
	struct emit_adapter adapter = { emit, emit_ctx };
	struct pp_conn conn = {
		.family = flow->family,
		.a_port = flow->client_port,
		.b_port = flow->server_port,
	};

	memcpy(conn.a_addr, flow->client_addr, sizeof(conn.a_addr));
	memcpy(conn.b_addr, flow->server_addr, sizeof(conn.b_addr));
	/* in time order: the instance rules (docs/protocol.md) go by the SYN that comes first */
	return pp_eventstore_foreach_by_time(s->store, &conn, emit_stored, &adapter);
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
			const struct pp_agent_serve_opts *opts, char *err, size_t errlen)
{
	struct pp_control_server_opts copts = {
		.bind_addr = opts->control_bind,
		.port = opts->control_port,
		.source = { .for_each_event = for_each_event, .get_counts = get_counts, .ctx = s },
	};
	int rc;

	*s = (struct pp_agent_serve){ .store = store };
	rc = opts->control ? pp_control_server_open(&s->control, &copts) : 0;
	if (rc < 0) {
		snprintf(err, errlen, "cannot serve events on control port %u: %s%s", opts->control_port,
			 strerror(-rc), rc == -EADDRINUSE ? " (--control-port to choose another)" : "");
		return rc;
	}
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
		char cerr[PP_CAPTURE_ERRLEN];

		rc = pp_capture_open(&s->capture, &cap, cerr, sizeof(cerr));
		if (rc < 0) {
			snprintf(err, errlen, "wire capture: %s (--no-capture to run without)", cerr);
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

void pp_agent_serve_handle(struct pp_agent_serve *s, const struct pollfd *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (!(fds[i].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		if (s->control && fds[i].fd == pp_control_server_fd(s->control)) {
			if (s->capture) {
				struct timespec wait = { 0, PP_AGENT_CAPTURE_BATCH_MS * 1000000L };

				nanosleep(&wait, NULL);
				pp_capture_dispatch(s->capture, store_wire_event, s);
			}
			if (pp_control_server_serve_one(s->control) < 0)
				fprintf(stderr, PROG ": control request: %s\n",
					pp_control_server_error(s->control));
		} else if (s->capture && fds[i].fd == pp_capture_fd(s->capture)) {
			pp_capture_dispatch(s->capture, store_wire_event, s);
		}
	}
}

void pp_agent_serve_finish(struct pp_agent_serve *s, FILE *report)
{
	if (!s->capture)
		return;
	pp_capture_finish(s->capture, store_wire_event, s);
	if (report)
		pp_capture_report(s->capture, report);
}

void pp_agent_serve_close(struct pp_agent_serve *s)
{
	pp_capture_close(s->capture);
	pp_control_server_close(s->control);
	s->capture = NULL;
	s->control = NULL;
}
