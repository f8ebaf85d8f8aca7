// SPDX-License-Identifier: MIT
/* The client host's side of a traced run: its kernel points (trace.h) and its wire capture
 * (capture.h) for its own connection, read by a thread of their own while the exchanges run,
 * and kept in memory (bounded) until the correlator takes them, sorted by time.
 *
 *	pp_client_trace_open(&ct, &opts, &err);              // before connect: sees the SYN
 *	connect ...
 *	pp_client_trace_add_capture(ct, &capture_opts, ...);  // optional, once the peer is known
 *	pp_client_trace_start(ct, &flow);                     // the reader thread
 *	... hello, warm-up, timed exchanges ...
 *	pp_client_trace_stop(ct, &err);                       // drain; events now sorted
 *	events = pp_client_trace_events(ct, &n);
 *	pp_client_trace_close(ct);
 *
 * The reader sleeps in poll() on the perf buffer (woken at a quarter full), the capture (a
 * batched ring, woken per block) and a stop descriptor, with a timeout; it never spins and
 * makes no system call per event. */
#ifndef PP_CLIENT_TRACE_H
#define PP_CLIENT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collect/capture.h"
#include "common/err.h"
#include "pingpong.h"
#include "model/proto.h"

#define PP_CLIENT_TRACE_POLL_MS   250 /* longest sleep of the reader: bounds a buffer's fill time */
#define PP_CLIENT_CAPTURE_BATCH_MS 100 /* frames wait in the capture ring up to this long */

struct pp_client_trace_opts {
	uint16_t server_port;    /* the measured connection's server port */
	size_t perf_pages;       /* per CPU; 0 = the collector's default */
	size_t max_events;       /* kept in memory; more are counted in `overflow` */
	int verbosity;           /* libbpf's messages: 0 none, 1 warnings, 2 debug */
};

struct pp_client_trace_stats {
	uint64_t events;         /* kept: this connection's */
	uint64_t foreign;        /* other connections to the same port: not kept */
	uint64_t overflow;       /* dropped because max_events were kept already */
	uint64_t lost;           /* perf buffer samples the kernel dropped */
	uint64_t skipped;        /* tracepoint hits the kernel did not run us for (trace.h) */
	bool capture;            /* a capture ran */
	struct pp_capture_stats cap;
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

/* Starts the reader; from now on only events of flow (either direction) are kept. */
int pp_client_trace_start(struct pp_client_trace *ct, const struct pp_flow_key *flow);

/* Stops the reader, drains the perf buffers and the capture (publishing its pcap_out), and
 * sorts the events by time. 0, or the first error the reader or the drain met (what was
 * read is kept), with its reason in e. */
int pp_client_trace_stop(struct pp_client_trace *ct, struct pp_err *e);

/* After stop: this connection's events in time order. */
const struct pp_event *pp_client_trace_events(const struct pp_client_trace *ct, size_t *n);
void pp_client_trace_get_stats(const struct pp_client_trace *ct, struct pp_client_trace_stats *st);
/* The capture (for its report), or NULL. */
const struct pp_capture *pp_client_trace_capture(const struct pp_client_trace *ct);

/* Writes the events (after stop) as an event log (eventlog.h), atomically. 0 or -errno. */
int pp_client_trace_write_log(const struct pp_client_trace *ct, const char *path);

/* The connection's key from a connected socket's two ends (IPv4-mapped IPv6 as IPv4, as the
 * packets and so the events are). */
void pp_flow_key_from_sockaddrs(struct pp_flow_key *key, const struct sockaddr *local,
				const struct sockaddr *remote);

/* The client's SYN among the events: its seq is the connection's ISN. */
bool pp_client_trace_isn(const struct pp_client_trace *ct, uint32_t *isn);

/* Stops whatever runs and frees everything. NULL is fine. */
void pp_client_trace_close(struct pp_client_trace *ct);

#endif
