// SPDX-License-Identifier: MIT
/* pingpong-client: traces its own side (unless --no-trace), connects, runs the warm-up and the
 * recorded exchanges, fetches the server host's events from the agent, correlates, writes
 * results.csv and prints the summary. Every failure is one line on stderr; exit 0 ok,
 * 1 runtime, 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "analyze/client_correlate.h"
#include "ping/client_opts.h"
#include "collect/client_trace.h"
#include "collect/fetch.h"
#include "common/net.h"
#include "ping/client_loop.h"
#include "common/privdrop.h"
#include "analyze/results.h"
#include "analyze/summary.h"
#include "collect/trace.h"
#include "common/log.h"

#define PROG "pingpong-client"
/* The agent drains its perf buffers every 100 ms or so (pingpong-ebpf's poll period), then
 * its capture ring (batched): by this long after our last exchange its store has them all. */
#define AGENT_SETTLE_MS 300

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* No SA_RESTART: a signal ends a sleep between exchanges instead of waiting it out. */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pp_net_set_abort_flag(&stop_signal); /* a mute agent must not hold a Ctrl-C for 5 s */
}

struct run {
	struct pp_client_opts opts;
	struct pp_addr addrs[PP_MAX_ADDRS];
	size_t naddrs;
	struct pp_addr server, local;
	char server_text[PP_ADDRSTRLEN];
	char server_host[PP_ADDRSTRLEN];  /* numeric, for the capture and the agent */
	int fd;
	int64_t *rtt_ns;          /* opts.count samples */
	uint64_t recorded;        /* exchanges completed and recorded */
	int end_err;              /* why the recorded run ended early, 0 = it did not */
	uint64_t start_ns;        /* CLOCK_MONOTONIC just before exchange 0 */
	uint64_t end_ns;          /* after the last exchange */

	struct pp_client_trace *ct;   /* NULL: not traced */
	struct pp_flow_key flow;
	struct pp_agent_source agent;
	bool have_agent;              /* the agent has events of this connection */
};

static int resolve_server(struct run *r)
{
	int rc = pp_resolve(r->opts.addr, r->opts.port, false, r->addrs, PP_MAX_ADDRS, &r->naddrs);

	if (rc == -ENOENT) {
		pp_log_error("unknown host '%s'", r->opts.addr);
		return rc;
	}
	if (rc) {
		pp_log_error("cannot resolve '%s': %s", r->opts.addr,
			rc == -EAGAIN ? "temporary resolver failure" : strerror(-rc));
		return rc;
	}
	return 0;
}

static int connect_server(struct run *r)
{
	struct pp_addr *addrs = r->addrs;
	socklen_t len = sizeof(r->local.ss);
	size_t n = r->naddrs;
	int rc;

	rc = pp_connect(addrs, n, PP_CLIENT_HELLO_TIMEOUT_MS, &r->server);
	if (rc < 0) {
		pp_addr_format(&addrs[n - 1], r->server_text, sizeof(r->server_text));
		pp_log_error("cannot connect to %s: %s", r->server_text,
			rc == -ETIMEDOUT ? "no answer within 5 s" : strerror(-rc));
		return rc;
	}
	r->fd = rc;
	pp_addr_format(&r->server, r->server_text, sizeof(r->server_text));
	pp_addr_host(&r->server, r->server_host, sizeof(r->server_host));
	r->local.len = len;
	if (getsockname(r->fd, (struct sockaddr *)&r->local.ss, &len) == 0)
		r->local.len = len;
	return 0;
}

static int handshake(struct run *r)
{
	struct pp_hs_reply reply;
	int rc;

	pp_set_timeouts(r->fd, PP_CLIENT_HELLO_TIMEOUT_MS, PP_CLIENT_HELLO_TIMEOUT_MS);
	rc = pp_client_hello(r->fd, r->opts.size, r->opts.warmup + r->opts.count, &reply);
	if (rc == -EAGAIN) {
		pp_log_error("%s did not answer the handshake within 5 s "
			"(is it a pingpong-server?)", r->server_text);
		return rc;
	}
	if (rc == -EPROTO) {
		pp_log_error("%s answered the handshake with something else "
			"(is it a pingpong-server?)", r->server_text);
		return rc;
	}
	if (rc) {
		pp_log_error("handshake with %s failed: %s", r->server_text,
			rc == -EPIPE ? "server closed the connection" : strerror(-rc));
		return rc;
	}
	if (reply.status != PP_HS_OK) {
		pp_log_error("%s refused: %s%s%s%s", r->server_text,
			pp_hs_status_name(reply.status), reply.reason[0] ? " (" : "", reply.reason,
			reply.reason[0] ? ")" : "");
		return -ECONNREFUSED;
	}
	/* No receive timeout in the loop: a watchdog thread does that job (watchdog.h). */
	return pp_set_timeouts(r->fd, 0, PP_CLIENT_PONG_TIMEOUT_MS);
}

static const char *loop_error(int rc)
{
	switch (rc) {
	case -EPIPE:
	case -ECONNRESET:
		return "the server closed the connection";
	case -EAGAIN:
	case -ETIMEDOUT:
		return "no pong for 10 s";
	case -EBADMSG:
		return "a pong was not the echo of its ping";
	case -EINTR:
		return "interrupted";
	default:
		return strerror(-rc);
	}
}

/* On a terminal: "done/total exchanges", rewritten in place. */
static void show_progress(uint64_t done, uint64_t total)
{
	pp_log_status("%llu/%llu exchanges", (unsigned long long)done, (unsigned long long)total);
}

static int exchange(struct run *r)
{
	struct pp_client_loop loop;
	struct pp_watch watch;
	struct pp_watchdog dog;
	uint64_t done = 0;
	int rc;

	rc = pp_client_loop_init(&loop, r->fd, r->opts.size);
	if (rc) {
		pp_log_error("cannot allocate 2 x %u bytes", r->opts.size);
		return rc;
	}
	loop.interval_ns = r->opts.interval_us * 1000;
	loop.spin = r->opts.spin;
	pp_watch_init(&watch);
	/* The pause between two exchanges is not the server's fault. */
	rc = pp_watchdog_start(&dog, &watch, r->fd,
			       (uint64_t)PP_CLIENT_PONG_TIMEOUT_MS * 1000000 + loop.interval_ns);
	if (rc) {
		pp_log_error("cannot start the watchdog thread: %s", strerror(-rc));
		pp_client_loop_free(&loop);
		return rc;
	}
	loop.watch = &watch;
	loop.stop = &stop_signal;
	loop.progress = isatty(STDERR_FILENO) ? show_progress : NULL;
	loop.progress_total = r->opts.warmup + r->opts.count;
	rc = pp_client_loop_run(&loop, r->opts.warmup, NULL, &done);
	if (rc) {
		pp_watchdog_stop(&dog);
		pp_log_error("%s during the warm-up (%llu of %llu); nothing recorded",
			loop_error(rc), (unsigned long long)done,
			(unsigned long long)r->opts.warmup);
		pp_client_loop_free(&loop);
		return rc;
	}
	loop.progress_done = done;
	/* Outside the timed region: exchange 0's first send is the client's first after this. */
	r->start_ns = pp_monotonic_ns();
	rc = pp_client_loop_run(&loop, r->opts.count, r->rtt_ns, &r->recorded);
	r->end_ns = pp_monotonic_ns();
	pp_watchdog_stop(&dog);
	pp_log_status_end();
	pp_client_loop_free(&loop);
	if (rc && r->recorded == 0) {
		pp_log_error("%s before the first recorded exchange; nothing recorded",
			loop_error(rc));
		return rc;
	}
	r->end_err = rc;
	return 0;
}

/* ---- this host's trace and capture ---- */

/* An option that only makes sense traced: then failing to trace is an error, not a warning. */
static const char *needs_tracing(const struct pp_client_opts *o)
{
	return o->events_out ? "--events-out" : o->pcap_out ? "--pcap-out" : o->iface ? "--iface" : NULL;
}

/* Before connect, so that the SYN (the connection's ISN) is traced. Without the privileges a
 * user of sockperf would still want the round trips: one warning line, then rtt_app only. */
static int open_trace(struct run *r)
{
	struct pp_client_trace_opts to = {
		.server_port = r->opts.port,
		.perf_pages = r->opts.perf_pages,
		.max_events = (size_t)r->opts.max_events,
		.verbosity = r->opts.verbosity,
	};
	const char *needed = needs_tracing(&r->opts);
	struct pp_err err = { 0 };
	int rc;

	if (r->opts.no_trace)
		return 0;
	rc = pp_client_trace_open(&r->ct, &to, &err);
	if (!rc)
		return 0;
	if (needed) {
		pp_log_error("%s (%s needs it)", pp_err_text(&err), needed);
		return rc;
	}
	pp_log_warn("%s: measuring rtt_app only; --no-trace does so without this "
		"warning", pp_err_text(&err));
	return 0;
}

/* Once root's work is done (BPF loaded, capture and socket open): --user, with no
 * capability at all. Before the reader thread starts, so that every thread has dropped. */
static int drop_privileges(const struct run *r)
{
	struct pp_err err = { 0 };
	int rc = pp_privdrop_to(r->opts.user, r->opts.keep_root, false, &err);

	return rc < 0 ? pp_log_fail(&err, rc) : 0;
}

/* Before anything is opened: the helper that creates our outputs as root holds nothing else. */
static int start_output_helper(const struct run *r)
{
	const char *outputs[4] = { r->opts.output, r->opts.summary_json, r->opts.events_out,
				   r->opts.pcap_out };
	int rc;

	if (r->opts.keep_root || geteuid() != 0)
		return 0;
	if ((rc = pp_privdrop_outputs(outputs, 4)) < 0)
		pp_log_error("cannot start the output helper: %s", strerror(-rc));
	return rc;
}

/* After connect (the capture filters on the address connect chose), before the hello. */
static int start_trace(struct run *r)
{
	struct pp_capture_opts co = {
		.iface = r->opts.iface,
		.peer = r->server_host,
		.port = r->opts.port,
		.pcap_out = r->opts.pcap_out,
	};
	struct pp_err err = { 0 };
	int rc;

	if (!r->ct)
		return drop_privileges(r);
	pp_flow_key_from_sockaddrs(&r->flow, (const struct sockaddr *)&r->local.ss,
				   (const struct sockaddr *)&r->server.ss);
	if (!r->opts.no_capture && (rc = pp_client_trace_add_capture(r->ct, &co, &err))) {
		if (r->opts.iface || r->opts.pcap_out)
			return pp_log_fail(&err, rc);
		pp_log_warn("no wire capture (%s): wire columns are empty", pp_err_text(&err));
	}
	if ((rc = drop_privileges(r)) != 0)
		return rc;
	rc = pp_client_trace_start(r->ct, &r->flow);
	if (rc)
		pp_log_error("cannot start the trace reader: %s", strerror(-rc));
	return rc;
}

static void stop_trace(struct run *r)
{
	struct pp_client_trace_stats st;
	struct pp_err err = { 0 };

	if (!r->ct)
		return;
	if (pp_client_trace_stop(r->ct, &err))
		pp_log_warn("%s; the events read until then are used", pp_err_text(&err));
	pp_client_trace_get_stats(r->ct, &st);
	if (st.overflow)
		pp_log_warn("--max-events %" PRIu64 " reached: %" PRIu64 " later events "
			"dropped, their exchanges are incomplete", r->opts.max_events, st.overflow);
}

static int write_event_log(const struct run *r)
{
	int rc;

	if (!r->ct || !r->opts.events_out)
		return 0;
	rc = pp_client_trace_write_log(r->ct, r->opts.events_out);
	if (rc)
		pp_log_error("cannot write %s: %s", r->opts.events_out, strerror(-rc));
	return rc;
}

/* ---- the server host's events ---- */

static void sleep_until(uint64_t mono_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(mono_ns / 1000000000u),
			       .tv_nsec = (long)(mono_ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_signal)
		;
}

static void fetch_agent(struct run *r)
{
	struct pp_fetch_req req = { .flow = r->flow };
	char agent[PP_ADDRSTRLEN + 8];
	int rc;

	if (!r->ct || r->opts.no_agent)
		return;
	if (stop_signal) { /* the user asked us to stop: not another 5 s for the agent */
		pp_log_warn("interrupted: the server's events are not fetched");
		return;
	}
	if (!r->opts.control_port) {
		pp_log_warn("no control port to ask (--port 65535 has no port + 1; give "
			"--control-port): server columns are empty");
		return;
	}
	snprintf(agent, sizeof(agent), r->flow.family == PP_AF_INET6 ? "[%s]:%u" : "%s:%u",
		 r->server_host, r->opts.control_port);
	if (pp_client_trace_isn(r->ct, &req.isn))
		req.flags |= PP_FETCH_HAVE_ISN;
	sleep_until(r->end_ns + AGENT_SETTLE_MS * 1000000ull);
	rc = pp_agent_source_open(&r->agent, r->server_host, r->opts.control_port, &req,
				  PP_CONTROL_DEFAULT_TIMEOUT_MS);
	if (rc > 0) {
		r->have_agent = true;
		return;
	}
	if (rc == 0)
		pp_log_warn("the agent at %s has no events of this connection: server "
			"columns are empty", agent);
	else
		pp_log_warn("no agent at %s (%s): server columns are empty", agent,
			pp_err_text(&r->agent.err));
	pp_agent_source_close(&r->agent);
}

/* ---- rows and the summary ---- */

struct sink {
	struct pp_results *csv;
	struct pp_summary *sum;
};

static int sink_row(void *ctx, struct pp_row *row, const struct pp_split *split)
{
	struct sink *k = ctx;
	int rc = pp_results_write(k->csv, row);

	(void)split;
	return rc ? rc : pp_summary_add(k->sum, row);
}

static int untraced_rows(struct run *r, struct sink *k, struct pp_summary_info *info)
{
	for (uint64_t i = 0; i < r->recorded; i++) {
		struct pp_row row = { .index = i, .rtt_app_ns = r->rtt_ns[i] };
		int rc = sink_row(k, &row, NULL);

		if (rc)
			return rc;
	}
	info->exchanges = r->recorded;
	return 0;
}

static void verbose_counts(const struct run *r, const struct pp_correlate_stats *st)
{
	struct pp_client_trace_stats ts;
	const struct pp_capture *cap = pp_client_trace_capture(r->ct);

	pp_client_trace_get_stats(r->ct, &ts);
	pp_log_debug("client host: %" PRIu64 " events of this connection, %" PRIu64
		" of others not kept, %" PRIu64 " lost, %" PRIu64 " tracepoint hits skipped by the "
		"kernel", ts.events, ts.foreign, ts.lost, ts.skipped);
	if (cap) {
		char report[PP_CAPTURE_REPORT_MAX];

		pp_capture_report(cap, report, sizeof(report));
		pp_log_lines(PP_LOG_DEBUG, report);
	}
	if (r->have_agent)
		pp_log_debug("agent: %" PRIu64 " events of this connection",
			r->agent.events);
	pp_log_debug("correlation: %" PRIu64 " events used; ignored: %" PRIu64
		" of other connections, %" PRIu64 " without payload, %" PRIu64 " before exchange 0, %"
		PRIu64 " after the last, %" PRIu64 " unplaced; %" PRIu64 " out of order",
		st->events_used, st->events_foreign, st->events_no_payload, st->events_stale,
		st->events_after, st->events_unplaced, st->events_out_of_order);
}

/* Incomplete rows have a cause the user can act on (or at least know): say which. */
static void explain_losses(const struct run *r, const struct pp_client_trace_stats *ts,
			   const struct pp_correlate_stats *st)
{
	if (ts->lost)
		pp_log_warn("the kernel dropped %" PRIu64 " events (perf buffer full): "
			"raise --perf-pages (now %zu per CPU)", ts->lost,
			r->opts.perf_pages ? r->opts.perf_pages : (size_t)PP_TRACE_DEFAULT_PAGES);
	if (st->incomplete && ts->skipped)
		pp_log_warn("%" PRIu64 " rows incomplete; the kernel skipped %" PRIu64
			" tracepoint hits on this host (another BPF program was running on that "
			"CPU)", st->incomplete, ts->skipped);
}

static int traced_rows(struct run *r, struct sink *k, struct pp_summary_info *info)
{
	struct pp_client_correlate cc = {
		.size = r->opts.size,
		.count = r->recorded,
		.flow = r->flow,
		.start_ns = r->start_ns,
		.rtt_app_ns = r->rtt_ns,
		.agent = r->have_agent ? &r->agent : NULL,
		.on_row = sink_row,
		.ctx = k,
	};
	struct pp_client_trace_stats ts;
	struct pp_correlate_stats st;
	int rc;

	cc.client_ev = pp_client_trace_events(r->ct, &cc.n_client);
	rc = pp_client_correlate_run(&cc, &st);
	if (rc)
		return rc;
	pp_client_trace_get_stats(r->ct, &ts);
	info->exchanges = st.rows;
	info->matched = st.complete;
	info->incomplete = st.incomplete;
	info->retransmitted = st.retransmitted;
	info->required_slots = PP_CLIENT_REQUIRED_SLOTS(cc.agent != NULL);
	info->traced = true;
	info->capture = ts.capture;
	/* as the agent counts its own: perf buffer losses and events the store had no room for */
	info->lost_samples_client = ts.lost + ts.overflow;
	info->pcap_drops_client = ts.cap.pcap_drop;
	if (r->have_agent) {
		const struct pp_fetch_stats *fs = pp_agent_source_stats(&r->agent);

		info->server_events = r->agent.events > 0;
		info->lost_samples_server = fs->agent.lost_samples + fs->agent.dropped;
		info->pcap_drops_server = fs->agent.pcap_drops;
		if (r->agent.err.code)
			pp_log_warn("the agent's events ended early (%s): later rows lack "
				"server points, and its loss counts are unknown",
				pp_err_text(&r->agent.err));
	}
	explain_losses(r, &ts, &st);
	if (pp_log_enabled(PP_LOG_DEBUG))
		verbose_counts(r, &st);
	return 0;
}

static int report(struct run *r, struct pp_results *csv)
{
	struct sink sink = { .csv = csv, .sum = pp_summary_new() };
	char what[512], local[PP_ADDRSTRLEN], partial[160] = "";
	struct pp_summary_info info = { .what = what, .run_start_ns = r->start_ns,
					.run_end_ns = r->end_ns };
	int rc;

	if (!sink.sum) {
		pp_results_abort(csv);
		return -ENOMEM;
	}
	if (r->end_err)
		snprintf(partial, sizeof(partial), " (PARTIAL: %llu of %llu completed, %s)",
			 (unsigned long long)r->recorded, (unsigned long long)r->opts.count,
			 loop_error(r->end_err));
	snprintf(what, sizeof(what), "%u B x %llu exchanges%s, %s -> %s", r->opts.size,
		 (unsigned long long)r->opts.count, partial,
		 pp_addr_format(&r->local, local, sizeof(local)), r->server_text);
	rc = r->ct ? traced_rows(r, &sink, &info) : untraced_rows(r, &sink, &info);
	if (rc) {
		pp_results_abort(csv);
		pp_log_error("cannot write %s: %s", r->opts.output, strerror(-rc));
		goto out;
	}
	rc = pp_results_commit(csv);
	if (rc) {
		pp_log_error("cannot write %s: %s", r->opts.output, strerror(-rc));
		goto out;
	}
	rc = pp_summary_print(sink.sum, &info, stdout);
	if (rc)
		pp_log_error("cannot print the summary: %s", strerror(-rc));
	if (!rc && r->opts.summary_json) {
		rc = pp_summary_write_json(sink.sum, &info, r->opts.summary_json);
		if (rc)
			pp_log_error("cannot write %s: %s", r->opts.summary_json,
				strerror(-rc));
	}
out:
	pp_summary_free(sink.sum);
	return rc;
}

static int run(struct run *r)
{
	struct pp_results *csv = NULL;
	int rc;

	if ((rc = start_output_helper(r)) != 0)
		return rc;
	/* Created (as a temp file) before the run, so an unwritable path fails in a second,
	 * not after the whole run; it gets its name only at the end. */
	rc = pp_results_open(&csv, r->opts.output);
	if (rc) {
		pp_log_error("cannot create %s: %s", r->opts.output, strerror(-rc));
		return rc;
	}
	r->rtt_ns = malloc(r->opts.count * sizeof(*r->rtt_ns));
	if (!r->rtt_ns) {
		pp_log_error("cannot allocate %llu samples",
			(unsigned long long)r->opts.count);
		pp_results_abort(csv);
		return -ENOMEM;
	}
	/* Touched now: a page fault inside the loop would be measured. */
	memset(r->rtt_ns, 0xff, r->opts.count * sizeof(*r->rtt_ns));
	rc = resolve_server(r);
	if (!rc)
		rc = open_trace(r);
	if (!rc)
		rc = connect_server(r);
	if (!rc)
		rc = start_trace(r);
	if (!rc)
		rc = handshake(r);
	if (!rc)
		rc = exchange(r);
	if (r->fd >= 0)
		close(r->fd);
	stop_trace(r);
	if (!rc)
		rc = write_event_log(r);
	if (rc) {
		pp_results_abort(csv);
		return rc;
	}
	fetch_agent(r);
	if (stop_signal && !r->end_err)
		r->end_err = -EINTR; /* during the fetch: the exchanges are all there, not the server's events */
	rc = report(r, csv);
	if (!rc && r->end_err) {
		pp_log_error("%s after %llu of %llu exchanges; %s holds the %llu "
			"completed (marked PARTIAL in the summary)", loop_error(r->end_err),
			(unsigned long long)r->recorded, (unsigned long long)r->opts.count,
			r->opts.output, (unsigned long long)r->recorded);
		rc = r->end_err;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct run r = { .fd = -1 };
	struct pp_err err = { 0 };
	int rc;

	pp_log_init(PROG);
	if ((rc = pp_client_opts_parse(argc, argv, &r.opts, &err)) != PP_OPTS_OK)
		return rc == PP_OPTS_HELP ? (pp_opts_usage(&pp_client_opts_spec, stdout), 0)
		                          : pp_log_fail(&err, 2);
	pp_log_more(r.opts.verbosity);
	setup_signals();
	rc = run(&r);
	pp_agent_source_close(&r.agent);
	pp_client_trace_close(r.ct);
	free(r.rtt_ns);
	pp_privdrop_outputs_close();
	return rc ? 1 : 0;
}
