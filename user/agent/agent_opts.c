// SPDX-License-Identifier: MIT
/* pingpong-ebpf's options: one table (common/opts.h) gives the parsing, the bounds and the
 * --help text; the repeatable --port and the fractional --duration parse themselves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_opts.h"
#include "collect/trace.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define MAX_DURATION_S (365.0 * 86400)

typedef struct pp_agent_opts cfg_t;

int pp_port_in_args(char *const *argv, __u16 *port)
{
	uint64_t v;
	int i;

	*port = 0;
	for (i = 0; argv[i]; i++) {
		const char *val = NULL;

		if (strcmp(argv[i], "--port") == 0 && argv[i + 1])
			val = argv[i + 1];
		else if (strncmp(argv[i], "--port=", 7) == 0)
			val = argv[i] + 7;
		if (!val)
			continue;
		if (pp_parse_u64(val, 1, 65535, &v) < 0)
			return -EINVAL;
		*port = (__u16)v;
	}
	return 0;
}

static int take_port(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		     void *cfg, struct pp_err *err)
{
	cfg_t *o = cfg;
	uint64_t v;
	int rc;

	if ((rc = pp_opt_number(spec, opt, arg, &v, err)) < 0)
		return rc;
	if (o->n_ports == PP_MAX_PORTS)
		return pp_err_set(err, -EINVAL, "--port given more than %d times", PP_MAX_PORTS);
	o->ports[o->n_ports++] = (__u16)v;
	return 0;
}

static int take_duration(const struct pp_opts_spec *spec, const struct pp_opt *opt,
			 const char *arg, void *cfg, struct pp_err *err)
{
	cfg_t *o = cfg;
	char *end;

	errno = 0;
	o->duration_s = strtod(arg, &end);
	if (errno || end == arg || *end || !(o->duration_s > 0 && o->duration_s <= MAX_DURATION_S))
		return pp_opt_bad_value(spec, opt, opt->range, arg, err);
	return 0;
}

static const struct pp_opt options[] = {
	{ "port", 'p', PP_OPT_CUSTOM, PP_OPT_AT(cfg_t, ports), .metavar = "PORT",
	  .parse = take_port, .min = 1, .max = 65535,
	  .help = "TCP port to trace (either end), repeatable (max " STR(PP_MAX_PORTS) ")",
	  .def = "the --port N in CMD's arguments, or the ports PID listens on" },
	{ "pid", 'P', PP_OPT_UINT, PP_OPT_AT(cfg_t, pid), .metavar = "PID", .min = 1,
	  .max = 4194304, .range = "a process id 1..4194304", .no_default = true,
	  .help = "trace this process instead of starting CMD" },
	{ "output", 'o', PP_OPT_STRING, PP_OPT_AT(cfg_t, output), .metavar = "FILE",
	  .nonempty = "a file name",
	  .help = "write the raw events as CSV at exit (events.csv format); with --peer, the "
		  "results (one row per request)" },
	{ "peer", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, peer), .metavar = "ADDR[:PORT]",
	  .nonempty = "an address",
	  .help = "measure the service at ADDR from this client host: follow the agent on ADDR's "
		  "control port PORT (default: --port + 1) during the run, split every request of "
		  "CMD's connections to ADDR:--port, write --output as results.csv and print the "
		  "summary ([V6ADDR]:PORT for IPv6)" },
	{ "summary-json", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, summary_json), .metavar = "FILE",
	  .nonempty = "a file name", .help = "with --peer: also the summary as JSON" },
	{ "plot", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, plot_dir), .metavar = "DIR",
	  .nonempty = "a directory",
	  .help = "with --peer: latency_cdf.png and latency_split.png in DIR (needs gnuplot)" },
	{ "duration", 'd', PP_OPT_CUSTOM, PP_OPT_AT(cfg_t, duration_s), .metavar = "SEC",
	  .parse = take_duration, .range = "0 < SEC <= 31536000 seconds",
	  .help = "stop after SEC seconds (CMD gets SIGTERM)",
	  .def = "until CMD or PID exits, or SIGINT/SIGTERM" },
	{ "perf-pages", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, perf_pages), .metavar = "N", .pow2 = true,
	  .min = 1, .max = 65536, .unit = "pages", .help = "perf buffer pages per CPU, a power of 2",
	  .def = STR(PP_TRACE_DEFAULT_PAGES) " pages of 4 KiB (1024 with --peer)" },
	{ "max-events", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, max_events), .metavar = "N", .min = 1,
	  .max = 1000000000, .help = "events kept in memory, more are counted as dropped" },
	{ "keep-acks", 0, PP_OPT_FLAG, PP_OPT_AT(cfg_t, keep_acks),
	  .help = "also record segments without payload (pure ACKs)" },
	{ "btf", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, btf_path), .metavar = "FILE",
	  .help = "kernel BTF, for kernels without /sys/kernel/btf/vmlinux" },
	PP_TRACE_OPT_ROWS(cfg_t, syscall_points, tcp_point, sched, probe_cost),
	{ "control-port", 0, PP_OPT_UINT, PP_OPT_AT(cfg_t, control_port), .metavar = "N",
	  .max = 65535, .help = "serve the events to clients on this TCP port; 0 = no control channel",
	  .def = "the first traced port + 1" },
	{ "control-bind", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, control_bind), .metavar = "A",
	  .nonempty = "a numeric address",
	  .help = "numeric address the control port listens on", .def = "all" },
	{ "no-capture", 0, PP_OPT_FLAG, PP_OPT_AT(cfg_t, no_capture),
	  .help = "no libpcap wire capture (no wire_tx / wire_rx points)" },
	{ "iface", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, iface), .metavar = "IF",
	  .help = "capture on IF only", .def = "every interface, \"any\"" },
	{ "pcap-out", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, pcap_out), .metavar = "FILE",
	  .nonempty = "a file name", .help = "also save the captured frames (pcap, for Wireshark)" },
	{ "tstamp-type", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, tstamp_type), .metavar = "T",
	  .help = "pcap time stamp type, e.g. adapter", .def = "the host's clock" },
	{ "user", 0, PP_OPT_STRING, PP_OPT_AT(cfg_t, user), .metavar = "NAME",
	  .nonempty = "a user name",
	  .help = "become NAME once BPF, capture and control port are set up (keeps only CAP_KILL "
		  "to stop CMD, which runs as root; --output goes through a root helper that only "
		  "renames it)" },
	PP_OPT_KEEP_ROOT(cfg_t, keep_root),
	PP_OPT_VERBOSE(cfg_t, verbosity, "libbpf's messages (twice: debug)"),
	{ 0 },
};

/* Where parsing starts; --help shows these as the defaults. */
static const cfg_t defaults = {
	.max_events = PP_AGENT_DEFAULT_MAX_EVENTS,
	.control_port = -1,
	.user = "nobody",
};

const struct pp_opts_spec pp_agent_opts_spec = {
	PP_OPTS_TABLE(options, defaults),
	.usage = "Usage: pingpong-ebpf [OPTIONS] -- CMD [ARGS...]   trace CMD (and its children) from its start\n"
		 "       pingpong-ebpf [OPTIONS] --pid PID          trace a running process (and new children)\n"
		 "       pingpong-ebpf [OPTIONS] --port PORT        trace whoever listens on PORT\n"
		 "       pingpong-ebpf --peer ADDR --port PORT --output results.csv -- CMD [ARGS...]\n"
		 "                                   measure a service at ADDR from its client CMD\n"
		 "Records the kernel's view (send, xmit, rx, tcp, recv points) of TCP traffic on the ports,\n"
		 "in this network namespace, for the traced processes. Needs root (or CAP_BPF+CAP_PERFMON).\n",
	.epilog = "Exit status: CMD's (128+N if killed by signal N); 0 otherwise; 1 on failure; 2 on "
		  "bad usage.\n",
	.stop_at_operand = true, /* CMD's own options are not ours */
	.quote_got = true,
};

int pp_agent_parse(int argc, char **argv, struct pp_agent_opts *o, struct pp_err *err)
{
	int rc, first;

	if ((rc = pp_opts_parse(&pp_agent_opts_spec, argc, argv, o, &first, err)) != PP_OPTS_OK)
		return rc;
	if (first < argc)
		o->cmd = &argv[first];
	if (o->iface && (!*o->iface || strlen(o->iface) >= 16))
		return pp_err_set(err, -EINVAL, "--iface must be an interface name (got '%s')",
				  o->iface);
	if (o->cmd && o->pid)
		return pp_err_set(err, -EINVAL, "give either --pid or a command to start, not both");
	if (!o->cmd && !o->pid && !o->n_ports)
		return pp_err_set(err, -EINVAL,
				  "nothing to trace: give -- CMD, --pid PID or --port PORT");
	if (o->no_capture && (o->iface || o->pcap_out || o->tstamp_type))
		return pp_err_set(err, -EINVAL, "--iface, --pcap-out and --tstamp-type need the "
				  "capture (drop --no-capture)");
	if (!o->peer && (o->summary_json || o->plot_dir))
		return pp_err_set(err, -EINVAL, "--summary-json and --plot go with --peer");
	if (o->peer && !o->output)
		return pp_err_set(err, -EINVAL, "--peer needs --output FILE (the results CSV)");
	if (o->peer && o->n_ports > 1)
		return pp_err_set(err, -EINVAL, "--peer takes one --port: the service's");
	if (o->peer && o->pcap_out)
		return pp_err_set(err, -EINVAL, "--pcap-out is the agent's: not with --peer");
	return PP_OPTS_OK;
}
