// SPDX-License-Identifier: MIT
/* Sockets and addresses on loopback: port parsing, resolution of literals, formatting, and the
 * full-length reads and writes (EOF, timeout, refused connection). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net.h"
#include "check_main.h"

START_TEST(test_port_bounds)
{
	uint16_t port = 0;

	ck_assert_int_eq(pp_parse_port("1", &port), 0);
	ck_assert_uint_eq(port, 1);
	ck_assert_int_eq(pp_parse_port("65535", &port), 0);
	ck_assert_uint_eq(port, 65535);
	ck_assert_int_eq(pp_parse_port("0", &port), -ERANGE);
	ck_assert_int_eq(pp_parse_port("65536", &port), -ERANGE);
	ck_assert_int_eq(pp_parse_port("99999999999999999999", &port), -ERANGE);
	ck_assert_int_eq(pp_parse_port("", &port), -EINVAL);
	ck_assert_int_eq(pp_parse_port("-1", &port), -EINVAL);
	ck_assert_int_eq(pp_parse_port("80x", &port), -EINVAL);
	ck_assert_int_eq(pp_parse_port(" 80", &port), -EINVAL);
}
END_TEST

START_TEST(test_resolve_and_format_literals)
{
	struct pp_addr a[PP_MAX_ADDRS];
	char text[PP_ADDRSTRLEN];
	size_t n;

	ck_assert_int_eq(pp_resolve("198.18.0.2", 12345, false, a, PP_MAX_ADDRS, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pp_addr_format(&a[0], text, sizeof(text)), "198.18.0.2:12345");
	ck_assert_str_eq(pp_addr_host(&a[0], text, sizeof(text)), "198.18.0.2");
	ck_assert_int_eq(pp_resolve("2001:2::2", 80, false, a, PP_MAX_ADDRS, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pp_addr_format(&a[0], text, sizeof(text)), "[2001:2::2]:80");
	ck_assert_int_eq(pp_resolve("localhost", 80, false, a, PP_MAX_ADDRS, &n), 0);
	ck_assert_uint_ge(n, 1);
}
END_TEST

START_TEST(test_unknown_host_is_not_found)
{
	struct pp_addr a[PP_MAX_ADDRS];
	size_t n = 5;
	int rc = pp_resolve("no-such-host.invalid", 80, false, a, PP_MAX_ADDRS, &n);

	/* -EAGAIN where no resolver is reachable at all (a bare network namespace). */
	ck_assert_msg(rc == -ENOENT || rc == -EAGAIN, "rc %d", rc);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(pp_resolve("1.2.3.4.5", 80, false, a, PP_MAX_ADDRS, &n) < 0, 1);
}
END_TEST

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A connected pair over loopback TCP: *cfd the client end, *sfd the server end. */
static void tcp_pair(const char *host, int *cfd, int *sfd)
{
	struct pp_addr a[PP_MAX_ADDRS], used;
	int lfd[1];
	size_t n;

	/* Port 0: the kernel picks a free one. */
	ck_assert_int_eq(pp_listen(host, 0, lfd, 1), 1);
	ck_assert_int_eq(pp_resolve(host, bound_port(lfd[0]), false, a, PP_MAX_ADDRS, &n), 0);
	*cfd = pp_connect(a, n, 1000, &used);
	ck_assert_int_ge(*cfd, 0);
	*sfd = accept(lfd[0], NULL, NULL);
	ck_assert_int_ge(*sfd, 0);
	close(lfd[0]);
}

START_TEST(test_round_trip_over_ipv4_and_ipv6_loopback)
{
	static const char *const hosts[] = { "127.0.0.1", "::1" };

	for (int h = 0; h < 2; h++) {
		char out[100000], in[100000];
		int cfd, sfd, nodelay = 0;
		socklen_t len = sizeof(nodelay);
		size_t done = 0;

		tcp_pair(hosts[h], &cfd, &sfd);
		getsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
		ck_assert_int_eq(nodelay, 1);
		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = (char)i;
		/* Larger than the socket buffers would take in one go: forces partial transfers. */
		ck_assert_int_eq(pp_sock_write_full(cfd, out, sizeof(out)), 0);
		ck_assert_int_eq(pp_sock_read_full(sfd, in, sizeof(in), &done), 0);
		ck_assert_uint_eq(done, sizeof(in));
		ck_assert_mem_eq(in, out, sizeof(in));
		close(cfd);
		close(sfd);
	}
}
END_TEST

/* Three of sixteen bytes come, then the peer closes (-EPIPE) or goes quiet past the receive
 * timeout (-EAGAIN): either way the bytes that came are counted. */
static void expect_short_read(bool peer_closes, int want)
{
	int sv[2];
	char buf[16];
	size_t done = 99;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pp_set_timeouts(sv[1], 100, 100), 0);
	ck_assert_int_eq(pp_sock_write_full(sv[0], "abc", 3), 0);
	if (peer_closes)
		close(sv[0]);
	ck_assert_int_eq(pp_sock_read_full(sv[1], buf, sizeof(buf), &done), want);
	ck_assert_uint_eq(done, 3);
	if (!peer_closes)
		close(sv[0]);
	close(sv[1]);
}

START_TEST(test_read_full_reports_eof_and_bytes_so_far)
{
	expect_short_read(true, -EPIPE);
}
END_TEST

START_TEST(test_read_full_times_out_with_eagain)
{
	expect_short_read(false, -EAGAIN);
}
END_TEST

START_TEST(test_write_to_closed_peer_is_epipe_not_a_signal)
{
	int sv[2];
	char buf[4096] = { 0 };
	int rc = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	for (int i = 0; i < 10 && rc == 0; i++)
		rc = pp_sock_write_full(sv[0], buf, sizeof(buf));
	ck_assert_int_eq(rc, -EPIPE);
	close(sv[0]);
}
END_TEST

START_TEST(test_connect_to_closed_port_is_refused)
{
	struct pp_addr a[PP_MAX_ADDRS];
	size_t n;
	int lfd[1];
	uint16_t port;

	/* A port known to be free: bound, noted, closed. */
	ck_assert_int_eq(pp_listen("127.0.0.1", 0, lfd, 1), 1);
	port = bound_port(lfd[0]);
	close(lfd[0]);
	ck_assert_int_eq(pp_resolve("127.0.0.1", port, false, a, PP_MAX_ADDRS, &n), 0);
	ck_assert_int_eq(pp_connect(a, n, 1000, NULL), -ECONNREFUSED);
}
END_TEST

START_TEST(test_listen_on_all_addresses_takes_both_families)
{
	int lfd[8], n = pp_listen(NULL, 0, lfd, 8);

	ck_assert_int_eq(n, 2);
	for (int i = 0; i < n; i++)
		close(lfd[i]);
}
END_TEST

START_TEST(test_listen_on_unknown_bind_address_fails)
{
	int lfd[8];

	ck_assert_int_lt(pp_listen("198.51.100.77", 0, lfd, 8), 0); /* not ours */
}
END_TEST

PP_CHECK_TESTS("net", 0,
	       test_port_bounds,
	       test_resolve_and_format_literals,
	       test_unknown_host_is_not_found,
	       test_round_trip_over_ipv4_and_ipv6_loopback,
	       test_read_full_reports_eof_and_bytes_so_far,
	       test_read_full_times_out_with_eagain,
	       test_write_to_closed_peer_is_epipe_not_a_signal,
	       test_connect_to_closed_port_is_refused,
	       test_listen_on_all_addresses_takes_both_families,
	       test_listen_on_unknown_bind_address_fails)
