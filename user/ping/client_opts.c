/* pingpong-client's options: getopt_long, each value checked against its bounds, every
 * rejection one line that names the option, its range and unit, and what was given. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ping/client_opts.h"
#include "ping/handshake.h"
#include "collect/trace.h"

void pp_client_usage(FILE *out)
{
	fprintf(out,
"Usage: pingpong-client --addr HOST --port PORT [options]\n"
"Measures TCP round trips to a pingpong-server (a message out, as much back)\n"
"and, as root, splits each into client stack, network, server stack, server app.\n"
"\n"
"  -a, --addr HOST          server: name, IPv4 or IPv6 address (required)\n"
"  -p, --port PORT          server port, 1..65535 (required)\n"
"  -s, --size BYTES         message size, 1..%u (default %u)\n"
"  -c, --count N            exchanges recorded, 1..%llu (default %u)\n"
"  -w, --warmup N           unrecorded exchanges first, 0..%llu (default %u)\n"
"  -i, --interval USEC      start-to-start gap in microseconds, 0 = back to back,\n"
"                           at most %llu (default 0)\n"
"      --spin               wait for each pong by polling the socket instead of asleep\n"
"                           in recv: no wake-up in the round trip, one CPU kept busy\n"
"  -o, --output FILE        one row per exchange, CSV (default %s)\n"
"  -j, --summary-json FILE  the summary as JSON too (default: none)\n"
"      --no-trace           no kernel points, no capture, no agent: rtt_app only\n"
"      --no-capture         no libpcap capture: no wire columns\n"
"      --iface IF           capture on IF (default: the one routing to HOST)\n"
"      --no-agent           do not fetch the server's events (no server columns)\n"
"      --control-port PORT  the agent's control port on HOST (default PORT + 1)\n"
"      --perf-pages N       perf buffer pages per CPU, a power of 2 up to %d\n"
"                           (default %d = %d KiB)\n"
"      --max-events N       this host's events kept in memory (80 B each),\n"
"                           1..%llu (default %llu); more are counted\n"
"      --events-out FILE    this host's raw events (pingpong-analyze input)\n"
"      --pcap-out FILE      this host's capture, pcap with ns time stamps\n"
"      --user NAME          as root: become NAME once trace and capture are up (default\n"
"                           nobody); outputs are still created where asked, by a root\n"
"                           helper that only creates and renames them\n"
"      --keep-root          stay root throughout\n"
"  -v, --verbose            event counts, capture clock; twice: libbpf debug\n"
"  -h, --help               this text\n"
"\n"
"Kernel points and capture need root (CAP_BPF, CAP_PERFMON, CAP_NET_RAW); without\n"
"them the client says so once and measures rtt_app only. The summary (percentiles\n"
"in microseconds) goes to stdout. Exit: 0 done, 1 runtime failure, 2 bad usage.\n",
		PP_MSG_SIZE_MAX, PP_CLIENT_DEFAULT_SIZE,
		(unsigned long long)PP_CLIENT_COUNT_MAX, PP_CLIENT_DEFAULT_COUNT,
		(unsigned long long)PP_CLIENT_WARMUP_MAX, PP_CLIENT_DEFAULT_WARMUP,
		(unsigned long long)PP_CLIENT_INTERVAL_MAX_US, PP_CLIENT_DEFAULT_OUTPUT,
		PP_CLIENT_PERF_PAGES_MAX, PP_TRACE_DEFAULT_PAGES, PP_TRACE_DEFAULT_PAGES * 4,
		(unsigned long long)PP_CLIENT_MAX_EVENTS_MAX,
		(unsigned long long)PP_CLIENT_DEFAULT_MAX_EVENTS);
}

static int text(const char *opt, const char *value, const char **out, char *err, size_t errlen)
{
	if (!*value) {
		snprintf(err, errlen, "%s must not be empty", opt);
		return -EINVAL;
	}
	*out = value;
	return 0;
}

/* Options that ask for something another one turns off, and outputs that would overwrite
 * each other: refused, rather than one of them silently winning. */
static int check_combination(struct pp_client_opts *o, char *err, size_t errlen)
{
	const char *const names[] = { "--output", "--summary-json", "--events-out", "--pcap-out" };
	const char *const paths[] = { o->output, o->summary_json, o->events_out, o->pcap_out };
	const char *needs_trace = o->events_out ? "--events-out" : o->pcap_out ? "--pcap-out" :
				  o->iface ? "--iface" : NULL;
	const char *needs_capture = o->pcap_out ? "--pcap-out" : o->iface ? "--iface" : NULL;

	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++)
			if (paths[i] && paths[j] && strcmp(paths[i], paths[j]) == 0) {
				snprintf(err, errlen, "%s and %s must be different files", names[i],
					 names[j]);
				return -EINVAL;
			}
	if (o->no_trace && needs_trace) {
		snprintf(err, errlen, "%s needs tracing: drop --no-trace", needs_trace);
		return -EINVAL;
	}
	if (o->no_capture && needs_capture) {
		snprintf(err, errlen, "%s needs the capture: drop --no-capture", needs_capture);
		return -EINVAL;
	}
	if (o->no_agent && o->control_port) {
		snprintf(err, errlen, "--control-port and --no-agent contradict each other");
		return -EINVAL;
	}
	if (!o->control_port && o->port < 65535)
		o->control_port = (uint16_t)(o->port + 1);
	return PP_OPTS_OK;
}

int pp_client_opts_parse(int argc, char **argv, struct pp_client_opts *o, char *err, size_t errlen)
{
	enum {
		OPT_NO_TRACE = 256, OPT_SPIN, OPT_NO_CAPTURE, OPT_IFACE, OPT_NO_AGENT, OPT_CONTROL_PORT,
		OPT_PERF_PAGES, OPT_MAX_EVENTS, OPT_EVENTS_OUT, OPT_PCAP_OUT, OPT_USER, OPT_KEEP_ROOT,
	};
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "summary-json", required_argument, NULL, 'j' },
		{ "no-trace", no_argument, NULL, OPT_NO_TRACE },
		{ "spin", no_argument, NULL, OPT_SPIN },
		{ "no-capture", no_argument, NULL, OPT_NO_CAPTURE },
		{ "iface", required_argument, NULL, OPT_IFACE },
		{ "no-agent", no_argument, NULL, OPT_NO_AGENT },
		{ "control-port", required_argument, NULL, OPT_CONTROL_PORT },
		{ "perf-pages", required_argument, NULL, OPT_PERF_PAGES },
		{ "max-events", required_argument, NULL, OPT_MAX_EVENTS },
		{ "events-out", required_argument, NULL, OPT_EVENTS_OUT },
		{ "pcap-out", required_argument, NULL, OPT_PCAP_OUT },
		{ "user", required_argument, NULL, OPT_USER },
		{ "keep-root", no_argument, NULL, OPT_KEEP_ROOT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shortopts = ":a:p:s:c:w:i:o:j:vh";
	bool have_port = false;
	uint64_t value;
	int c, rc = 0;

	*o = (struct pp_client_opts){
		.size = PP_CLIENT_DEFAULT_SIZE,
		.count = PP_CLIENT_DEFAULT_COUNT,
		.warmup = PP_CLIENT_DEFAULT_WARMUP,
		.output = PP_CLIENT_DEFAULT_OUTPUT,
		.max_events = PP_CLIENT_DEFAULT_MAX_EVENTS,
		.user = "nobody",
	};
	err[0] = '\0';
	optind = 0; /* glibc: full reset, so tests may parse again */
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			rc = text("--addr", optarg, &o->addr, err, errlen);
			break;
		case 'p':
			rc = pp_cli_number("--port", optarg, 1, 65535, "", &value, err, errlen);
			o->port = (uint16_t)value;
			have_port = true;
			break;
		case 's':
			rc = pp_cli_number("--size", optarg, PP_MSG_SIZE_MIN, PP_MSG_SIZE_MAX,
					   "bytes", &value, err, errlen);
			o->size = (uint32_t)value;
			break;
		case 'c':
			rc = pp_cli_number("--count", optarg, 1, PP_CLIENT_COUNT_MAX, "exchanges",
					   &o->count, err, errlen);
			break;
		case 'w':
			rc = pp_cli_number("--warmup", optarg, 0, PP_CLIENT_WARMUP_MAX, "exchanges",
					   &o->warmup, err, errlen);
			break;
		case 'i':
			rc = pp_cli_number("--interval", optarg, 0, PP_CLIENT_INTERVAL_MAX_US,
					   "microseconds", &o->interval_us, err, errlen);
			break;
		case 'o':
			rc = text("--output", optarg, &o->output, err, errlen);
			break;
		case 'j':
			rc = text("--summary-json", optarg, &o->summary_json, err, errlen);
			break;
		case OPT_NO_TRACE:
			o->no_trace = true;
			break;
		case OPT_SPIN:
			o->spin = true;
			break;
		case OPT_NO_CAPTURE:
			o->no_capture = true;
			break;
		case OPT_IFACE:
			rc = text("--iface", optarg, &o->iface, err, errlen);
			if (!rc && strlen(optarg) >= IF_NAMESIZE) {
				snprintf(err, errlen, "--iface must be at most %d characters (got '%s')",
					 IF_NAMESIZE - 1, optarg);
				rc = -EINVAL;
			}
			break;
		case OPT_NO_AGENT:
			o->no_agent = true;
			break;
		case OPT_CONTROL_PORT:
			rc = pp_cli_number("--control-port", optarg, 1, 65535, "", &value, err, errlen);
			o->control_port = (uint16_t)value;
			break;
		case OPT_PERF_PAGES:
			rc = pp_cli_number("--perf-pages", optarg, 1, PP_CLIENT_PERF_PAGES_MAX, "pages",
					   &value, err, errlen);
			if (!rc && (value & (value - 1))) {
				snprintf(err, errlen, "--perf-pages must be a power of 2, 1..%d pages (got %s)",
					 PP_CLIENT_PERF_PAGES_MAX, optarg);
				rc = -EINVAL;
			}
			o->perf_pages = (size_t)value;
			break;
		case OPT_MAX_EVENTS:
			rc = pp_cli_number("--max-events", optarg, 1, PP_CLIENT_MAX_EVENTS_MAX, "events",
					   &o->max_events, err, errlen);
			break;
		case OPT_EVENTS_OUT:
			rc = text("--events-out", optarg, &o->events_out, err, errlen);
			break;
		case OPT_PCAP_OUT:
			rc = text("--pcap-out", optarg, &o->pcap_out, err, errlen);
			break;
		case OPT_USER:
			rc = text("--user", optarg, &o->user, err, errlen);
			break;
		case OPT_KEEP_ROOT:
			o->keep_root = true;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'h':
			return PP_OPTS_HELP;
		default:
			pp_cli_bad_option(c, argv, err, errlen);
			return -EINVAL;
		}
	}
	if (rc)
		return rc;
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->addr) {
		snprintf(err, errlen, "--addr is required (the server's name or address)");
		return -EINVAL;
	}
	if (!have_port) {
		snprintf(err, errlen, "--port is required (the server's port)");
		return -EINVAL;
	}
	return check_combination(o, err, errlen);
}
