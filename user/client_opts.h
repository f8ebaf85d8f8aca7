/* pingpong-client's command line: defaults, bounds, and the one-line reason for a bad value. */
#ifndef PP_CLIENT_OPTS_H
#define PP_CLIENT_OPTS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "cli.h"

#define PP_CLIENT_DEFAULT_SIZE     1024
#define PP_CLIENT_DEFAULT_COUNT    10000
#define PP_CLIENT_DEFAULT_WARMUP   100
#define PP_CLIENT_DEFAULT_OUTPUT   "results.csv"
#define PP_CLIENT_COUNT_MAX        100000000ULL /* 800 MB of samples; more is a typo */
#define PP_CLIENT_WARMUP_MAX       1000000ULL
#define PP_CLIENT_INTERVAL_MAX_US  10000000ULL  /* 10 s; the server drops idle peers at 60 s */

struct pp_client_opts {
	const char *addr;          /* server: name, IPv4 or IPv6 */
	uint16_t port;
	uint32_t size;             /* bytes per message, both ways */
	uint64_t count;            /* recorded exchanges */
	uint64_t warmup;           /* exchanges before, not recorded */
	uint64_t interval_us;      /* start-to-start; 0 = back to back */
	const char *output;        /* results.csv */
	const char *summary_json;  /* NULL = none */
};


/* Parses argv (resets getopt first). Returns PP_OPTS_OK, PP_OPTS_HELP, or -EINVAL with a
 * one-line reason (no program name, no newline) in err. */
int pp_client_opts_parse(int argc, char **argv, struct pp_client_opts *o, char *err, size_t errlen);
void pp_client_usage(FILE *out);

#endif
