// SPDX-License-Identifier: MIT
/* The client's tracing session, the parts that need no kernel: the connection's key as the
 * events will carry it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "collect/client_trace.h"
#include "check_main.h"

/* A numeric IPv4 or IPv6 address and a port as the socket calls give them. */
static struct sockaddr_storage sockaddr_of(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
	}
	return ss;
}

/* The socket's two ends, and the key the events must carry (the local end is the client). */
static const struct key_case {
	const char *local;
	uint16_t lport;
	const char *remote;
	uint16_t rport;
	const char *client, *server;
} key_cases[] = {
	{ "198.18.0.1", 40000, "198.18.0.2", 12345, "198.18.0.1", "198.18.0.2" },
	{ "2001:2::1", 1, "2001:2::2", 65535, "2001:2::1", "2001:2::2" },
	/* a dual-stack socket to an IPv4 server sends IPv4 packets: the events say IPv4 */
	{ "::ffff:198.18.0.1", 40000, "::ffff:198.18.0.2", 80, "198.18.0.1", "198.18.0.2" },
};

START_TEST(test_connection_key)
{
	const struct key_case *c = &key_cases[_i];
	struct sockaddr_storage l = sockaddr_of(c->local, c->lport), r = sockaddr_of(c->remote, c->rport);
	struct pp_flow_key got, want;

	memset(&got, 0xee, sizeof(got)); /* the bytes past an IPv4 address must be zeroed too */
	pp_flow_key_from_sockaddrs(&got, (struct sockaddr *)&l, (struct sockaddr *)&r);
	ck_assert_int_eq(pp_flow_key_set(&want, c->client, c->lport, c->server, c->rport), 0);
	ck_assert_int_eq(got.family, want.family);
	ck_assert_uint_eq(got.client_port, want.client_port);
	ck_assert_uint_eq(got.server_port, want.server_port);
	ck_assert_mem_eq(got.client_addr, want.client_addr, 16);
	ck_assert_mem_eq(got.server_addr, want.server_addr, 16);
	ck_assert(pp_flow_key_valid(&got));
}
END_TEST

PP_CHECK_TABLE("client_trace", 0, test_connection_key, key_cases)
