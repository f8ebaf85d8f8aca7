// SPDX-License-Identifier: MIT
/* pingpong-client: traces its own side (unless --no-trace), connects, follows the server host's
 * events from the agent, runs the warm-up and the recorded exchanges while another thread
 * correlates both hosts' events into rows as they settle (results.csv, the summary, --report
 * lines), then prints the summary. Every failure is one line on stderr; exit 0 ok, 1 runtime,
 * 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#include "analyze/live_report.h"
#include "analyze/results.h"
#include "analyze/summary.h"
#include "collect/trace.h"
#include "common/log.h"

#define PROG "pingpong-client"
/* Untraced rows are taken from the loop's sample ring this often. */
#define UNTRACED_POLL_MS 50

static volatile sig_atomic_t stop_signal;
/* The run is over and the agent's last events are coming: a signal now, or a second one, means
 * the user will not wait for them. */
static volatile sig_atomic_t waiting_for_agent, abort_wait;

static void on_signal(int sig)
{
	if (stop_signal || waiting_for_agent)
		abort_wait = 1;
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
	struct pp_hs_reply reply;
	struct pp_sample_ring rtt;    /* the loop's own clock, read by whoever writes the rows */
	uint64_t recorded;        /* exchanges completed and recorded */
	int end_err;              /* why the recorded run ended early, 0 = it did not */
	uint64_t start_ns;        /* CLOCK_MONOTONIC just before exchange 0 */
	uint64_t end_ns;          /* after the last exchange */

	struct pp_client_trace *ct;   /* NULL: not traced */
	struct pp_flow_key flow;
	bool following;               /* the agent's events of this connection come as we go */
	char agent_name[PP_ADDRSTRLEN + 8];
	struct pp_client_correlate *cc;

	/* where rows go, from the correlating thread (or the untraced rows' thread) */
	struct pp_results *csv;
	struct pp_summary *sum;
	struct pp_live_report *live;
	int sink_err;                 /* the first failure to write a row */
	uint64_t rows;
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
	r->reply = reply;
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
	/* --report's lines are the progress then; two kinds on one terminal would garble */
	loop.progress = isatty(STDERR_FILENO) && !r->opts.report_s ? show_progress : NULL;
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
	rc = pp_client_loop_run(&loop, r->opts.count, &r->rtt, &r->recorded);
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

/* ---- where rows go ---- */

/* Every row, traced or not: results.csv, the summary, the live report. A failure stops the
 * correlation (its error is sticky) and is reported once the run is over. */
static int put_row(struct run *r, struct pp_row *row, uint64_t start_ns)
{
	int rc = pp_results_write(r->csv, row);

	if (!rc)
		rc = pp_summary_add(r->sum, row);
	if (!rc && r->live && start_ns)
		rc = pp_live_report_add(r->live, start_ns, row);
	if (rc && !r->sink_err)
		r->sink_err = rc;
	r->rows++;
	return rc;
}

static int on_row(void *ctx, struct pp_row *row, uint64_t start_ns)
{
	return put_row(ctx, row, start_ns);
}

/* The events of both hosts, from the trace's reader thread (client_trace.h). */
static void on_event(void *ctx, enum pp_origin origin, const struct pp_event *ev)
{
	struct run *r = ctx;
	enum pp_host host = origin == PP_FROM_AGENT ? PP_SERVER : PP_CLIENT;

	if (!r->cc)
		return;
	if (ev) {
		pp_client_correlate_push(r->cc, host, ev);
		return;
	}
	/* the client host's end comes from stop(), after the loop: recorded is final */
	if (host == PP_CLIENT)
		pp_client_correlate_set_recorded(r->cc, r->recorded);
	pp_client_correlate_end_host(r->cc, host);
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
		.syscall_points = r->opts.syscall_points,
		.tcp_point = r->opts.tcp_point,
		.sched = r->opts.sched,
		.probe_cost = r->opts.probe_cost,
		.verbosity = r->opts.verbosity,
		.events_out = r->opts.events_out,
		.on_event = on_event,
		.ctx = r,
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
static int open_capture(struct run *r)
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
	co.local_port = r->flow.client_port;
	if ((rc = pp_client_trace_filter(r->ct, &r->flow)) < 0) {
		pp_log_error("cannot filter the tracer to this connection: %s", strerror(-rc));
		return rc;
	}
	if (!r->opts.no_capture && (rc = pp_client_trace_add_capture(r->ct, &co, &err))) {
		if (r->opts.iface || r->opts.pcap_out)
			return pp_log_fail(&err, rc);
		pp_log_warn("no wire capture (%s): wire columns are empty", pp_err_text(&err));
	}
	return drop_privileges(r);
}

/* ---- the server host's events ---- */

/* Once the connection is up (the agent has its SYN): the agent sends this connection's events
 * from now on as they come. Without an agent the client's own columns are still measured. */
static void follow_agent(struct run *r)
{
	struct pp_fetch_req req = { .flow = r->flow };
	struct pp_fetch *f = NULL;
	int rc;

	if (r->opts.no_agent)
		return;
	if (!r->opts.control_port) {
		pp_log_warn("no control port to ask (--port 65535 has no port + 1; give "
			"--control-port): server columns are empty");
		return;
	}
	snprintf(r->agent_name, sizeof(r->agent_name),
		 r->flow.family == PP_AF_INET6 ? "[%s]:%u" : "%s:%u", r->server_host,
		 r->opts.control_port);
	rc = pp_control_follow_open(&f, r->server_host, r->opts.control_port, &req,
				    PP_CONTROL_DEFAULT_TIMEOUT_MS);
	if (rc < 0) {
		const struct pp_fetch_stats *fs = f ? pp_control_fetch_stats(f) : NULL;

		if (rc == -ECONNREFUSED)
			pp_log_warn("no agent at %s (connection refused: is pingpong-ebpf running "
				"there?): server columns are empty", r->agent_name);
		else if (rc == -EPROTONOSUPPORT)
			pp_log_warn("the agent at %s speaks another control protocol version: use "
				"the same pingpong version on both hosts; server columns are empty",
				r->agent_name);
		else
			pp_log_warn("no agent at %s (%s): server columns are empty", r->agent_name,
				fs && fs->error_text[0] ? fs->error_text : strerror(-rc));
		pp_control_fetch_close(f);
		return;
	}
	pp_client_trace_follow(r->ct, f, r->agent_name);
	r->following = true;
}

/* After the hello: exchange 0 is the handshake and the warm-up's bytes into each stream, and
 * the rows start coming while the run goes. */
static int start_correlation(struct run *r)
{
	uint64_t warm = r->opts.warmup * r->opts.size;
	struct pp_client_correlate_opts co = {
		.size = r->opts.size,
		.count = r->opts.count,
		.flow = r->flow,
		.ping_skip_bytes = PP_HS_HELLO_LEN + warm,
		.pong_skip_bytes = PP_HS_REPLY_HDR + strlen(r->reply.reason) + warm,
		.agent = r->following,
		.hold_max = (uint32_t)r->opts.max_events,
		.rtt = &r->rtt,
		.on_row = on_row,
		.ctx = r,
	};
	int rc;

	if (!r->ct)
		return 0;
	if ((rc = pp_client_correlate_new(&r->cc, &co)) < 0) {
		pp_log_error("cannot start the correlation: %s", strerror(-rc));
		return rc;
	}
	rc = pp_client_trace_start(r->ct, &r->flow);
	if (rc)
		pp_log_error("cannot start the trace reader: %s", strerror(-rc));
	return rc;
}

/* Drains this host's events, then the agent's to its END: every row is out after this. */
static int stop_trace(struct run *r)
{
	struct pp_client_trace_stats ts;
	struct pp_err err = { 0 };
	int rc;

	if (!r->ct)
		return 0;
	waiting_for_agent = 1;
	rc = pp_client_trace_stop(r->ct, PP_CONTROL_DEFAULT_TIMEOUT_MS, &abort_wait, &err);
	pp_client_trace_get_stats(r->ct, &ts);
	if (ts.events_out_err.code) /* an output asked for and not written: a failure */
		return pp_log_fail(&ts.events_out_err, ts.events_out_err.code);
	if (rc)
		pp_log_warn("%s; the events read until then are used", pp_err_text(&err));
	if (r->cc) { /* an agent that never ended (no reader ran) */
		pp_client_correlate_end_host(r->cc, PP_CLIENT);
		pp_client_correlate_end_host(r->cc, PP_SERVER);
	}
	return 0;
}

/* ---- untraced runs: rows straight from the loop's samples ---- */

struct untraced {
	struct run *r;
	pthread_t thread;
	volatile sig_atomic_t done; /* the loop is over: take the rest and end */
	uint64_t next;
};

static void untraced_take(struct untraced *u)
{
	uint64_t w = pp_sample_ring_written(&u->r->rtt), start_ns;
	int64_t rtt;

	for (; u->next < w; u->next++) {
		struct pp_row row = { .index = u->next, .rtt_app_ns = -1 };

		if (!pp_sample_ring_get(&u->r->rtt, u->next, &start_ns, &rtt))
			start_ns = 0; /* fell a whole ring behind: the row says it has no rtt_app */
		else
			row.rtt_app_ns = rtt;
		put_row(u->r, &row, start_ns);
	}
}

static void *untraced_main(void *arg)
{
	struct untraced *u = arg;
	struct timespec pause = { .tv_nsec = UNTRACED_POLL_MS * 1000000L };

	while (!u->done) {
		untraced_take(u);
		nanosleep(&pause, NULL);
	}
	untraced_take(u);
	return NULL;
}

static int untraced_start(struct untraced *u)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&u->thread, NULL, untraced_main, u);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		pp_log_error("cannot start the rows thread: %s", strerror(rc));
	return -rc;
}

/* ---- the summary ---- */

static void verbose_counts(const struct run *r, const struct pp_client_trace_stats *ts,
			   const struct pp_correlate_stats *st)
{
	const struct pp_capture *cap = pp_client_trace_capture(r->ct);
	struct rusage ru;

	pp_log_debug("client host: %" PRIu64 " events of this connection, %" PRIu64
		" of others not kept, %" PRIu64 " lost, %" PRIu64 " tracepoint hits skipped by the "
		"kernel", ts->events, ts->foreign, ts->lost, ts->skipped);
	if (cap) {
		char report[PP_CAPTURE_REPORT_MAX];

		pp_capture_report(cap, report, sizeof(report));
		pp_log_lines(PP_LOG_DEBUG, report);
	}
	if (ts->agent)
		pp_log_debug("agent: %" PRIu64 " events of this connection", ts->agent_events);
	pp_log_debug("correlation: %" PRIu64 " events used; ignored: %" PRIu64
		" of other connections, %" PRIu64 " without payload, %" PRIu64 " before exchange 0, %"
		PRIu64 " after the last, %" PRIu64 " unplaced; %" PRIu64 " out of order, %" PRIu64
		" sched points too early to place; at most %" PRIu64 " events held at once",
		st->events_used, st->events_foreign, st->events_no_payload, st->events_stale,
		st->events_after, st->events_unplaced, st->events_out_of_order,
		st->events_sched_early, st->held_high_water);
	/* memory follows what is in flight, not the run: say what it came to */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		pp_log_debug("memory: peak RSS %.1f MiB", (double)ru.ru_maxrss / 1024.0);
}

/* Incomplete rows have a cause the user can act on (or at least know): say which. */
static void explain_losses(const struct run *r, const struct pp_client_trace_stats *ts,
			   const struct pp_correlate_stats *st)
{
	if (ts->lost)
		pp_log_warn("the kernel dropped %" PRIu64 " events (perf buffer full): "
			"raise --perf-pages (now %zu per CPU)", ts->lost,
			r->opts.perf_pages);
	if (st->events_out_of_order && st->held_high_water > r->opts.max_events)
		pp_log_warn("%" PRIu64 " events were matched before the other host's arrived "
			"(--max-events %" PRIu64 " held at once): their rows may lack points",
			st->events_out_of_order, r->opts.max_events);
	if (st->incomplete && ts->skipped)
		pp_log_warn("%" PRIu64 " rows incomplete; the kernel skipped %" PRIu64
			" tracepoint hits on this host (another BPF program was running on that "
			"CPU)", st->incomplete, ts->skipped);
}

/* The probe's own cost on both hosts, over the warm-up and the recorded exchanges (the client's
 * from its start to its stop, the agent's over the follow conversation); -v: per program. */
static void probe_cost(const struct run *r, const struct pp_client_trace_stats *ts,
		       struct pp_summary_info *info)
{
	char row[160];

	info->cost_exchanges = r->opts.warmup + r->recorded;
	info->cost_client = (struct pp_probe_cost){ .present = true, .known = ts->cost.known,
						    .bpf_ns = ts->cost.run_ns, .runs = ts->cost.runs };
	if (!ts->cost.known && ts->cost_err < 0)
		pp_log_debug("BPF run-time statistics are off (%s): the probe's cost is unknown",
			     strerror(-ts->cost_err));
	for (size_t i = 0; ts->cost.known && i < ts->cost.n; i++) {
		pp_bpf_cost_format_prog(row, sizeof(row), &ts->cost.prog[i]);
		pp_log_debug("BPF %s", row);
	}
	if (r->following)
		info->cost_server = (struct pp_probe_cost){
			.present = true,
			.known = ts->agent_complete && ts->agent_end.bpf_known,
			.bpf_ns = ts->agent_end.bpf_run_ns, .runs = ts->agent_end.bpf_runs };
}

static void traced_info(struct run *r, struct pp_summary_info *info)
{
	struct pp_client_trace_stats ts;
	const struct pp_correlate_stats *st;
	uint64_t rtt_missing;

	pp_client_trace_get_stats(r->ct, &ts);
	st = pp_client_correlate_stats(r->cc, &rtt_missing);
	info->exchanges = st->rows;
	info->matched = st->complete;
	info->incomplete = st->incomplete;
	info->retransmitted = st->retransmitted;
	info->required_slots = PP_CLIENT_REQUIRED_SLOTS(r->following);
	info->traced = true;
	info->points_client = pp_client_trace_points(r->ct);
	info->capture = ts.capture;
	info->lost_samples_client = ts.lost;
	info->pcap_drops_client = ts.cap.pcap_drop;
	if (r->following) {
		info->server_events = ts.agent_events > 0;
		/* as this host counts its own: perf buffer losses and events it had no room for */
		info->lost_samples_server = ts.agent_end.lost_samples + ts.agent_end.dropped;
		info->pcap_drops_server = ts.agent_end.pcap_drops;
		if (ts.agent_err.code)
			pp_log_warn("%s: the rows after that lack server points, and its loss "
				"counts are unknown", pp_err_text(&ts.agent_err));
		else if (!ts.agent_events)
			pp_log_warn("the agent at %s has no events of this connection: server "
				"columns are empty", r->agent_name);
	}
	probe_cost(r, &ts, info);
	if (rtt_missing)
		pp_log_warn("%" PRIu64 " rows lack rtt_app: their rows came more than %u exchanges "
			"after the loop measured them", rtt_missing, PP_SAMPLE_RING_MAX);
	explain_losses(r, &ts, st);
	if (pp_log_enabled(PP_LOG_DEBUG))
		verbose_counts(r, &ts, st);
}

static int report(struct run *r)
{
	char what[512], local[PP_ADDRSTRLEN], partial[160] = "";
	struct pp_summary_info info = { .what = what, .run_start_ns = r->start_ns,
					.run_end_ns = r->end_ns };
	int rc;

	if (r->end_err)
		snprintf(partial, sizeof(partial), " (PARTIAL: %llu of %llu completed, %s)",
			 (unsigned long long)r->recorded, (unsigned long long)r->opts.count,
			 loop_error(r->end_err));
	snprintf(what, sizeof(what), "%u B x %llu exchanges%s, %s -> %s", r->opts.size,
		 (unsigned long long)r->opts.count, partial,
		 pp_addr_format(&r->local, local, sizeof(local)), r->server_text);
	if (r->cc)
		traced_info(r, &info);
	else
		info.exchanges = r->rows;
	rc = r->sink_err ? r->sink_err : r->cc ? pp_client_correlate_error(r->cc) : 0;
	if (!rc && r->live)
		rc = pp_live_report_flush(r->live);
	if (!rc)
		rc = pp_results_commit(r->csv);
	else
		pp_results_abort(r->csv);
	r->csv = NULL;
	if (rc) {
		pp_log_error("cannot write %s: %s", r->opts.output, strerror(-rc));
		return rc;
	}
	rc = pp_summary_print(r->sum, &info, stdout);
	if (rc)
		pp_log_error("cannot print the summary: %s", strerror(-rc));
	if (!rc && r->opts.summary_json) {
		rc = pp_summary_write_json(r->sum, &info, r->opts.summary_json);
		if (rc)
			pp_log_error("cannot write %s: %s", r->opts.summary_json,
				strerror(-rc));
	}
	return rc;
}

/* Where the rows go, created before the run: an unwritable path fails in a second, not after
 * the whole run (results.csv gets its name only at the end). */
static int open_outputs(struct run *r)
{
	int rc;

	if ((rc = start_output_helper(r)) != 0)
		return rc;
	rc = pp_results_open(&r->csv, r->opts.output);
	if (rc) {
		pp_log_error("cannot create %s: %s", r->opts.output, strerror(-rc));
		return rc;
	}
	if (!(r->sum = pp_summary_new()) ||
	    (r->opts.report_s && pp_live_report_new(&r->live, r->opts.report_s * 1000000000ull,
						    stdout) < 0) ||
	    pp_sample_ring_init(&r->rtt, r->opts.count) < 0) {
		pp_log_error("out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int run(struct run *r)
{
	struct untraced u = { .r = r };
	bool untraced_running = false;
	int rc;

	rc = open_outputs(r);
	if (!rc)
		rc = resolve_server(r);
	if (!rc)
		rc = open_trace(r);
	if (!rc)
		rc = connect_server(r);
	if (!rc)
		rc = open_capture(r);
	if (!rc)
		rc = handshake(r);
	if (!rc && r->ct)
		follow_agent(r);
	if (!rc)
		rc = start_correlation(r);
	if (!rc && !r->ct && !(rc = untraced_start(&u)))
		untraced_running = true;
	if (!rc)
		rc = exchange(r);
	if (r->fd >= 0)
		close(r->fd);
	if (untraced_running) {
		u.done = 1;
		pthread_join(u.thread, NULL);
	}
	if (!rc)
		rc = stop_trace(r);
	if (rc)
		return rc;
	if (stop_signal && !r->end_err)
		r->end_err = -EINTR; /* while the agent's last events came: the exchanges are all there */
	rc = report(r);
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
	pp_client_trace_close(r.ct);
	pp_client_correlate_free(r.cc);
	if (r.csv)
		pp_results_abort(r.csv);
	pp_summary_free(r.sum);
	pp_live_report_free(r.live);
	pp_sample_ring_free(&r.rtt);
	pp_privdrop_outputs_close();
	return rc ? 1 : 0;
}
