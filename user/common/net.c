// SPDX-License-Identifier: MIT
/* Sockets and addresses for every program: resolution, listen, connect with a timeout, and
 * full-length reads and writes on blocking and on non-blocking sockets (net.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"

int pp_parse_port(const char *text, uint16_t *port)
{
	unsigned long value = 0;

	if (!text || !*text)
		return -EINVAL;
	for (const char *c = text; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		value = value * 10 + (unsigned long)(*c - '0');
		if (value > 65535)
			return -ERANGE;
	}
	if (value == 0)
		return -ERANGE;
	*port = (uint16_t)value;
	return 0;
}

static int gai_to_errno(int rc)
{
	switch (rc) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
	case EAI_FAIL:
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	default:
		return -EINVAL;
	}
}

int pp_resolve(const char *host, uint16_t port, bool passive, struct pp_addr *out, size_t max,
	       size_t *n)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_protocol = IPPROTO_TCP };
	struct addrinfo *list = NULL;
	char service[8];
	int rc;

	*n = 0;
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	else
		hints.ai_flags |= AI_ADDRCONFIG;
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &list);
	if (rc == EAI_NONAME && !passive) {
		/* AI_ADDRCONFIG hides literals of a family with no configured address
		 * (e.g. ::1 on a host with only loopback IPv6): ask again without it. */
		hints.ai_flags &= ~AI_ADDRCONFIG;
		rc = getaddrinfo(host, service, &hints, &list);
	}
	if (rc)
		return gai_to_errno(rc);
	for (struct addrinfo *ai = list; ai && *n < max; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (ai->ai_addrlen > sizeof(out[*n].ss))
			continue;
		memset(&out[*n], 0, sizeof(out[*n]));
		memcpy(&out[*n].ss, ai->ai_addr, ai->ai_addrlen);
		out[*n].len = ai->ai_addrlen;
		(*n)++;
	}
	freeaddrinfo(list);
	return *n ? 0 : -ENOENT;
}

const char *pp_addr_host(const struct pp_addr *a, char *buf, size_t size)
{
	const void *raw = a->ss.ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)&a->ss)->sin_addr;

	if (!inet_ntop(a->ss.ss_family, raw, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

const char *pp_addr_format(const struct pp_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	pp_addr_host(a, host, sizeof(host));
	if (a->ss.ss_family == AF_INET6) {
		port = ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
		snprintf(buf, size, "[%s]:%u", host, port);
	} else {
		port = ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
		snprintf(buf, size, "%s:%u", host, port);
	}
	return buf;
}

int pp_set_nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ? -errno : 0;
}

static struct timeval ms_to_timeval(int ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

int pp_set_timeouts(int fd, int recv_timeout_ms, int send_timeout_ms)
{
	struct timeval rcv = ms_to_timeval(recv_timeout_ms), snd = ms_to_timeval(send_timeout_ms);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)))
		return -errno;
	return 0;
}

/* v6only: 1 or 0 sets IPV6_V6ONLY on an IPv6 socket, -1 leaves the system's default. */
static int listen_addr(const struct pp_addr *a, int v6only, int backlog)
{
	int fd, one = 1, err;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (a->ss.ss_family == AF_INET6 && v6only >= 0 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only))) ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) || listen(fd, backlog)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int pp_listen(const char *bind_host, uint16_t port, int *fds, size_t max)
{
	struct pp_addr addrs[PP_MAX_ADDRS];
	size_t n_addrs = 0;
	int n_fds = 0, first_err = 0, rc;

	rc = pp_resolve(bind_host, port, true, addrs, PP_MAX_ADDRS, &n_addrs);
	if (rc)
		return rc;
	for (size_t i = 0; i < n_addrs && (size_t)n_fds < max; i++) {
		/* IPv6 sockets V6ONLY, so that IPv4 gets its own */
		int fd = listen_addr(&addrs[i], 1, 128);

		if (fd < 0) {
			/* All-address listening tolerates a missing family (IPv6 disabled). */
			if (!first_err)
				first_err = fd;
			continue;
		}
		/* Accepted sockets inherit TCP_NODELAY from the listener on Linux; each connection
		 * sets it again anyway. */
		pp_set_nodelay(fd);
		fds[n_fds++] = fd;
	}
	if (n_fds == 0)
		return first_err ? first_err : -EADDRNOTAVAIL;
	if (bind_host && first_err) {
		for (int i = 0; i < n_fds; i++)
			close(fds[i]);
		return first_err;
	}
	return n_fds;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pp_net_deadline_ms(int timeout_ms)
{
	return now_ms() + timeout_ms;
}

static volatile sig_atomic_t *abort_flag;

void pp_net_set_abort_flag(volatile sig_atomic_t *flag)
{
	abort_flag = flag;
}

static bool aborted(void)
{
	return abort_flag && *abort_flag;
}

/* Slices of a wait: a stop signal that lands just before poll is still seen within this. */
#define ABORT_CHECK_MS 100

/* Waits until fd is ready for events: for timeout_ms, or until deadline_ms when that is >= 0.
 * abortable: -EINTR once the abort flag is set; else a signal only restarts the wait with the
 * time that is left. 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int timeout_ms, int64_t deadline_ms, bool abortable)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t end = deadline_ms >= 0 ? deadline_ms : now_ms() + timeout_ms;
	int n;

	do {
		int64_t left = end - now_ms();
		int wait_ms = left <= 0 ? 0 : (int)left;

		if (abortable && aborted())
			return -EINTR;
		if (abortable && abort_flag && wait_ms > ABORT_CHECK_MS)
			wait_ms = ABORT_CHECK_MS;
		n = poll(&p, 1, wait_ms);
		if (n == 0 && now_ms() < end)
			n = -1, errno = EINTR; /* a slice ended: look at the flag, wait on */
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return 0;
}

/* Non-blocking connect, then a wait of at most timeout_ms; the socket comes back blocking
 * unless nonblocking (then the wait is abortable too, as every wait of such a socket is). */
static int connect_one(const struct pp_addr *a, int timeout_ms, bool nonblocking)
{
	int fd, err = 0, flags;
	socklen_t err_len = sizeof(err);

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* Before connect, so that not even the handshake waits for Nagle. */
	pp_set_nodelay(fd);
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
		goto connected;
	if (errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	if ((err = wait_fd(fd, POLLOUT, timeout_ms, -1, nonblocking)) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len)) {
		err = -errno;
		goto fail;
	}
	if (err) {
		err = -err;
		goto fail;
	}
connected:
	if (nonblocking)
		return fd;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int pp_connect(const struct pp_addr *addrs, size_t n, int timeout_ms, struct pp_addr *used)
{
	int rc = -ENOENT;

	for (size_t i = 0; i < n; i++) {
		rc = connect_one(&addrs[i], timeout_ms, false);
		if (rc >= 0) {
			if (used)
				*used = addrs[i];
			return rc;
		}
	}
	return rc;
}

int pp_sock_read_full(int fd, void *buf, size_t len, size_t *done)
{
	size_t got = 0;
	int err = 0;

	while (got < len) {
		ssize_t rc = recv(fd, (char *)buf + got, len - got, MSG_WAITALL);

		if (rc > 0) {
			got += (size_t)rc;
			continue;
		}
		if (rc == 0) {
			err = -EPIPE;
			break;
		}
		if (errno == EINTR)
			continue;
		err = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		break;
	}
	if (done)
		*done = got;
	return err;
}

int pp_spin_until_readable(int fd, volatile sig_atomic_t *stop)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		int n = poll(&pfd, 1, 0);

		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		if (stop && *stop)
			return -EINTR;
	}
}

int pp_sock_write_full(int fd, const void *buf, size_t len)
{
	size_t sent = 0;

	while (sent < len) {
		ssize_t rc = send(fd, (const char *)buf + sent, len - sent, MSG_NOSIGNAL);

		if (rc >= 0) {
			sent += (size_t)rc;
			continue;
		}
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	return 0;
}

int pp_listen_one(const char *addr, uint16_t port)
{
	struct pp_addr a = { 0 };
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a.ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&a.ss;
	int fd;

	if (addr && inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		a.len = sizeof(*a6);
		return listen_addr(&a, -1, SOMAXCONN);
	}
	if (addr) {
		if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		a.len = sizeof(*a4);
		return listen_addr(&a, -1, SOMAXCONN);
	}
	/* every address: one IPv6 socket that takes IPv4 too, or IPv4 alone without IPv6 */
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	a6->sin6_addr = in6addr_any;
	a.len = sizeof(*a6);
	if ((fd = listen_addr(&a, 0, SOMAXCONN)) != -EAFNOSUPPORT)
		return fd;
	memset(&a, 0, sizeof(a));
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	a4->sin_addr.s_addr = htonl(INADDR_ANY);
	a.len = sizeof(*a4);
	return listen_addr(&a, -1, SOMAXCONN);
}

int pp_connect_numeric(const char *addr, uint16_t port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	struct pp_addr a = { 0 };
	char service[8];

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(addr, service, &hints, &ai) != 0)
		return -EINVAL;
	if (ai->ai_addrlen > sizeof(a.ss)) {
		freeaddrinfo(ai);
		return -EINVAL;
	}
	memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
	a.len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return connect_one(&a, timeout_ms, true);
}

/* After a recv/send on a non-blocking socket failed with errno: 0 to try again (a signal, or
 * the socket became ready within the wait), -EINTR once the abort flag is set, else -errno or
 * -ETIMEDOUT. */
static int wait_to_retry(int fd, short events, int timeout_ms, int64_t deadline_ms)
{
	if (errno == EINTR)
		return aborted() ? -EINTR : 0;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return wait_fd(fd, events, timeout_ms, deadline_ms, true);
}

int pp_sock_read_timed(int fd, void *buf, size_t len, int timeout_ms, int64_t deadline_ms)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		int err;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET; /* the peer hung up in the middle of a frame */
		if ((err = wait_to_retry(fd, POLLIN, timeout_ms, deadline_ms)) < 0)
			return err;
	}
	return 0;
}

int pp_sock_write_timed(int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;

	while (len) {
		/* MSG_NOSIGNAL: a peer that went away must not kill us with SIGPIPE */
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		int err;

		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if ((err = wait_to_retry(fd, POLLOUT, timeout_ms, -1)) < 0)
			return err;
	}
	return 0;
}
