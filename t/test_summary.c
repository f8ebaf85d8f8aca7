// SPDX-License-Identifier: MIT
/* The summary: percentiles from known samples, what was measured and lost stated first, and
 * the JSON carrying the same numbers as the text. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/correlate.h"
#include "analyze/summary.h"
#include "common/stats.h"
#include "check_main.h"

/* Bytes the allocator has handed out and not had back: the sanitizers' own count in their
 * build (glibc's arenas are not theirs), else glibc's, mmap'ed blocks included. */
#if defined(__SANITIZE_ADDRESS__)
#define PP_HEAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PP_HEAP_ASAN 1
#endif
#endif
#ifdef PP_HEAP_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}
#endif

static struct pp_summary *one_to_hundred_us(void)
{
	struct pp_summary *s = pp_summary_new();

	/* Added in a scrambled order: the summary must sort. */
	for (int i = 0; i < 100; i++) {
		struct pp_row row = { .index = (uint64_t)i, .rtt_app_ns = ((i * 37) % 100 + 1) * 1000 };

		ck_assert_int_eq(pp_summary_add(s, &row), 0);
	}
	return s;
}

static char *print(struct pp_summary *s, const struct pp_summary_info *info)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_int_eq(pp_summary_print(s, info, f), 0);
	fclose(f);
	return text;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	ck_assert_ptr_nonnull(f);
	fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

/* text holds every string of has and none of lacks (NULL-ended lists, STRINGS(...); NULL for
 * none); a miss names the string and shows the text. */
#define STRINGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
static void expect_text(const char *text, const char *const *has, const char *const *lacks)
{
	for (; has && *has; has++)
		ck_assert_msg(strstr(text, *has), "no \"%s\" in:\n%s", *has, text);
	for (; lacks && *lacks; lacks++)
		ck_assert_msg(!strstr(text, *lacks), "\"%s\" in:\n%s", *lacks, text);
}

START_TEST(test_percentiles_of_one_to_hundred)
{
	struct pp_summary *s = one_to_hundred_us();
	struct pp_summary_info info = { .what = "test", .exchanges = 100 };
	char *text = print(s, &info);

	/* type 7: p50 = 50.5, p90 = 90.1, p99 = 99.01, p99.9 = 99.901 */
	ck_assert_msg(strstr(text, "rtt_app             100      50.500      90.100      99.010      "
			     "99.901     100.000      50.500\n"), "%s", text);
	free(text);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_what_was_measured_comes_before_numbers)
{
	struct pp_summary *s = one_to_hundred_us();
	struct pp_summary_info info = { .what = "1024 B x 100 exchanges", .exchanges = 100,
					.matched = 90, .incomplete = 10, .retransmitted = 2,
					.lost_samples_client = 3, .lost_samples_server = 4,
					.pcap_drops_client = 5, .pcap_drops_server = 6,
					.traced = true, .server_events = true, .capture = true };
	char *text = print(s, &info);
	char *measured = strstr(text, "measured: 100 exchanges, 90 matched, 10 incomplete, "
				      "2 retransmitted\n");
	char *lost = strstr(text, "lost: 7 events (client 3, server 4), 11 pcap drops "
				  "(client 5, server 6)\n");

	ck_assert_ptr_eq(text, strstr(text, "pingpong: 1024 B x 100 exchanges\n"));
	ck_assert_ptr_nonnull(measured);
	ck_assert_ptr_nonnull(lost);
	ck_assert(lost < strstr(text, "component/us"));
	ck_assert(strstr(text, "component/us") < strstr(text, "rtt_app"));
	/* Everything was there: no line about absent data. */
	expect_text(text, NULL, STRINGS("not traced", "server events", "wire capture"));
	free(text);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_absent_tracing_and_server_events_are_said)
{
	struct pp_summary *s = one_to_hundred_us();
	struct pp_summary_info info = { .what = "x", .exchanges = 100 };
	char *text = print(s, &info);

	ck_assert_ptr_nonnull(strstr(text, "kernel points: not traced"));
	ck_assert_ptr_nonnull(strstr(text, "server events: none; server_stack, server_app and "
				     "network are empty"));
	/* no row for a component without samples */
	expect_text(text, STRINGS("wire capture: off"), STRINGS("\nrtt ", "client_stack "));
	free(text);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_every_component_of_a_traced_row)
{
	struct pp_summary *s = pp_summary_new();
	struct pp_summary_info info = { .what = "x", .exchanges = 1, .traced = true };
	struct pp_row row = { .rtt_app_ns = 50000 };
	char *text;

	for (int i = 0; i < PP_NSLOTS; i++)
		row.ts[i] = 1000;
	row.ts[C_RECV] = 45000;
	ck_assert_int_eq(pp_summary_add(s, &row), 0);
	text = print(s, &info);
	expect_text(text, STRINGS("\nrtt                   1      44.000",
				  "\nserver_app            1       0.000",
				  "\nclient_stack          1      44.000", "\nrtt "), NULL);
	ck_assert(strstr(text, "\nrtt ") < strstr(text, "\nrtt_app "));
	free(text);
	pp_summary_free(s);
}
END_TEST

/* Client and server rows with the --sched parts: the table has each part's percentiles, and a
 * line per host gives the means over the same rows, which add up to the stack's. */
static struct pp_row sched_row(uint64_t i)
{
	struct pp_row row = { .index = i, .rtt_app_ns = -1 };
	uint64_t *ts = row.ts, t = 1000000 + i * 100000;

	/* client: stack = xmit - send (2 us) + recv - rx; woken at rx + 1 + i, CPU out of idle
	 * 0.5 us later (even rows only), on it 4 us after the wake-up, recv 3 us after that */
	ts[C_SEND] = t, ts[C_XMIT] = t + 2000;
	ts[C_RX] = t + 50000, ts[C_WAKE] = ts[C_RX] + 1000 + i * 1000;
	ts[C_IDLE] = i % 2 ? 0 : ts[C_WAKE] + 500;
	ts[C_ONCPU] = ts[C_WAKE] + 4000, ts[C_RECV] = ts[C_ONCPU] + 3000;
	/* server: its thread was running (switched in before rx): all processing */
	ts[S_RX] = t + 10000, ts[S_ONCPU] = t + 9000, ts[S_RECV] = ts[S_RX] + 6000;
	ts[S_SEND] = ts[S_RECV] + 1000, ts[S_XMIT] = ts[S_SEND] + 2000;
	return row;
}

START_TEST(test_stack_parts_add_up)
{
	struct pp_summary *s = pp_summary_new();
	struct pp_summary_info info = { .what = "x", .exchanges = 4, .traced = true,
					.server_events = true };
	char path[] = "/tmp/pp-test-summary.XXXXXX";
	char *text, *json;
	int fd = mkstemp(path);

	for (uint64_t i = 0; i < 4; i++) {
		struct pp_row row = sched_row(i);

		ck_assert_int_eq(pp_summary_add(s, &row), 0);
	}
	text = print(s, &info);
	/* client: proc 2 + (1..4), mean 4.5; wakeup 4; idle 0.5 on two rows of four; return 3 */
	expect_text(text, STRINGS("\nclient_proc           4       4.500",
				  "\nclient_wakeup         4       4.000",
				  "\nclient_idle           4       0.250",
				  "\nclient_return         4       3.000",
				  "\nserver_proc           4       8.000",
				  "\nserver_wakeup         4       0.000",
				  "\nclient stack, mean of 4 rows: 11.500 us = proc 4.500 + wakeup 4.000 "
				  "(of it CPU idle 0.250) + return 3.000\n",
				  "\nserver stack, mean of 4 rows: 8.000 us = proc 8.000 + wakeup 0.000 "
				  "(of it CPU idle 0.000) + return 0.000\n"), NULL);
	/* the parts follow the four-way split, the means come after the table */
	ck_assert(strstr(text, "\nserver_app") < strstr(text, "\nclient_proc"));
	ck_assert(strstr(text, "\nserver_return") < strstr(text, "\nclient stack, mean"));
	free(text);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	expect_text(json, STRINGS("\"stack_parts_mean\": { \"client\": { \"rows\": 4, \"stack\": 11.500, "
				  "\"proc\": 4.500, \"wakeup\": 4.000, \"idle\": 0.250, \"return\": 3.000 }, "
				  "\"server\": { \"rows\": 4, \"stack\": 8.000, \"proc\": 8.000, "
				  "\"wakeup\": 0.000, \"idle\": 0.000, \"return\": 0.000 } },",
				  "\"client_wakeup\": { \"samples\": 4, \"p50\": 4.000"), NULL);
	free(json);
	unlink(path);
	pp_summary_free(s);
}
END_TEST

/* Without --sched (no oncpu point) nothing of the parts shows: the summary reads as before. */
START_TEST(test_no_stack_parts_without_sched_points)
{
	struct pp_summary *s = pp_summary_new();
	struct pp_summary_info info = { .what = "x", .exchanges = 4, .traced = true,
					.server_events = true };
	char path[] = "/tmp/pp-test-summary.XXXXXX";
	char *text, *json;
	int fd = mkstemp(path);

	for (uint64_t i = 0; i < 4; i++) {
		struct pp_row row = sched_row(i);

		row.ts[C_WAKE] = row.ts[C_IDLE] = row.ts[C_ONCPU] = row.ts[S_ONCPU] = 0;
		ck_assert_int_eq(pp_summary_add(s, &row), 0);
	}
	text = print(s, &info);
	expect_text(text, STRINGS("\nclient_stack          4      11.500", "\nserver_stack          4"),
		    STRINGS("proc", "wakeup", "idle", "return", "mean of"));
	/* the table is the text's end */
	ck_assert_msg(strstr(text, "\nserver_app ") && !strchr(strstr(text, "\nserver_app ") + 1, '\n')[1],
		      "%s", text);
	free(text);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	expect_text(json, STRINGS("\"client_stack\": {"), STRINGS("stack_parts", "proc", "wakeup"));
	free(json);
	unlink(path);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_empty_summary_says_no_samples)
{
	struct pp_summary *s = pp_summary_new();
	struct pp_summary_info info = { .what = "x" };
	char *text = print(s, &info);

	ck_assert_ptr_nonnull(strstr(text, "(no samples)"));
	free(text);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_json_has_the_same_numbers)
{
	struct pp_summary *s = one_to_hundred_us();
	struct pp_summary_info info = { .what = "say \"hi\"\\\n", .exchanges = 100, .matched = 0,
					.lost_samples_server = 4, .server_events = false,
					.run_start_ns = 1000, .run_end_ns = 20001000 };
	char path[] = "/tmp/pp-test-summary.XXXXXX";
	char *json;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	expect_text(json, STRINGS("\"what\": \"say \\\"hi\\\"\\\\\\u000a\"", "\"exchanges\": 100,",
				  "\"lost_samples\": { \"client\": 0, \"server\": 4 }",
				  "\"traced\": false,", "\"server_events\": false,", "\"unit\": \"us\"",
				  "\"run_ns\": { \"start\": 1000, \"end\": 20001000 },"), NULL);
	ck_assert_ptr_nonnull(strstr(json, "\"rtt_app\": { \"samples\": 100, \"p50\": 50.500, "
				     "\"p90\": 90.100, \"p99\": 99.010, \"p99.9\": 99.901, "
				     "\"max\": 100.000, \"mean\": 50.500 }"));
	ck_assert_ptr_null(strstr(json, "\"rtt\":"));
	ck_assert_str_eq(json + strlen(json) - 2, "}\n");
	free(json);
	unlink(path);
	pp_summary_free(s);
}
END_TEST

/* Three incomplete rows: two lack s_xmit, one of them c_rx too, one lacks s_rx; the wire slots
 * are empty on every row but not required, so they are not named. */
START_TEST(test_incomplete_rows_name_the_points_they_lack)
{
	struct pp_summary *s = pp_summary_new();
	struct pp_summary_info info = { .what = "t", .exchanges = 4, .matched = 1, .incomplete = 3,
					.required_slots = PP_SLOTS_SPLIT };
	const enum pp_slot kernel[] = { C_SEND, C_XMIT, C_RX, C_TCP, C_RECV,
					S_RX, S_TCP, S_RECV, S_SEND, S_XMIT };
	const enum pp_slot lack[4][2] = { { S_XMIT, C_RX }, { S_XMIT, S_XMIT }, { S_RX, S_RX },
					  { PP_NSLOTS, PP_NSLOTS } };
	char path[] = "/tmp/pp-test-summary.XXXXXX";
	char *text, *json;
	int fd = mkstemp(path);

	for (int i = 0; i < 4; i++) {
		struct pp_row row = { .index = (uint64_t)i, .rtt_app_ns = 1000,
				      .flags = i < 3 ? PP_ROW_INCOMPLETE : 0 };

		for (size_t k = 0; k < sizeof(kernel) / sizeof(kernel[0]); k++)
			row.ts[kernel[k]] = 1000 + k;
		for (int k = 0; k < 2; k++)
			if (lack[i][k] < PP_NSLOTS)
				row.ts[lack[i][k]] = 0;
		ck_assert_int_eq(pp_summary_add(s, &row), 0);
	}
	text = print(s, &info);
	ck_assert_msg(strstr(text, "\nincomplete rows lack: c_rx 1, s_rx 1, s_xmit 2\n"), "%s", text);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	ck_assert_msg(strstr(json, "\"incomplete_rows_lack\": { \"c_rx\": 1, \"s_rx\": 1, \"s_xmit\": 2 },"),
		      "%s", json);
	info.incomplete = 0;
	free(text);
	text = print(s, &info);
	ck_assert_ptr_null(strstr(text, "lack"));
	free(text);
	free(json);
	unlink(path);
	pp_summary_free(s);
}
END_TEST

/* The probe's own cost, per host, per exchange of its window (warm-up included): a line with the
 * run's facts and "probe_cost" in the JSON; unknown said as such (null), an untraced host left out. */
START_TEST(test_probe_cost_per_host)
{
	struct pp_summary *s = one_to_hundred_us();
	struct pp_summary_info info = {
		.what = "t", .exchanges = 100, .cost_exchanges = 200,
		.cost_client = { .present = true, .known = true, .bpf_ns = 1771000, .runs = 20920 },
		.cost_server = { .present = true, .known = false },
	};
	char path[] = "/tmp/pp-test-summary.XXXXXX";
	char *text, *json;
	int fd = mkstemp(path);

	text = print(s, &info);
	expect_text(text, STRINGS("\nprobe cost: BPF run time per exchange: client 8.855 us (104.6 runs), "
				  "server unknown (--probe-cost on a host measures its own)\n"), NULL);
	ck_assert(strstr(text, "probe cost:") < strstr(text, "component/us"));
	free(text);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	expect_text(json, STRINGS("\"probe_cost\": { \"client\": { \"bpf_ns\": 1771000, \"runs\": 20920, "
				  "\"ns_per_exchange\": 8855.0 }, \"server\": null, \"exchanges\": 200 },"), NULL);
	free(json);

	/* the server's known, the client's host not traced; per exchange over the rows */
	info.cost_exchanges = 0;
	info.cost_client = (struct pp_probe_cost){ 0 };
	info.cost_server = (struct pp_probe_cost){ .present = true, .known = true, .bpf_ns = 500000,
						   .runs = 1400 };
	text = print(s, &info);
	expect_text(text, STRINGS("\nprobe cost: BPF run time per exchange: server 5.000 us (14.0 runs)\n"),
		    STRINGS("exchange: client"));
	free(text);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	expect_text(json, STRINGS("\"probe_cost\": { \"client\": null, \"server\": { \"bpf_ns\": 500000, "
				  "\"runs\": 1400, \"ns_per_exchange\": 5000.0 }, \"exchanges\": 100 },"), NULL);
	free(json);

	/* nothing traced: no line, no member */
	info.cost_server = (struct pp_probe_cost){ 0 };
	text = print(s, &info);
	ck_assert_ptr_null(strstr(text, "probe"));
	free(text);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	ck_assert_ptr_null(strstr(json, "probe_cost"));
	free(json);
	unlink(path);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_json_without_samples_is_still_an_object)
{
	struct pp_summary *s = pp_summary_new();
	struct pp_summary_info info = { .what = NULL };
	char path[] = "/tmp/pp-test-summary.XXXXXX";
	char *json;
	int fd = mkstemp(path);

	close(fd);
	ck_assert_int_eq(pp_summary_write_json(s, &info, path), 0);
	json = slurp(path);
	expect_text(json, STRINGS("\"what\": \"\"", "\"components\": {}\n}\n"), NULL);
	free(json);
	unlink(path);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_json_to_missing_directory_fails_without_a_file)
{
	struct pp_summary *s = one_to_hundred_us();
	struct pp_summary_info info = { .what = "x" };

	ck_assert_int_eq(pp_summary_write_json(s, &info, "/nonexistent-pp-dir/s.json"), -ENOENT);
	pp_summary_free(s);
}
END_TEST

START_TEST(test_adding_after_printing_resorts)
{
	struct pp_summary *s = one_to_hundred_us();
	struct pp_summary_info info = { .what = "x" };
	struct pp_row low = { .rtt_app_ns = 0 };
	char *text = print(s, &info);

	free(text);
	ck_assert_int_eq(pp_summary_add(s, &low), 0);
	text = print(s, &info);
	ck_assert_msg(strstr(text, "rtt_app             101      50.000"), "%s", text);
	free(text);
	pp_summary_free(s);
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

/* A traced, captured row with every component: rtt 20..120 us, its parts, and a wire that now
 * and then comes out negative (misordered points), so both signs of a histogram fill. */
static void long_run_row(struct pp_row *row, uint64_t i)
{
	uint64_t t = 1000000000 + i * 200000, r = next_random();
	int64_t wire = (int64_t)(r % 4000) - 500;
	uint64_t *ts = row->ts;

	*row = (struct pp_row){ .index = i };
	ts[C_SEND] = t;
	ts[C_XMIT] = t + 1000 + (r >> 16) % 9000;
	ts[C_WIRE_TX] = ts[C_XMIT] + 500;
	ts[S_WIRE_RX] = 5000000000 + i * 200000;
	ts[S_RX] = ts[S_WIRE_RX] + 300;
	ts[S_TCP] = ts[S_RX] + 100;
	ts[S_RECV] = ts[S_RX] + 2000;
	ts[S_SEND] = ts[S_RECV] + (r >> 32) % 50000;
	ts[S_XMIT] = ts[S_SEND] + 1500;
	ts[S_WIRE_TX] = ts[S_XMIT] + 400;
	ts[C_WIRE_RX] = (uint64_t)((int64_t)ts[C_WIRE_TX] + wire) + (ts[S_WIRE_TX] - ts[S_WIRE_RX]);
	ts[C_RX] = ts[C_WIRE_RX] + 300;
	ts[C_TCP] = ts[C_RX] + 100;
	ts[C_RECV] = ts[C_RX] + 1000 + (r >> 48) % 5000;
	/* --sched: woken after rx, idle exit, switch-in before recv */
	ts[C_WAKE] = ts[C_RX] + 50 + (r >> 8) % 200;
	ts[C_IDLE] = ts[C_WAKE] + 20;
	ts[C_ONCPU] = ts[C_IDLE] + 100 + (r >> 24) % 500;
	ts[S_WAKE] = ts[S_RX] + 200;
	ts[S_IDLE] = ts[S_WAKE] + 100;
	ts[S_ONCPU] = ts[S_IDLE] + 300 + (r >> 40) % 1000;
	row->rtt_app_ns = (int64_t)(ts[C_RECV] - ts[C_SEND]) + 2000;
}

/* 2,000,000 rows of every component: the summary's heap stops growing once its histograms are
 * in place (rows 200,000 to 2,000,000 add nothing) and stays under PP_SUMMARY_MAX_BYTES; kept
 * whole, these samples took 144 MB. The figures still come within the stated bound. */
START_TEST(test_two_million_rows_in_bounded_memory)
{
	const uint64_t rows = 2000000;
	int64_t *rtt = malloc(rows * sizeof(*rtt));
	double *rtt_us = malloc(rows * sizeof(*rtt_us));
	size_t base = heap_in_use(), at_200k = 0, at_end;
	struct pp_summary *s = pp_summary_new();
	struct pp_summary_info info = { .what = "long", .exchanges = rows, .traced = true,
					.server_events = true, .capture = true };
	struct pp_row row;
	char *text, line[160];
	int rc = 0;

	ck_assert_ptr_nonnull(s);
	/* (one assertion after the loop: Check's each costs a system call) */
	for (uint64_t i = 0; i < rows; i++) {
		long_run_row(&row, i);
		rtt[i] = (int64_t)(row.ts[C_RECV] - row.ts[C_SEND]);
		rc |= pp_summary_add(s, &row);
		if (i + 1 == 200000)
			at_200k = heap_in_use() - base;
	}
	at_end = heap_in_use() - base;
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(at_end <= at_200k + 4096, "grew from %zu to %zu bytes", at_200k, at_end);
	ck_assert_msg(at_end <= PP_SUMMARY_MAX_BYTES, "%zu bytes", at_end);
	/* what the rows came to, binned: 17 components, 2 of them of both signs */
	ck_assert_msg(at_end <= 19 * PP_HIST_SIDE_BYTES + 4096, "%zu bytes", at_end);

	text = print(s, &info);
	for (int c = 0; c < PP_NCOMPONENTS; c++) {
		snprintf(line, sizeof(line), "\n%-13s %9" PRIu64 " ", pp_component_name[c], rows);
		ck_assert_msg(strstr(text, line), "no \"%s\" in:\n%s", line + 1, text);
	}
	/* rtt against the full sort: each percentile within max(|x_lo|, |x_hi|)/2048, printed */
	for (uint64_t i = 0; i < rows; i++)
		rtt_us[i] = (double)rtt[i] / 1000.0;
	pp_sort_doubles(rtt_us, rows);
	{
		const double p[] = { 50, 90, 99, 99.9 };
		double got[4], max, mean;
		char *at = strstr(text, "\nrtt ");

		ck_assert_int_eq(sscanf(at, " rtt %*u %lf %lf %lf %lf %lf %lf", &got[0], &got[1],
					&got[2], &got[3], &max, &mean), 6);
		for (int k = 0; k < 4; k++) {
			double want = pp_percentile(rtt_us, rows, p[k]);

			ck_assert_msg(fabs(got[k] - want) <= want / 2048 + 0.0005, "p%g: %.3f vs %.3f",
				      p[k], got[k], want);
		}
		ck_assert_double_eq_tol(max, rtt_us[rows - 1], 0.0005);
		ck_assert_double_eq_tol(mean, pp_mean(rtt_us, rows), 0.0006);
	}
	free(text);
	free(rtt_us);
	free(rtt);
	pp_summary_free(s);
}
END_TEST

PP_CHECK_TESTS("summary", 60,
	       test_probe_cost_per_host,
	       test_percentiles_of_one_to_hundred,
	       test_what_was_measured_comes_before_numbers,
	       test_absent_tracing_and_server_events_are_said,
	       test_every_component_of_a_traced_row,
	       test_stack_parts_add_up,
	       test_no_stack_parts_without_sched_points,
	       test_empty_summary_says_no_samples,
	       test_json_has_the_same_numbers,
	       test_incomplete_rows_name_the_points_they_lack,
	       test_json_without_samples_is_still_an_object,
	       test_json_to_missing_directory_fails_without_a_file,
	       test_adding_after_printing_resorts,
	       test_two_million_rows_in_bounded_memory)
