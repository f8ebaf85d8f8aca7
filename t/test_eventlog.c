// SPDX-License-Identifier: MIT
/* events.csv: a written event parses back to the same struct (IPv4 and IPv6), the reader skips
 * the header and counts malformed rows, and the parser rejects every kind of bad field. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/eventlog.h"
#include "check_main.h"

static struct pp_event sample_v4(void)
{
	struct pp_event ev = {
		.ts_ns = 1234567890123ULL, .ts_other_ns = 1234567899999ULL, .seq = 4294967295U,
		.len = 1448, .ack = 77, .tgid = 4242, .sport = 40000, .dport = 12345,
		.point = PP_SEND, .family = PP_AF_INET, .tcp_flags = 0x18,
	};

	inet_pton(AF_INET, "198.18.0.1", ev.saddr);
	inet_pton(AF_INET, "198.18.0.2", ev.daddr);
	return ev;
}

static struct pp_event sample_v6(void)
{
	struct pp_event ev = {
		.ts_ns = 18446744073709551615ULL, .seq = 1, .len = 0, .ack = 4000000000U,
		.sport = 65535, .dport = 1, .point = PP_TCP, .family = PP_AF_INET6, .tcp_flags = 0x11,
	};

	inet_pton(AF_INET6, "2001:2::1", ev.saddr);
	inet_pton(AF_INET6, "2001:2::2", ev.daddr);
	return ev;
}

static char *written(const struct pp_event *ev)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_int_eq(pp_eventlog_write(f, ev), 0);
	fclose(f);
	return text;
}

START_TEST(test_point_names_round_trip)
{
	for (int p = PP_SEND; p < PP_POINT_MAX; p++)
		ck_assert_int_eq(pp_point_from_name(pp_point_name(p)), p);
	ck_assert_str_eq(pp_point_name(PP_XMIT), "xmit");
	ck_assert_str_eq(pp_point_name(0), "?");
	ck_assert_str_eq(pp_point_name(PP_POINT_MAX), "?");
	ck_assert_int_eq(pp_point_from_name("sendto"), -EINVAL);
}
END_TEST

START_TEST(test_ipv4_event_round_trips)
{
	struct pp_event ev = sample_v4(), back;
	char *line = written(&ev);

	ck_assert_str_eq(line, "send,1234567890123,1234567899999,4,198.18.0.1,40000,198.18.0.2,12345,"
			       "4294967295,1448,77,0x18,4242\n");
	ck_assert_int_eq(pp_eventlog_parse_line(line, &back), 0);
	ck_assert_mem_eq(&back, &ev, sizeof(ev));
	free(line);
}
END_TEST

/* --sched: the three scheduler points are copies of their recv event (ts_other_ns 0), by name. */
START_TEST(test_sched_points_round_trip)
{
	static const struct { int point; const char *name; } sched[] = {
		{ PP_WAKE, "wake" }, { PP_IDLE, "idle" }, { PP_ONCPU, "oncpu" },
	};

	for (size_t i = 0; i < sizeof(sched) / sizeof(sched[0]); i++) {
		struct pp_event ev = sample_v4(), back;
		char *line, want[160];

		ev.point = (__u8)sched[i].point;
		ev.ts_other_ns = 0;
		ck_assert_str_eq(pp_point_name(sched[i].point), sched[i].name);
		ck_assert_int_eq(pp_point_from_name(sched[i].name), sched[i].point);
		line = written(&ev);
		snprintf(want, sizeof(want), "%s,1234567890123,0,4,198.18.0.1,40000,198.18.0.2,12345,"
			 "4294967295,1448,77,0x18,4242\n", sched[i].name);
		ck_assert_str_eq(line, want);
		ck_assert_int_eq(pp_eventlog_parse_line(line, &back), 0);
		ck_assert_mem_eq(&back, &ev, sizeof(ev));
		free(line);
	}
}
END_TEST

START_TEST(test_ipv6_event_round_trips)
{
	struct pp_event ev = sample_v6(), back;
	char *line = written(&ev);

	ck_assert_int_eq(pp_eventlog_parse_line(line, &back), 0);
	ck_assert_mem_eq(&back, &ev, sizeof(ev));
	free(line);
}
END_TEST

START_TEST(test_unknown_family_is_not_written)
{
	struct pp_event ev = sample_v4();
	FILE *f = fopen("/dev/null", "w");

	ev.family = 7;
	ck_assert_int_eq(pp_eventlog_write(f, &ev), -EINVAL);
	fclose(f);
}
END_TEST

START_TEST(test_crlf_and_missing_newline_are_accepted)
{
	struct pp_event ev;

	ck_assert_int_eq(pp_eventlog_parse_line("rx,1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,16,0\r\n", &ev), 0);
	ck_assert_int_eq(ev.tcp_flags, 16);
	ck_assert_int_eq(pp_eventlog_parse_line("rx,1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0", &ev), 0);
	ck_assert_int_eq(ev.tcp_flags, 0x10);
}
END_TEST

START_TEST(test_bad_rows_are_rejected)
{
	static const char *const bad[] = {
		"",
		"send",
		"sned,1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0",            /* point */
		"rx,-1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0",             /* sign */
		"rx, 1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0",             /* blank */
		"rx,18446744073709551616,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0", /* u64 overflow */
		"rx,1,0,5,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0",              /* family */
		"rx,1,0,6,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0",              /* v4 address, family 6 */
		"rx,1,0,4,1.2.3.256,1,5.6.7.8,2,3,4,5,0x10,0",            /* address */
		"rx,1,0,4,1.2.3.4,65536,5.6.7.8,2,3,4,5,0x10,0",          /* port */
		"rx,1,0,4,1.2.3.4,1,5.6.7.8,2,4294967296,4,5,0x10,0",     /* seq */
		"rx,1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x100,0",             /* flags */
		"rx,1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x0x1,0",             /* flags */
		"rx,1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10",                /* a field short */
		"rx,1,0,4,1.2.3.4,1,5.6.7.8,2,3,4,5,0x10,0,9",            /* a field too many */
		"rx,1,0,4,1.2.3.4,1,5.6.7.8,2,3,,5,0x10,0",               /* empty */
	};
	struct pp_event ev;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pp_eventlog_parse_line(bad[i], &ev) == -EINVAL, "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_overlong_line_is_rejected)
{
	char line[2048];
	struct pp_event ev;

	memset(line, '1', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "rx,", 3);
	ck_assert_int_eq(pp_eventlog_parse_line(line, &ev), -EINVAL);
}
END_TEST

START_TEST(test_reader_skips_header_and_counts_bad_rows)
{
	char path[] = "/tmp/pp-test-eventlog.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct pp_event a = sample_v4(), b = sample_v6(), got;
	struct pp_eventlog_reader *r;

	ck_assert_int_eq(pp_eventlog_write_header(f), 0);
	ck_assert_int_eq(pp_eventlog_write(f, &a), 0);
	fputs("garbage,row\n\n", f);
	ck_assert_int_eq(pp_eventlog_write(f, &b), 0);
	fclose(f);

	ck_assert_int_eq(pp_eventlog_open(&r, path), 0);
	ck_assert_int_eq(pp_eventlog_next(r, &got), 1);
	ck_assert_mem_eq(&got, &a, sizeof(a));
	ck_assert_int_eq(pp_eventlog_next(r, &got), 1);
	ck_assert_mem_eq(&got, &b, sizeof(b));
	ck_assert_int_eq(pp_eventlog_next(r, &got), 0);
	ck_assert_uint_eq(pp_eventlog_bad_rows(r), 1);
	pp_eventlog_close(r);
	unlink(path);
}
END_TEST

START_TEST(test_missing_file_is_an_errno)
{
	struct pp_eventlog_reader *r;

	ck_assert_int_eq(pp_eventlog_open(&r, "/nonexistent/events.csv"), -ENOENT);
	ck_assert_ptr_null(r);
}
END_TEST

PP_CHECK_TESTS("eventlog", 0,
	       test_point_names_round_trip,
	       test_sched_points_round_trip,
	       test_ipv4_event_round_trips,
	       test_ipv6_event_round_trips,
	       test_unknown_family_is_not_written,
	       test_crlf_and_missing_newline_are_accepted,
	       test_bad_rows_are_rejected,
	       test_overlong_line_is_rejected,
	       test_reader_skips_header_and_counts_bad_rows,
	       test_missing_file_is_an_errno)
