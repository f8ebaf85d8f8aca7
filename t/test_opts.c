// SPDX-License-Identifier: MIT
/* pingpong-client's and pingpong-server's command lines: defaults, bounds, and the one-line
 * reasons given for bad values. */
#include <errno.h>
#include <string.h>

#include "ping/client_opts.h"
#include "ping/server_opts.h"
#include "check_main.h"

#define ARGV(...) ((char *[]){ "prog", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "prog", __VA_ARGS__ }) / sizeof(char *)))
#define CLIENT(o, err, ...) pp_client_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, &(err))
#define SERVER(o, err, ...) pp_server_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, &(err))

/* The parse was refused with exactly this reason. */
static void refused(int rc, const struct pp_err *err, const char *why)
{
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_str_eq(err->msg, why);
}

START_TEST(test_client_defaults)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "--addr", "198.18.0.2", "--port", "12345"), PP_OPTS_OK);
	ck_assert_str_eq(o.addr, "198.18.0.2");
	ck_assert_uint_eq(o.port, 12345);
	ck_assert_uint_eq(o.size, 1024);
	ck_assert_uint_eq(o.count, 10000);
	ck_assert_uint_eq(o.warmup, 100);
	ck_assert_uint_eq(o.interval_us, 0);
	ck_assert(!o.spin);
	ck_assert_str_eq(o.output, "results.csv");
	ck_assert_ptr_null(o.summary_json);
}
END_TEST

START_TEST(test_client_traces_by_default_with_the_agent_on_port_plus_one)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "--addr", "198.18.0.2", "--port", "12345"), PP_OPTS_OK);
	ck_assert(!o.no_trace);
	ck_assert(!o.no_capture);
	ck_assert(!o.no_agent);
	ck_assert_ptr_null(o.iface);
	ck_assert_uint_eq(o.control_port, 12346);
	ck_assert_uint_eq(o.perf_pages, PP_CLIENT_DEFAULT_PERF_PAGES);
	ck_assert_uint_eq(o.max_events, PP_CLIENT_DEFAULT_MAX_EVENTS);
	ck_assert_ptr_null(o.events_out);
	ck_assert_ptr_null(o.pcap_out);
	ck_assert_int_eq(o.verbosity, 0);
	ck_assert(!o.syscall_points);
	ck_assert(!o.tcp_point);
}
END_TEST

START_TEST(test_client_tcp_point_is_opt_in)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "80"), PP_OPTS_OK);
	ck_assert(!o.tcp_point);
	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "80", "--tcp-point"), PP_OPTS_OK);
	ck_assert(o.tcp_point);
	ck_assert(!o.syscall_points);
	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "80", "--tcp-point", "--syscall-points"),
			 PP_OPTS_OK);
	ck_assert(o.tcp_point);
	ck_assert(o.syscall_points);
	refused(CLIENT(&o, err, "-a", "h", "-p", "80", "--tcp-point=1"), &err,
		"option '--tcp-point' takes no value");
	refused(CLIENT(&o, err, "-a", "h", "-p", "80", "--no-trace", "--tcp-point"), &err,
		"--tcp-point needs tracing: drop --no-trace");
}
END_TEST

START_TEST(test_client_tracing_options)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "80", "--iface", "eth1", "--control-port",
				"9000", "--perf-pages", "1024", "--max-events", "5", "--events-out",
				"ev.csv", "--pcap-out", "c.pcap", "-v", "-v"), PP_OPTS_OK);
	ck_assert_str_eq(o.iface, "eth1");
	ck_assert_uint_eq(o.control_port, 9000);
	ck_assert_uint_eq(o.perf_pages, 1024);
	ck_assert_uint_eq(o.max_events, 5);
	ck_assert_str_eq(o.events_out, "ev.csv");
	ck_assert_str_eq(o.pcap_out, "c.pcap");
	ck_assert_int_eq(o.verbosity, 2);
	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "80", "--no-trace"), PP_OPTS_OK);
	ck_assert(o.no_trace);
	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "80", "--no-capture", "--no-agent"),
			 PP_OPTS_OK);
	ck_assert(o.no_capture);
	ck_assert(o.no_agent);
}
END_TEST

START_TEST(test_client_port_65535_has_no_default_control_port)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "65535"), PP_OPTS_OK);
	ck_assert_uint_eq(o.control_port, 0);
	ck_assert_int_eq(CLIENT(&o, err, "-a", "h", "-p", "65535", "--control-port", "1"),
			 PP_OPTS_OK);
	ck_assert_uint_eq(o.control_port, 1);
}
END_TEST

START_TEST(test_client_bad_tracing_values)
{
	struct pp_client_opts o;
	struct pp_err err;

	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--perf-pages", "3"),
		&err, "--perf-pages must be a power of 2, 1..65536 pages (got 3)");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--perf-pages", "131072"),
		&err, "--perf-pages must be 1..65536 pages (got 131072)");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--control-port", "0"),
		&err, "--control-port must be 1..65535 (got 0)");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--max-events", "0"),
		&err, "--max-events must be 1..1000000000 events (got 0)");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--iface", ""),
		&err, "--iface must not be empty");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--iface", "a-name-far-too-long"),
		&err, "--iface must be at most 15 characters (got 'a-name-far-too-long')");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--no-trace=1"),
		&err, "option '--no-trace' takes no value");
}
END_TEST

START_TEST(test_client_contradicting_options_are_refused)
{
	struct pp_client_opts o;
	struct pp_err err;

	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--no-trace", "--events-out", "e"),
		&err, "--events-out needs tracing: drop --no-trace");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--pcap-out", "x", "--no-trace"),
		&err, "--pcap-out needs tracing: drop --no-trace");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--no-capture", "--iface", "lo"),
		&err, "--iface needs the capture: drop --no-capture");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--no-agent", "--control-port", "2"),
		&err, "--control-port and --no-agent contradict each other");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--events-out", "results.csv"),
		&err, "--output and --events-out must be different files");
	refused(CLIENT(&o, err, "-a", "h", "-p", "1", "--events-out", "a", "--pcap-out",
		"a"),
		&err, "--events-out and --pcap-out must be different files");
}
END_TEST

START_TEST(test_client_every_option)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "-a", "::1", "-p", "1", "--size=16777216", "-c", "5",
				"--warmup", "0", "--interval", "250", "-o", "x.csv",
				"--summary-json", "s.json", "--spin"), PP_OPTS_OK);
	ck_assert(o.spin);
	ck_assert_str_eq(o.addr, "::1");
	ck_assert_uint_eq(o.port, 1);
	ck_assert_uint_eq(o.size, 16777216);
	ck_assert_uint_eq(o.count, 5);
	ck_assert_uint_eq(o.warmup, 0);
	ck_assert_uint_eq(o.interval_us, 250);
	ck_assert_str_eq(o.output, "x.csv");
	ck_assert_str_eq(o.summary_json, "s.json");
}
END_TEST

START_TEST(test_client_size_zero_is_refused_with_range_and_unit)
{
	struct pp_client_opts o;
	struct pp_err err;

	refused(CLIENT(&o, err, "--addr", "h", "--port", "1", "--size", "0"),
		&err, "--size must be 1..16777216 bytes (got 0)");
	refused(CLIENT(&o, err, "--addr", "h", "--port", "1", "--size", "16777217"),
		&err, "--size must be 1..16777216 bytes (got 16777217)");
}
END_TEST

START_TEST(test_client_bad_numbers)
{
	static const char *const bad[][2] = {
		{ "--count", "0" }, { "--count", "-1" }, { "--count", "1e3" }, { "--count", "" },
		{ "--count", "18446744073709551616" }, { "--port", "0" }, { "--port", "65536" },
		{ "--port", " 80" }, { "--warmup", "x" }, { "--interval", "10000001" },
		{ "--size", "+5" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pp_client_opts o;
		struct pp_err err;
		char *argv[] = { "prog", "--addr", "h", "--port", "2", (char *)bad[i][0],
				 (char *)bad[i][1], NULL };

		ck_assert_msg(pp_client_opts_parse(7, argv, &o, &err) == -EINVAL,
			      "%s %s accepted", bad[i][0], bad[i][1]);
		ck_assert_msg(strncmp(err.msg, bad[i][0], strlen(bad[i][0])) == 0, "err '%s'", err.msg);
		ck_assert_ptr_null(strchr(err.msg, '\n'));
	}
}
END_TEST

START_TEST(test_client_requires_addr_and_port)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "--port", "1"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "--addr is required"));
	ck_assert_int_eq(CLIENT(&o, err, "--addr", "h"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "--port is required"));
	refused(CLIENT(&o, err, "--addr", "", "--port", "1"), &err, "--addr must not be empty");
}
END_TEST

START_TEST(test_client_unknown_option_and_stray_argument)
{
	struct pp_client_opts o;
	struct pp_err err;

	refused(CLIENT(&o, err, "--addr", "h", "--port", "1", "--frobnicate"),
		&err, "unknown option '--frobnicate'");
	refused(CLIENT(&o, err, "--addr", "h", "--port", "1", "-Z"), &err, "unknown option '-Z'");
	refused(CLIENT(&o, err, "--addr", "h", "--port", "1", "extra"),
		&err, "unexpected argument 'extra'");
	refused(CLIENT(&o, err, "--addr", "h", "--size"), &err, "option '--size' needs a value");
	refused(CLIENT(&o, err, "--addr", "h", "-s"), &err, "option '-s' needs a value");
	refused(CLIENT(&o, err, "--addr", "h", "--help=yes"),
		&err, "option '--help' takes no value");
}
END_TEST

START_TEST(test_client_help_wins)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "--help"), PP_OPTS_HELP);
	ck_assert_int_eq(CLIENT(&o, err, "--addr", "h", "-h"), PP_OPTS_HELP);
}
END_TEST

START_TEST(test_client_outputs_must_differ)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "--addr", "h", "--port", "1", "-o", "a",
				"--summary-json", "a"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "different"));
}
END_TEST

START_TEST(test_client_parses_twice)
{
	struct pp_client_opts o;
	struct pp_err err;

	ck_assert_int_eq(CLIENT(&o, err, "--addr", "a", "--port", "1", "--count", "7"), PP_OPTS_OK);
	ck_assert_int_eq(CLIENT(&o, err, "--addr", "b", "--port", "2"), PP_OPTS_OK);
	ck_assert_str_eq(o.addr, "b");
	ck_assert_uint_eq(o.count, 10000);
}
END_TEST

START_TEST(test_server_defaults_and_options)
{
	struct pp_server_opts o;
	struct pp_err err;

	ck_assert_int_eq(SERVER(&o, err, "--port", "12345"), PP_OPTS_OK);
	ck_assert_uint_eq(o.port, 12345);
	ck_assert_ptr_null(o.bind);
	ck_assert_uint_eq(o.reply_delay_us, 0);
	ck_assert_uint_eq(o.max_clients, PP_SERVER_DEFAULT_MAX_CLIENTS);
	ck_assert_uint_eq(o.idle_timeout_s, 60);
	ck_assert(!o.verbose);
	ck_assert(!o.spin);
	ck_assert_int_eq(SERVER(&o, err, "-p", "7", "--bind", "2001:2::2", "--reply-delay", "500",
				"--max-clients", "3", "--idle-timeout", "2", "-v", "--spin"), PP_OPTS_OK);
	ck_assert(o.spin);
	ck_assert_uint_eq(o.idle_timeout_s, 2);
	ck_assert_str_eq(o.bind, "2001:2::2");
	ck_assert_uint_eq(o.reply_delay_us, 500);
	ck_assert_uint_eq(o.max_clients, 3);
	ck_assert(o.verbose);
}
END_TEST

START_TEST(test_server_requires_port)
{
	struct pp_server_opts o;
	struct pp_err err;

	refused(SERVER(&o, err, "--bind", "::"), &err, "--port is required");
}
END_TEST

START_TEST(test_server_bad_values)
{
	struct pp_server_opts o;
	struct pp_err err;

	refused(SERVER(&o, err, "--port", "70000"), &err, "--port must be 1..65535 (got 70000)");
	refused(SERVER(&o, err, "--port", "1", "--reply-delay", "1000001"),
		&err, "--reply-delay must be 0..1000000 microseconds (got 1000001)");
	ck_assert_int_eq(SERVER(&o, err, "--port", "1", "--max-clients", "0"), -EINVAL);
	refused(SERVER(&o, err, "--port", "1", "--idle-timeout", "0"),
		&err, "--idle-timeout must be 1..86400 seconds (got 0)");
	ck_assert_int_eq(SERVER(&o, err, "--port", "1", "--bind", ""), -EINVAL);
	refused(SERVER(&o, err, "--port", "1", "--nope"), &err, "unknown option '--nope'");
	ck_assert_int_eq(SERVER(&o, err, "--help"), PP_OPTS_HELP);
}
END_TEST

PP_CHECK_TESTS("opts", 0,
	       test_client_defaults,
	       test_client_every_option,
	       test_client_traces_by_default_with_the_agent_on_port_plus_one,
	       test_client_tracing_options,
	       test_client_tcp_point_is_opt_in,
	       test_client_port_65535_has_no_default_control_port,
	       test_client_bad_tracing_values,
	       test_client_contradicting_options_are_refused,
	       test_client_size_zero_is_refused_with_range_and_unit,
	       test_client_bad_numbers,
	       test_client_requires_addr_and_port,
	       test_client_unknown_option_and_stray_argument,
	       test_client_help_wins,
	       test_client_outputs_must_differ,
	       test_client_parses_twice,
	       test_server_defaults_and_options,
	       test_server_requires_port,
	       test_server_bad_values)
