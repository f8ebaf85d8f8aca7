// SPDX-License-Identifier: MIT
/* pingpong-client's options: one table (common/opts.h) gives the parsing, the bounds and the
 * --help text; what is left here are the checks that involve two options at once. */
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "ping/client_opts.h"
#include "ping/handshake.h"
#include "collect/trace.h"

#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct pp_client_opts cfg_t;

static int take_iface(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		      void *cfg, struct pp_err *err)
{
	(void)spec;
	if (!*arg)
		return pp_err_set(err, -EINVAL, "--%s must not be empty", opt->name);
	if (strlen(arg) >= IF_NAMESIZE)
		return pp_err_set(err, -EINVAL, "--%s must be at most %d characters (got '%s')",
				  opt->name, IF_NAMESIZE - 1, arg);
	((cfg_t *)cfg)->iface = arg;
	return 0;
}

static const struct pp_opt options[] = {
	{ "addr", 'a', PP_OPT_STRING, PP_OPT_AT(cfg_t, addr), .metavar = "HOST", .nonempty = "",
	  .help = "server: name, IPv4 or IPv6 address", .required = "(the server's name or address)" },
	{ "port", 'p', PP_OPT_UINT, PP_OPT_AT(cfg_t, port), .metavar = "PORT",
	  .help = "server port", .min = 1, .max = 65535, .required = "(the server's port)" },
	{ "size", 's', PP_OPT_UINT, PP_OPT_AT(cfg_t, size), .metavar = "BYTES",
	  .help = "message size", .min = PP_MSG_SIZE_MIN, .max = PP_MSG_SIZE_MAX, .unit = "bytes" },
	{ "count", 'c', PP_OPT_UINT, PP_OPT_AT(cfg_t, count), .metavar = "N",
	  .help = "exchanges recorded", .min = 1, .max = PP_CLIENT_COUNT_MAX, .unit = "exchanges" },
	{ "warmup", 'w', PP_OPT_UINT, PP_OPT_AT(cfg_t, warmup), .metavar = "N",
	  .help = "unrecorded exchanges first", .max = PP_CLIENT_WARMUP_MAX, .unit = "exchanges" },
	{ "interval", 'i', PP_OPT_UINT, PP_OPT_AT(cfg_t, interval_us), .metavar = "USEC",
	  .help = "start-to-start gap, 0 = back to back", .max = PP_CLIENT_INTERVAL_MAX_US,
	  .unit = "microseconds" },
	{ "spin", 0, PP_OPT_FLAG, PP_OPT_AT(cfg_t, spin),
	  .help = "wait for each pong by polling the socket instead of asleep in recv: no wake-up "
		  "in the round trip, one CPU kept busy" },
	{ "output", 'o', PP_OPT_STRING, PP_OPT_AT(cfg_t, output), .metavar = "FILE", .nonempty = "",
	  .help = "one row per exchange, CSV" },
	{ "summary-json", 'j', PP_OPT_STRING, PP_OPT_AT(cfg_t, summary_json), .metavar = "FILE",
	  .nonempty = "", .help = "the summary as JSON too", .def = "none" },
	{ "no-trace", 0, PP_OPT_FLAG, PP_OPT_AT(cfg_t, no_trace),
	  .help = "no kernel points, no capture, no agent: rtt_app only" },
	{ "no-capture", 0, PP_OPT_FLAG, PP_OPT_AT(cfg_t, no_capture),
	  .help = "no libpcap capture: no wire columns" },
	{ "iface", 0, PP_OPT_CUSTOM, PP_OPT_AT(cfg_t, iface), .metavar = "IF", .parse = take_iface,
	  .help = "capture on IF", .def = "the one routing to HOST" },
	{ "no-agent", 0, PP_OPT_FLAG, PP_OPT_AT(cfg_t, no_agent),
	  .help = "do not fetch the server's events (no server columns)" },
	{ "control-port", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, control_port), .metavar = "PORT",
	  .help = "the agent's control port on HOST", .min = 1, .max = 65535, .def = "PORT + 1" },
	{ "perf-pages", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, perf_pages), .metavar = "N", .pow2 = true,
	  .help = "perf buffer pages per CPU, a power of 2", .min = 1,
	  .max = PP_CLIENT_PERF_PAGES_MAX, .unit = "pages" },
	PP_TRACE_OPT_ROWS(cfg_t, syscall_points, tcp_point, sched, probe_cost),
	{ "max-events", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, max_events), .metavar = "N",
	  .help = "events held in memory waiting for their match (80 B each); past it (an agent "
		  "that fell that far behind) they are matched early and counted", .min = 1,
	  .max = PP_CLIENT_MAX_EVENTS_MAX, .unit = "events" },
	{ "report", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, report_s), .metavar = "SEC",
	  .help = "while the run goes, a line every SEC seconds: exchanges, matched, p50/p99 of "
		  "rtt and of each part in that period", .min = 1, .max = 3600, .unit = "seconds",
	  .def = "none" },
	{ "events-out", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, events_out), .metavar = "FILE",
	  .nonempty = "", .help = "this host's raw events (pingpong-analyze input)" },
	{ "pcap-out", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, pcap_out), .metavar = "FILE",
	  .nonempty = "", .help = "this host's capture, pcap with ns time stamps" },
	PP_OPT_VERBOSE(cfg_t, verbosity, "event counts, capture clock; twice: libbpf debug"),
	{ "user", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, user), .metavar = "NAME", .nonempty = "",
	  .help = "as root: become NAME once trace and capture are up; outputs are still created "
		  "where asked, by a root helper that only creates and renames them" },
	PP_OPT_KEEP_ROOT(cfg_t, keep_root),
	{ 0 },
};

/* Where parsing starts; --help shows these as the defaults. */
static const cfg_t defaults = {
	.size = PP_CLIENT_DEFAULT_SIZE,
	.count = PP_CLIENT_DEFAULT_COUNT,
	.warmup = PP_CLIENT_DEFAULT_WARMUP,
	.output = PP_CLIENT_DEFAULT_OUTPUT,
	.max_events = PP_CLIENT_DEFAULT_MAX_EVENTS,
	.perf_pages = PP_CLIENT_DEFAULT_PERF_PAGES,
	.user = "nobody",
};

const struct pp_opts_spec pp_client_opts_spec = {
	PP_OPTS_TABLE(options, defaults),
	.usage = "Usage: pingpong-client --addr HOST --port PORT [options]\n"
		 "Measures TCP round trips to a pingpong-server (a message out, as much back)\n"
		 "and, as root, splits each into client stack, network, server stack, server app.\n",
	.epilog = "Kernel points and capture need root (CAP_BPF, CAP_PERFMON, CAP_NET_RAW); without\n"
		  "them the client says so once and measures rtt_app only. The summary (percentiles\n"
		  "in microseconds) goes to stdout. Exit: 0 done, 1 runtime failure, 2 bad usage.\n",
};

/* Options that ask for something another one turns off, and outputs that would overwrite
 * each other: refused, rather than one of them silently winning. */
static int check_combination(struct pp_client_opts *o, struct pp_err *err)
{
	const char *const names[] = { "--output", "--summary-json", "--events-out", "--pcap-out" };
	const char *const paths[] = { o->output, o->summary_json, o->events_out, o->pcap_out };
	const char *needs_trace = o->events_out ? "--events-out" : o->pcap_out ? "--pcap-out" :
				  o->iface ? "--iface" : o->tcp_point ? "--tcp-point" :
				  o->sched ? "--sched" : o->probe_cost ? "--probe-cost" : NULL;
	const char *needs_capture = o->pcap_out ? "--pcap-out" : o->iface ? "--iface" : NULL;

	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++)
			if (paths[i] && paths[j] && strcmp(paths[i], paths[j]) == 0)
				return pp_err_set(err, -EINVAL, "%s and %s must be different files",
						  names[i], names[j]);
	if (o->no_trace && needs_trace)
		return pp_err_set(err, -EINVAL, "%s needs tracing: drop --no-trace", needs_trace);
	if (o->no_capture && needs_capture)
		return pp_err_set(err, -EINVAL, "%s needs the capture: drop --no-capture",
				  needs_capture);
	if (o->no_agent && o->control_port)
		return pp_err_set(err, -EINVAL, "--control-port and --no-agent contradict each other");
	if (!o->control_port && o->port < 65535)
		o->control_port = (uint16_t)(o->port + 1);
	return PP_OPTS_OK;
}

int pp_client_opts_parse(int argc, char **argv, struct pp_client_opts *o, struct pp_err *err)
{
	int rc = pp_opts_parse(&pp_client_opts_spec, argc, argv, o, NULL, err);

	return rc == PP_OPTS_OK ? check_combination(o, err) : rc;
}
