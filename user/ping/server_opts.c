/* pingpong-server's options: getopt_long, each value checked against its bounds, every
 * rejection one line that names the option, its range and unit, and what was given. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "ping/handshake.h"
#include "ping/server_opts.h"

void pp_server_usage(FILE *out)
{
	fprintf(out,
"Usage: pingpong-server --port PORT [options]\n"
"Echoes every message of a pingpong-client back, one connection per client.\n"
"\n"
"  -p, --port PORT          port to listen on, 1..65535 (required)\n"
"  -b, --bind ADDR          listen on this address only (default: all IPv4 and IPv6)\n"
"  -d, --reply-delay USEC   wait this long before each pong, 0..%llu microseconds\n"
"                           (default 0; below 200 us busy-waits, above sleeps)\n"
"  -m, --max-clients N      connections served at once, 1..%u (default %u)\n"
"  -t, --idle-timeout SEC   drop a client that completes no message for this long,\n"
"                           1..%u seconds (default %u)\n"
"      --spin               wait for each ping by polling the socket instead of asleep\n"
"                           in recv: no wake-up in the round trip, a CPU per client\n"
"  -v, --verbose            one line per connection on stderr\n"
"  -h, --help               this text\n"
"\n"
"Messages are 1 B..%u B, fixed per connection by the client's handshake. No root needed.\n"
"Stops on SIGINT/SIGTERM. Exit status: 0 stopped, 1 cannot listen, 2 bad usage.\n",
		(unsigned long long)PP_SERVER_REPLY_DELAY_MAX_US, PP_SERVER_MAX_CLIENTS_MAX,
		PP_SERVER_DEFAULT_MAX_CLIENTS, PP_SERVER_IDLE_MAX_S, PP_SERVER_DEFAULT_IDLE_S,
		PP_MSG_SIZE_MAX);
}

int pp_server_opts_parse(int argc, char **argv, struct pp_server_opts *o, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "reply-delay", required_argument, NULL, 'd' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "idle-timeout", required_argument, NULL, 't' },
		{ "spin", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_port = false;
	uint64_t value;
	int c, rc = 0;

	*o = (struct pp_server_opts){ .max_clients = PP_SERVER_DEFAULT_MAX_CLIENTS,
				      .idle_timeout_s = PP_SERVER_DEFAULT_IDLE_S };
	err[0] = '\0';
	optind = 0; /* glibc: full reset, so tests may parse again */
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":p:b:d:m:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			rc = pp_cli_number("--port", optarg, 1, 65535, "", &value, err, errlen);
			o->port = (uint16_t)value;
			have_port = true;
			break;
		case 'b':
			if (!*optarg) {
				snprintf(err, errlen, "--bind must not be empty");
				return -EINVAL;
			}
			o->bind = optarg;
			break;
		case 'd':
			rc = pp_cli_number("--reply-delay", optarg, 0, PP_SERVER_REPLY_DELAY_MAX_US,
					   "microseconds", &o->reply_delay_us, err, errlen);
			break;
		case 'm':
			rc = pp_cli_number("--max-clients", optarg, 1, PP_SERVER_MAX_CLIENTS_MAX,
					   "connections", &value, err, errlen);
			o->max_clients = (uint32_t)value;
			break;
		case 't':
			rc = pp_cli_number("--idle-timeout", optarg, 1, PP_SERVER_IDLE_MAX_S,
					   "seconds", &value, err, errlen);
			o->idle_timeout_s = (uint32_t)value;
			break;
		case 'S':
			o->spin = true;
			break;
		case 'v':
			o->verbose = true;
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
	if (!have_port) {
		snprintf(err, errlen, "--port is required");
		return -EINVAL;
	}
	return PP_OPTS_OK;
}
