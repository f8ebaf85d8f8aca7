// SPDX-License-Identifier: MIT
/* pingpong-client's command line: defaults, bounds, and the one-line reason for a bad value. */
#ifndef PP_CLIENT_OPTS_H
#define PP_CLIENT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "common/err.h"
#include "common/opts.h"

#define PP_CLIENT_DEFAULT_SIZE     1024
#define PP_CLIENT_DEFAULT_COUNT    10000
#define PP_CLIENT_DEFAULT_WARMUP   100
#define PP_CLIENT_DEFAULT_OUTPUT   "results.csv"
#define PP_CLIENT_COUNT_MAX        100000000ULL /* hours of exchanges; more is a typo */
#define PP_CLIENT_WARMUP_MAX       1000000ULL
#define PP_CLIENT_INTERVAL_MAX_US  10000000ULL  /* 10 s; the server drops idle peers at 60 s */
#define PP_CLIENT_PERF_PAGES_MAX   65536
/* 4 MiB per CPU, about 50,000 events: the reader also correlates and writes rows while the run
 * goes, and on a busy host it may wait its turn for a CPU a while; the kernel keeps the events
 * meanwhile (at full rate, about 300 ms of them). */
#define PP_CLIENT_DEFAULT_PERF_PAGES 1024
#define PP_CLIENT_DEFAULT_MAX_EVENTS 1000000ULL   /* 80 MB held at most: seconds of events */
#define PP_CLIENT_MAX_EVENTS_MAX   1000000000ULL /* fits the correlator's uint32 */

struct pp_client_opts {
	const char *addr;          /* server: name, IPv4 or IPv6 */
	uint16_t port;
	uint32_t size;             /* bytes per message, both ways */
	uint64_t count;            /* recorded exchanges */
	uint64_t warmup;           /* exchanges before, not recorded */
	uint64_t interval_us;      /* start-to-start; 0 = back to back */
	const char *output;        /* results.csv */
	const char *summary_json;  /* NULL = none */

	/* Tracing (issues 3-5): this host's kernel points, its wire, the agent's events. */
	bool spin;                 /* poll for each pong instead of sleeping in recv */
	bool no_trace;             /* only rtt_app: no BPF, no capture, no agent */
	bool no_capture;           /* no libpcap: no wire columns */
	bool no_agent;             /* do not ask the server's agent for its events */
	const char *iface;         /* capture interface; NULL = the one routing to the server */
	uint16_t control_port;     /* the agent's; 0 = port + 1 (none if port is 65535) */
	size_t perf_pages;         /* per CPU, a power of 2; 0 = the collector's default */
	bool syscall_points;       /* send/recv points from the syscall tracepoints */
	bool tcp_point;            /* --tcp-point: also the tcp point (c_tcp_ns) */
	bool sched;                /* --sched: the wake, idle and oncpu points, the stack's parts */
	bool probe_cost;           /* --probe-cost: BPF run-time statistics on, the cost reported */
	uint64_t max_events;       /* events held waiting for their match */
	uint64_t report_s;         /* --report: a line per period; 0 = none */
	const char *events_out;    /* this host's raw event log (eventlog.h); NULL = none */
	const char *pcap_out;      /* this host's capture (pcap); NULL = none */
	const char *user;          /* --user to become once traced (default "nobody") */
	bool keep_root;            /* --keep-root: no privilege drop */
	int verbosity;             /* -v: counts and libbpf's warnings; -vv: libbpf debug */
};


/* Parses argv (resets getopt first). Returns PP_OPTS_OK, PP_OPTS_HELP, or -EINVAL with a
 * one-line reason (no program name, no newline) in err. */
int pp_client_opts_parse(int argc, char **argv, struct pp_client_opts *o, struct pp_err *err);
/* The table: pp_opts_usage(&pp_client_opts_spec, stdout) is the --help text. */
extern const struct pp_opts_spec pp_client_opts_spec;

#endif
