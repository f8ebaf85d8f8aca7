// SPDX-License-Identifier: MIT
/* A service's report: rows carry their connection, index and sizes into results.csv; the
 * summary names pipelined connections and counts requests per connection; the JSON has the
 * connections object; the lists stay bounded however many connections come and go. Also the
 * --peer address forms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer/peer_measure.h"
#include "analyze/service_report.h"
#include "check_main.h"

static char dir[] = "/tmp/pp-test-service-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/pp-test-service-XXXXXX");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 22);
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, (1 << 22) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct pp_flow_key flow(uint16_t client_port)
{
	struct pp_flow_key k;

	ck_assert_int_eq(pp_flow_key_set(&k, "198.18.0.1", client_port, "198.18.0.2", 6379), 0);
	return k;
}

/* A complete row: rtt 10 us = client_stack 4 + network 3 + server_stack 2 + server_app 1. */
static struct pp_row row_of(uint64_t index)
{
	struct pp_row row = { .index = index, .rtt_app_ns = -1 };
	uint64_t *ts = row.ts;

	ts[C_SEND] = 1000000;
	ts[C_XMIT] = ts[C_SEND] + 2000;
	ts[S_RX] = 5000000;
	ts[S_TCP] = ts[S_RX] + 500;
	ts[S_RECV] = ts[S_TCP] + 500;
	ts[S_SEND] = ts[S_RECV] + 1000;
	ts[S_XMIT] = ts[S_SEND] + 1000;
	ts[C_RX] = ts[C_XMIT] + 3000 + 3000;
	ts[C_TCP] = ts[C_RX] + 1000;
	ts[C_RECV] = ts[C_TCP] + 1000;
	return row;
}

static void add_conn(struct pp_service_report *r, uint64_t id, uint16_t port, uint64_t rows,
		     bool pipelined)
{
	struct pp_flow_key k = flow(port);
	struct pp_turns_conn c = { .conn = id, .flow = &k, .seen = { true, true },
				   .pipelined = pipelined, .exchanges = rows,
				   .rows = pipelined ? 0 : rows, .complete = pipelined ? 0 : rows };

	ck_assert_int_eq(pp_service_report_conn(r, &c), 0);
}

START_TEST(rows_and_connections)
{
	char results[256], json[256], *text, *out = NULL;
	struct pp_service_report *r;
	struct pp_turns_stats st = { .connections = 3, .pipelined = 1, .rows = 5, .complete = 5,
				     .conns_high_water = 2 };
	struct pp_summary_info info = { .what = "test" };
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	snprintf(results, sizeof(results), "%s/results.csv", dir);
	snprintf(json, sizeof(json), "%s/summary.json", dir);
	ck_assert_int_eq(pp_service_report_open(&r, results), 0);
	for (uint64_t i = 0; i < 5; i++) {
		struct pp_row row = row_of(i < 3 ? i : i - 3);
		struct pp_flow_key k = flow(i < 3 ? 40000 : 40001);
		struct pp_turn t = { .conn = i < 3 ? 0 : 2, .flow = &k, .req_bytes = 10 + i,
				     .resp_bytes = 1000 + i, .row = &row };

		ck_assert_int_eq(pp_service_report_row(r, &t), 0);
	}
	add_conn(r, 0, 40000, 3, false);
	add_conn(r, 1, 40002, 7, true);
	add_conn(r, 2, 40001, 2, false);
	ck_assert_int_eq(access(results, F_OK), -1); /* not before the commit */
	ck_assert_int_eq(pp_service_report_commit(r), 0);
	text = slurp(results);
	ck_assert_ptr_nonnull(strstr(text, "conn,index,req_bytes,resp_bytes,seq,rtt_us,"));
	ck_assert_ptr_nonnull(strstr(text, "\n0,2,12,1002,2,10.000,4.000,3.000,2.000,1.000,"));
	ck_assert_ptr_nonnull(strstr(text, "\n2,1,14,1004,1,10.000,"));
	free(text);

	ck_assert_int_eq(pp_service_report_print(r, &st, &info, true, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "measured: 5 exchanges, 5 matched"));
	ck_assert_ptr_nonnull(strstr(out, "connections: 3 (at most 2 open at once"));
	ck_assert_ptr_nonnull(strstr(out, "connection 198.18.0.1:40002 -> 198.18.0.2:6379: "
					  "pipelined, not split (7 turns)"));
	ck_assert_ptr_nonnull(strstr(out, "requests per connection: min 2, median 2.5, max 3 "
					  "(2 connections split)"));
	ck_assert_ptr_nonnull(strstr(out, "connection 2 198.18.0.1:40001 -> 198.18.0.2:6379: "
					  "2 requests, 2 rows, 2 complete"));
	free(out);

	ck_assert_int_eq(pp_service_report_json(r, &st, &info, json), 0);
	text = slurp(json);
	ck_assert_ptr_nonnull(strstr(text, "\"connections\": {\n    \"total\": 3,\n    \"max_open\": 2,"
					   "\n    \"pipelined\": 1,"));
	ck_assert_ptr_nonnull(strstr(text, "\"requests_per_connection\": { \"connections\": 2, "
					   "\"min\": 2, \"median\": 2.5, \"max\": 3 }"));
	ck_assert_ptr_nonnull(strstr(text, "{ \"id\": 1, \"flow\": \"198.18.0.1:40002 -> "
					   "198.18.0.2:6379\", \"turns\": 7, \"rows\": 0"));
	ck_assert_ptr_nonnull(strstr(text, "\"components\": {"));
	free(text);
	pp_service_report_free(r);
}
END_TEST

/* Connections past the list's bound are counted, not kept: memory follows the bound. */
START_TEST(lists_bounded)
{
	struct pp_service_report *r;
	struct pp_turns_stats st = { .connections = PP_SERVICE_LIST_MAX + 5 };
	struct pp_summary_info info = { .what = "many" };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_int_eq(pp_service_report_open(&r, NULL), 0);
	for (uint64_t i = 0; i < PP_SERVICE_LIST_MAX + 5; i++)
		add_conn(r, i, (uint16_t)(1024 + i % 60000), 1 + i % 3, false);
	ck_assert_int_eq(pp_service_report_print(r, &st, &info, true, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "... and 5 more connections"));
	ck_assert_ptr_nonnull(strstr(out, "requests per connection: min 1, median 2.0, max 3 "
					  "(10005 connections split)"));
	free(out);
	pp_service_report_free(r);
}
END_TEST

/* An uncommitted report leaves no file. */
START_TEST(abandoned_leaves_nothing)
{
	char results[256];
	struct pp_service_report *r;

	snprintf(results, sizeof(results), "%s/results.csv", dir);
	ck_assert_int_eq(pp_service_report_open(&r, results), 0);
	pp_service_report_free(r);
	ck_assert_int_eq(access(results, F_OK), -1);
}
END_TEST

START_TEST(peer_forms)
{
	static const struct { const char *in, *addr; uint16_t port; } ok[] = {
		{ "198.18.0.2", "198.18.0.2", 6380 },
		{ "198.18.0.2:7000", "198.18.0.2", 7000 },
		{ "2001:2::2", "2001:2::2", 6380 },
		{ "[2001:2::2]:7000", "2001:2::2", 7000 },
		{ "[2001:2::2]", "2001:2::2", 6380 },
		{ "server.example:7001", "server.example", 7001 },
	};
	static const char *bad[] = { "", ":7000", "198.18.0.2:0", "198.18.0.2:70000",
				     "[2001:2::2", "[2001:2::2]x", "[]:7000", "host:port" };
	char addr[64];
	uint16_t port;
	struct pp_err e;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		e = (struct pp_err){ 0 };
		ck_assert_msg(pp_peer_parse(ok[i].in, 6380, addr, sizeof(addr), &port, &e) == 0,
			      "%s: %s", ok[i].in, e.msg);
		ck_assert_str_eq(addr, ok[i].addr);
		ck_assert_uint_eq(port, ok[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = (struct pp_err){ 0 };
		ck_assert_msg(pp_peer_parse(bad[i], 6380, addr, sizeof(addr), &port, &e) == -EINVAL,
			      "'%s' accepted", bad[i]);
		ck_assert_ptr_null(strchr(e.msg, '\n'));
		ck_assert_ptr_nonnull(strstr(e.msg, "--peer"));
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("service_report");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rows_and_connections);
	tcase_add_test(tc, lists_bounded);
	tcase_add_test(tc, abandoned_leaves_nothing);
	tcase_add_test(tc, peer_forms);
	suite_add_tcase(s, tc);
	return s;
}

PP_CHECK_MAIN(suite)
