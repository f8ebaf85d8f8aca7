/* pingpong-ebpf's options: getopt_long into struct pp_agent_opts, every value range-checked. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_opts.h"
#include "common/cli.h"
#include "collect/trace.h"

#define MAX_DURATION_S (365.0 * 86400)
#define MAX_PERF_PAGES 65536

void pp_agent_usage(FILE *f)
{
	fprintf(f,
"Usage: pingpong-ebpf [OPTIONS] -- CMD [ARGS...]   trace CMD (and its children) from its start\n"
"       pingpong-ebpf [OPTIONS] --pid PID          trace a running process (and new children)\n"
"       pingpong-ebpf [OPTIONS] --port PORT        trace whoever listens on PORT\n"
"Records the kernel's view (send, xmit, rx, tcp, recv points) of TCP traffic on the ports,\n"
"in this network namespace, for the traced processes. Needs root (or CAP_BPF+CAP_PERFMON).\n"
"  -p, --port PORT       TCP port to trace (either end), repeatable (max %d); default: the\n"
"                        --port N in CMD's arguments, or the ports PID listens on\n"
"  -P, --pid PID         trace this process instead of starting CMD\n"
"  -o, --output FILE     write the raw events as CSV at exit (events.csv format)\n"
"  -d, --duration SEC    stop after SEC seconds (CMD gets SIGTERM); default: until CMD or\n"
"                        PID exits, or SIGINT/SIGTERM\n"
"      --perf-pages N    perf buffer pages per CPU, a power of 2 (default %d = %d KiB)\n"
"      --max-events N    events kept in memory, more are counted as dropped (default %d)\n"
"      --keep-acks       also record segments without payload (pure ACKs)\n"
"      --btf FILE        kernel BTF, for kernels without /sys/kernel/btf/vmlinux\n"
"      --control-port N  serve the events to clients on this TCP port (default: the first\n"
"                        traced port + 1; 0 = no control channel)\n"
"      --control-bind A  numeric address the control port listens on (default: all)\n"
"      --no-capture      no libpcap wire capture (no wire_tx / wire_rx points)\n"
"      --iface IF        capture on IF only (default: every interface, \"any\")\n"
"      --pcap-out FILE   also save the captured frames (pcap, for Wireshark)\n"
"      --tstamp-type T   pcap time stamp type, e.g. adapter (default: the host's clock)\n"
"      --user NAME       become NAME once BPF, capture and control port are set up\n"
"                        (default nobody; keeps only CAP_KILL to stop CMD, which runs as\n"
"                        root; --output goes through a root helper that only renames it)\n"
"      --keep-root       stay root throughout\n"
"  -v, --verbose         libbpf's messages (twice: debug)\n"
"  -h, --help            this help\n"
"Exit status: CMD's (128+N if killed by signal N); 0 otherwise; 1 on failure; 2 on bad usage.\n",
		PP_MAX_PORTS, PP_TRACE_DEFAULT_PAGES, PP_TRACE_DEFAULT_PAGES * 4,
		PP_AGENT_DEFAULT_MAX_EVENTS);
}

__attribute__((format(printf, 3, 4)))
static int bad(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

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

enum { OPT_PERF_PAGES = 256, OPT_MAX_EVENTS, OPT_KEEP_ACKS, OPT_BTF, OPT_CONTROL_PORT,
       OPT_CONTROL_BIND, OPT_NO_CAPTURE, OPT_IFACE, OPT_PCAP_OUT, OPT_TSTAMP_TYPE,
       OPT_USER, OPT_KEEP_ROOT };

static const struct option long_options[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "pid", required_argument, NULL, 'P' },
	{ "output", required_argument, NULL, 'o' },
	{ "duration", required_argument, NULL, 'd' },
	{ "perf-pages", required_argument, NULL, OPT_PERF_PAGES },
	{ "max-events", required_argument, NULL, OPT_MAX_EVENTS },
	{ "keep-acks", no_argument, NULL, OPT_KEEP_ACKS },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "control-port", required_argument, NULL, OPT_CONTROL_PORT },
	{ "control-bind", required_argument, NULL, OPT_CONTROL_BIND },
	{ "no-capture", no_argument, NULL, OPT_NO_CAPTURE },
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "pcap-out", required_argument, NULL, OPT_PCAP_OUT },
	{ "tstamp-type", required_argument, NULL, OPT_TSTAMP_TYPE },
	{ "user", required_argument, NULL, OPT_USER },
	{ "keep-root", no_argument, NULL, OPT_KEEP_ROOT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_one(int opt, const char *arg, struct pp_agent_opts *o, char *msg, size_t msglen)
{
	uint64_t v;
	char *end;

	switch (opt) {
	case 'p':
		if (pp_parse_u64(arg, 1, 65535, &v) < 0)
			return bad(msg, msglen, "--port must be 1..65535 (got '%s')", arg);
		if (o->n_ports == PP_MAX_PORTS)
			return bad(msg, msglen, "--port given more than %d times", PP_MAX_PORTS);
		o->ports[o->n_ports++] = (__u16)v;
		return 0;
	case 'P':
		if (pp_parse_u64(arg, 1, 4194304, &v) < 0)
			return bad(msg, msglen, "--pid must be a process id 1..4194304 (got '%s')", arg);
		o->pid = (pid_t)v;
		return 0;
	case 'o':
		if (!*arg)
			return bad(msg, msglen, "--output needs a file name");
		o->output = arg;
		return 0;
	case 'd':
		errno = 0;
		o->duration_s = strtod(arg, &end);
		if (errno || end == arg || *end || !(o->duration_s > 0 && o->duration_s <= MAX_DURATION_S))
			return bad(msg, msglen, "--duration must be 0 < SEC <= %.0f seconds (got '%s')",
				   MAX_DURATION_S, arg);
		return 0;
	case OPT_PERF_PAGES:
		if (pp_parse_u64(arg, 1, MAX_PERF_PAGES, &v) < 0 || (v & (v - 1)))
			return bad(msg, msglen, "--perf-pages must be a power of 2, 1..%d pages (got '%s')",
				   MAX_PERF_PAGES, arg);
		o->perf_pages = v;
		return 0;
	case OPT_MAX_EVENTS:
		if (pp_parse_u64(arg, 1, 1000000000, &v) < 0)
			return bad(msg, msglen, "--max-events must be 1..1000000000 (got '%s')", arg);
		o->max_events = v;
		return 0;
	case OPT_KEEP_ACKS:
		o->keep_acks = true;
		return 0;
	case OPT_BTF:
		o->btf_path = arg;
		return 0;
	case OPT_CONTROL_PORT:
		if (pp_parse_u64(arg, 0, 65535, &v) < 0)
			return bad(msg, msglen, "--control-port must be 0..65535 (got '%s')", arg);
		o->control_port = (int)v;
		return 0;
	case OPT_CONTROL_BIND:
		if (!*arg)
			return bad(msg, msglen, "--control-bind needs a numeric address");
		o->control_bind = arg;
		return 0;
	case OPT_NO_CAPTURE:
		o->no_capture = true;
		return 0;
	case OPT_IFACE:
		if (!*arg || strlen(arg) >= 16)
			return bad(msg, msglen, "--iface must be an interface name (got '%s')", arg);
		o->iface = arg;
		return 0;
	case OPT_PCAP_OUT:
		if (!*arg)
			return bad(msg, msglen, "--pcap-out needs a file name");
		o->pcap_out = arg;
		return 0;
	case OPT_TSTAMP_TYPE:
		o->tstamp_type = arg;
		return 0;
	case OPT_USER:
		if (!*arg)
			return bad(msg, msglen, "--user needs a user name");
		o->user = arg;
		return 0;
	case OPT_KEEP_ROOT:
		o->keep_root = true;
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	default:
		return bad(msg, msglen, "unknown option (see --help)");
	}
}

int pp_agent_parse(int argc, char **argv, struct pp_agent_opts *o, char *msg, size_t msglen)
{
	int opt, err;

	memset(o, 0, sizeof(*o));
	o->max_events = PP_AGENT_DEFAULT_MAX_EVENTS;
	o->control_port = -1;
	o->user = "nobody";
	msg[0] = '\0';
	optind = 1;
	opterr = 0;
	/* '+': stop at CMD, whose own options are not ours */
	while ((opt = getopt_long(argc, argv, "+p:P:o:d:vh", long_options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return bad(msg, msglen, "unknown option or missing value: '%s' (see --help)",
				   argv[optind - 1]);
		if ((err = parse_one(opt, optarg, o, msg, msglen)) < 0)
			return err;
	}
	if (o->help)
		return 0;
	if (optind < argc)
		o->cmd = &argv[optind];
	if (o->cmd && o->pid)
		return bad(msg, msglen, "give either --pid or a command to start, not both");
	if (!o->cmd && !o->pid && !o->n_ports)
		return bad(msg, msglen, "nothing to trace: give -- CMD, --pid PID or --port PORT");
	if (o->no_capture && (o->iface || o->pcap_out || o->tstamp_type))
		return bad(msg, msglen, "--iface, --pcap-out and --tstamp-type need the capture (drop --no-capture)");
	return 0;
}
