// SPDX-License-Identifier: MIT
/* pingpong-ebpf --peer: the client host's end of a service measurement, live. This host's
 * events (its tracer and capture) and the peer agent's events of every connection from this
 * host to the service (followed during the run: FETCH with FOLLOW and PP_FETCH_ALL_PORTS) go
 * into the turn correlator as they arrive; rows go to results.csv as they settle, so memory
 * follows the connections open, not the run's length.
 *
 *	pp_peer_open(&p, &opts, &err);                  // before CMD starts
 *	loop: poll pp_peer_fd(p) (if >= 0) with the rest; pp_peer_poll(p);
 *	      every local event: pp_peer_local_event(p, ev);
 *	run over (CMD exited, the local capture drained): pp_peer_finish(p, &local, abort);
 *	pp_peer_report(p, stdout);  pp_peer_plot(p);  pp_peer_free(p);
 *
 * No agent at the peer (refused, unreachable, another version): one line says so and the
 * rows hold this host's points only (the request-to-response time and this host's stack). */
#ifndef PP_PEER_MEASURE_H
#define PP_PEER_MEASURE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "pingpong.h"

/* How late an event of either host may come and still be put in its place: this host's
 * quiet CPUs' batches (sent up after PP_PEER_STALE_NS) and its capture's blocks, the agent's
 * flushes every 50 ms and its capture's blocks, and the trip here. */
#define PP_PEER_REORDER_NS  500000000ull
#define PP_PEER_STALE_NS    100000000ull
/* Events held per host for the reorder window: 2^21 (200 MB at most) covers 4 M events/s. */
#define PP_PEER_HOLD_MAX    (1u << 21)

/* Events read but not yet correlated, at most (88 B each: 185 MB); past it they are refused,
 * counted and reported. */
#define PP_PEER_HANDOFF_MAX (1u << 21)
/* Perf buffer pages per CPU by default (4 MiB): the loop that reads them also correlates. */
#define PP_PEER_PERF_PAGES  1024
/* ... and capture ring bytes (32 MiB: 104,020 of 290,000 frames were dropped with 4 MiB on
 * redis-benchmark -c 4 at full speed). */
#define PP_PEER_CAPTURE_BYTES (32 << 20)

struct pp_peer_opts {
	const char *peer;            /* "ADDR", "ADDR:PORT", "[V6ADDR]:PORT" or a host name */
	uint16_t default_control_port; /* when peer names none */
	uint16_t service_port;       /* the service's TCP port on the peer */
	const char *results;         /* results.csv path (required) */
	const char *summary_json;    /* or NULL */
	const char *plot_dir;        /* latency_cdf.png and latency_split.png there, or NULL */
	const char *what;            /* the summary's first line, e.g. CMD's name */
	bool verbose;                /* every connection's requests in the report */
};

/* What this host's own sources lost, for the summary. */
struct pp_peer_local {
	uint64_t lost_samples, pcap_drops;
	bool traced, capture;
	uint64_t run_start_ns, run_end_ns;
	const char *points;   /* where the send/recv points came from (trace.h pp_trace_points) */
	/* the probe's own cost on this host over the run (its BPF programs), when known */
	bool bpf_known;
	uint64_t bpf_run_ns, bpf_runs;
};

struct pp_peer;

/* Parses opts->peer ("ADDR" alone, "ADDR:PORT", "[ADDR]:PORT"). 0 or -EINVAL with the reason
 * in e (for a usage error, before anything starts). */
int pp_peer_parse(const char *peer, uint16_t default_port, char *addr, size_t addr_len,
		  uint16_t *port, struct pp_err *e);
/* Resolves the peer, opens results.csv, and follows the agent there (a missing agent is a
 * warning, not a failure). 0 or -errno with the reason in e. */
int pp_peer_open(struct pp_peer **out, const struct pp_peer_opts *opts, struct pp_err *e);
/* The peer agent's socket to poll for POLLIN, or -1 (none, or its stream is over). */
int pp_peer_fd(const struct pp_peer *p);
/* Reads what the agent sent, without blocking; notices an agent silent too long. */
void pp_peer_poll(struct pp_peer *p);
/* One event of this host (tracer or capture). */
void pp_peer_local_event(void *ctx, const struct pp_event *ev);
/* STOP to the agent, its last events up to END (bounded in time; abort ends the wait), every
 * connection ended and its rows written, results.csv published. 0 or -errno with the reason in
 * e (a failed write: results.csv is then not published). */
int pp_peer_finish(struct pp_peer *p, const struct pp_peer_local *local,
		   volatile sig_atomic_t *abort, struct pp_err *e);
/* The summary and the connections (text to out, JSON to opts->summary_json). 0 or -errno with
 * the reason in e. */
int pp_peer_report(struct pp_peer *p, FILE *out, struct pp_err *e);
/* opts->plot_dir's two pictures, drawn by pingpong-plot (beside this program) from a private
 * copy of results.csv. 0 or -errno with the reason in e. */
int pp_peer_plot(struct pp_peer *p, struct pp_err *e);
/* The paths this mode writes (results, JSON, the two plots): for the privilege drop's output
 * helper, before anything opens. Fills up to max; returns how many. */
size_t pp_peer_outputs(const struct pp_peer_opts *opts, const char **paths, char plot_paths[2][4096],
		       size_t max);
void pp_peer_free(struct pp_peer *p);

#endif
