/* The client's tracing session, the parts that need no kernel: the connection's key as the
 * events will carry it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "collect/client_trace.h"
#include "check_main.h"

static struct sockaddr_in v4(const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	ck_assert_int_eq(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	return sa;
}

static struct sockaddr_in6 v6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	ck_assert_int_eq(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
	return sa;
}

static void assert_key(const struct pp_flow_key *got, const char *c, uint16_t cport, const char *s,
		       uint16_t sport)
{
	struct pp_flow_key want;

	ck_assert_int_eq(pp_flow_key_set(&want, c, cport, s, sport), 0);
	ck_assert_int_eq(got->family, want.family);
	ck_assert_uint_eq(got->client_port, want.client_port);
	ck_assert_uint_eq(got->server_port, want.server_port);
	ck_assert_mem_eq(got->client_addr, want.client_addr, 16);
	ck_assert_mem_eq(got->server_addr, want.server_addr, 16);
}

START_TEST(test_ipv4_connection_key)
{
	struct sockaddr_in l = v4("198.18.0.1", 40000), r = v4("198.18.0.2", 12345);
	struct pp_flow_key k;

	memset(&k, 0xee, sizeof(k));
	pp_flow_key_from_sockaddrs(&k, (struct sockaddr *)&l, (struct sockaddr *)&r);
	assert_key(&k, "198.18.0.1", 40000, "198.18.0.2", 12345);
}
END_TEST

START_TEST(test_ipv6_connection_key)
{
	struct sockaddr_in6 l = v6("2001:2::1", 1), r = v6("2001:2::2", 65535);
	struct pp_flow_key k;

	pp_flow_key_from_sockaddrs(&k, (struct sockaddr *)&l, (struct sockaddr *)&r);
	assert_key(&k, "2001:2::1", 1, "2001:2::2", 65535);
}
END_TEST

/* A dual-stack socket to an IPv4 server sends IPv4 packets: the events say IPv4. */
START_TEST(test_ipv4_mapped_connection_is_ipv4)
{
	struct sockaddr_in6 l = v6("::ffff:198.18.0.1", 40000), r = v6("::ffff:198.18.0.2", 80);
	struct pp_flow_key k;

	pp_flow_key_from_sockaddrs(&k, (struct sockaddr *)&l, (struct sockaddr *)&r);
	assert_key(&k, "198.18.0.1", 40000, "198.18.0.2", 80);
	ck_assert(pp_flow_key_valid(&k));
}
END_TEST

PP_CHECK_TESTS("client_trace", 0,
	       test_ipv4_connection_key,
	       test_ipv6_connection_key,
	       test_ipv4_mapped_connection_is_ipv4)
