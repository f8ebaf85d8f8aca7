// SPDX-License-Identifier: MIT
/* Test helper: a request/response service of our own with random message sizes, for
 * pingpong-analyze --turns (t/integration/test_service_*.sh).
 *
 *   rr_probe server --port P [--bind ADDR] [--timeout SEC] [--lifetime SEC] [--spin]
 *   rr_probe client --connect ADDR --port P --conns N --requests M --seed S
 *                   [--max-size BYTES] --log FILE [--pipeline] [--timeout SEC] [--spin]
 *
 * Framing. A request is an 8-byte header, then payload:
 *	bytes 0..3  the request's whole length, header included (big-endian, 8..RR_MAX_MSG)
 *	bytes 4..7  the length of the response wanted (big-endian, 1..RR_MAX_MSG)
 *	bytes 8..   payload, every byte 'a' + k % 26 (k: the request's index in its connection)
 * A response has no header: exactly the length asked for, every byte 'A' + k % 26. So the
 * smallest request is the header alone (8 B), the smallest response 1 B; the fill letters
 * tell consecutive messages apart, so a message of the wrong length shows as a wrong byte
 * (or a timeout, or bytes after the last response), never as a silent shift.
 *
 * Sizes. Request k of a connection asks for a response; both sizes are drawn log-uniformly
 * (a bit length uniform, then a value uniform within it) in 8..max-size for requests and
 * 1..max-size for responses (2..max-size with --pipeline, see below), from a generator
 * seeded by --seed and the connection's number: the same seed gives the same sizes. Small
 * and large messages are thus equally represented.
 *
 * Turns. The server, one thread per connection, reads a whole request, then writes the whole
 * response. The client, one thread per connection, writes the whole request, then reads the
 * whole response (strict turns). With --pipeline it starts writing request k+1 once it has
 * read at least one byte but not all of response k (at most size - 1 bytes are read before),
 * so every exchange but the last overlaps the next at the calls: the client sends while a
 * response is still coming. Both ends set TCP_NODELAY, as RPC services do.
 *
 * --log FILE: a header line "port,index,req_bytes,resp_bytes", then one line per request
 * whose response was read whole: the connection's local (client) port, the request's index
 * within the connection (0-based), the request's bytes and the response's bytes on the wire.
 *
 * Bounded: every wait (connect, each read and write) gives up after --timeout seconds
 * (default 10); the server exits by itself after --lifetime seconds (default 300), or at
 * SIGINT/SIGTERM. Client exit status: 0 only if every response of every connection came
 * whole and of the right size and the server then closed cleanly; 1 otherwise; 2 usage.
 * Server: 0 unless a connection broke the framing or timed out. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe_util.h"

#define RR_HDR          8u
#define RR_MAX_MSG      (64u << 20)   /* 64 MiB, either direction */
#define RR_MAX_CONNS    1024
#define RR_MAX_REQUESTS 10000000
#define RR_CHUNK        65536
#define RR_SLICE_MS     100           /* how often waits look at the stop flag */

static atomic_int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --spin: the connections' waits poll without sleeping (as pingpong's --spin), so that no
 * exchange includes a wake-up from idle, whose cost grows with the time slept */
static bool spin;

/* Waits until fd is ready for events (0 and *revents set), the timeout passed (-ETIMEDOUT)
 * or, with check_stop, the stop flag was raised (-EINTR). With busy, it never sleeps. */
static int wait_fd(int fd, short events, int timeout_ms, bool check_stop, bool busy,
		   short *revents)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = now_ms();
		int slice, rc;

		if (check_stop && atomic_load(&stop_flag))
			return -EINTR;
		if (now >= deadline)
			return -ETIMEDOUT;
		slice = (int)(deadline - now);
		if (check_stop && slice > RR_SLICE_MS)
			slice = RR_SLICE_MS;
		if (busy)
			slice = 0;
		rc = poll(&p, 1, slice);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (rc > 0) {
			*revents = p.revents;
			return 0;
		}
	}
}

static int set_nonblock_nodelay(int fd)
{
	int one = 1, fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ server */

struct srv_conn {
	int fd;
	int timeout_ms;
	pthread_t thread;
	atomic_int done;
	uint64_t requests;
	bool error;
	char why[160];
};

/* Reads exactly len bytes into buf (or, with buf NULL, checks each against fill); 0 done,
 * 1 EOF before the first byte (only when eof_ok), -1 error (why set). */
static int srv_read(struct srv_conn *c, unsigned char *buf, size_t len, int fill, bool eof_ok)
{
	unsigned char scratch[RR_CHUNK];
	size_t got = 0;

	while (got < len) {
		short rev;
		size_t want = len - got;
		ssize_t n;
		int rc;

		if (!buf && want > sizeof(scratch))
			want = sizeof(scratch);
		n = recv(c->fd, buf ? buf + got : scratch, want, 0);
		if (n > 0) {
			if (!buf) {
				for (ssize_t i = 0; i < n; i++)
					if (scratch[i] != fill) {
						snprintf(c->why, sizeof(c->why),
							 "request %llu: byte %zu is 0x%02x, not '%c'",
							 (unsigned long long)c->requests,
							 (size_t)(got + (size_t)i + RR_HDR),
							 scratch[i], fill);
						return -1;
					}
			}
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			if (eof_ok && got == 0)
				return 1;
			snprintf(c->why, sizeof(c->why), "request %llu: closed after %zu of %zu bytes",
				 (unsigned long long)c->requests, got, len);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(c->why, sizeof(c->why), "recv: %s", strerror(errno));
			return -1;
		}
		rc = wait_fd(c->fd, POLLIN, c->timeout_ms, true, spin, &rev);
		if (rc == -EINTR && eof_ok && got == 0)
			return 1;   /* stopping between requests */
		if (rc) {
			snprintf(c->why, sizeof(c->why), "request %llu: waiting to read: %s",
				 (unsigned long long)c->requests, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static int srv_write(struct srv_conn *c, size_t len, int fill)
{
	unsigned char buf[RR_CHUNK];
	size_t sent = 0;

	memset(buf, fill, sizeof(buf));
	while (sent < len) {
		size_t want = len - sent < sizeof(buf) ? len - sent : sizeof(buf);
		ssize_t n = send(c->fd, buf, want, MSG_NOSIGNAL);
		short rev;
		int rc;

		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(c->why, sizeof(c->why), "response %llu: send: %s",
				 (unsigned long long)c->requests, strerror(errno));
			return -1;
		}
		rc = wait_fd(c->fd, POLLOUT, c->timeout_ms, true, spin, &rev);
		if (rc) {
			snprintf(c->why, sizeof(c->why), "response %llu: waiting to write: %s",
				 (unsigned long long)c->requests, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static void *srv_conn_main(void *arg)
{
	struct srv_conn *c = arg;

	for (;;) {
		unsigned char hdr[RR_HDR];
		uint32_t req, resp;
		int rc = srv_read(c, hdr, sizeof(hdr), 0, true);

		if (rc == 1)
			break;
		if (rc < 0) {
			c->error = true;
			break;
		}
		req = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
		resp = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
		if (req < RR_HDR || req > RR_MAX_MSG || resp < 1 || resp > RR_MAX_MSG) {
			snprintf(c->why, sizeof(c->why), "request %llu: bad header (%u, %u)",
				 (unsigned long long)c->requests, req, resp);
			c->error = true;
			break;
		}
		if (srv_read(c, NULL, req - RR_HDR, 'a' + (int)(c->requests % 26), false) < 0 ||
		    srv_write(c, resp, 'A' + (int)(c->requests % 26)) < 0) {
			c->error = true;
			break;
		}
		c->requests++;
	}
	close(c->fd);
	c->fd = -1;
	atomic_store(&c->done, 1);
	return NULL;
}

static void srv_usage(FILE *f)
{
	fprintf(f,
		"usage: rr_probe server --port P [--bind ADDR] [--timeout SEC] [--lifetime SEC] [--spin]\n"
		"  --bind ADDR      numeric address to listen on (default :: and 0.0.0.0)\n"
		"  --timeout SEC    give up a connection waiting this long in a read or write (10)\n"
		"  --lifetime SEC   exit after this long (300); SIGINT/SIGTERM exit at once\n"
		"  --spin           connections wait for data without sleeping (a CPU each)\n");
}

static int server_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "spin", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct srv_conn *conns[RR_MAX_CONNS];
	size_t nconns = 0;
	uint64_t port = 0, timeout = 10, lifetime = 300, deadline, served = 0, refused = 0;
	const char *bind_addr = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, lfd, one = 1, zero = 0, errors = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (probe_parse_u64(optarg, 1, 65535, &port)) {
				fprintf(stderr, "rr_probe: --port: 1..65535\n");
				return 2;
			}
			break;
		case 'b': bind_addr = optarg; break;
		case 't':
			if (probe_parse_u64(optarg, 1, 3600, &timeout)) {
				fprintf(stderr, "rr_probe: --timeout: 1..3600 seconds\n");
				return 2;
			}
			break;
		case 'l':
			if (probe_parse_u64(optarg, 1, 86400, &lifetime)) {
				fprintf(stderr, "rr_probe: --lifetime: 1..86400 seconds\n");
				return 2;
			}
			break;
		case 'S': spin = true; break;
		case 'h': srv_usage(stdout); return 0;
		default: srv_usage(stderr); return 2;
		}
	}
	if (!port || optind != argc) {
		srv_usage(stderr);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (probe_resolve("rr_probe", bind_addr ? bind_addr : "::", (uint16_t)port, true, &ss, &sslen))
		return 1;
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 && !bind_addr && errno == EAFNOSUPPORT) {   /* no IPv6: IPv4 only */
		if (probe_resolve("rr_probe", "0.0.0.0", (uint16_t)port, true, &ss, &sslen))
			return 1;
		lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (lfd < 0) {
		perror("rr_probe: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && !bind_addr)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(lfd, (struct sockaddr *)&ss, sslen) < 0 || listen(lfd, 128) < 0 ||
	    set_nonblock_nodelay(lfd) < 0) {
		perror("rr_probe: bind/listen");
		close(lfd);
		return 1;
	}
	printf("rr_probe server: listening on port %u\n", (unsigned)port);
	fflush(stdout);

	deadline = now_ms() + lifetime * 1000;
	while (!atomic_load(&stop_flag) && now_ms() < deadline) {
		short rev;
		int fd, rc = wait_fd(lfd, POLLIN, (int)(deadline - now_ms()), true, false, &rev);
		struct srv_conn *c;

		if (rc)
			break;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* reap the connections that are over, to make room */
		for (size_t i = 0; i < nconns;) {
			if (!atomic_load(&conns[i]->done)) {
				i++;
				continue;
			}
			pthread_join(conns[i]->thread, NULL);
			served += conns[i]->requests;
			if (conns[i]->error) {
				errors++;
				fprintf(stderr, "rr_probe server: %s\n", conns[i]->why);
			}
			free(conns[i]);
			conns[i] = conns[--nconns];
		}
		c = calloc(1, sizeof(*c));
		if (nconns == RR_MAX_CONNS || !c || set_nonblock_nodelay(fd) < 0) {
			refused++;
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->timeout_ms = (int)(timeout * 1000);
		if (pthread_create(&c->thread, NULL, srv_conn_main, c)) {
			refused++;
			free(c);
			close(fd);
			continue;
		}
		conns[nconns++] = c;
	}
	close(lfd);
	atomic_store(&stop_flag, 1);   /* connections stop at their next wait */
	for (size_t i = 0; i < nconns; i++) {
		pthread_join(conns[i]->thread, NULL);
		served += conns[i]->requests;
		if (conns[i]->error) {
			errors++;
			fprintf(stderr, "rr_probe server: %s\n", conns[i]->why);
		}
		free(conns[i]);
	}
	printf("rr_probe server: %llu requests served, %d connections with errors, %llu refused\n",
	       (unsigned long long)served, errors, (unsigned long long)refused);
	return errors ? 1 : 0;
}

/* ------------------------------------------------------------------ client */

struct cli_conn {
	unsigned id;
	int fd;
	uint16_t lport;
	uint32_t *req, *resp;   /* sizes of each request and its response, on the wire */
	uint64_t completed;     /* responses read whole */
	bool error, started;
	char why[200];
	pthread_t thread;
};

struct cli {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t requests;
	int timeout_ms;
	bool pipeline;
	struct cli_conn *conns;
};

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned bits_of(uint64_t v)
{
	unsigned b = 0;

	while (v) {
		b++;
		v >>= 1;
	}
	return b;
}

/* log-uniform in lo..hi: a bit length uniform, then a value uniform within it */
static uint32_t draw(uint64_t *rng, uint32_t lo, uint32_t hi)
{
	unsigned blo = bits_of(lo), bhi = bits_of(hi);
	unsigned b = blo + (unsigned)(splitmix64(rng) % (bhi - blo + 1));
	uint64_t a = b > 1 ? 1ULL << (b - 1) : 1, z = (1ULL << b) - 1;

	if (a < lo)
		a = lo;
	if (z > hi)
		z = hi;
	return (uint32_t)(a + splitmix64(rng) % (z - a + 1));
}

static void cli_fail(struct cli_conn *c, const char *fmt, const char *what, uint64_t k, int err)
{
	if (c->error)
		return;
	c->error = true;
	snprintf(c->why, sizeof(c->why), fmt, what, (unsigned long long)k, strerror(err));
}

static int cli_connect(struct cli *cl, struct cli_conn *c)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	short rev;
	int err = 0, rc;

	c->fd = socket(cl->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || set_nonblock_nodelay(c->fd) < 0) {
		cli_fail(c, "%s %llu: %s", "socket", 0, errno);
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&cl->addr, cl->addrlen) < 0) {
		if (errno != EINPROGRESS) {
			cli_fail(c, "%s %llu: %s", "connect", 0, errno);
			return -1;
		}
		rc = wait_fd(c->fd, POLLOUT, cl->timeout_ms, false, false, &rev);
		if (rc) {
			cli_fail(c, "%s %llu: %s", "connect", 0, -rc);
			return -1;
		}
		len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			cli_fail(c, "%s %llu: %s", "connect", 0, err ? err : errno);
			return -1;
		}
	}
	len = sizeof(local);
	if (getsockname(c->fd, (struct sockaddr *)&local, &len) < 0) {
		cli_fail(c, "%s %llu: %s", "getsockname", 0, errno);
		return -1;
	}
	c->lport = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
						     : ((struct sockaddr_in *)&local)->sin_port);
	return 0;
}

/* Request s's bytes from offset off into buf (header, then fill); returns how many. */
static size_t cli_fill(const struct cli_conn *c, uint64_t s, size_t off, unsigned char *buf,
		       size_t cap)
{
	uint32_t len = c->req[s];
	size_t n = len - off < cap ? len - off : cap;
	unsigned char hdr[RR_HDR] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
		(unsigned char)len, (unsigned char)(c->resp[s] >> 24),
		(unsigned char)(c->resp[s] >> 16), (unsigned char)(c->resp[s] >> 8),
		(unsigned char)c->resp[s],
	};

	for (size_t i = 0; i < n; i++)
		buf[i] = off + i < RR_HDR ? hdr[off + i] : (unsigned char)('a' + s % 26);
	return n;
}

struct cli_job {
	struct cli *cl;
	struct cli_conn *c;
};

/* The connection's exchanges: s is the request being written (soff bytes of it so far), r the
 * response being read (roff bytes). Strict: request s may go once s == r (every earlier
 * response read whole). Pipelined: also when s == r + 1 and response r has begun, and while
 * request r + 1 has not begun, at most size - 1 bytes of response r are read. */
static void cli_run(struct cli *cl, struct cli_conn *c)
{
	static _Thread_local unsigned char buf[RR_CHUNK];
	const uint64_t m = cl->requests;
	uint64_t s = 0, r = 0;
	size_t soff = 0, roff = 0;

	if (cli_connect(cl, c) < 0)
		return;
	while (r < m) {
		bool next_begun = s > r + 1 || (s == r + 1 && soff > 0);
		bool can_send = s < m && (s <= r || (cl->pipeline && s == r + 1 && roff >= 1));
		size_t can_read = c->resp[r] - roff;
		short ev = 0, rev = 0;
		int rc;

		if (cl->pipeline && r + 1 < m && !next_begun)
			can_read = roff + 1 < c->resp[r] ? c->resp[r] - 1 - roff : 0;
		if (can_read)
			ev |= POLLIN;
		if (can_send)
			ev |= POLLOUT;
		rc = wait_fd(c->fd, ev, cl->timeout_ms, false, spin, &rev);
		if (rc) {
			cli_fail(c, "%s %llu: %s", can_send ? "writing request" : "reading response",
				 can_send ? s : r, -rc);
			return;
		}
		if (rev & (POLLIN | POLLERR | POLLHUP) && can_read) {
			ssize_t n = recv(c->fd, buf, can_read < sizeof(buf) ? can_read : sizeof(buf), 0);

			if (n == 0) {
				cli_fail(c, "%s %llu: %s", "reading response", r, ECONNRESET);
				snprintf(c->why + strlen(c->why), sizeof(c->why) - strlen(c->why),
					 " (closed after %zu of %u bytes)", roff, c->resp[r]);
				return;
			}
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				cli_fail(c, "%s %llu: %s", "reading response", r, errno);
				return;
			}
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != 'A' + r % 26) {
					cli_fail(c, "%s %llu: %s", "response", r, EPROTO);
					snprintf(c->why + strlen(c->why), sizeof(c->why) - strlen(c->why),
						 " (byte %zu of %u is 0x%02x: the wrong length)",
						 roff + (size_t)i, c->resp[r], buf[i]);
					return;
				}
			if (n > 0) {
				roff += (size_t)n;
				if (roff == c->resp[r]) {
					r++;
					roff = 0;
					c->completed = r;
				}
			}
			continue;   /* look at the rules again before writing */
		}
		if (rev & (POLLOUT | POLLERR) && can_send) {
			size_t len = cli_fill(c, s, soff, buf, sizeof(buf));
			ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				cli_fail(c, "%s %llu: %s", "writing request", s, errno);
				return;
			}
			if (n > 0) {
				soff += (size_t)n;
				if (soff == c->req[s]) {
					s++;
					soff = 0;
				}
			}
		}
	}
	/* then nothing more may come: our FIN, the server's FIN and no byte before it */
	shutdown(c->fd, SHUT_WR);
	for (;;) {
		short rev;
		ssize_t n;
		int rc = wait_fd(c->fd, POLLIN, cl->timeout_ms, false, false, &rev);

		if (rc) {
			cli_fail(c, "%s %llu: %s", "waiting for the server's close after request", m - 1,
				 -rc);
			return;
		}
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return;
		if (n > 0) {
			cli_fail(c, "%s %llu: %s", "bytes after the response to request", m - 1, EPROTO);
			return;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			cli_fail(c, "%s %llu: %s", "waiting for the server's close after request", m - 1,
				 errno);
			return;
		}
	}
}

static void *cli_job_main(void *arg)
{
	struct cli_job *job = arg;

	cli_run(job->cl, job->c);
	return NULL;
}

static void cli_usage(FILE *f)
{
	fprintf(f,
		"usage: rr_probe client --connect ADDR --port P --conns N --requests M --seed S\n"
		"                       --log FILE [--max-size BYTES] [--pipeline] [--timeout SEC] [--spin]\n"
		"  --conns N        concurrent connections, 1..%d\n"
		"  --requests M     requests per connection, 1..%d\n"
		"  --seed S         seed of the sizes (same seed, same sizes)\n"
		"  --max-size B     largest request and response, 8..%u bytes (default 1 MiB)\n"
		"  --log FILE       CSV: port,index,req_bytes,resp_bytes of each request answered\n"
		"  --pipeline       write request k+1 before response k is read whole\n"
		"  --timeout SEC    give up waiting this long to connect, read or write (10)\n"
		"  --spin           wait for data without sleeping (a CPU per connection)\n",
		RR_MAX_CONNS, RR_MAX_REQUESTS, RR_MAX_MSG);
}

static int client_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'n' },
		{ "requests", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "max-size", required_argument, NULL, 'x' },
		{ "log", required_argument, NULL, 'l' },
		{ "pipeline", no_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "spin", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cl = { .timeout_ms = 10000 };
	struct cli_job *jobs = NULL;
	const char *addr = NULL, *logpath = NULL;
	uint64_t port = 0, nconns = 0, seed = 0, max_size = 1u << 20, timeout = 10, ok = 0;
	bool have_seed = false;
	unsigned failed = 0;
	FILE *log;
	int opt, status = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *bad = NULL;

		switch (opt) {
		case 'c': addr = optarg; break;
		case 'p': if (probe_parse_u64(optarg, 1, 65535, &port)) bad = "--port: 1..65535"; break;
		case 'n':
			if (probe_parse_u64(optarg, 1, RR_MAX_CONNS, &nconns))
				bad = "--conns: 1..1024";
			break;
		case 'm':
			if (probe_parse_u64(optarg, 1, RR_MAX_REQUESTS, &cl.requests))
				bad = "--requests: 1..10000000";
			break;
		case 's':
			if (probe_parse_u64(optarg, 0, UINT64_MAX, &seed))
				bad = "--seed: a number";
			have_seed = true;
			break;
		case 'x':
			if (probe_parse_u64(optarg, RR_HDR, RR_MAX_MSG, &max_size))
				bad = "--max-size: 8..67108864 bytes";
			break;
		case 'l': logpath = optarg; break;
		case 'P': cl.pipeline = true; break;
		case 't':
			if (probe_parse_u64(optarg, 1, 3600, &timeout))
				bad = "--timeout: 1..3600 seconds";
			break;
		case 'S': spin = true; break;
		case 'h': cli_usage(stdout); return 0;
		default: cli_usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "rr_probe: %s\n", bad);
			return 2;
		}
	}
	if (!addr || !port || !nconns || !cl.requests || !have_seed || !logpath || optind != argc) {
		cli_usage(stderr);
		return 2;
	}
	cl.timeout_ms = (int)(timeout * 1000);
	signal(SIGPIPE, SIG_IGN);
	if (probe_resolve("rr_probe", addr, (uint16_t)port, false, &cl.addr, &cl.addrlen))
		return 1;
	log = fopen(logpath, "w");
	if (!log) {
		fprintf(stderr, "rr_probe: %s: %s\n", logpath, strerror(errno));
		return 1;
	}
	cl.conns = calloc(nconns, sizeof(*cl.conns));
	jobs = calloc(nconns, sizeof(*jobs));
	if (!cl.conns || !jobs) {
		fprintf(stderr, "rr_probe: out of memory\n");
		fclose(log);
		free(cl.conns);
		free(jobs);
		return 1;
	}
	for (unsigned i = 0; i < nconns; i++) {
		struct cli_conn *c = &cl.conns[i];
		uint64_t rng = seed * 0x100000001b3ULL + i;

		c->id = i;
		c->fd = -1;
		c->req = malloc(cl.requests * sizeof(*c->req));
		c->resp = malloc(cl.requests * sizeof(*c->resp));
		if (!c->req || !c->resp) {
			c->error = true;
			snprintf(c->why, sizeof(c->why), "out of memory");
			continue;
		}
		for (uint64_t k = 0; k < cl.requests; k++) {
			c->req[k] = draw(&rng, RR_HDR, (uint32_t)max_size);
			c->resp[k] = draw(&rng, cl.pipeline ? 2 : 1, (uint32_t)max_size);
		}
	}
	for (unsigned i = 0; i < nconns; i++) {
		jobs[i] = (struct cli_job){ .cl = &cl, .c = &cl.conns[i] };
		if (cl.conns[i].error)
			continue;
		if (pthread_create(&cl.conns[i].thread, NULL, cli_job_main, &jobs[i])) {
			cl.conns[i].error = true;
			snprintf(cl.conns[i].why, sizeof(cl.conns[i].why), "pthread_create failed");
		} else {
			cl.conns[i].started = true;
		}
	}
	for (unsigned i = 0; i < nconns; i++)
		if (cl.conns[i].started)
			pthread_join(cl.conns[i].thread, NULL);

	fprintf(log, "port,index,req_bytes,resp_bytes\n");
	for (unsigned i = 0; i < nconns; i++) {
		struct cli_conn *c = &cl.conns[i];

		for (uint64_t k = 0; k < c->completed; k++)
			fprintf(log, "%u,%llu,%u,%u\n", c->lport, (unsigned long long)k, c->req[k],
				c->resp[k]);
		ok += c->completed;
		if (c->error) {
			failed++;
			fprintf(stderr, "rr_probe client: connection %u (port %u): %s\n", i, c->lport,
				c->why);
		}
		if (c->fd >= 0)
			close(c->fd);
		free(c->req);
		free(c->resp);
	}
	if (fclose(log)) {
		fprintf(stderr, "rr_probe: %s: %s\n", logpath, strerror(errno));
		status = 1;
	}
	printf("rr_probe client: %llu of %llu requests answered with the right size on %llu "
	       "connections (%u failed)%s\n",
	       (unsigned long long)ok, (unsigned long long)(nconns * cl.requests),
	       (unsigned long long)nconns, failed, cl.pipeline ? ", pipelined" : "");
	free(cl.conns);
	free(jobs);
	return failed || status ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return server_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client_main(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		srv_usage(stdout);
		cli_usage(stdout);
		return 0;
	}
	srv_usage(stderr);
	cli_usage(stderr);
	return 2;
}
