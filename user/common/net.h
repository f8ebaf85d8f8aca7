// SPDX-License-Identifier: MIT
/* The one socket layer: name/IPv4/IPv6 resolution, listening, connecting with a timeout, and
 * the read/write loops that survive EINTR and partial transfers, in two kinds: pp_sock_*_full
 * on blocking sockets (the measured ping-pong: one syscall per message, timeouts from
 * SO_RCVTIMEO/SO_SNDTIMEO) and pp_sock_*_timed on non-blocking ones (the control channel: every
 * wait bounded, and cut short by a stop signal). Errors are -errno. */
#ifndef PP_NET_H
#define PP_NET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PP_ADDRSTRLEN 64 /* "[ipv6%scope]:port" fits */
#define PP_MAX_ADDRS  16 /* addresses kept from one resolution */

struct pp_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* "1".."65535" only: no sign, no spaces, no trailing text. 0 or -EINVAL / -ERANGE. */
int pp_parse_port(const char *text, uint16_t *port);

/* Resolves host (name, IPv4 or IPv6 literal; NULL with passive = every local address) into at
 * most max addresses, in the resolver's preferred order. -ENOENT: no such host;
 * -EAGAIN: temporary resolver failure; -EINVAL otherwise. */
int pp_resolve(const char *host, uint16_t port, bool passive, struct pp_addr *out, size_t max,
	       size_t *n);

/* "198.18.0.2:12345" or "[2001:2::2]:12345". */
const char *pp_addr_format(const struct pp_addr *a, char *buf, size_t size);
/* Address only, no port. */
const char *pp_addr_host(const struct pp_addr *a, char *buf, size_t size);

/* Listening TCP sockets on bind_host (NULL = all IPv4 and IPv6): one per address, IPv6 ones
 * IPV6_V6ONLY so that IPv4 gets its own. Succeeds if at least one address could be bound;
 * returns the number of sockets (>0) stored in fds, or the first bind error. */
int pp_listen(const char *bind_host, uint16_t port, int *fds, size_t max);

/* Connects to the first address of addrs[0..n) that answers within timeout_ms each; the
 * socket comes back blocking, with TCP_NODELAY. Returns the fd or the last error
 * (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, ...). */
int pp_connect(const struct pp_addr *addrs, size_t n, int timeout_ms, struct pp_addr *used);

int pp_set_nodelay(int fd);
/* SO_RCVTIMEO and SO_SNDTIMEO; 0 = wait forever. */
int pp_set_timeouts(int fd, int recv_timeout_ms, int send_timeout_ms);

/* ---- blocking sockets ---- */

/* Reads exactly len bytes with recv(MSG_WAITALL), so a message that has arrived costs one
 * syscall. Returns 0 when all arrived; -EPIPE if the peer closed first (*done bytes came);
 * -EAGAIN on a receive timeout; other -errno. done may be NULL. */
int pp_sock_read_full(int fd, void *buf, size_t len, size_t *done);
/* Spins (poll with no timeout) until fd is readable, hung up or in error: the caller's next
 * read then needs no wake-up. 0, -EINTR once *stop is set (NULL: never), or -errno. */
int pp_spin_until_readable(int fd, volatile sig_atomic_t *stop);
/* Writes all len bytes with send(MSG_NOSIGNAL) (one call unless the buffer fills or a signal
 * interrupts). 0, -EPIPE/-ECONNRESET if the peer is gone, -EAGAIN on a send timeout. */
int pp_sock_write_full(int fd, const void *buf, size_t len);

/* ---- non-blocking sockets, every wait timed ---- */

/* A stop flag (set by a signal handler): once non-zero, every timed wait ends at once with
 * -EINTR instead of waiting out its timeout (a stop signal must not wait out a stalled peer).
 * NULL = none. */
void pp_net_set_abort_flag(volatile sig_atomic_t *flag);
/* CLOCK_MONOTONIC now + timeout_ms: a deadline for pp_sock_read_timed. */
int64_t pp_net_deadline_ms(int timeout_ms);

/* One non-blocking listening socket on a numeric address (NULL = all: IPv6 dual-stack, else
 * IPv4 where IPv6 is missing). The fd, or -EINVAL (bad address), -EADDRINUSE, -EACCES, ... */
int pp_listen_one(const char *addr, uint16_t port);
/* Connects to a numeric IPv4/IPv6 address within timeout_ms (TCP_NODELAY); the socket stays
 * non-blocking. The fd, or -EINVAL (not a numeric address), -ECONNREFUSED, -ETIMEDOUT, ... */
int pp_connect_numeric(const char *addr, uint16_t port, int timeout_ms);
/* Exactly len bytes; each wait at most timeout_ms, or, for reads with deadline_ms >= 0, until
 * that pp_net_deadline_ms (so a trickling peer cannot stretch it). 0, -ECONNRESET (the peer
 * hung up mid-read), -ETIMEDOUT, -EINTR (abort flag), -EPIPE, other -errno. Writes never
 * raise SIGPIPE. */
int pp_sock_read_timed(int fd, void *buf, size_t len, int timeout_ms, int64_t deadline_ms);
int pp_sock_write_timed(int fd, const void *buf, size_t len, int timeout_ms);

#endif
