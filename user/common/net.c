/* Sockets and addresses for the client and the server: resolution, listen, connect with a
 * timeout, and full-length reads and writes. */
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

static int listen_one(const struct pp_addr *a)
{
	int fd, one = 1, err;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (a->ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) || listen(fd, 128)) {
		err = -errno;
		close(fd);
		return err;
	}
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux; each connection
	 * sets it again anyway. */
	pp_set_nodelay(fd);
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
		int fd = listen_one(&addrs[i]);

		if (fd < 0) {
			/* All-address listening tolerates a missing family (IPv6 disabled). */
			if (!first_err)
				first_err = fd;
			continue;
		}
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

/* Non-blocking connect, then poll for at most timeout_ms (restarted after EINTR with the
 * time that is left). */
static int connect_one(const struct pp_addr *a, int timeout_ms)
{
	int fd, err = 0, flags;
	socklen_t err_len = sizeof(err);
	int64_t deadline = now_ms() + timeout_ms;

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
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0) {
			err = -ETIMEDOUT;
			goto fail;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			err = -errno;
			goto fail;
		}
		if (rc > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len)) {
		err = -errno;
		goto fail;
	}
	if (err) {
		err = -err;
		goto fail;
	}
connected:
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
		rc = connect_one(&addrs[i], timeout_ms);
		if (rc >= 0) {
			if (used)
				*used = addrs[i];
			return rc;
		}
	}
	return rc;
}

int pp_read_full(int fd, void *buf, size_t len, size_t *done)
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

int pp_write_full(int fd, const void *buf, size_t len)
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
