// SPDX-License-Identifier: MIT
/* pingpong-ebpf's command line: parsed into one struct, checked, with one-line reasons. */
#ifndef PP_AGENT_OPTS_H
#define PP_AGENT_OPTS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/opts.h"
#include "pingpong.h"

#define PP_AGENT_DEFAULT_MAX_EVENTS 2000000 /* 160 MB at most */

struct pp_agent_opts {
	char **cmd;           /* CMD ARGS (after "--"), NULL-terminated; NULL when none */
	pid_t pid;            /* --pid, or 0 */
	__u16 ports[PP_MAX_PORTS];
	size_t n_ports;       /* --port given (CMD's own --port is looked up later) */
	const char *output;   /* --output events.csv, or NULL */
	double duration_s;    /* --duration; 0 = until CMD/PID exits or a signal */
	size_t perf_pages;    /* --perf-pages per CPU; 0 = the collector's default */
	size_t max_events;    /* --max-events kept in memory */
	bool keep_acks;
	const char *btf_path;
	bool syscall_points;  /* --syscall-points: send/recv from the syscall tracepoints */
	bool tcp_point;       /* --tcp-point: also the tcp point (c_tcp_ns, s_tcp_ns) */
	bool sched;           /* --sched: the wake, idle and oncpu points, the stack's parts */
	bool probe_cost;      /* --probe-cost: BPF run-time statistics on, the cost reported */
	int control_port;     /* --control-port; -1 = the first traced port + 1; 0 = no channel */
	const char *control_bind; /* --control-bind numeric address; NULL = all */
	bool no_capture;      /* --no-capture: no wire_tx / wire_rx points */
	const char *iface;    /* --iface for the capture; NULL = every interface */
	const char *pcap_out; /* --pcap-out FILE */
	const char *tstamp_type; /* --tstamp-type NAME */
	const char *user;     /* --user to become once set up (default "nobody") */
	bool keep_root;       /* --keep-root: no privilege drop */
	int verbosity;
	/* --peer: measure a service from its client host (agent/peer_measure.h): --output is then
	 * results.csv, and these go with it */
	const char *peer;     /* --peer ADDR[:CONTROL_PORT] */
	const char *summary_json; /* --summary-json FILE */
	const char *plot_dir; /* --plot DIR */
};

/* PP_OPTS_OK, PP_OPTS_HELP, or -EINVAL with the reason in err (one line, without the program
 * name). */
int pp_agent_parse(int argc, char **argv, struct pp_agent_opts *o, struct pp_err *err);
/* The table: pp_opts_usage(&pp_agent_opts_spec, stdout) is the --help text. */
extern const struct pp_opts_spec pp_agent_opts_spec;

/* The port a command line asks its program to use: "--port N" or "--port=N". 0 = none,
 * -EINVAL when the value is not a port. */
int pp_port_in_args(char *const *argv, __u16 *port);

#endif
