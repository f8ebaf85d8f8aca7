// SPDX-License-Identifier: MIT
/* Test helper: a ping-pong echo whose every send and receive on the data socket goes through
 * io_uring (liburing: IORING_OP_SEND / IORING_OP_RECV, and the accept and connect too), never
 * through send/recv/read/write system calls, so a tracer that sees only those system calls
 * sees none of its traffic (issue 15; t/integration/test_trace_uring.sh).
 *
 *   uring_echo server --port P [--addr ADDR] [--size BYTES] [--raw] [--log FILE]
 *                     [--timeout SEC] [--lifetime SEC]
 *   uring_echo client --addr ADDR --port P --size BYTES --count N [--warmup N] [--raw]
 *                     [--log FILE] [--timeout SEC]
 *
 * Server. Listens on ADDR (default :: with IPv4 mapped, so IPv4 and IPv6 alike), serves up to
 * 64 connections at once from one thread and one ring. Each connection opens with pingpong's
 * handshake (docs/protocol.md: the hello, then the reply; user/ping/handshake.c's codecs), so
 * pingpong-client can measure against it; then, for every message, it receives exactly the
 * agreed size and sends the same bytes back, as pingpong-server does. --size BYTES makes it
 * refuse a hello of another size (status 4); --raw skips the handshake: messages of --size
 * bytes from the first byte on. A connection that completes no receive or send for --timeout
 * seconds (default 10), or that closes in the middle of a message, is an error.
 *
 * Client. One connection: the handshake (count = warmup + count), then warmup + count
 * exchanges of --size bytes, each ping numbered in its first 8 bytes (as pingpong-client's) and
 * every pong checked byte for byte against its ping; then it closes. Against pingpong-server or
 * against a uring_echo server.
 *
 * --log FILE: a header line "port,messages,recv_calls,recv_bytes,send_calls,send_bytes,status",
 * then one line per connection once it is over (the server; the client writes its one line at
 * the end): the client's port, the messages echoed (server) or exchanges done (client), the
 * receives and sends that moved data (completions with a result > 0, handshake included) and
 * their bytes, and "ok" or "error". A tracer that takes the send and recv points at the socket
 * must have exactly these many send and recv events of the connection, and these bytes.
 *
 * Bounded: the server exits after --lifetime seconds (default 300) or at SIGINT/SIGTERM,
 * within about 100 ms, after shutting its connections down; every wait of the client gives up
 * after --timeout seconds. Exit status: 0 if every connection kept the framing (server) or every
 * pong came back whole and right (client); 1 otherwise; 2 usage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ping/handshake.h"
#include "probe_util.h"

#define UE_MAX_CONNS    64
#define UE_RING         256
#define UE_SLICE_MS     100                  /* how often the loops look at the clock and flags */
#define UE_MEM_MAX      (256u << 20)         /* message buffers of all connections together */
#define UE_ACCEPT_TAG   1u                   /* user_data of the accept; connections are pointers */
#define UE_CANCEL_TAG   2u

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
					       : ((const struct sockaddr_in *)ss)->sin_port);
}

static FILE *open_log(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "uring_echo: cannot write %s: %s\n", path, strerror(errno));
		return NULL;
	}
	fprintf(f, "port,messages,recv_calls,recv_bytes,send_calls,send_bytes,status\n");
	fflush(f);
	return f;
}

struct counts {
	uint64_t messages, recv_calls, recv_bytes, send_calls, send_bytes;
};

static void log_line(FILE *f, uint16_t port, const struct counts *n, bool ok)
{
	if (!f)
		return;
	fprintf(f, "%u,%llu,%llu,%llu,%llu,%llu,%s\n", port, (unsigned long long)n->messages,
		(unsigned long long)n->recv_calls, (unsigned long long)n->recv_bytes,
		(unsigned long long)n->send_calls, (unsigned long long)n->send_bytes,
		ok ? "ok" : "error");
	fflush(f);
}

/* An SQE, submitting what is queued first when the ring is full (it cannot stay full: each
 * connection has at most one operation in flight). */
static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

/* getopt_long's own message is off (opterr = 0): one line, ours */
static int bad_option(char **argv)
{
	fprintf(stderr, "uring_echo: %s: unknown option or missing value (--help)\n", argv[optind - 1]);
	return 2;
}

/* ------------------------------------------------------------------ server */

enum conn_state { ST_HELLO, ST_REPLY, ST_RECV, ST_SEND };

struct conn {
	struct conn *next;
	int fd;
	uint16_t port;               /* the client's */
	enum conn_state st;
	bool inflight, error, closing, reply_ok;
	uint8_t hs[PP_HS_HELLO_MAX];
	size_t hs_need, hs_got;
	uint8_t reply[PP_HS_REPLY_MAX];
	size_t reply_len, reply_sent;
	unsigned char *buf;
	size_t size, done;           /* message size; bytes received or sent of this one */
	uint64_t last_ms;
	struct counts n;
	char why[160];
};

struct server {
	struct io_uring ring;
	int lfd;
	bool accepting;
	struct conn *conns;
	size_t nconns, mem;
	size_t size;                 /* --size, 0: whatever the hello says */
	bool raw;
	uint64_t timeout_ms;
	FILE *log;
	uint64_t served, messages, refused;
	int errors;
};

static void arm_accept(struct server *s)
{
	struct io_uring_sqe *sqe = get_sqe(&s->ring);

	io_uring_prep_accept(sqe, s->lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, UE_ACCEPT_TAG);
	s->accepting = true;
}

/* Queues the connection's next operation: a receive in ST_HELLO and ST_RECV, a send otherwise. */
static void arm_conn(struct server *s, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(&s->ring);

	switch (c->st) {
	case ST_HELLO:
		io_uring_prep_recv(sqe, c->fd, c->hs + c->hs_got, c->hs_need - c->hs_got, 0);
		break;
	case ST_REPLY:
		io_uring_prep_send(sqe, c->fd, c->reply + c->reply_sent, c->reply_len - c->reply_sent,
				   MSG_NOSIGNAL);
		break;
	case ST_RECV:
		io_uring_prep_recv(sqe, c->fd, c->buf + c->done, c->size - c->done, 0);
		break;
	case ST_SEND:
		io_uring_prep_send(sqe, c->fd, c->buf + c->done, c->size - c->done, MSG_NOSIGNAL);
		break;
	}
	io_uring_sqe_set_data(sqe, c);
	c->inflight = true;
}

static void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->error) {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	c->error = true;
	c->closing = true;
}

static void conn_free(struct server *s, struct conn *c)
{
	struct conn **pp;

	for (pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	log_line(s->log, c->port, &c->n, !c->error);
	s->messages += c->n.messages;
	if (c->error) {
		s->errors++;
		fprintf(stderr, "uring_echo server: connection from port %u: %s\n", c->port, c->why);
	}
	close(c->fd);
	s->mem -= c->size;
	s->nconns--;
	free(c->buf);
	free(c);
}

/* The hello is whole: decide, allocate, and queue the reply. */
static void hello_done(struct server *s, struct conn *c)
{
	struct pp_hello h;
	enum pp_hs_status st = pp_hello_decode(c->hs, c->hs_got, &h);
	char reason[PP_HS_REASON_MAX + 1] = "";
	int len;

	if (st == PP_HS_OK && s->size && h.msg_size != s->size) {
		st = PP_HS_BAD_SIZE;
		snprintf(reason, sizeof(reason), "this server echoes %zu-byte messages", s->size);
	}
	if (st == PP_HS_OK && s->mem + h.msg_size > UE_MEM_MAX)
		st = PP_HS_BUSY;
	if (st == PP_HS_OK) {
		c->buf = malloc(h.msg_size);
		if (!c->buf)
			st = PP_HS_INTERNAL;
	}
	if (st == PP_HS_OK) {
		memset(c->buf, 0, h.msg_size);
		c->size = h.msg_size;
		s->mem += c->size;
	}
	len = pp_hs_reply_encode(st, reason[0] ? reason : NULL, c->reply, sizeof(c->reply));
	if (len < 0) {
		conn_fail(c, "cannot encode the reply");
		return;
	}
	c->reply_len = (size_t)len;
	c->reply_ok = st == PP_HS_OK;
	if (!c->reply_ok)
		conn_fail(c, "hello refused: %s", pp_hs_status_name(st));
	c->closing = false;   /* the reply goes out first, then the connection closes */
	c->st = ST_REPLY;
}

/* A receive or send of c completed with res. */
static void conn_complete(struct server *s, struct conn *c, int res)
{
	c->inflight = false;
	c->last_ms = now_ms();
	if (c->closing)
		return;
	if (res == -EINTR || res == -EAGAIN)
		return;   /* the operation is queued again below */
	if (res < 0) {
		bool quiet_stop = stop_flag && (res == -ECANCELED || res == -EPIPE ||
						res == -ECONNRESET);

		if (quiet_stop)
			c->closing = true;
		else
			conn_fail(c, "%s: %s", c->st == ST_HELLO || c->st == ST_RECV ? "recv" : "send",
				  strerror(-res));
		return;
	}
	if (c->st == ST_HELLO || c->st == ST_RECV) {
		if (res == 0) {
			size_t got = c->st == ST_HELLO ? c->hs_got : c->done;

			if (got == 0 || stop_flag)
				c->closing = true;   /* the client is done, or we stop: a clean end */
			else
				conn_fail(c, "message %llu: closed after %zu of %zu bytes",
					  (unsigned long long)c->n.messages, got,
					  c->st == ST_HELLO ? c->hs_need : c->size);
			return;
		}
		c->n.recv_calls++;
		c->n.recv_bytes += (uint64_t)res;
	} else {
		if (res == 0) {
			conn_fail(c, "send returned 0");
			return;
		}
		c->n.send_calls++;
		c->n.send_bytes += (uint64_t)res;
	}

	switch (c->st) {
	case ST_HELLO:
		c->hs_got += (size_t)res;
		if (c->hs_got < c->hs_need)
			break;
		if (c->hs_need == 8) {
			uint16_t status = PP_HS_OK;
			int total = pp_hello_peek(c->hs, c->hs_got, &status);

			if (total < 0) {
				int len = pp_hs_reply_encode(status, NULL, c->reply, sizeof(c->reply));

				conn_fail(c, "bad hello: %s", pp_hs_status_name(status));
				if (len > 0) {   /* say why, then close */
					c->reply_len = (size_t)len;
					c->closing = false;
					c->st = ST_REPLY;
				}
				break;
			}
			if ((size_t)total > c->hs_got) {
				c->hs_need = (size_t)total;
				break;
			}
		}
		hello_done(s, c);
		break;
	case ST_REPLY:
		c->reply_sent += (size_t)res;
		if (c->reply_sent < c->reply_len)
			break;
		if (!c->reply_ok) {
			c->closing = true;
			break;
		}
		c->st = ST_RECV;
		c->done = 0;
		break;
	case ST_RECV:
		c->done += (size_t)res;
		if (c->done == c->size) {
			c->st = ST_SEND;
			c->done = 0;
		}
		break;
	case ST_SEND:
		c->done += (size_t)res;
		if (c->done == c->size) {
			c->n.messages++;
			c->st = ST_RECV;
			c->done = 0;
		}
		break;
	}
}

static void new_conn(struct server *s, int fd)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct conn *c;
	int one = 1;

	c = s->nconns < UE_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		s->refused++;
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		c->port = port_of(&peer);
	c->last_ms = now_ms();
	if (s->raw) {
		c->buf = calloc(1, s->size);
		if (!c->buf) {
			free(c);
			s->refused++;
			close(fd);
			return;
		}
		c->size = s->size;
		s->mem += c->size;
		c->st = ST_RECV;
	} else {
		c->st = ST_HELLO;
		c->hs_need = 8;
	}
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	s->served++;
	arm_conn(s, c);
}

/* Takes every completion there is; then closes what is over and queues what goes on. */
static void reap(struct server *s)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	io_uring_for_each_cqe(&s->ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);

		seen++;
		if (tag == UE_CANCEL_TAG)
			continue;
		if (tag == UE_ACCEPT_TAG) {
			s->accepting = false;
			if (cqe->res >= 0) {
				if (stop_flag)
					close(cqe->res);
				else
					new_conn(s, cqe->res);
			}
			continue;
		}
		conn_complete(s, (struct conn *)(uintptr_t)tag, cqe->res);
	}
	io_uring_cq_advance(&s->ring, seen);

	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->inflight)
			continue;
		if (c->closing)
			conn_free(s, c);
		else
			arm_conn(s, c);
	}
	if (!s->accepting && !stop_flag)
		arm_accept(s);
}

static int wait_some(struct server *s, unsigned ms)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long long)(ms % 1000) * 1000000 };
	struct io_uring_cqe *cqe;
	int rc = io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &ts, NULL);

	return rc < 0 && rc != -ETIME && rc != -EINTR ? rc : 0;
}

static void srv_usage(FILE *f)
{
	fprintf(f,
		"usage: uring_echo server --port P [--addr ADDR] [--size BYTES] [--raw] [--log FILE]\n"
		"                         [--timeout SEC] [--lifetime SEC]\n"
		"Echoes fixed-size messages (pingpong's handshake first), every receive and send\n"
		"through io_uring.\n"
		"  --addr ADDR      numeric address to listen on (default :: and 0.0.0.0)\n"
		"  --size BYTES     refuse a hello of another message size; with --raw, the size\n"
		"  --raw            no handshake: messages of --size bytes from the first byte\n"
		"  --log FILE       one line per connection: its receives and sends and their bytes\n"
		"  --timeout SEC    an error when a connection completes nothing this long (10)\n"
		"  --lifetime SEC   exit after this long (300); SIGINT/SIGTERM exit at once\n");
}

static int server_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "size", required_argument, NULL, 's' },
		{ "raw", no_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server s = { .lfd = -1, .timeout_ms = 10000 };
	uint64_t port = 0, size = 0, v, lifetime = 300, deadline, stop_at;
	const char *addr = NULL, *log_path = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, one = 1, zero = 0, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (probe_parse_u64(optarg, 1, 65535, &port)) {
				fprintf(stderr, "uring_echo: --port: 1..65535\n");
				return 2;
			}
			break;
		case 'a': addr = optarg; break;
		case 's':
			if (probe_parse_u64(optarg, PP_MSG_SIZE_MIN, PP_MSG_SIZE_MAX, &size)) {
				fprintf(stderr, "uring_echo: --size: %u..%u bytes\n", PP_MSG_SIZE_MIN,
					PP_MSG_SIZE_MAX);
				return 2;
			}
			break;
		case 'r': s.raw = true; break;
		case 'L': log_path = optarg; break;
		case 't':
			if (probe_parse_u64(optarg, 1, 3600, &v)) {
				fprintf(stderr, "uring_echo: --timeout: 1..3600 seconds\n");
				return 2;
			}
			s.timeout_ms = v * 1000;
			break;
		case 'l':
			if (probe_parse_u64(optarg, 1, 86400, &lifetime)) {
				fprintf(stderr, "uring_echo: --lifetime: 1..86400 seconds\n");
				return 2;
			}
			break;
		case 'h': srv_usage(stdout); return 0;
		default: return bad_option(argv);
		}
	}
	if (!port || optind != argc) {
		fprintf(stderr, "uring_echo: server: %s\n", !port ? "--port is required" : "unexpected argument");
		return 2;
	}
	if (s.raw && !size) {
		fprintf(stderr, "uring_echo: server: --raw needs --size\n");
		return 2;
	}
	s.size = (size_t)size;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (probe_resolve("uring_echo", addr ? addr : "::", (uint16_t)port, true, &ss, &sslen))
		return 1;
	s.lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.lfd < 0 && !addr && errno == EAFNOSUPPORT) {   /* no IPv6: IPv4 only */
		if (probe_resolve("uring_echo", "0.0.0.0", (uint16_t)port, true, &ss, &sslen))
			return 1;
		s.lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (s.lfd < 0) {
		fprintf(stderr, "uring_echo: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(s.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && !addr)
		setsockopt(s.lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(s.lfd, (struct sockaddr *)&ss, sslen) < 0 || listen(s.lfd, 128) < 0) {
		fprintf(stderr, "uring_echo: port %u: %s\n", (unsigned)port, strerror(errno));
		close(s.lfd);
		return 1;
	}
	rc = io_uring_queue_init(UE_RING, &s.ring, 0);
	if (rc < 0) {
		fprintf(stderr, "uring_echo: io_uring: %s\n", strerror(-rc));
		close(s.lfd);
		return 1;
	}
	if (log_path && !(s.log = open_log(log_path))) {
		io_uring_queue_exit(&s.ring);
		close(s.lfd);
		return 1;
	}
	printf("uring_echo server: listening on port %u (io_uring)\n", (unsigned)port);
	fflush(stdout);

	deadline = now_ms() + lifetime * 1000;
	arm_accept(&s);
	while (!stop_flag) {
		uint64_t now;

		rc = wait_some(&s, UE_SLICE_MS);
		if (rc < 0) {
			fprintf(stderr, "uring_echo: io_uring_enter: %s\n", strerror(-rc));
			s.errors++;
			break;
		}
		reap(&s);
		now = now_ms();
		if (now >= deadline)
			stop_flag = 1;
		for (struct conn *c = s.conns; c; c = c->next)
			if (c->inflight && !c->closing && now - c->last_ms >= s.timeout_ms) {
				conn_fail(c, "message %llu: nothing received or sent for %llu s",
					  (unsigned long long)c->n.messages,
					  (unsigned long long)(s.timeout_ms / 1000));
				shutdown(c->fd, SHUT_RDWR);   /* its operation ends at once */
			}
	}

	/* Stopping: shut every connection down (a pending receive completes with 0, a send with
	 * an error), cancel the accept, and take every completion, so that each connection's
	 * counts are whole when its line is written. */
	stop_flag = 1;
	for (struct conn *c = s.conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	if (s.accepting) {
		struct io_uring_sqe *sqe = get_sqe(&s.ring);

		io_uring_prep_cancel64(sqe, UE_ACCEPT_TAG, 0);
		io_uring_sqe_set_data64(sqe, UE_CANCEL_TAG);
	}
	stop_at = now_ms() + 1000;
	while ((s.conns || s.accepting) && now_ms() < stop_at) {
		if (wait_some(&s, UE_SLICE_MS) < 0)
			break;
		reap(&s);
	}
	io_uring_queue_exit(&s.ring);   /* cancels whatever is left */
	while (s.conns)
		conn_free(&s, s.conns);
	close(s.lfd);
	if (s.log)
		fclose(s.log);
	printf("uring_echo server: %llu messages echoed on %llu connections, %d with errors, %llu refused\n",
	       (unsigned long long)s.messages, (unsigned long long)s.served, s.errors,
	       (unsigned long long)s.refused);
	return s.errors ? 1 : 0;
}

/* ------------------------------------------------------------------ client */

struct client {
	struct io_uring ring;
	int fd;
	uint64_t timeout_ms;
	struct counts n;
};

/* One operation (IORING_OP_SEND, _RECV or _CONNECT, prepared by prep) and its result, or
 * -ETIMEDOUT after --timeout, -EINTR at SIGINT/SIGTERM (the operation cancelled either way). */
static int one_op(struct client *cl, struct io_uring_sqe *sqe)
{
	uint64_t deadline = now_ms() + cl->timeout_ms;
	int res = 0;
	bool done = false, cancelled = false;

	io_uring_sqe_set_data64(sqe, 1);
	for (;;) {
		struct __kernel_timespec ts = { .tv_nsec = UE_SLICE_MS * 1000000LL };
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int rc = io_uring_submit_and_wait_timeout(&cl->ring, &cqe, 1, &ts, NULL);

		if (rc < 0 && rc != -ETIME && rc != -EINTR)
			return rc;
		io_uring_for_each_cqe(&cl->ring, head, cqe) {
			seen++;
			if (io_uring_cqe_get_data64(cqe) == 1) {
				res = cqe->res;
				done = true;
			}
		}
		io_uring_cq_advance(&cl->ring, seen);
		if (done)
			return cancelled ? (stop_flag ? -EINTR : -ETIMEDOUT) : res;
		if (!cancelled && (stop_flag || now_ms() >= deadline)) {
			struct io_uring_sqe *c = get_sqe(&cl->ring);

			io_uring_prep_cancel64(c, 1, 0);
			io_uring_sqe_set_data64(c, UE_CANCEL_TAG);
			cancelled = true;
		}
	}
}

/* Sends (dir 's') or receives ('r') exactly len bytes; 0, or a negative errno (-EPIPE: EOF). */
static int xfer(struct client *cl, char dir, unsigned char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct io_uring_sqe *sqe = get_sqe(&cl->ring);
		int res;

		if (dir == 's')
			io_uring_prep_send(sqe, cl->fd, buf + done, len - done, MSG_NOSIGNAL);
		else
			io_uring_prep_recv(sqe, cl->fd, buf + done, len - done, 0);
		res = one_op(cl, sqe);
		if (res == -EINTR && !stop_flag)
			continue;
		if (res < 0)
			return res;
		if (res == 0)
			return -EPIPE;
		if (dir == 's') {
			cl->n.send_calls++;
			cl->n.send_bytes += (uint64_t)res;
		} else {
			cl->n.recv_calls++;
			cl->n.recv_bytes += (uint64_t)res;
		}
		done += (size_t)res;
	}
	return 0;
}

static void cli_usage(FILE *f)
{
	fprintf(f,
		"usage: uring_echo client --addr ADDR --port P --size BYTES --count N [--warmup N]\n"
		"                         [--raw] [--log FILE] [--timeout SEC]\n"
		"Ping-pong exchanges (pingpong's handshake first), every send and receive through\n"
		"io_uring; each pong is checked against its ping.\n"
		"  --addr ADDR      the server's numeric address, IPv4 or IPv6\n"
		"  --size BYTES     every message's size\n"
		"  --count N        exchanges, after --warmup N more (default 0)\n"
		"  --raw            no handshake (against uring_echo server --raw)\n"
		"  --log FILE       one line: the connection's receives and sends and their bytes\n"
		"  --timeout SEC    give up a wait after this long (10)\n");
}

static int client_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "raw", no_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct client cl = { .fd = -1, .timeout_ms = 10000 };
	uint64_t port = 0, size = 0, count = 0, warmup = 0, v, total;
	const char *addr = NULL, *log_path = NULL, *what = NULL;
	bool raw = false, ok = false;
	unsigned char *ping = NULL, *pong = NULL;
	struct sockaddr_storage ss, local;
	socklen_t sslen, llen = sizeof(local);
	struct sigaction sa = { .sa_handler = on_signal };
	struct io_uring_sqe *sqe;
	FILE *log = NULL;
	int opt, one = 1, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p':
			if (probe_parse_u64(optarg, 1, 65535, &port)) {
				fprintf(stderr, "uring_echo: --port: 1..65535\n");
				return 2;
			}
			break;
		case 's':
			if (probe_parse_u64(optarg, PP_MSG_SIZE_MIN, PP_MSG_SIZE_MAX, &size)) {
				fprintf(stderr, "uring_echo: --size: %u..%u bytes\n", PP_MSG_SIZE_MIN,
					PP_MSG_SIZE_MAX);
				return 2;
			}
			break;
		case 'c':
			if (probe_parse_u64(optarg, 1, 100000000, &count)) {
				fprintf(stderr, "uring_echo: --count: 1..100000000\n");
				return 2;
			}
			break;
		case 'w':
			if (probe_parse_u64(optarg, 0, 1000000, &warmup)) {
				fprintf(stderr, "uring_echo: --warmup: 0..1000000\n");
				return 2;
			}
			break;
		case 'r': raw = true; break;
		case 'L': log_path = optarg; break;
		case 't':
			if (probe_parse_u64(optarg, 1, 3600, &v)) {
				fprintf(stderr, "uring_echo: --timeout: 1..3600 seconds\n");
				return 2;
			}
			cl.timeout_ms = v * 1000;
			break;
		case 'h': cli_usage(stdout); return 0;
		default: return bad_option(argv);
		}
	}
	if (!addr || !port || !size || !count || optind != argc) {
		fprintf(stderr, "uring_echo: client: %s\n", optind != argc ? "unexpected argument" :
			"--addr, --port, --size and --count are required");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (probe_resolve("uring_echo", addr, (uint16_t)port, false, &ss, &sslen))
		return 1;
	ping = malloc(size);
	pong = malloc(size);
	if (!ping || !pong) {
		fprintf(stderr, "uring_echo: out of memory\n");
		goto out;
	}
	rc = io_uring_queue_init(8, &cl.ring, 0);
	if (rc < 0) {
		fprintf(stderr, "uring_echo: io_uring: %s\n", strerror(-rc));
		goto out;
	}
	if (log_path && !(log = open_log(log_path)))
		goto out_ring;
	cl.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl.fd < 0) {
		fprintf(stderr, "uring_echo: socket: %s\n", strerror(errno));
		goto out_ring;
	}
	setsockopt(cl.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sqe = get_sqe(&cl.ring);
	io_uring_prep_connect(sqe, cl.fd, (struct sockaddr *)&ss, sslen);
	rc = one_op(&cl, sqe);
	if (rc < 0) {
		fprintf(stderr, "uring_echo: connect to %s port %u: %s\n", addr, (unsigned)port,
			strerror(-rc));
		goto out_ring;
	}
	getsockname(cl.fd, (struct sockaddr *)&local, &llen);

	total = warmup + count;
	if (!raw) {
		struct pp_hello h;
		struct pp_hs_reply r;
		uint8_t hello[PP_HS_HELLO_LEN], reply[PP_HS_REPLY_MAX];
		int hlen, rlen;

		pp_hello_init(&h, (uint32_t)size, total, 0);
		hlen = pp_hello_encode(&h, hello, sizeof(hello));
		what = "hello";
		if (hlen < 0 || (rc = xfer(&cl, 's', hello, (size_t)hlen)) < 0)
			goto fail;
		what = "reply";
		if ((rc = xfer(&cl, 'r', reply, PP_HS_REPLY_HDR)) < 0)
			goto fail;
		rlen = pp_hs_reply_peek(reply, PP_HS_REPLY_HDR);
		if (rlen < 0) {
			fprintf(stderr, "uring_echo: the server's reply is not pingpong's\n");
			goto out_ring;
		}
		if (rlen > PP_HS_REPLY_HDR &&
		    (rc = xfer(&cl, 'r', reply + PP_HS_REPLY_HDR, (size_t)rlen - PP_HS_REPLY_HDR)) < 0)
			goto fail;
		if (pp_hs_reply_decode(reply, (size_t)rlen, &r) || r.status != PP_HS_OK) {
			fprintf(stderr, "uring_echo: the server refused: %s%s%s\n",
				pp_hs_status_name(r.status), r.reason[0] ? ": " : "", r.reason);
			goto out_ring;
		}
	}
	for (size_t i = 0; i < size; i++)
		ping[i] = (unsigned char)('a' + i % 26);
	for (uint64_t k = 0; k < total; k++) {
		for (size_t i = 0; i < size && i < 8; i++)   /* the exchange number, big-endian */
			ping[i] = (unsigned char)(k >> (8 * (7 - i)));
		what = "ping";
		if ((rc = xfer(&cl, 's', ping, size)) < 0)
			goto fail;
		what = "pong";
		if ((rc = xfer(&cl, 'r', pong, size)) < 0)
			goto fail;
		if (memcmp(ping, pong, size)) {
			fprintf(stderr, "uring_echo: exchange %llu: the pong differs from the ping\n",
				(unsigned long long)k);
			goto out_ring;
		}
		cl.n.messages++;
	}
	ok = true;
	printf("uring_echo client: %llu exchanges of %llu B, every pong whole and right\n",
	       (unsigned long long)total, (unsigned long long)size);
	goto out_ring;
fail:
	fprintf(stderr, "uring_echo: %s %llu: %s\n", what, (unsigned long long)cl.n.messages,
		rc == -EPIPE ? "the server closed the connection" : strerror(-rc));
out_ring:
	io_uring_queue_exit(&cl.ring);
	if (cl.fd >= 0) {
		log_line(log, port_of(&local), &cl.n, ok);
		close(cl.fd);
	}
	if (log)
		fclose(log);
out:
	free(ping);
	free(pong);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	opterr = 0;
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		return server_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client_main(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		srv_usage(stdout);
		cli_usage(stdout);
		return 0;
	}
	fprintf(stderr, "uring_echo: the first argument is server or client (--help)\n");
	return 2;
}
