// SPDX-License-Identifier: MIT
/* The client host's tracing session: the collector and the capture, read by one thread while
 * the exchanges run, their events kept in fixed-size chunks (no copy as the store grows, so
 * the reader never stalls on a large realloc), sorted once at the end. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "collect/client_trace.h"
#include "collect/eventlog.h"
#include "collect/trace.h"

#define CHUNK_EVENTS 8192              /* 640 KiB per chunk */
#define CAPTURE_DRAIN_EXTRA_MS 50      /* past the batch time, for the ring's last block */

struct pp_client_trace {
	struct pp_trace *trace;
	struct pp_capture *capture;
	int batch_ms;
	int stop_fd;                    /* eventfd: written once to end the reader */
	pthread_t reader;
	bool running;

	/* Written by the reader only while it runs, by the caller before and after. */
	struct pp_flow_key flow;
	bool have_flow;
	struct pp_event **chunks;
	size_t nchunks, capchunks;
	size_t count, max_events;
	uint64_t foreign, overflow;
	struct pp_err reader_err;       /* the reader's first failure */

	struct pp_event *sorted;        /* after stop */
	bool stopped;
};

static int store(struct pp_client_trace *ct, const struct pp_event *ev)
{
	size_t at = ct->count % CHUNK_EVENTS;

	if (ct->count >= ct->max_events) {
		ct->overflow++;
		return -ENOSPC;
	}
	if (at == 0 && ct->count / CHUNK_EVENTS == ct->nchunks) {
		if (ct->nchunks == ct->capchunks) {
			size_t cap = ct->capchunks ? ct->capchunks * 2 : 64;
			struct pp_event **chunks = realloc(ct->chunks, cap * sizeof(*chunks));

			if (!chunks) {
				ct->overflow++;
				return -ENOMEM;
			}
			ct->chunks = chunks;
			ct->capchunks = cap;
		}
		if (!(ct->chunks[ct->nchunks] = malloc(CHUNK_EVENTS * sizeof(struct pp_event)))) {
			ct->overflow++;
			return -ENOMEM;
		}
		ct->nchunks++;
	}
	ct->chunks[ct->count / CHUNK_EVENTS][at] = *ev;
	ct->count++;
	return 0;
}

/* The tracer passes every connection on the server port in this namespace (another client
 * of the same server, say): only ours is kept. */
static void on_event(void *ctx, const struct pp_event *ev)
{
	struct pp_client_trace *ct = ctx;

	if (ct->have_flow && pp_flow_dir(&ct->flow, ev) == PP_DIR_NONE) {
		ct->foreign++;
		return;
	}
	store(ct, ev);
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
		.verbosity = o->verbosity,
		.on_event = on_event,
	};
	int rc;

	*out = NULL;
	if (!(ct = calloc(1, sizeof(*ct))))
		return pp_err_set(e, -ENOMEM, "out of memory");
	ct->stop_fd = -1;
	ct->max_events = o->max_events ? o->max_events : 1;
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

/* Keeps the first failure: what failed, and why (why's reason, or strerror). */
static void reader_failed(struct pp_client_trace *ct, int err, const char *what,
			  const struct pp_err *why)
{
	if (ct->reader_err.code)
		return;
	pp_err_set(&ct->reader_err, err, "%s: %s", what,
		   why && why->msg[0] ? why->msg : strerror(-err));
}

/* Sleeps until a perf buffer passes its wakeup mark, a capture block is ready, the timeout
 * (so that the capture's clock samples stay fresh) or stop. A failing source is dropped;
 * the other one goes on. */
static void *reader_main(void *arg)
{
	struct pp_client_trace *ct = arg;
	struct pollfd fds[3] = {
		{ .fd = ct->stop_fd, .events = POLLIN },
		{ .fd = pp_trace_epoll_fd(ct->trace), .events = POLLIN },
		{ .fd = ct->capture ? pp_capture_fd(ct->capture) : -1, .events = POLLIN },
	};
	struct pp_err why = { 0 };
	int n, rc;

	for (;;) {
		n = poll(fds, 3, PP_CLIENT_TRACE_POLL_MS);
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
		if (fds[2].fd >= 0 && (n == 0 || fds[2].revents) &&
		    (rc = pp_capture_dispatch(ct->capture, on_event, ct, &why)) < 0) {
			reader_failed(ct, rc, "reading the capture", &why);
			fds[2].fd = -1;
		}
	}
	return NULL;
}

int pp_client_trace_start(struct pp_client_trace *ct, const struct pp_flow_key *flow)
{
	sigset_t all, old;
	int rc;

	if (ct->running || ct->stopped)
		return -EBUSY;
	ct->flow = *flow;
	ct->have_flow = true;
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

static int by_time(const void *x, const void *y)
{
	const struct pp_event *a = x, *b = y;

	if (a->ts_ns != b->ts_ns)
		return a->ts_ns < b->ts_ns ? -1 : 1;
	return (int)a->point - (int)b->point;
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

/* In batched mode the kernel hands over the ring's current block only when it times out. */
static int drain_capture(struct pp_client_trace *ct, struct pp_err *e)
{
	struct pollfd pfd = { .fd = pp_capture_fd(ct->capture), .events = POLLIN };
	int rc;

	if (poll(&pfd, 1, ct->batch_ms + CAPTURE_DRAIN_EXTRA_MS) > 0 &&
	    (rc = pp_capture_dispatch(ct->capture, on_event, ct, e)) < 0)
		return rc;
	return pp_capture_finish(ct->capture, on_event, ct, e);
}

static int sort_events(struct pp_client_trace *ct)
{
	size_t i, left = ct->count;

	ct->sorted = malloc((ct->count ? ct->count : 1) * sizeof(*ct->sorted));
	if (!ct->sorted)
		return -ENOMEM;
	for (i = 0; i < ct->nchunks; i++) {
		size_t n = left < CHUNK_EVENTS ? left : CHUNK_EVENTS;

		memcpy(ct->sorted + i * CHUNK_EVENTS, ct->chunks[i], n * sizeof(*ct->sorted));
		left -= n;
		free(ct->chunks[i]);
	}
	free(ct->chunks);
	ct->chunks = NULL;
	ct->nchunks = ct->capchunks = 0;
	qsort(ct->sorted, ct->count, sizeof(*ct->sorted), by_time);
	return 0;
}

int pp_client_trace_stop(struct pp_client_trace *ct, struct pp_err *e)
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
	if (sort_events(ct) < 0 && !rc)
		rc = pp_err_set(e, -ENOMEM, "cannot sort %zu events: out of memory", ct->count);
	return rc;
}

const struct pp_event *pp_client_trace_events(const struct pp_client_trace *ct, size_t *n)
{
	*n = ct->sorted ? ct->count : 0;
	return ct->sorted;
}

void pp_client_trace_get_stats(const struct pp_client_trace *ct, struct pp_client_trace_stats *st)
{
	*st = (struct pp_client_trace_stats){
		.events = ct->count,
		.foreign = ct->foreign,
		.overflow = ct->overflow,
		.lost = pp_trace_lost(ct->trace),
		.skipped = pp_trace_skipped(ct->trace),
		.capture = ct->capture != NULL,
	};
	if (ct->capture)
		pp_capture_get_stats(ct->capture, &st->cap);
}

const struct pp_capture *pp_client_trace_capture(const struct pp_client_trace *ct)
{
	return ct->capture;
}

bool pp_client_trace_isn(const struct pp_client_trace *ct, uint32_t *isn)
{
	size_t n;
	const struct pp_event *ev = pp_client_trace_events(ct, &n);

	/* the latest SYN: a retransmitted SYN carries the same seq anyway */
	for (size_t i = n; i-- > 0;)
		if ((ev[i].tcp_flags & (PP_TCP_SYN | PP_TCP_ACK)) == PP_TCP_SYN &&
		    pp_flow_dir(&ct->flow, &ev[i]) == PP_DIR_TO_SERVER) {
			*isn = ev[i].seq;
			return true;
		}
	return false;
}

int pp_client_trace_write_log(const struct pp_client_trace *ct, const char *path)
{
	struct pp_atomic_file af;
	size_t n;
	const struct pp_event *ev = pp_client_trace_events(ct, &n);
	FILE *f;
	int fd, rc;

	if ((rc = pp_atomic_open(&af, path)) < 0)
		return rc;
	/* stdio on a duplicate: the commit closes af.fd itself */
	if ((fd = dup(af.fd)) < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		pp_atomic_abort(&af);
		return rc;
	}
	errno = 0;
	rc = pp_eventlog_write_header(f);
	for (size_t i = 0; i < n && !rc; i++)
		rc = pp_eventlog_write(f, &ev[i]);
	if (rc == -EIO && errno) /* the eventlog writer says only EIO: the failed write says why */
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (rc) {
		pp_atomic_abort(&af);
		return rc;
	}
	return pp_atomic_commit(&af);
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
	pp_capture_close(ct->capture);
	pp_trace_close(ct->trace);
	if (ct->stop_fd >= 0)
		close(ct->stop_fd);
	for (size_t i = 0; i < ct->nchunks; i++)
		free(ct->chunks[i]);
	free(ct->chunks);
	free(ct->sorted);
	free(ct);
}
