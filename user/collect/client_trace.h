// SPDX-License-Identifier: MIT
/* The client host's side of a traced run, while it runs: its kernel points (trace.h) and its
 * wire capture (capture.h) for its own connection, and the agent's events of that connection
 * followed over the control channel (fetch.h), all read by one thread of their own while the
 * exchanges run and handed on at once, in arrival order, to the caller's on_event: nothing is
 * kept here, so memory does not grow with the run.
 *
 *	pp_client_trace_open(&ct, &opts, &err);              // before connect: sees the SYN
 *	connect ...
 *	pp_client_trace_filter(ct, &flow);                    // the kernel: this connection only
 *	pp_client_trace_add_capture(ct, &capture_opts, ...);  // optional, once the peer is known
 *	pp_client_trace_follow(ct, fetch, "198.18.0.2:12346"); // optional: the agent's stream
 *	pp_client_trace_start(ct, &flow);                     // the reader thread
 *	... warm-up, timed exchanges ...                      // on_event from the reader
 *	pp_client_trace_stop(ct, &err);                       // drain all, the agent's rest, END
 *	pp_client_trace_close(ct);
 *
 * The reader sleeps in poll() on the perf buffer (woken at a quarter full), the capture (a
 * batched ring, woken per block), the agent's socket and a stop descriptor, with a timeout; it
 * never spins and makes no system call per event. */
#ifndef PP_CLIENT_TRACE_H
#define PP_CLIENT_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collect/bpf_cost.h"
#include "collect/capture.h"
#include "collect/fetch.h"
#include "common/err.h"
#include "pingpong.h"
#include "model/proto.h"

#define PP_CLIENT_TRACE_POLL_MS   100 /* longest sleep of the reader: bounds a buffer's fill time */
#define PP_CLIENT_CAPTURE_BATCH_MS 100 /* frames wait in the capture ring up to this long */
/* A CPU's partial batch older than this is sent up while the run goes (trace.h): a quiet CPU
 * would otherwise keep its last events until the end, and their rows would go out without them. */
#define PP_CLIENT_STALE_BATCH_MS  100
/* An agent that sent nothing, not even its heartbeat (one a second), for this long is taken
 * for gone: while the run goes, and, shorter, while its last events are awaited after STOP
 * (it answers STOP at once, then sends without pause). */
#define PP_CLIENT_AGENT_SILENCE_MS 5000
#define PP_CLIENT_AGENT_FINAL_SILENCE_MS 2500

/* Where an event was taken. */
enum pp_origin { PP_FROM_CLIENT = 0, PP_FROM_AGENT = 1 };

/* ev of this connection from origin; ev NULL: origin's events are over (the client host's at
 * stop, the agent's at its END or when it failed: see the stats). Called from the reader thread
 * while it runs, then from the thread that calls stop. */
typedef void (*pp_origin_event_fn)(void *ctx, enum pp_origin origin, const struct pp_event *ev);

struct pp_client_trace_opts {
	uint16_t server_port;    /* the measured connection's server port */
	size_t perf_pages;       /* per CPU; 0 = the collector's default */
	int verbosity;           /* libbpf's messages: 0 none, 1 warnings, 2 debug */
	bool syscall_points;     /* send/recv from the syscall tracepoints (trace.h) */
	bool tcp_point;          /* also the tcp point, tcp:tcp_probe (trace.h) */
	bool sched;              /* also the wake, idle and oncpu points (trace.h) */
	bool probe_cost;         /* BPF run-time statistics on (trace.h) */
	const char *events_out;  /* NULL, or this host's events written there as they come (an
				  * event log, eventlog.h, in arrival order; published at stop) */
	pp_origin_event_fn on_event;
	void *ctx;
};

struct pp_client_trace_stats {
	uint64_t events;         /* this connection's, handed on */
	uint64_t foreign;        /* other connections to the same port: not handed on */
	uint64_t lost;           /* perf buffer samples the kernel dropped */
	uint64_t skipped;        /* tracepoint hits the kernel did not run us for (trace.h) */
	bool capture;            /* a capture ran */
	struct pp_capture_stats cap;
	struct pp_err events_out_err; /* events_out could not be written (code 0: it was) */
	/* the agent's stream (follow was called) */
	bool agent;
	uint64_t agent_events;   /* handed on */
	bool agent_complete;     /* its END arrived: agent_end holds its counts */
	struct pp_end_counts agent_end;
	struct pp_err agent_err; /* why it ended early, in words; code 0 = it did not */
	/* the probe's own cost on this host from start to stop (known: the kernel counted) */
	struct pp_bpf_cost cost;
	int cost_err;            /* why it is unknown (-errno: the statistics are off), or 0 */
};

struct pp_client_trace;

/* Loads and attaches the tracer for this process on server_port. 0 or -errno, with the
 * reason in e: -EPERM not root, -ENOENT no BTF or tracepoint, -ENOMEM. */
int pp_client_trace_open(struct pp_client_trace **out, const struct pp_client_trace_opts *o,
			 struct pp_err *e);

/* Opens the capture (before start). batch_ms 0 in copts is taken as
 * PP_CLIENT_CAPTURE_BATCH_MS: immediate mode wakes the reader per frame, which the bench
 * measured doubling a 64 B round trip. 0 or -errno with e filled. */
int pp_client_trace_add_capture(struct pp_client_trace *ct, const struct pp_capture_opts *copts,
				struct pp_err *e);

/* Before start: the agent's stream of this connection (pp_control_follow_open), read by the
 * reader too; ct owns f from now on. agent names it in messages ("198.18.0.2:12346"). */
void pp_client_trace_follow(struct pp_client_trace *ct, struct pp_fetch *f, const char *agent);

/* As soon as the connection is up (connect returned): the kernel side passes only flow's
 * events from now on (trace.h pp_trace_set_flow). start does it if not done. 0 or -errno. */
int pp_client_trace_filter(struct pp_client_trace *ct, const struct pp_flow_key *flow);

/* Starts the reader; from now on only events of flow (either direction) are handed on. */
int pp_client_trace_start(struct pp_client_trace *ct, const struct pp_flow_key *flow);

/* Stops the reader, drains the perf buffers and the capture (publishing its pcap_out and
 * events_out) and ends the client host's events; then asks the agent for the rest of its
 * events and reads them up to its END (at most timeout_ms; given up at once when *abort, if
 * abort is not NULL, becomes nonzero: a user's second Ctrl-C). 0, or the first error of this
 * host's side (what was read is handed on), with its reason in e; the agent's fate is in the
 * stats. */
int pp_client_trace_stop(struct pp_client_trace *ct, int timeout_ms,
			 volatile sig_atomic_t *abort, struct pp_err *e);

void pp_client_trace_get_stats(const struct pp_client_trace *ct, struct pp_client_trace_stats *st);
/* The capture (for its report), or NULL. */
const struct pp_capture *pp_client_trace_capture(const struct pp_client_trace *ct);
/* Where the send/recv points come from (trace.h pp_trace_points). */
const char *pp_client_trace_points(const struct pp_client_trace *ct);

/* The connection's key from a connected socket's two ends (IPv4-mapped IPv6 as IPv4, as the
 * packets and so the events are). */
void pp_flow_key_from_sockaddrs(struct pp_flow_key *key, const struct sockaddr *local,
				const struct sockaddr *remote);

/* The client's SYN among the events seen so far: its seq is the connection's ISN. */
bool pp_client_trace_isn(const struct pp_client_trace *ct, uint32_t *isn);

/* Stops whatever runs and frees everything. NULL is fine. */
void pp_client_trace_close(struct pp_client_trace *ct);

#endif
