// SPDX-License-Identifier: MIT
/* pingpong-ebpf: the tracing agent. Starts CMD (or finds --pid / the owner of --port), traces
 * its TCP send/recv calls and its host's packets on the ports, captures the wire, keeps the
 * events in memory and serves each client its connection's events on the control port (or
 * streams them to a client that follows its connection); writes every event to --output as it
 * arrives (published at exit), and prints a one-line summary. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/atomic_file.h"

#include "agent/agent_opts.h"
#include "agent/agent_serve.h"
#include "agent/control.h"
#include "common/net.h"
#include "collect/bpf_cost.h"
#include "collect/eventlog.h"
#include "agent/eventstore.h"
#include "peer/peer_measure.h"
#include "common/privdrop.h"
#include "agent/procnet.h"
#include "agent/spawn.h"
#include "collect/trace.h"
#include "common/log.h"

#define PROG "pingpong-ebpf"
#define POLL_MS 100
#define CHILD_STOP_WAIT_MS 2000

struct agent {
	struct pp_agent_opts opts;
	__u32 tgids[PP_MAX_TGIDS];
	size_t n_tgids;
	struct pp_spawn child;
	int child_status;
	bool child_running;
	struct pp_eventstore *store;
	struct pp_trace *trace;
	struct pp_agent_serve serve;
	int flush_err;              /* a flush before an answer failed (-errno) */
	/* --output: every event goes, as it arrives, to a spool file in its binary form (a write
	 * of 80 bytes into a buffer: formatting a CSV row costs ~1 us, which at 300,000 events/s
	 * would make the agent lose events), and the spool becomes the CSV at exit (arrival order;
	 * readers sort by time). Neither costs memory. */
	struct pp_atomic_file log_file;
	FILE *log, *spool;
	int log_err;                /* the first failed write (-errno) */
	/* --peer: this host is the service's client; its events and the peer agent's are
	 * correlated as they come (peer/peer_measure.h) instead of stored */
	struct pp_peer *peer;
	struct pp_peer_opts peer_opts;
	char plot_paths[2][4096];
	uint64_t run_start_ns;
	struct pp_bpf_cost cost_start; /* the programs' run-time statistics when the run started */
};

static volatile sig_atomic_t stop_signal;
/* A second SIGINT/SIGTERM: the waits of the end (the peer agent's last events) are cut short
 * too; the first only ends the run. */
static volatile sig_atomic_t abort_signal;

static void on_stop_signal(int sig)
{
	if (stop_signal)
		abort_signal = sig;
	stop_signal = sig;
}

static void on_sigchld(int sig)
{
	(void)sig; /* only interrupts the poll, so a child's exit is seen at once */
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }; /* no SA_RESTART: poll returns */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_sigchld;
	sigaction(SIGCHLD, &sa, NULL);
	pp_net_set_abort_flag(&stop_signal); /* a stalled control client must not delay us */
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_event(void *ctx, const struct pp_event *ev)
{
	struct agent *a = ctx;

	if (!a->spool || a->log_err)
		return;
	errno = 0;
	if (fwrite(ev, sizeof(*ev), 1, a->spool) != 1)
		a->log_err = errno ? -errno : -EIO;
}

/* To its follower, or the store (agent_serve routes it; the store and the follower queues
 * count what they drop). */
static void store_event(void *ctx, const struct pp_event *ev)
{
	struct agent *a = ctx;

	if (a->peer) {
		pp_peer_local_event(a->peer, ev);
		return;
	}
	if (a->serve.store) {
		pp_agent_serve_event(&a->serve, ev);
		return;
	}
	log_event(a, ev);
	pp_eventstore_append(a->store, ev);
}

/* Who to trace and on which ports, before anything is attached. 0, or exit status 1/2. */
static int resolve_targets(struct agent *a)
{
	struct pp_agent_opts *o = &a->opts;
	pid_t owners[64];
	int i, n;

	if (o->cmd && !o->n_ports) {
		if (pp_port_in_args(o->cmd, &o->ports[0]) < 0 || !o->ports[0]) {
			pp_log_error("give --port PORT (CMD has no valid --port N to take it from)");
			return 2;
		}
		o->n_ports = 1;
	}
	if (o->pid) {
		if (kill(o->pid, 0) < 0 && errno == ESRCH) {
			pp_log_error("no process with pid %d", (int)o->pid);
			return 1;
		}
		a->tgids[a->n_tgids++] = (__u32)o->pid;
		if (!o->n_ports) {
			n = pp_listen_ports(o->pid, o->ports, PP_MAX_PORTS);
			if (n <= 0) {
				pp_log_error("pid %d listens on no TCP port in this network "
					"namespace: give --port PORT", (int)o->pid);
				return 1;
			}
			o->n_ports = (size_t)n;
		}
	} else if (!o->cmd) {
		for (size_t p = 0; p < o->n_ports; p++) {
			n = pp_listen_owners(o->ports[p], owners, 64);
			for (i = 0; i < n && a->n_tgids < PP_MAX_TGIDS; i++)
				a->tgids[a->n_tgids++] = (__u32)owners[i];
		}
		if (!a->n_tgids) {
			pp_log_error("nothing listens on TCP port %u in this network namespace "
				"(give --pid or -- CMD)", o->ports[0]);
			return 1;
		}
	}
	return 0;
}

static int start_child(struct agent *a)
{
	int err = pp_spawn_gated(&a->child, a->opts.cmd);

	if (err < 0) {
		pp_log_error("cannot start %s: %s", a->opts.cmd[0], strerror(-err));
		return 1;
	}
	a->child_running = true;
	a->tgids[a->n_tgids++] = (__u32)a->child.pid;
	return 0;
}

static int start_trace(struct agent *a)
{
	const struct pp_agent_opts *o = &a->opts;
	struct pp_trace_opts topts = {
		.ports = o->ports, .n_ports = o->n_ports,
		.tgids = a->tgids, .n_tgids = a->n_tgids,
		.follow_children = true,
		.keep_acks = o->keep_acks,
		/* --peer's loop also correlates: a deeper buffer rides out its bursts (as the
		 * synthetic client's does) */
		.perf_pages = o->perf_pages ? o->perf_pages : o->peer ? PP_PEER_PERF_PAGES : 0,
		.btf_path = o->btf_path,
		.syscall_points = o->syscall_points,
		.tcp_point = o->tcp_point,
		.sched = o->sched,
		.probe_cost = o->probe_cost,
		.verbosity = o->verbosity,
		.on_event = store_event, .ctx = a,
	};
	struct pp_err err = { 0 };

	if (pp_trace_open(&a->trace, &topts, &err) < 0)
		return pp_log_fail(&err, 1);
	pp_log_debug("send/recv points: %s; tcp point (tcp:tcp_probe): %s; sched points: %s",
		     pp_trace_points(a->trace),
		     pp_trace_tcp_point(a->trace) ? "on" : "off (--tcp-point)",
		     pp_trace_sched(a->trace) ? "on" : "off (--sched)");
	return 0;
}

/* The control server's hook before it answers: every partial batch up, so an answer holds
 * the events up to the moment the request arrived. A failure ends the loop (flush_err). */
static int flush_for_answer(void *ctx)
{
	struct agent *a = ctx;
	int n = pp_trace_flush(a->trace);

	if (n < 0 && !a->flush_err)
		a->flush_err = n;
	if (n >= 0)
		a->serve.lost_samples = pp_trace_lost(a->trace);
	return n;
}

/* The probe's own cost since the run started (END's cost, the exit line): false when the
 * kernel's run-time statistics are off. */
static bool cost_so_far(struct agent *a, struct pp_bpf_cost *d)
{
	struct pp_bpf_cost now;

	pp_trace_cost_snapshot(a->trace, &now);
	pp_bpf_cost_delta(&a->cost_start, &now, d);
	return d->known;
}

static bool bpf_cost_for_end(void *ctx, uint64_t *run_ns, uint64_t *runs)
{
	struct pp_bpf_cost d;
	bool known = cost_so_far(ctx, &d);

	*run_ns = d.run_ns;
	*runs = d.runs;
	return known;
}

/* The programs' counts at the run's start; statistics that could not be turned on are said
 * once, with -v (the cost is then unknown; the run goes on). */
static void start_cost(struct agent *a)
{
	int err = pp_trace_cost_snapshot(a->trace, &a->cost_start);

	if (!a->cost_start.known && err < 0)
		pp_log_debug("BPF run-time statistics are off (%s): the probe's cost is unknown",
			     strerror(-err));
	else if (err < 0)
		pp_log_debug("reading the BPF programs' statistics: %s", strerror(-err));
}

/* The control channel (default: first traced port + 1) and the wire capture. */
static int start_serving(struct agent *a)
{
	const struct pp_agent_opts *o = &a->opts;
	/* with --peer this host is a client: it serves nothing */
	int port = o->peer ? 0 : o->control_port < 0 ? o->ports[0] + 1 : o->control_port;
	struct pp_agent_serve_opts sopts = {
		.control = port != 0,
		.control_bind = o->control_bind,
		.control_port = (uint16_t)port,
		.capture = !o->no_capture,
		.iface = o->iface,
		.port = o->ports[0],
		.pcap_out = o->pcap_out,
		.tstamp_type = o->tstamp_type,
		.keep_acks = o->keep_acks,
		/* --peer's loop also hands every event to the correlator: a deeper ring rides
		 * out its bursts, as the perf buffers' do (PP_PEER_PERF_PAGES) */
		.capture_buffer_bytes = o->peer ? PP_PEER_CAPTURE_BYTES : 0,
	};
	struct pp_err err = { 0 };

	if (port > 65535) {
		pp_log_error("the control port would be %d: give --control-port", port);
		return 1;
	}
	if (pp_agent_serve_open(&a->serve, a->store, &sopts, &err) < 0)
		return pp_log_fail(&err, 1);
	a->serve.flush = flush_for_answer;
	a->serve.flush_ctx = a;
	a->serve.bpf_cost = bpf_cost_for_end;
	a->serve.bpf_cost_ctx = a;
	a->serve.tap = log_event;
	a->serve.tap_ctx = a;
	return 0;
}

/* --peer: the service's address and the agent there, once the drop is done (results.csv goes
 * through the output helper) and before CMD starts. 0, or exit status 1. */
static int start_peer(struct agent *a)
{
	struct pp_err err = { 0 };

	if (pp_peer_open(&a->peer, &a->peer_opts, &err) < 0)
		return pp_log_fail(&err, 1);
	a->serve.sink = pp_peer_local_event;
	a->serve.sink_ctx = a->peer;
	return 0;
}

static void peer_opts_of(struct agent *a)
{
	const struct pp_agent_opts *o = &a->opts;
	static char what[256];

	if (o->cmd) {
		const char *slash = strrchr(o->cmd[0], '/');

		snprintf(what, sizeof(what), "%s", slash ? slash + 1 : o->cmd[0]);
	} else {
		snprintf(what, sizeof(what), "pid %d", (int)o->pid);
	}
	a->peer_opts = (struct pp_peer_opts){
		.peer = o->peer, .default_control_port = (uint16_t)(o->ports[0] + 1),
		.service_port = o->ports[0], .results = o->output, .summary_json = o->summary_json,
		.plot_dir = o->plot_dir, .what = what, .verbose = o->verbosity > 0,
	};
	if (o->control_port > 0)
		a->peer_opts.default_control_port = (uint16_t)o->control_port;
}

static bool reap_child(struct agent *a, int flags)
{
	if (!a->child_running || waitpid(a->child.pid, &a->child_status, flags) != a->child.pid)
		return false;
	a->child_running = false;
	return true;
}

/* --pid / --port targets: done when none of them is left. */
static bool targets_gone(const struct agent *a)
{
	size_t i;

	for (i = 0; i < a->n_tgids; i++)
		if (kill((pid_t)a->tgids[i], 0) == 0 || errno != ESRCH)
			return false;
	return true;
}

/* Polls until CMD/PID exits, the duration ends or a signal comes. 0, or 1 on a poll error. */
static int trace_loop(struct agent *a)
{
	double deadline = a->opts.duration_s > 0 ? now_s() + a->opts.duration_s : 0;
	double last_flush = 0, last_stale = 0;
	struct pp_err err = { 0 };
	int n;

	while (!stop_signal) {
		struct pollfd fds[2 + PP_AGENT_SERVE_MAX_POLLFDS] = {
			{ .fd = pp_trace_epoll_fd(a->trace), .events = POLLIN } };
		int nserve = pp_agent_serve_pollfds(&a->serve, &fds[1]);
		int npeer = a->peer && pp_peer_fd(a->peer) >= 0;
		char line[256];
		bool following = pp_agent_serve_followers(&a->serve) > 0;

		/* The perf buffers wake us only at their watermark; the timeout drains them. While
		 * someone follows, rounds come at least every PP_AGENT_FOLLOW_FLUSH_MS. */
		if (npeer)
			fds[1 + nserve] = (struct pollfd){ .fd = pp_peer_fd(a->peer), .events = POLLIN };
		if (poll(fds, 1 + nserve + npeer, following ? PP_AGENT_FOLLOW_FLUSH_MS : POLL_MS) < 0 &&
		    errno != EINTR) {
			pp_log_error("poll: %s", strerror(errno));
			return 1;
		}
		/* a control request wants everything so far, partial batches too: the server
		 * flushes (flush_for_answer) before it answers */
		n = pp_trace_poll(a->trace, 0);
		/* a follower gets the partial per-CPU batches too, a little late but not at the end
		 * (pp_trace_flush visits only CPUs that hold some) */
		if (n >= 0 && following && now_s() - last_flush >= PP_AGENT_FOLLOW_FLUSH_MS / 1e3) {
			last_flush = now_s();
			if (flush_for_answer(a) < 0)
				n = a->flush_err;
		}
		/* --peer correlates as events come, and --output's readers (pingpong-analyze)
		 * sort within a reorder window: a quiet CPU's partial batch must not arrive later
		 * than that (a CPU that went quiet kept its last events for seconds). It reads the
		 * batch map (a syscall): at most every half stale age, not every round. */
		if (n >= 0 && (a->peer || a->log) && now_s() - last_stale >= PP_PEER_STALE_NS / 2e9) {
			int rc = pp_trace_flush_stale(a->trace, PP_PEER_STALE_NS);

			last_stale = now_s();
			n = rc < 0 ? rc : n;
		}
		if (n >= 0)
			a->serve.lost_samples = pp_trace_lost(a->trace);
		if (pp_agent_serve_handle(&a->serve, &fds[1], nserve, &err) < 0)
			pp_log_warn("%s", pp_err_text(&err));
		if (a->peer)
			pp_peer_poll(a->peer);
		if (n >= 0 && a->flush_err)
			n = a->flush_err;
		/* refused control connections: a line now and then, never one each */
		if (pp_agent_serve_summary(&a->serve, false, line, sizeof(line)))
			pp_log_info("%s", line);
		while (pp_agent_serve_notice(&a->serve, line, sizeof(line)))
			pp_log_info("%s", line);
		if (n < 0) {
			pp_log_error("reading the perf buffer failed: %s", strerror(-n));
			return 1;
		}
		if (a->opts.cmd ? reap_child(a, WNOHANG) : targets_gone(a))
			break;
		if (deadline && now_s() >= deadline)
			break;
	}
	return 0;
}

/* A still-running CMD gets the signal that stopped us (SIGTERM after --duration), is given
 * a moment to exit while its last events are read, then is killed. */
static void stop_child(struct agent *a)
{
	int waited_ms;

	if (!a->child_running)
		return;
	kill(a->child.pid, stop_signal ? stop_signal : SIGTERM);
	for (waited_ms = 0; waited_ms < CHILD_STOP_WAIT_MS; waited_ms += 10) {
		pp_trace_poll(a->trace, 10);
		if (reap_child(a, WNOHANG))
			return;
	}
	kill(a->child.pid, SIGKILL);
	reap_child(a, 0);
}

/* --output is opened before the run (after the privilege drop: atomic_file then asks the root
 * helper for the temp file and the rename) with its spool, which takes the events as they
 * arrive, so that a long run costs no memory for it. 0 or -errno. */
static int open_log(struct agent *a, const char *path)
{
	int fd, err;

	if ((err = pp_atomic_open(&a->log_file, path)) < 0)
		return err;
	fd = dup(a->log_file.fd);
	a->log = fd < 0 ? NULL : fdopen(fd, "w");
	if (!a->log) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		pp_atomic_abort(&a->log_file);
		return err;
	}
	/* unnamed, in /tmp: gone with us whatever happens */
	if (!(a->spool = tmpfile())) {
		err = -errno;
		fclose(a->log);
		a->log = NULL;
		pp_atomic_abort(&a->log_file);
		return err;
	}
	setvbuf(a->spool, NULL, _IOFBF, 1 << 20);
	return 0;
}

/* The spool, event by event, as CSV rows. 0 or -errno. */
static int spool_to_csv(struct agent *a)
{
	struct pp_event ev;
	int err;

	if (fflush(a->spool) != 0 || fseek(a->spool, 0, SEEK_SET) != 0)
		return -errno;
	errno = 0;
	err = pp_eventlog_write_header(a->log);
	while (!err && fread(&ev, sizeof(ev), 1, a->spool) == 1)
		err = pp_eventlog_write(a->log, &ev);
	if (!err && ferror(a->spool))
		err = -EIO;
	if (err == -EIO && errno) /* the eventlog writer says only EIO: the failed call says why */
		err = -errno;
	return err;
}

/* Publishes --output (commit != 0), or throws it away. 0 or -errno. */
static int close_log(struct agent *a, bool commit)
{
	int err = a->log_err;

	if (!a->log)
		return 0;
	if (commit && !err)
		err = spool_to_csv(a);
	fclose(a->spool);
	a->spool = NULL;
	if (fflush(a->log) != 0 && !err)
		err = -errno;
	if (fclose(a->log) != 0 && !err)
		err = -errno;
	a->log = NULL;
	if (err || !commit) {
		pp_atomic_abort(&a->log_file);
		return err;
	}
	return pp_atomic_commit(&a->log_file);
}

static void print_summary(struct agent *a, double secs)
{
	struct pp_bpf_cost d;
	char cost[160], row[160];

	cost_so_far(a, &d);
	pp_bpf_cost_format(cost, sizeof(cost), d.known, d.run_ns, d.runs, 0);
	pp_log_info("%llu events, %llu lost samples (perf buffer %zu KiB per CPU), "
		"%llu dropped (store and follower queues full at %zu), %llu tracepoint hits skipped by "
		"the kernel, probe cost %s, %.1f s; send/recv points: %s; tcp point %s; sched points %s",
		(unsigned long long)pp_trace_events(a->trace), (unsigned long long)pp_trace_lost(a->trace),
		pp_trace_buffer_bytes(a->trace) / 1024,
		(unsigned long long)pp_agent_serve_dropped(&a->serve), a->opts.max_events,
		(unsigned long long)pp_trace_skipped(a->trace), cost, secs, pp_trace_points(a->trace),
		pp_trace_tcp_point(a->trace) ? "on" : "off", pp_trace_sched(a->trace) ? "on" : "off");
	for (size_t i = 0; d.known && i < d.n; i++) {
		pp_bpf_cost_format_prog(row, sizeof(row), &d.prog[i]);
		pp_log_debug("BPF %s", row);
	}
}

/* --peer: the agent's last events, the rows, the summary and the plots. 0, or exit status 1. */
static int finish_peer(struct agent *a)
{
	struct pp_capture_stats cst = { 0 };
	struct pp_peer_local local = {
		.lost_samples = pp_trace_lost(a->trace),
		.traced = true,
		.points = pp_trace_points(a->trace),
		.capture = a->serve.capture != NULL,
		.run_start_ns = a->run_start_ns,
		.run_end_ns = (uint64_t)(now_s() * 1e9),
	};
	struct pp_err err = { 0 };
	struct pp_bpf_cost d;

	local.bpf_known = cost_so_far(a, &d);
	local.bpf_run_ns = d.run_ns;
	local.bpf_runs = d.runs;
	if (a->serve.capture) {
		pp_capture_get_stats(a->serve.capture, &cst);
		local.pcap_drops = cst.pcap_drop;
	}
	/* the run is over, by a signal maybe: from here on only a second one cuts a wait short
	 * (STOP, and the agent's last events) */
	pp_net_set_abort_flag(&abort_signal);
	if (pp_peer_finish(a->peer, &local, &abort_signal, &err) < 0 ||
	    pp_peer_report(a->peer, stdout, &err) < 0)
		return pp_log_fail(&err, 1);
	if (pp_peer_plot(a->peer, &err) < 0)
		return pp_log_fail(&err, 1);
	return 0;
}

static int finish(struct agent *a, double started)
{
	char report[PP_CAPTURE_REPORT_MAX];
	struct pp_err why = { 0 };
	int err, status = 0;

	pp_trace_flush(a->trace);
	if (pp_agent_serve_summary(&a->serve, true, report, sizeof(report)))
		pp_log_info("%s", report);
	/* reads the capture to its end (up to a second), then the tracer's last events, which
	 * the programs may have batched meanwhile (the connections' closing packets) */
	if (pp_agent_serve_finish(&a->serve, &why) < 0)
		pp_log_warn("%s", pp_err_text(&why));
	if ((err = pp_trace_flush(a->trace)) < 0)
		pp_log_warn("reading the perf buffer's last events failed: %s", strerror(-err));
	pp_agent_serve_report(&a->serve, report, sizeof(report));
	pp_log_lines(PP_LOG_INFO, report);
	if (pp_agent_serve_follow_report(&a->serve, report, sizeof(report)))
		pp_log_info("%s", report);
	print_summary(a, now_s() - started);
	if (a->opts.output && (err = close_log(a, true)) < 0) {
		pp_log_error("cannot write %s: %s", a->opts.output, strerror(-err));
		status = 1;
	}
	if (a->opts.cmd && !status)
		status = pp_spawn_status_code(a->child_status);
	return status;
}

/* Everything privileged is open: become --user. A CMD we started runs as root, so we keep
 * CAP_KILL (and nothing else) to stop it; waiting for it needs no privilege. */
static int drop_privileges(struct agent *a)
{
	struct pp_err err = { 0 };

	if (pp_privdrop_to(a->opts.user, a->opts.keep_root, a->opts.cmd != NULL, &err) < 0)
		return pp_log_fail(&err, 1);
	return 0;
}

/* Started before anything is opened, so the helper holds no BPF link or socket. */
static int start_output_helper(struct agent *a)
{
	const char *outputs[4] = { a->opts.output, a->opts.pcap_out };
	size_t n = 2;
	int err;

	if (a->opts.keep_root || geteuid() != 0)
		return 0;
	if (a->opts.peer)
		n = pp_peer_outputs(&a->peer_opts, outputs, a->plot_paths, 4);
	if ((err = pp_privdrop_outputs(outputs, n)) < 0) {
		pp_log_error("cannot start the output helper: %s", strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct agent a = { .child = { .pid = -1, .gate_fd = -1, .err_fd = -1 } };
	struct pp_err perr = { 0 };
	double started;
	int status, err;

	pp_log_init(PROG);
	if ((err = pp_agent_parse(argc, argv, &a.opts, &perr)) != PP_OPTS_OK)
		return err == PP_OPTS_HELP ? (pp_opts_usage(&pp_agent_opts_spec, stdout), 0)
		                           : pp_log_fail(&perr, 2);
	pp_log_more(a.opts.verbosity);
	if ((status = resolve_targets(&a)) != 0)
		return status;
	if (a.opts.peer) {
		char addr[PP_ADDRSTRLEN];
		uint16_t port;

		if (a.opts.n_ports != 1) {
			pp_log_error("--peer needs the service's port: --port PORT");
			return 2;
		}
		peer_opts_of(&a);
		if (pp_peer_parse(a.opts.peer, a.peer_opts.default_control_port, addr, sizeof(addr),
				  &port, &perr) < 0)
			return pp_log_fail(&perr, 2);
	}
	if ((err = pp_eventstore_new(&a.store, a.opts.max_events)) < 0) {
		pp_log_error("%s", strerror(-err));
		return 1;
	}
	status = 1;
	if (start_output_helper(&a) != 0)
		goto cleanup;
	if (a.opts.cmd && start_child(&a) != 0)
		goto cleanup;
	install_signals();
	if (start_trace(&a) != 0 || start_serving(&a) != 0 || drop_privileges(&a) != 0)
		goto cleanup;
	/* after the drop, so that the root helper makes and renames it; no event has been read
	 * yet (they wait in the perf buffers until the loop polls) */
	if (a.opts.peer && start_peer(&a) != 0)
		goto cleanup;
	if (a.opts.output && !a.opts.peer && (err = open_log(&a, a.opts.output)) < 0) {
		pp_log_error("cannot write %s: %s", a.opts.output, strerror(-err));
		goto cleanup;
	}
	/* A CMD that cannot run exits 127, which becomes our status as any CMD's would. */
	if (a.opts.cmd && (err = pp_spawn_release(&a.child, &perr)) < 0) {
		pp_log_fail(&perr, 1);
		if (!a.child.exec_failed)
			goto cleanup;
	}
	start_cost(&a);
	started = now_s();
	a.run_start_ns = (uint64_t)(started * 1e9);
	if (trace_loop(&a) == 0) {
		stop_child(&a);
		status = finish(&a, started);
		if (a.peer && finish_peer(&a) != 0 && !status)
			status = 1;
	}
cleanup:
	if (a.child_running) { /* never released, or a failure: it must not outlive us */
		pp_spawn_abort(&a.child);
		kill(a.child.pid, SIGKILL);
		reap_child(&a, 0);
	}
	close_log(&a, false); /* not published by finish: a failed run leaves no half log */
	pp_agent_serve_close(&a.serve);
	pp_peer_free(a.peer);
	pp_trace_close(a.trace);
	pp_eventstore_free(a.store);
	pp_privdrop_outputs_close();
	return status;
}
