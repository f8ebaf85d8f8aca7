// SPDX-License-Identifier: MIT
/* Test helper for the kernel's connection filter (pp_trace_set_flow): traces itself on a
 * server port as pingpong-client does, connects to a pingpong-server there, sets the filter to
 * that connection (unless --no-filter) and runs COUNT exchanges. Then it prints, one
 * "name value" line each, how many events of other connections the tracer still delivered
 * after the filter was set (by their kernel time stamp: those in flight at the set do not
 * count), and whether every exchange of its own has each of its five client points (send,
 * xmit, rx, tcp, recv), found by TCP sequence number as the correlator finds them. Exit 0
 * when it ran, whatever the figures; 1 on an error; 2 on bad options. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collect/client_trace.h" /* pp_flow_key_from_sockaddrs */
#include "collect/trace.h"
#include "model/proto.h"
#include "ping/client_loop.h"

#define CHUNK 100 /* exchanges between two reads of the perf buffer */

static volatile sig_atomic_t never_stop; /* the loop wants a stop flag; a run ends by count */

/* The five client points of an exchange, as the correlator requires them (PP_SLOTS_CLIENT). */
static const struct { enum pp_point point; const char *name; bool to_server; bool first_byte; }
	points[] = {
	{ PP_SEND, "send", true, true }, { PP_XMIT, "xmit", true, false },
	{ PP_RX, "rx", false, false },   { PP_TCP, "tcp", false, false },
	{ PP_RECV, "recv", false, false },
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

struct probe {
	struct pp_flow_key key;
	bool have_key;
	uint64_t set_ns;                  /* the filter was in place from here on */
	uint64_t own, foreign_before, foreign_after;
	struct pp_event *ev;              /* own events */
	size_t n, cap;
	bool oom;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Before the connect the key is unknown: every event then is the connection's own or not
 * worth telling apart (the SYN), and counts as before the filter. */
static void on_event(void *ctx, const struct pp_event *ev)
{
	struct probe *p = ctx;

	if (!p->have_key || pp_flow_dir(&p->key, ev) == PP_DIR_NONE) {
		if (p->have_key && ev->ts_ns >= p->set_ns)
			p->foreign_after++;
		else
			p->foreign_before++;
		return;
	}
	p->own++;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4096;
		struct pp_event *grown = realloc(p->ev, cap * sizeof(*grown));

		if (!grown) {
			p->oom = true;
			return;
		}
		p->ev = grown;
		p->cap = cap;
	}
	p->ev[p->n++] = *ev;
}

/* The stream's first byte: the seq of its earliest send (to the server) or recv (to the
 * client), which is the hello or the server's reply. false if there is none. */
static bool stream_start(const struct probe *p, enum pp_point point, uint32_t *seq)
{
	uint64_t best = UINT64_MAX;

	for (size_t i = 0; i < p->n; i++)
		if (p->ev[i].point == point && p->ev[i].len && p->ev[i].ts_ns < best) {
			best = p->ev[i].ts_ns;
			*seq = p->ev[i].seq;
		}
	return best != UINT64_MAX;
}

/* Marks in have[] (count entries) the exchanges whose target byte ev covers: the message's
 * first byte for send, its last for every other point; message i starts at base + i*size. */
static void mark(uint8_t *have, uint64_t count, uint32_t size, uint32_t base,
		 const struct pp_event *ev, bool first_byte)
{
	int64_t start = (int32_t)(ev->seq - base), end = start + ev->len;
	int64_t target = first_byte ? 0 : (int64_t)size - 1; /* within the message */
	int64_t lo, hi;

	/* i covered when start <= i*size + target < end */
	lo = start - target <= 0 ? 0 : (start - target + size - 1) / size;
	if (end - 1 - target < 0)
		return;
	hi = (end - 1 - target) / size;
	for (int64_t i = lo; i <= hi && i < (int64_t)count; i++)
		have[i] = 1;
}

static int run(const char *addr, uint16_t port, uint32_t size, uint64_t count, bool filter)
{
	struct probe p = { 0 };
	struct pp_err err = { 0 };
	struct pp_trace *t = NULL;
	struct sockaddr_storage server = { 0 }, local, remote;
	socklen_t llen = sizeof(local), rlen = sizeof(remote);
	struct timeval tv = { .tv_sec = 5 };
	struct pp_client_loop loop = { 0 };
	struct pp_hs_reply reply;
	__u32 self = (__u32)getpid();
	struct pp_trace_opts topts = {
		.ports = &port, .n_ports = 1, .tgids = &self, .n_tgids = 1,
		.tcp_point = true, /* opt-in; the filter must hold on every point, tcp's too */
		.on_event = on_event, .ctx = &p,
	};
	uint8_t *have[NPOINTS] = { 0 };
	uint64_t done = 0, complete = 0, missing[NPOINTS] = { 0 };
	uint32_t ping0, pong0;
	char keytext[PP_FLOW_KEY_STRLEN];
	int fd = -1, rc = 1, one = 1;

	if (pp_trace_open(&t, &topts, &err) < 0) {
		fprintf(stderr, "flowfilter_probe: %s\n", pp_err_text(&err));
		return 1;
	}
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&server)->sin_addr) == 1) {
		((struct sockaddr_in *)&server)->sin_family = AF_INET;
		((struct sockaddr_in *)&server)->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&server)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&server)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&server)->sin6_port = htons(port);
	} else {
		fprintf(stderr, "flowfilter_probe: --addr must be a numeric address (got %s)\n", addr);
		rc = 2;
		goto out;
	}
	fd = socket(server.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    connect(fd, (struct sockaddr *)&server, server.ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) ||
	    getpeername(fd, (struct sockaddr *)&remote, &rlen)) {
		fprintf(stderr, "flowfilter_probe: connecting to %s port %u: %s\n", addr, port,
			strerror(errno));
		goto out;
	}
	pp_flow_key_from_sockaddrs(&p.key, (struct sockaddr *)&local, (struct sockaddr *)&remote);
	/* what came before the key was known is delivered under the old rules */
	if (pp_trace_poll(t, 0) < 0)
		goto out;
	if (filter && (rc = pp_trace_set_flow(t, &p.key)) < 0) {
		fprintf(stderr, "flowfilter_probe: pp_trace_set_flow: %s\n", strerror(-rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	p.set_ns = now_ns();
	p.have_key = true;
	if ((rc = pp_client_hello(fd, size, count, &reply)) < 0 || reply.status != PP_HS_OK) {
		fprintf(stderr, "flowfilter_probe: hello: %s\n",
			rc < 0 ? strerror(-rc) : pp_hs_status_name(reply.status));
		rc = 1;
		goto out;
	}
	rc = 1;
	if (pp_client_loop_init(&loop, fd, size) < 0)
		goto out;
	loop.stop = &never_stop;
	while (done < count) {
		uint64_t n = count - done < CHUNK ? count - done : CHUNK, got = 0;
		int lrc = pp_client_loop_run(&loop, n, NULL, &got);

		done += got;
		if (lrc < 0) {
			fprintf(stderr, "flowfilter_probe: exchange %llu: %s\n",
				(unsigned long long)done, strerror(-lrc));
			goto out;
		}
		if (pp_trace_poll(t, 0) < 0)
			goto out;
	}
	close(fd); /* the FIN, so that the server's side ends */
	fd = -1;
	if (pp_trace_flush(t) < 0 || p.oom) {
		fprintf(stderr, "flowfilter_probe: draining the events failed\n");
		goto out;
	}

	/* ping i at [hello + 24 + i*size), pong i after the reply's header and reason */
	for (size_t k = 0; k < NPOINTS; k++)
		if (!(have[k] = calloc(count ? count : 1, 1)))
			goto out;
	if (stream_start(&p, PP_SEND, &ping0) && stream_start(&p, PP_RECV, &pong0)) {
		ping0 += PP_HS_HELLO_LEN;
		pong0 += PP_HS_REPLY_HDR + (uint32_t)strlen(reply.reason);
		for (size_t i = 0; i < p.n; i++)
			for (size_t k = 0; k < NPOINTS; k++)
				if (p.ev[i].point == points[k].point && p.ev[i].len &&
				    pp_flow_dir(&p.key, &p.ev[i]) ==
				    (points[k].to_server ? PP_DIR_TO_SERVER : PP_DIR_TO_CLIENT))
					mark(have[k], count, size, points[k].to_server ? ping0 : pong0,
					     &p.ev[i], points[k].first_byte);
	}
	for (uint64_t i = 0; i < count; i++) {
		bool all = true;

		for (size_t k = 0; k < NPOINTS; k++)
			if (!have[k][i]) {
				missing[k]++;
				all = false;
			}
		complete += all;
	}
	printf("flow %s\n", pp_flow_key_str(&p.key, keytext, sizeof(keytext)));
	printf("filter %s\n", filter ? "on" : "off");
	printf("exchanges %llu\n", (unsigned long long)done);
	printf("complete %llu\n", (unsigned long long)complete);
	printf("incomplete %llu\n", (unsigned long long)(count - complete));
	for (size_t k = 0; k < NPOINTS; k++)
		printf("missing_%s %llu\n", points[k].name, (unsigned long long)missing[k]);
	printf("events %llu\n", (unsigned long long)pp_trace_events(t));
	printf("own %llu\n", (unsigned long long)p.own);
	printf("foreign_before %llu\n", (unsigned long long)p.foreign_before);
	printf("foreign_after %llu\n", (unsigned long long)p.foreign_after);
	printf("lost %llu\n", (unsigned long long)pp_trace_lost(t));
	printf("skipped %llu\n", (unsigned long long)pp_trace_skipped(t));
	rc = 0;
out:
	for (size_t k = 0; k < NPOINTS; k++)
		free(have[k]);
	pp_client_loop_free(&loop);
	if (fd >= 0)
		close(fd);
	pp_trace_close(t);
	free(p.ev);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: flowfilter_probe --addr ADDR --port PORT [--size BYTES] [--count N] "
		   "[--no-filter]\n"
		   "Traces itself on PORT, runs N ping-pong exchanges with a pingpong-server, and\n"
		   "prints the events of other connections the tracer delivered and whether every\n"
		   "exchange has its five client points. Needs root (BPF).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "addr", required_argument, 0, 'a' },  { "port", required_argument, 0, 'p' },
		{ "size", required_argument, 0, 's' },  { "count", required_argument, 0, 'c' },
		{ "no-filter", no_argument, 0, 'n' },   { "help", no_argument, 0, 'h' },
		{ 0 }
	};
	const char *addr = NULL;
	unsigned long port = 0, size = 64;
	unsigned long long count = 10000;
	bool filter = true;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		errno = 0;
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = strtoul(optarg, &end, 10); break;
		case 's': size = strtoul(optarg, &end, 10); break;
		case 'c': count = strtoull(optarg, &end, 10); break;
		case 'n': filter = false; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if ((opt == 'p' || opt == 's' || opt == 'c') && (*end || errno)) {
			fprintf(stderr, "flowfilter_probe: --%s wants a number (got %s)\n",
				longopts[opt == 'p' ? 1 : opt == 's' ? 2 : 3].name, optarg);
			return 2;
		}
	}
	if (!addr || port < 1 || port > 65535 || size < 16 || size > 65536 || count < 1 ||
	    count > 10000000) {
		usage(stderr);
		return 2;
	}
	return run(addr, (uint16_t)port, (uint32_t)size, count, filter);
}
