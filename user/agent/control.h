/* The control channel over TCP (docs/protocol.md): the agent serves the events of one
 * connection to the client that asks for it by 4-tuple; the client fetches them after its run.
 *
 * Agent:   pp_control_server_open(&srv, &opts);
 *          poll pp_control_server_fd(srv) for POLLIN with the agent's other fds, then
 *          pp_control_server_serve_one(srv);      // one request, every read/write timed out
 * Client:  pp_control_fetch(addr, port, &flow, 5000, on_event, ctx, &stats);
 *          or pp_control_fetch_open/next/close to pull events one at a time (for the
 *          correlator's pp_correlate_run). */
#ifndef PP_CONTROL_H
#define PP_CONTROL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/proto.h"

#define PP_CONTROL_DEFAULT_TIMEOUT_MS 5000

/* A stop flag (set by a signal handler): once non-zero, every wait of the channel, on either
 * side, ends at once with -EINTR instead of waiting out its timeout. NULL = none. */
void pp_control_set_abort_flag(volatile sig_atomic_t *flag);

/* Takes one event; 0 to go on, a negative errno to stop. */
typedef int (*pp_emit_fn)(void *emit_ctx, const struct pp_event *ev);

/* Where the agent's events come from (its event store). for_each_event calls emit for the
 * stored events in the order they were stored: at least every event of flow (either direction;
 * it may pass others, the server filters), stopping with emit's error if emit fails. It is
 * called twice per request (the first pass finds the connection's SYN). */
struct pp_control_source {
	int (*for_each_event)(void *ctx, const struct pp_flow_key *flow, pp_emit_fn emit, void *emit_ctx);
	/* The agent's loss counters for END; NULL reports zeros. */
	void (*get_counts)(void *ctx, uint64_t *lost_samples, uint64_t *pcap_drops);
	void *ctx;
};

struct pp_control_server_opts {
	const char *bind_addr;  /* numeric address; NULL = all (IPv6 dual-stack, else IPv4) */
	uint16_t port;          /* 0 = any free port (see pp_control_server_port) */
	int timeout_ms;         /* each read and each write; 0 = PP_CONTROL_DEFAULT_TIMEOUT_MS */
	struct pp_control_source source;
};

struct pp_control_server_stats {
	uint64_t requests;      /* connections accepted */
	uint64_t served;        /* answered with END */
	uint64_t failed;        /* refused, timed out or broken off */
	uint64_t events_sent;
	uint64_t events_filtered; /* passed by the store but not of the asked connection */
};

struct pp_control_server;

/* 0, or -errno (-EADDRINUSE, -EACCES, -EINVAL for a bad address). */
int pp_control_server_open(struct pp_control_server **out, const struct pp_control_server_opts *opts);
int pp_control_server_fd(const struct pp_control_server *s);
uint16_t pp_control_server_port(const struct pp_control_server *s);
/* Accepts one waiting client and serves it to the end. 1 = served, 0 = nobody was waiting,
 * <0 = that request failed (-ETIMEDOUT, -EBADMSG, -EPIPE, ...); the server stays usable, and
 * pp_control_server_error() says what happened in one line. */
int pp_control_server_serve_one(struct pp_control_server *s);
const char *pp_control_server_error(const struct pp_control_server *s);
const struct pp_control_server_stats *pp_control_server_stats(const struct pp_control_server *s);
void pp_control_server_close(struct pp_control_server *s);

/* Which of the stored events belong to the asked connection: same 4-tuple, and the same
 * instance of it, told apart by the client's SYN (a 4-tuple can be reused by a later
 * connection). With an ISN: from that SYN to the next SYN of another seq; without: from the
 * latest SYN on. No such SYN stored: every event of the 4-tuple. Used by the server and by
 * pingpong-analyze. */
struct pp_instance {
	struct pp_flow_key flow;
	bool have_isn;
	uint32_t isn;
	struct pp_instance_syn { uint64_t ts; uint32_t seq; } *syns;
	size_t nsyn, capsyn;
	uint64_t start_ns, end_ns;  /* after pp_instance_decide: [start, end) */
};

void pp_instance_init(struct pp_instance *in, const struct pp_flow_key *flow, bool have_isn, uint32_t isn);
void pp_instance_scan(struct pp_instance *in, const struct pp_event *ev);  /* first pass */
void pp_instance_decide(struct pp_instance *in);
bool pp_instance_has(const struct pp_instance *in, const struct pp_event *ev); /* second pass */
void pp_instance_free(struct pp_instance *in);

/* ---- client ---- */

struct pp_fetch_stats {
	uint64_t events;          /* handed to the caller */
	uint64_t foreign;         /* received but not of the connection: dropped */
	struct pp_end_counts agent; /* from END */
	bool complete;            /* END arrived */
	uint16_t error_code;      /* the agent's ERROR, if it sent one */
	char error_text[PP_PROTO_ERROR_TEXT_MAX + 1];
};

struct pp_fetch;

/* addr: numeric IPv4/IPv6. Connects and sends the request, each wait at most timeout_ms
 * (0 = default). 0 or -errno (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, -EINVAL). */
int pp_control_fetch_open(struct pp_fetch **out, const char *addr, uint16_t port,
			  const struct pp_fetch_req *req, int timeout_ms);
/* 1 = *ev is the next event, 0 = END (all delivered), <0: -ETIMEDOUT, -ECONNRESET (the agent
 * hung up early), -EPROTO (a frame that breaks the protocol), -EREMOTEIO (the agent answered
 * ERROR: see stats), -EPROTONOSUPPORT (another protocol version). */
int pp_control_fetch_next(struct pp_fetch *f, struct pp_event *ev);
const struct pp_fetch_stats *pp_control_fetch_stats(const struct pp_fetch *f);
void pp_control_fetch_close(struct pp_fetch *f);

/* All in one: every event of flow to cb, in the agent's order. 0 when END arrived. */
int pp_control_fetch(const char *addr, uint16_t port, const struct pp_flow_key *flow, int timeout_ms,
		     pp_emit_fn cb, void *ctx, struct pp_fetch_stats *stats);

#endif
