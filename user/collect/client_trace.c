// SPDX-License-Identifier: MIT
/* The client host's tracing session while the run goes: the collector, the capture and the
 * agent's stream, read by one thread and handed on as they come (client_trace.h). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "collect/client_trace.h"
#include "collect/eventlog.h"
#include "collect/trace.h"
#include "common/net.h"

#define CAPTURE_DRAIN_EXTRA_MS 50      /* past the batch time, for the ring's last block */

struct pp_client_trace {
	struct pp_trace *trace;
	struct pp_capture *capture;
	int batch_ms;
	int stop_fd;                    /* eventfd: written once to end the reader */
	pthread_t reader;
	bool running;
	pp_origin_event_fn on_event;
	void *ctx;

	/* Written by the reader only while it runs, by the caller before and after. */
	struct pp_flow_key flow;
	bool have_flow;
	uint64_t events, foreign;
	bool have_isn;
	uint32_t isn;
	bool filtered;                  /* the kernel side passes this connection only */
	struct pp_err reader_err;       /* the reader's first failure */
	bool stopped;

	/* events_out, written as events come */
	const char *events_out;
	struct pp_atomic_file log_af;
	FILE *log;
	int log_err;
	struct pp_err log_fail;         /* why events_out failed, for the stats */

	/* the agent's stream */
	struct pp_fetch *agent;
	char agent_name[PP_ADDRSTRLEN + 8];
	bool agent_over;                /* END, or failed: no more of its events */
	uint64_t agent_events;
	struct pp_err agent_err;

	/* the probe's own cost: the programs' statistics at start and at stop */
	struct pp_bpf_cost cost_start, cost_end;
	int cost_err;                   /* why the statistics are off (-errno), or 0 */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void log_event(struct pp_client_trace *ct, const struct pp_event *ev)
{
	int rc;

	if (!ct->log || ct->log_err)
		return;
	errno = 0;
	rc = pp_eventlog_write(ct->log, ev);
	if (rc)
		ct->log_err = rc == -EIO && errno ? -errno : rc;
}

/* The tracer passes every connection on the server port in this namespace (another client
 * of the same server, say): only ours is handed on. */
static void on_event(void *ctx, const struct pp_event *ev)
{
	struct pp_client_trace *ct = ctx;

	if (ct->have_flow && pp_flow_dir(&ct->flow, ev) == PP_DIR_NONE) {
		ct->foreign++;
		return;
	}
	/* the latest SYN: a retransmitted SYN carries the same seq anyway */
	if ((ev->tcp_flags & (PP_TCP_SYN | PP_TCP_ACK)) == PP_TCP_SYN &&
	    pp_flow_dir(&ct->flow, ev) == PP_DIR_TO_SERVER) {
		ct->isn = ev->seq;
		ct->have_isn = true;
	}
	ct->events++;
	log_event(ct, ev);
	ct->on_event(ct->ctx, PP_FROM_CLIENT, ev);
}

static int on_agent_event(void *ctx, const struct pp_event *ev)
{
	struct pp_client_trace *ct = ctx;

	ct->agent_events++;
	ct->on_event(ct->ctx, PP_FROM_AGENT, ev);
	return 0;
}

int pp_client_trace_open(struct pp_client_trace **out, const struct pp_client_trace_opts *o,
			 struct pp_err *e)
{
	struct pp_client_trace *ct;
	__u32 self = (__u32)getpid();
	__u16 port = o->server_port;
	struct pp_trace_opts topts = {
		.ports = &port, .n_ports = 1,
		.tgids = &self, .n_tgids = 1,
		.perf_pages = o->perf_pages,
		.syscall_points = o->syscall_points,
		.tcp_point = o->tcp_point,
		.sched = o->sched,
		.probe_cost = o->probe_cost,
		.verbosity = o->verbosity,
		.on_event = on_event,
	};
	int rc;

	*out = NULL;
	if (!o->on_event)
		return pp_err_set(e, -EINVAL, "no event sink");
	if (!(ct = calloc(1, sizeof(*ct))))
		return pp_err_set(e, -ENOMEM, "out of memory");
	ct->stop_fd = -1;
	ct->log_af.fd = -1;
	ct->on_event = o->on_event;
	ct->ctx = o->ctx;
	ct->events_out = o->events_out;
	topts.ctx = ct;
	rc = pp_trace_open(&ct->trace, &topts, e);
	if (rc < 0) {
		free(ct);
		return rc;
	}
	ct->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ct->stop_fd < 0) {
		rc = pp_err_set(e, -errno, "eventfd: %s", strerror(errno));
		pp_client_trace_close(ct);
		return rc;
	}
	*out = ct;
	return 0;
}

int pp_client_trace_add_capture(struct pp_client_trace *ct, const struct pp_capture_opts *copts,
				struct pp_err *e)
{
	struct pp_capture_opts o = *copts;

	if (ct->running || ct->capture)
		return pp_err_set(e, -EBUSY, "the capture is added before the reader starts, once");
	if (o.batch_ms <= 0)
		o.batch_ms = PP_CLIENT_CAPTURE_BATCH_MS;
	ct->batch_ms = o.batch_ms;
	return pp_capture_open(&ct->capture, &o, e);
}

void pp_client_trace_follow(struct pp_client_trace *ct, struct pp_fetch *f, const char *agent)
{
	pp_control_fetch_close(ct->agent);
	ct->agent = f;
	ct->agent_over = false;
	snprintf(ct->agent_name, sizeof(ct->agent_name), "%s", agent ? agent : "the agent");
}

/* Keeps the first failure: what failed, and why (why's reason, or strerror). */
static void reader_failed(struct pp_client_trace *ct, int err, const char *what,
			  const struct pp_err *why)
{
	if (ct->reader_err.code)
		return;
	pp_err_set(&ct->reader_err, err, "%s: %s", what,
		   why && why->msg[0] ? why->msg : strerror(-err));
}

/* The agent's stream is over: say why (code 0: its END arrived) and tell the sink. */
static void agent_over(struct pp_client_trace *ct, int err)
{
	const struct pp_fetch_stats *fs = pp_control_fetch_stats(ct->agent);

	if (ct->agent_over)
		return;
	ct->agent_over = true;
	switch (err) {
	case 0:
		break;
	case -ETIMEDOUT:
		pp_err_set(&ct->agent_err, err, "the agent at %s went silent (no frame, not even "
			   "its heartbeat, in time)", ct->agent_name);
		break;
	case -EINTR:
		pp_err_set(&ct->agent_err, err, "interrupted while the agent at %s sent its last "
			   "events", ct->agent_name);
		break;
	case -ECONNRESET:
		pp_err_set(&ct->agent_err, err, "the agent at %s went away after %llu events",
			   ct->agent_name, (unsigned long long)ct->agent_events);
		break;
	case -EPROTO:
		pp_err_set(&ct->agent_err, err, "the agent at %s broke the control protocol",
			   ct->agent_name);
		break;
	case -EPROTONOSUPPORT:
		pp_err_set(&ct->agent_err, err, "the agent at %s speaks another control protocol "
			   "version: use the same pingpong version on both hosts", ct->agent_name);
		break;
	case -EREMOTEIO:
		pp_err_set(&ct->agent_err, err, "the agent at %s answered: %s", ct->agent_name,
			   fs->error_text[0] ? fs->error_text : "an error");
		break;
	default:
		pp_err_set(&ct->agent_err, err, "the agent at %s: %s", ct->agent_name,
			   strerror(-err));
	}
	ct->on_event(ct->ctx, PP_FROM_AGENT, NULL);
}

/* What the agent sent so far; its END or a failure ends its stream. */
static void read_agent(struct pp_client_trace *ct)
{
	int rc;

	if (!ct->agent || ct->agent_over)
		return;
	rc = pp_control_follow_read_live(ct->agent, on_agent_event, ct, PP_CLIENT_AGENT_SILENCE_MS);
	if (rc)
		agent_over(ct, rc == 1 ? 0 : rc);
}

/* Sleeps until a perf buffer passes its wakeup mark, a capture block is ready, the agent sent
 * something, the timeout (so that the capture's clock samples stay fresh and quiet CPUs'
 * batches go up) or stop. A failing source is dropped; the others go on. */
static void *reader_main(void *arg)
{
	struct pp_client_trace *ct = arg;
	struct pollfd fds[4] = {
		{ .fd = ct->stop_fd, .events = POLLIN },
		{ .fd = pp_trace_epoll_fd(ct->trace), .events = POLLIN },
		{ .fd = ct->capture ? pp_capture_fd(ct->capture) : -1, .events = POLLIN },
		{ .fd = ct->agent ? pp_control_follow_fd(ct->agent) : -1, .events = POLLIN },
	};
	const uint64_t stale_ns = (uint64_t)PP_CLIENT_STALE_BATCH_MS * 1000000u;
	uint64_t next_flush = now_ns() + stale_ns;
	struct pp_err why = { 0 };
	int n, rc;

	for (;;) {
		n = poll(fds, 4, PP_CLIENT_TRACE_POLL_MS);
		if (n < 0 && errno != EINTR) {
			reader_failed(ct, -errno, "poll", NULL);
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].fd >= 0 && (n == 0 || fds[1].revents) &&
		    (rc = pp_trace_poll(ct->trace, 0)) < 0) {
			reader_failed(ct, rc, "reading the perf buffer", NULL);
			fds[1].fd = -1;
		}
		if (fds[1].fd >= 0 && now_ns() >= next_flush) {
			if ((rc = pp_trace_flush_stale(ct->trace, stale_ns)) < 0) {
				reader_failed(ct, rc, "sending up the kernel's batches", NULL);
				fds[1].fd = -1;
			}
			next_flush = now_ns() + stale_ns;
		}
		if (fds[2].fd >= 0 && (n == 0 || fds[2].revents) &&
		    (rc = pp_capture_dispatch(ct->capture, on_event, ct, &why)) < 0) {
			reader_failed(ct, rc, "reading the capture", &why);
			fds[2].fd = -1;
		}
		if (fds[3].fd >= 0) {
			read_agent(ct);
			if (ct->agent_over)
				fds[3].fd = -1;
		}
	}
	return NULL;
}

static int open_log(struct pp_client_trace *ct, struct pp_err *e)
{
	int fd, rc;

	if (!ct->events_out)
		return 0;
	if ((rc = pp_atomic_open(&ct->log_af, ct->events_out)) < 0)
		return pp_err_set(e, rc, "cannot create %s: %s", ct->events_out, strerror(-rc));
	/* stdio on a duplicate: the commit closes log_af.fd itself */
	if ((fd = dup(ct->log_af.fd)) < 0 || !(ct->log = fdopen(fd, "w"))) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		pp_atomic_abort(&ct->log_af);
		return pp_err_set(e, rc, "cannot write %s: %s", ct->events_out, strerror(-rc));
	}
	errno = 0;
	if ((rc = pp_eventlog_write_header(ct->log)) < 0)
		ct->log_err = rc == -EIO && errno ? -errno : rc;
	return 0;
}

/* Publishes events_out, or removes it when writing failed. */
static int close_log(struct pp_client_trace *ct, struct pp_err *e)
{
	int rc = ct->log_err;

	if (!ct->log)
		return 0;
	if (fclose(ct->log) && !rc)
		rc = -errno;
	ct->log = NULL;
	if (rc) {
		pp_atomic_abort(&ct->log_af);
		return pp_err_set(e, rc, "cannot write %s: %s", ct->events_out, strerror(-rc));
	}
	if ((rc = pp_atomic_commit(&ct->log_af)) < 0)
		return pp_err_set(e, rc, "cannot write %s: %s", ct->events_out, strerror(-rc));
	return 0;
}

/* The kernel passes this connection only from now on: other clients of the same server cost
 * no perf buffer space, and "lost" means lost data of ours. */
int pp_client_trace_filter(struct pp_client_trace *ct, const struct pp_flow_key *flow)
{
	int rc = pp_trace_set_flow(ct->trace, flow);

	ct->filtered = rc == 0;
	return rc;
}

int pp_client_trace_start(struct pp_client_trace *ct, const struct pp_flow_key *flow)
{
	struct pp_err e = { 0 };
	sigset_t all, old;
	int rc;

	if (ct->running || ct->stopped)
		return -EBUSY;
	ct->flow = *flow;
	ct->have_flow = true;
	if (!ct->filtered && (rc = pp_client_trace_filter(ct, flow)) < 0)
		return rc;
	if ((rc = open_log(ct, &e)) < 0) {
		ct->reader_err = e;
		return rc;
	}
	ct->cost_err = pp_trace_cost_snapshot(ct->trace, &ct->cost_start);
	/* Signals are the main thread's: they end its sleeps and blocking calls. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&ct->reader, NULL, reader_main, ct);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	ct->running = true;
	return 0;
}

static void join_reader(struct pp_client_trace *ct)
{
	uint64_t one = 1;

	if (!ct->running)
		return;
	if (write(ct->stop_fd, &one, sizeof(one)) != sizeof(one))
		pthread_cancel(ct->reader); /* cannot happen with an eventfd; never hang here */
	pthread_join(ct->reader, NULL);
	ct->running = false;
}

/* In batched mode the kernel hands over the ring's current block only when it times out, and
 * the last frames can span more than one block: take blocks until one whole batch time passes
 * with none (bounded: the traffic has stopped, at most a few blocks are left). */
static int drain_capture(struct pp_client_trace *ct, struct pp_err *e)
{
	struct pollfd pfd = { .fd = pp_capture_fd(ct->capture), .events = POLLIN };
	int rc;

	for (int i = 0; i < 64 && poll(&pfd, 1, ct->batch_ms + CAPTURE_DRAIN_EXTRA_MS) > 0; i++)
		if ((rc = pp_capture_dispatch(ct->capture, on_event, ct, e)) < 0)
			return rc;
	return pp_capture_finish(ct->capture, on_event, ct, e);
}

/* STOP, then the agent's rest up to its END (fetch.h): timeout_ms in all, and
 * PP_CLIENT_AGENT_FINAL_SILENCE_MS without a frame (a mute or hung agent). */
static void finish_agent(struct pp_client_trace *ct, int timeout_ms, volatile sig_atomic_t *abort)
{
	if (!ct->agent || ct->agent_over)
		return;
	read_agent(ct);
	if (ct->agent_over)
		return;
	agent_over(ct, pp_control_follow_finish(ct->agent, on_agent_event, ct, timeout_ms,
						PP_CLIENT_AGENT_FINAL_SILENCE_MS, abort));
}

int pp_client_trace_stop(struct pp_client_trace *ct, int timeout_ms,
			 volatile sig_atomic_t *abort, struct pp_err *e)
{
	struct pp_err why = { 0 };
	int rc = 0, trc;

	if (ct->stopped)
		return 0;
	join_reader(ct);
	ct->stopped = true;
	/* every step runs; the first failure is the one reported */
	if (ct->reader_err.code) {
		rc = ct->reader_err.code;
		if (e)
			*e = ct->reader_err;
	}
	if (ct->capture) {
		int crc = drain_capture(ct, &why);

		if (crc < 0 && !rc)
			rc = pp_err_set(e, crc, "finishing the capture: %s", pp_err_text(&why));
	}
	trc = pp_trace_flush(ct->trace);
	if (trc < 0 && !rc)
		rc = pp_err_set(e, trc, "draining the perf buffer: %s", strerror(-trc));
	pp_trace_cost_snapshot(ct->trace, &ct->cost_end);
	ct->on_event(ct->ctx, PP_FROM_CLIENT, NULL);
	if (close_log(ct, &ct->log_fail) < 0 && !rc) {
		rc = ct->log_fail.code;
		if (e)
			*e = ct->log_fail;
	}
	finish_agent(ct, timeout_ms, abort);
	return rc;
}

void pp_client_trace_get_stats(const struct pp_client_trace *ct, struct pp_client_trace_stats *st)
{
	*st = (struct pp_client_trace_stats){
		.events = ct->events,
		.foreign = ct->foreign,
		.lost = pp_trace_lost(ct->trace),
		.skipped = pp_trace_skipped(ct->trace),
		.capture = ct->capture != NULL,
		.agent = ct->agent != NULL,
		.agent_events = ct->agent_events,
		.agent_err = ct->agent_err,
		.events_out_err = ct->log_fail,
	};
	if (ct->capture)
		pp_capture_get_stats(ct->capture, &st->cap);
	pp_bpf_cost_delta(&ct->cost_start, &ct->cost_end, &st->cost);
	st->cost_err = ct->cost_err;
	if (ct->agent) {
		const struct pp_fetch_stats *fs = pp_control_fetch_stats(ct->agent);

		st->agent_complete = fs->complete && !ct->agent_err.code;
		st->agent_end = fs->agent;
	}
}

const char *pp_client_trace_points(const struct pp_client_trace *ct)
{
	return pp_trace_points(ct->trace);
}

const struct pp_capture *pp_client_trace_capture(const struct pp_client_trace *ct)
{
	return ct->capture;
}

bool pp_client_trace_isn(const struct pp_client_trace *ct, uint32_t *isn)
{
	if (ct->have_isn)
		*isn = ct->isn;
	return ct->have_isn;
}

static void copy_addr(uint8_t out[16], uint8_t *family, uint16_t *port, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;

	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		*family = PP_AF_INET;
		memcpy(out, &in4->sin_addr, 4);
		*port = ntohs(in4->sin_port);
		return;
	}
	*port = ntohs(in6->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		*family = PP_AF_INET;
		memcpy(out, &in6->sin6_addr.s6_addr[12], 4);
	} else {
		*family = PP_AF_INET6;
		memcpy(out, &in6->sin6_addr, 16);
	}
}

void pp_flow_key_from_sockaddrs(struct pp_flow_key *key, const struct sockaddr *local,
				const struct sockaddr *remote)
{
	*key = (struct pp_flow_key){ 0 };
	copy_addr(key->client_addr, &key->family, &key->client_port, local);
	copy_addr(key->server_addr, &key->family, &key->server_port, remote);
}

void pp_client_trace_close(struct pp_client_trace *ct)
{
	if (!ct)
		return;
	join_reader(ct);
	if (ct->log) {
		fclose(ct->log);
		pp_atomic_abort(&ct->log_af);
	}
	pp_control_fetch_close(ct->agent);
	pp_capture_close(ct->capture);
	pp_trace_close(ct->trace);
	if (ct->stop_fd >= 0)
		close(ct->stop_fd);
	free(ct);
}
