// SPDX-License-Identifier: MIT
/* The kernel's connection filter (pp_flow_filter, kern/pingpong.h): the test the BPF programs
 * run is compiled here from the same header, so these cases check the kernel's own code; and
 * pp_flow_filter_from_key, the value pp_trace_set_flow writes. No kernel needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "collect/trace.h"
#include "model/proto.h"
#include "check_main.h"

/* An event of the flow src:sport -> dst:dport (numeric addresses of one family). */
static struct pp_event event(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.family = strchr(src, ':') ? PP_AF_INET6 : PP_AF_INET;
	ck_assert_int_eq(inet_pton(ev.family == PP_AF_INET6 ? AF_INET6 : AF_INET, src, ev.saddr), 1);
	ck_assert_int_eq(inet_pton(ev.family == PP_AF_INET6 ? AF_INET6 : AF_INET, dst, ev.daddr), 1);
	ev.sport = sport;
	ev.dport = dport;
	ev.point = PP_XMIT;
	return ev;
}

static struct pp_flow_filter filter(const char *client, uint16_t cport, const char *server,
				    uint16_t sport)
{
	struct pp_flow_key key;
	struct pp_flow_filter f;

	ck_assert_int_eq(pp_flow_key_set(&key, client, cport, server, sport), 0);
	ck_assert_int_eq(pp_flow_filter_from_key(&f, &key), 0);
	ck_assert_uint_eq(f.enabled, 1);
	return f;
}

/* The connection passes both ways; every other flow on the server's port does not. */
static const struct filter_case {
	const char *client, *server;
	uint16_t cport, sport;
	const char *src, *dst;
	uint16_t esport, edport;
	int passes;
} cases[] = {
	/* ours: the ping, the pong */
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.1", "198.18.0.2", 40000, 12345, 1 },
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.2", "198.18.0.1", 12345, 40000, 1 },
	/* another client of the same server, same host: only its port differs */
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.1", "198.18.0.2", 40001, 12345, 0 },
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.2", "198.18.0.1", 12345, 40001, 0 },
	/* another host with the same port */
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.3", "198.18.0.2", 40000, 12345, 0 },
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.2", "198.18.0.3", 12345, 40000, 0 },
	/* another server address on the same port */
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.1", "198.18.0.4", 40000, 12345, 0 },
	/* ports swapped against the addresses: not the connection */
	{ "198.18.0.1", "198.18.0.2", 40000, 12345, "198.18.0.1", "198.18.0.2", 12345, 40000, 0 },
	/* one port at both ends: each direction still needs its own address */
	{ "198.18.0.1", "198.18.0.2", 5000, 5000, "198.18.0.2", "198.18.0.1", 5000, 5000, 1 },
	{ "198.18.0.1", "198.18.0.2", 5000, 5000, "198.18.0.1", "198.18.0.1", 5000, 5000, 0 },
	/* IPv6: every word of the address counts */
	{ "2001:2::1", "2001:2::2", 40000, 12345, "2001:2::1", "2001:2::2", 40000, 12345, 1 },
	{ "2001:2::1", "2001:2::2", 40000, 12345, "2001:2::2", "2001:2::1", 12345, 40000, 1 },
	{ "2001:2::1", "2001:2::2", 40000, 12345, "2001:3::1", "2001:2::2", 40000, 12345, 0 },
	{ "2001:2::1", "2001:2::2", 40000, 12345, "2001:2:0:1::1", "2001:2::2", 40000, 12345, 0 },
	{ "2001:2::1", "2001:2::2", 40000, 12345, "2001:2::2", "2001:2::1:1", 12345, 40000, 0 },
};

START_TEST(test_the_connection_passes_both_ways_and_no_other)
{
	const struct filter_case *c = &cases[_i];
	struct pp_flow_filter f = filter(c->client, c->cport, c->server, c->sport);
	struct pp_event ev = event(c->src, c->esport, c->dst, c->edport);

	ck_assert_msg(pp_flow_filter_passes(&f, &ev) == c->passes, "case %d: %s:%u -> %s:%u", _i,
		      c->src, c->esport, c->dst, c->edport);
}
END_TEST

/* An IPv4 key against an IPv6 event with the same leading word and ports. */
START_TEST(test_the_family_must_match)
{
	struct pp_flow_filter f = filter("198.18.0.1", 40000, "198.18.0.2", 12345);
	struct pp_event ev = event("198.18.0.1", 40000, "198.18.0.2", 12345);

	ck_assert(pp_flow_filter_passes(&f, &ev));
	ev.family = PP_AF_INET6;
	ck_assert(!pp_flow_filter_passes(&f, &ev));
}
END_TEST

/* Not enabled (as after open, or pp_trace_clear_flow), or no map value: everything passes. */
START_TEST(test_a_filter_not_enabled_passes_everything)
{
	struct pp_flow_filter f = filter("198.18.0.1", 40000, "198.18.0.2", 12345);
	struct pp_event other = event("198.18.0.1", 40001, "198.18.0.2", 12345);

	ck_assert(!pp_flow_filter_passes(&f, &other));
	f.enabled = 0;
	ck_assert(pp_flow_filter_passes(&f, &other));
	ck_assert(pp_flow_filter_passes(NULL, &other));
	memset(&f, 0, sizeof(f));
	ck_assert(pp_flow_filter_passes(&f, &other));
}
END_TEST

START_TEST(test_an_invalid_key_is_refused)
{
	struct pp_flow_key key;
	struct pp_flow_filter f;

	ck_assert_int_eq(pp_flow_key_set(&key, "198.18.0.1", 40000, "198.18.0.2", 12345), 0);
	key.family = 0;
	ck_assert_int_eq(pp_flow_filter_from_key(&f, &key), -EINVAL);
	ck_assert_int_eq(pp_flow_key_set(&key, "198.18.0.1", 40000, "198.18.0.2", 12345), 0);
	key.server_port = 0;
	ck_assert_int_eq(pp_flow_filter_from_key(&f, &key), -EINVAL);
	ck_assert_int_eq(pp_flow_key_set(&key, "198.18.0.1", 40000, "198.18.0.2", 12345), 0);
	key.client_addr[7] = 1; /* an IPv4 address with a tail would never match an event */
	ck_assert_int_eq(pp_flow_filter_from_key(&f, &key), -EINVAL);
}
END_TEST

PP_CHECK_TESTS_AND_TABLE("flow_filter", 0, test_the_connection_passes_both_ways_and_no_other, cases,
			 test_the_family_must_match, test_a_filter_not_enabled_passes_everything,
			 test_an_invalid_key_is_refused)
