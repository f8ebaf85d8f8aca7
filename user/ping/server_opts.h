// SPDX-License-Identifier: MIT
/* pingpong-server's command line: defaults, bounds, and the one-line reason for a bad value. */
#ifndef PP_SERVER_OPTS_H
#define PP_SERVER_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "common/opts.h"

#define PP_SERVER_DEFAULT_MAX_CLIENTS 64
#define PP_SERVER_MAX_CLIENTS_MAX     4096
#define PP_SERVER_REPLY_DELAY_MAX_US  1000000ULL /* 1 s; more would trip client timeouts */
#define PP_SERVER_DEFAULT_IDLE_S      60
#define PP_SERVER_IDLE_MAX_S          86400

struct pp_server_opts {
	uint16_t port;
	const char *bind;          /* NULL = every IPv4 and IPv6 address */
	uint64_t reply_delay_us;   /* wait between a ping's last byte and its pong */
	uint32_t max_clients;      /* connections served at once */
	uint32_t idle_timeout_s;   /* a client that completes no message this long is dropped */
	bool spin;                 /* --spin: poll for each ping instead of sleeping in recv */
	bool verbose;              /* one line per connection on stderr */
};

/* Parses argv (resets getopt first). Returns PP_OPTS_OK, PP_OPTS_HELP, or -EINVAL with a
 * one-line reason (no program name, no newline) in err. */
int pp_server_opts_parse(int argc, char **argv, struct pp_server_opts *o, struct pp_err *err);
/* The table: pp_opts_usage(&pp_server_opts_spec, stdout) is the --help text. */
extern const struct pp_opts_spec pp_server_opts_spec;

#endif
