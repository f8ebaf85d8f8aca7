// SPDX-License-Identifier: MIT
/* pingpong-ebpf's command line and its target lookups: options parse into the struct or give a
 * one-line reason; CMD's own --port is found; a listening socket is found by port and by pid. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent_opts.h"
#include "agent/procnet.h"
#include "check_main.h"

static int parse(struct pp_agent_opts *o, struct pp_err *err, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return pp_agent_parse(argc, argv, o, err);
}

START_TEST(test_command_after_double_dash_keeps_its_own_options)
{
	char *argv[] = { "pingpong-ebpf", "-p", "7", "--port=8", "-o", "ev.csv", "--",
			 "pingpong-server", "--port", "12345", "-v", NULL };
	struct pp_agent_opts o;
	struct pp_err msg;

	ck_assert_int_eq(parse(&o, &msg, argv), 0);
	ck_assert_uint_eq(o.n_ports, 2);
	ck_assert_uint_eq(o.ports[0], 7);
	ck_assert_uint_eq(o.ports[1], 8);
	ck_assert_str_eq(o.output, "ev.csv");
	ck_assert_str_eq(o.cmd[0], "pingpong-server");
	ck_assert_str_eq(o.cmd[3], "-v");
	ck_assert_int_eq(o.verbosity, 0);
	ck_assert_uint_eq(o.max_events, PP_AGENT_DEFAULT_MAX_EVENTS);
}
END_TEST

START_TEST(test_tcp_point_is_opt_in)
{
	char *plain[] = { "a", "--pid", "1", NULL };
	char *asked[] = { "a", "--tcp-point", "--pid", "1", NULL };
	char *peer[] = { "a", "--peer", "198.18.0.2", "--port", "6379", "--output", "r.csv",
			 "--tcp-point", "--", "redis-benchmark", NULL };
	char *valued[] = { "a", "--tcp-point=yes", "--pid", "1", NULL };
	struct pp_agent_opts o;
	struct pp_err msg;

	ck_assert_int_eq(parse(&o, &msg, plain), 0);
	ck_assert(!o.tcp_point);
	ck_assert(!o.syscall_points);
	ck_assert_int_eq(parse(&o, &msg, asked), 0);
	ck_assert(o.tcp_point);
	ck_assert(!o.syscall_points);
	ck_assert_int_eq(parse(&o, &msg, peer), 0);
	ck_assert_str_eq(o.peer, "198.18.0.2");
	ck_assert(o.tcp_point);
	ck_assert_int_eq(parse(&o, &msg, valued), -EINVAL);
	ck_assert_str_eq(msg.msg, "option '--tcp-point' takes no value");
}
END_TEST

START_TEST(test_bad_values_give_one_line_reasons)
{
	char *port0[] = { "a", "--port", "0", "--pid", "1", NULL };
	char *pages[] = { "a", "--perf-pages", "3", "--pid", "1", NULL };
	char *dur[] = { "a", "--duration", "-1", "--pid", "1", NULL };
	char *both[] = { "a", "--pid", "1", "--", "true", NULL };
	char *nothing[] = { "a", "-v", NULL };
	char *unknown[] = { "a", "--frobnicate", NULL };
	struct pp_agent_opts o;
	struct pp_err msg;

	ck_assert_int_eq(parse(&o, &msg, port0), -EINVAL);
	ck_assert_str_eq(msg.msg, "--port must be 1..65535 (got '0')");
	ck_assert_int_eq(parse(&o, &msg, pages), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg.msg, "power of 2"));
	ck_assert_int_eq(parse(&o, &msg, dur), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg.msg, "--duration"));
	ck_assert_int_eq(parse(&o, &msg, both), -EINVAL);
	ck_assert_int_eq(parse(&o, &msg, nothing), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg.msg, "nothing to trace"));
	ck_assert_int_eq(parse(&o, &msg, unknown), -EINVAL);
	ck_assert_ptr_null(strchr(msg.msg, '\n'));
}
END_TEST

START_TEST(test_help_needs_nothing_else)
{
	char *argv[] = { "a", "--help", NULL };
	struct pp_agent_opts o;
	struct pp_err msg;

	ck_assert_int_eq(parse(&o, &msg, argv), PP_OPTS_HELP);
}
END_TEST

START_TEST(test_port_is_taken_from_the_command)
{
	char *spaced[] = { "srv", "-v", "--port", "12345", NULL };
	char *joined[] = { "srv", "--port=80", NULL };
	char *none[] = { "srv", "--portal", "1", NULL };
	char *bad[] = { "srv", "--port", "http", NULL };
	__u16 port;

	ck_assert_int_eq(pp_port_in_args(spaced, &port), 0);
	ck_assert_uint_eq(port, 12345);
	ck_assert_int_eq(pp_port_in_args(joined, &port), 0);
	ck_assert_uint_eq(port, 80);
	ck_assert_int_eq(pp_port_in_args(none, &port), 0);
	ck_assert_uint_eq(port, 0);
	ck_assert_int_eq(pp_port_in_args(bad, &port), -EINVAL);
}
END_TEST

START_TEST(test_listener_is_found_by_port_and_by_pid)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0), n, i;
	pid_t owners[16];
	__u16 ports[16];
	bool found = false;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);

	n = pp_listen_owners(ntohs(addr.sin_port), owners, 16);
	ck_assert_int_ge(n, 1);
	for (i = 0; i < n; i++)
		found |= owners[i] == getpid();
	ck_assert(found);

	n = pp_listen_ports(getpid(), ports, 16);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(ports[0], ntohs(addr.sin_port));
	close(fd);
	ck_assert_int_eq(pp_listen_ports(getpid(), ports, 16), 0);
}
END_TEST

PP_CHECK_TESTS("agent_opts", 0,
	       test_command_after_double_dash_keeps_its_own_options,
	       test_tcp_point_is_opt_in,
	       test_bad_values_give_one_line_reasons,
	       test_help_needs_nothing_else,
	       test_port_is_taken_from_the_command,
	       test_listener_is_found_by_port_and_by_pid)
