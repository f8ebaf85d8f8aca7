/* pingpong-client's options: getopt_long, each value checked against its bounds, every
 * rejection one line that names the option, its range and unit, and what was given. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "client_opts.h"
#include "handshake.h"

void pp_client_usage(FILE *out)
{
	fprintf(out,
"Usage: pingpong-client --addr HOST --port PORT [options]\n"
"Measures TCP round trips to a pingpong-server: one message out, the same size back.\n"
"\n"
"  -a, --addr HOST          server: name, IPv4 or IPv6 address (required)\n"
"  -p, --port PORT          server port, 1..65535 (required)\n"
"  -s, --size BYTES         message size, 1..%u (default %u)\n"
"  -c, --count N            exchanges recorded, 1..%llu (default %u)\n"
"  -w, --warmup N           exchanges before, not recorded, 0..%llu (default %u)\n"
"  -i, --interval USEC      start-to-start gap in microseconds, 0 = back to back,\n"
"                           at most %llu (default 0)\n"
"  -o, --output FILE        one row per exchange, CSV (default %s)\n"
"  -j, --summary-json FILE  the summary as JSON too (default: none)\n"
"  -h, --help               this text\n"
"\n"
"The summary (percentiles in microseconds) goes to stdout. Exit status: 0 done,\n"
"1 runtime failure (unknown host, no server, server gone), 2 bad usage.\n",
		PP_MSG_SIZE_MAX, PP_CLIENT_DEFAULT_SIZE,
		(unsigned long long)PP_CLIENT_COUNT_MAX, PP_CLIENT_DEFAULT_COUNT,
		(unsigned long long)PP_CLIENT_WARMUP_MAX, PP_CLIENT_DEFAULT_WARMUP,
		(unsigned long long)PP_CLIENT_INTERVAL_MAX_US, PP_CLIENT_DEFAULT_OUTPUT);
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

int pp_client_opts_parse(int argc, char **argv, struct pp_client_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "summary-json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shortopts = ":a:p:s:c:w:i:o:j:h";
	bool have_port = false;
	uint64_t value;
	int c, rc = 0;

	*o = (struct pp_client_opts){
		.size = PP_CLIENT_DEFAULT_SIZE,
		.count = PP_CLIENT_DEFAULT_COUNT,
		.warmup = PP_CLIENT_DEFAULT_WARMUP,
		.output = PP_CLIENT_DEFAULT_OUTPUT,
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
	if (o->summary_json && strcmp(o->summary_json, o->output) == 0) {
		snprintf(err, errlen, "--summary-json and --output must be different files");
		return -EINVAL;
	}
	return PP_OPTS_OK;
}
