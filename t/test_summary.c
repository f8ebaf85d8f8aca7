// SPDX-License-Identifier: MIT
/* The summary: percentiles from known samples, what was measured and lost stated first, and
 * the JSON carrying the same numbers as the text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/correlate.h"
#include "analyze/summary.h"
#include "check_main.h"

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

PP_CHECK_TESTS("summary", 0,
	       test_percentiles_of_one_to_hundred,
	       test_what_was_measured_comes_before_numbers,
	       test_absent_tracing_and_server_events_are_said,
	       test_every_component_of_a_traced_row,
	       test_empty_summary_says_no_samples,
	       test_json_has_the_same_numbers,
	       test_incomplete_rows_name_the_points_they_lack,
	       test_json_without_samples_is_still_an_object,
	       test_json_to_missing_directory_fails_without_a_file,
	       test_adding_after_printing_resorts)
