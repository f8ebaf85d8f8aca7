// SPDX-License-Identifier: MIT
/* The agent's end of the control channel over TCP (docs/protocol.md): serves the events of one
 * connection instance (model/conn.h) to the client that asks for it by 4-tuple. The client's
 * end is collect/fetch.h.
 *
 *	pp_control_server_open(&srv, &opts);
 *	poll pp_control_server_fd(srv) for POLLIN with the agent's other fds, then
 *	pp_control_server_serve_one(srv, &err);   // one request, every read/write timed out */
#ifndef PP_CONTROL_H
#define PP_CONTROL_H

#include <stdint.h>

#include "common/err.h"
#include "model/proto.h"

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
 * <0 = that request failed (-ETIMEDOUT, -EBADMSG, -EPIPE, ...) and err (may be NULL) says
 * what happened in one line; the server stays usable. */
int pp_control_server_serve_one(struct pp_control_server *s, struct pp_err *err);
const struct pp_control_server_stats *pp_control_server_stats(const struct pp_control_server *s);
void pp_control_server_close(struct pp_control_server *s);

#endif
