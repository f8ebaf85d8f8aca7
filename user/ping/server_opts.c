// SPDX-License-Identifier: MIT
/* pingpong-server's options: one table (common/opts.h) gives the parsing, the bounds and the
 * --help text. */
#include "ping/handshake.h"
#include "ping/server_opts.h"


typedef struct pp_server_opts cfg_t;

static const struct pp_opt options[] = {
	{ "port", 'p', PP_OPT_UINT, PP_OPT_AT(cfg_t, port), .metavar = "PORT",
	  .help = "port to listen on", .min = 1, .max = 65535, .required = "" },
	{ "bind", 'b', PP_OPT_STRING, PP_OPT_AT(cfg_t, bind), .metavar = "ADDR", .nonempty = "",
	  .help = "listen on this address only", .def = "all IPv4 and IPv6 addresses" },
	{ "reply-delay", 'd', PP_OPT_UINT, PP_OPT_AT(cfg_t, reply_delay_us), .metavar = "USEC",
	  .help = "wait this long before each pong (below 200 us busy-waits, above sleeps)",
	  .max = PP_SERVER_REPLY_DELAY_MAX_US, .unit = "microseconds" },
	{ "max-clients", 'm', PP_OPT_UINT, PP_OPT_AT(cfg_t, max_clients), .metavar = "N",
	  .help = "connections served at once", .min = 1, .max = PP_SERVER_MAX_CLIENTS_MAX,
	  .unit = "connections" },
	{ "idle-timeout", 't', PP_OPT_UINT, PP_OPT_AT(cfg_t, idle_timeout_s), .metavar = "SEC",
	  .help = "drop a client that completes no message for this long", .min = 1,
	  .max = PP_SERVER_IDLE_MAX_S, .unit = "seconds" },
	{ "spin", 0, PP_OPT_FLAG, PP_OPT_AT(cfg_t, spin),
	  .help = "wait for each ping by polling the socket instead of asleep in recv: no "
		  "wake-up in the round trip, a CPU per client" },
	{ "verbose", 'v', PP_OPT_FLAG, PP_OPT_AT(cfg_t, verbose),
	  .help = "one line per connection on stderr" },
	{ 0 },
};

/* Where parsing starts; --help shows these as the defaults. */
static const cfg_t defaults = {
	.max_clients = PP_SERVER_DEFAULT_MAX_CLIENTS,
	.idle_timeout_s = PP_SERVER_DEFAULT_IDLE_S,
};

const struct pp_opts_spec pp_server_opts_spec = {
	PP_OPTS_TABLE(options, defaults),
	.usage = "Usage: pingpong-server --port PORT [options]\n"
		 "Echoes every message of a pingpong-client back, one connection per client.\n",
	.epilog = "Messages are 1 B..16 MiB, fixed per connection by the "
		  "client's handshake. No root needed.\n"
		  "Stops on SIGINT/SIGTERM. Exit status: 0 stopped, 1 cannot listen, 2 bad usage.\n",
};

int pp_server_opts_parse(int argc, char **argv, struct pp_server_opts *o, struct pp_err *err)
{
	return pp_opts_parse(&pp_server_opts_spec, argc, argv, o, NULL, err);
}
