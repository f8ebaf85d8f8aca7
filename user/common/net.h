/* Sockets and addresses: name/IPv4/IPv6 resolution, listening, connecting with a timeout,
 * and the read/write loops that survive EINTR and partial transfers. Errors are -errno. */
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

/* Reads exactly len bytes with recv(MSG_WAITALL), so a message that has arrived costs one
 * syscall. Returns 0 when all arrived; -EPIPE if the peer closed first (*done bytes came);
 * -EAGAIN on a receive timeout; other -errno. done may be NULL. */
int pp_read_full(int fd, void *buf, size_t len, size_t *done);
/* Spins (poll with no timeout) until fd is readable, hung up or in error: the caller's next
 * read then needs no wake-up. 0, -EINTR once *stop is set (NULL: never), or -errno. */
int pp_spin_until_readable(int fd, volatile sig_atomic_t *stop);
/* Writes all len bytes with send(MSG_NOSIGNAL) (one call unless the buffer fills or a signal
 * interrupts). 0, -EPIPE/-ECONNRESET if the peer is gone, -EAGAIN on a send timeout. */
int pp_write_full(int fd, const void *buf, size_t len);

#endif
