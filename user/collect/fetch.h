// SPDX-License-Identifier: MIT
/* The client's end of the control channel (docs/protocol.md): fetches the server host's events
 * of one connection from the agent after the run, every wait timed out (common/net.h).
 *
 *	pp_control_fetch(addr, port, &flow, 5000, on_event, ctx, &stats);
 * or pp_control_fetch_open/next/close to pull the events one at a time (for the correlator's
 * pp_correlate_run). The agent's end is agent/control.h.
 *
 * Or follow the connection during the run (the agent streams its events as they come and keeps
 * none of them), from the caller's own poll loop:
 *	pp_control_follow_open(&f, addr, port, &req, 5000);
 *	loop: poll pp_control_follow_fd(f) for POLLIN; pp_control_follow_read(f, cb, ctx);
 *	      an agent silent (no heartbeat either) since pp_control_follow_last_frame_ns: give up
 *	run over: pp_control_follow_stop(f); read until pp_control_follow_read returns 1 (END);
 *	pp_control_fetch_close(f);
 * Followed events come in arrival order, not time order: sort them.
 *
 * Every connection of one client host to the service (PP_FETCH_ALL_PORTS: any client port,
 * every instance, for the whole run), e.g. for a benchmark that opens many:
 *	pp_fetch_req_all_ports(&req, PP_AF_INET, my_addr, server_addr, server_port);
 *	pp_control_follow_open(&f, agent_addr, control_port, &req, 5000);  ... as above
 * Events of other client addresses (stats.foreign) are dropped on this side too. */
#ifndef PP_FETCH_H
#define PP_FETCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/proto.h"

struct pp_fetch_stats {
	uint64_t events;          /* handed to the caller */
	uint64_t foreign;         /* received but not of the connection: dropped */
	struct pp_end_counts agent; /* from END */
	bool complete;            /* END arrived */
	uint16_t error_code;      /* the agent's ERROR, if it sent one */
	char error_text[PP_PROTO_ERROR_TEXT_MAX + 1];
	/* Why it failed, in one line, when the cause is not the agent's ERROR text: another
	 * protocol version ("the agent speaks control protocol 1, this client 2: ..."), a reset. */
	char reason[192];
};

struct pp_fetch;

/* Fills req for every connection from client_addr (any port) to server_addr:server_port
 * (PP_FETCH_ALL_PORTS; client_port 0, no ISN). family PP_AF_INET (addresses: 4 bytes read) or
 * PP_AF_INET6 (16 bytes); they may point into *req (e.g. a key parsed there first). 0, or
 * -EINVAL (family, server_port 0). Add PP_FETCH_FOLLOW, or use pp_control_follow_open, to
 * stream them. */
int pp_fetch_req_all_ports(struct pp_fetch_req *req, uint8_t family, const uint8_t *client_addr,
			   const uint8_t *server_addr, uint16_t server_port);

/* Every request asks for the agent's probe cost too (PP_FETCH_COST, in stats.agent.bpf_*); an
 * agent older than that refuses the flag, and the request goes again without it, once (cost
 * unknown).
 * addr: numeric IPv4/IPv6. Connects and sends the request, each wait at most timeout_ms
 * (0 = default). A connection reset (or shed by a busy agent before its first answer byte,
 * seen by pp_control_fetch_next), a reset write or a refused connect (3 times at most) is tried
 * again, after a pause doubling from 50 ms, while timeout_ms from the open leaves room.
 * 0 or -errno (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, -EINVAL). */
int pp_control_fetch_open(struct pp_fetch **out, const char *addr, uint16_t port,
			  const struct pp_fetch_req *req, int timeout_ms);
/* 1 = *ev is the next event, 0 = END (all delivered), <0: -ETIMEDOUT, -ECONNRESET (the agent
 * hung up early), -EPROTO (a frame that breaks the protocol), -EREMOTEIO (the agent answered
 * ERROR: see stats), -EPROTONOSUPPORT (another protocol version, or the agent's ERROR saying
 * so: stats' reason says which). */
int pp_control_fetch_next(struct pp_fetch *f, struct pp_event *ev);
const struct pp_fetch_stats *pp_control_fetch_stats(const struct pp_fetch *f);
void pp_control_fetch_close(struct pp_fetch *f);

/* Follow mode. Connects (retries as pp_control_fetch_open does), sends FETCH with FOLLOW;
 * afterwards the socket is non-blocking. 0 or -errno (as pp_control_fetch_open). */
int pp_control_follow_open(struct pp_fetch **out, const char *addr, uint16_t port,
			   const struct pp_fetch_req *req, int timeout_ms);
int pp_control_follow_fd(const struct pp_fetch *f);   /* poll it for POLLIN */
/* Reads what has arrived, without blocking, and calls cb for every event (cb's error stops
 * and is returned). 0 = more may come; 1 = END arrived (stats complete, count checked);
 * <0: -ECONNRESET (agent closed/reset before END), -EPROTO, -EREMOTEIO (ERROR: stats say
 * why), -EPROTONOSUPPORT (other version). A connection reset or closed before the agent's
 * first frame (shed by a busy agent) is opened again within the open's timeout, as
 * pp_control_fetch_next does. */
int pp_control_follow_read(struct pp_fetch *f, pp_emit_fn cb, void *ctx);
/* Sends STOP (a blocking write bounded by the open's timeout). 0 or -errno. */
int pp_control_follow_stop(struct pp_fetch *f);
/* pp_control_follow_read during the run, and an agent silent (no frame, not even its
 * heartbeat) for silence_ms is -ETIMEDOUT: gone. */
int pp_control_follow_read_live(struct pp_fetch *f, pp_emit_fn cb, void *ctx, int silence_ms);
/* The run is over: STOP, then what the agent still sends, to cb, up to its END; every wait
 * bounded, timeout_ms in all and silence_ms without a frame (a mute or hung agent), and abort
 * (a second Ctrl-C) ends it. 0 = END arrived; -ETIMEDOUT, -EINTR (abort), or
 * pp_control_follow_stop's / pp_control_follow_read's failure. */
int pp_control_follow_finish(struct pp_fetch *f, pp_emit_fn cb, void *ctx, int timeout_ms,
			     int silence_ms, volatile sig_atomic_t *abort);
/* Monotonic ns of the last frame received (heartbeats included): the caller decides when an
 * agent has been silent too long. The open's time until the first frame. */
uint64_t pp_control_follow_last_frame_ns(const struct pp_fetch *f);

/* All in one: every event of flow to cb, in the agent's order. 0 when END arrived. */
int pp_control_fetch(const char *addr, uint16_t port, const struct pp_flow_key *flow, int timeout_ms,
		     pp_emit_fn cb, void *ctx, struct pp_fetch_stats *stats);

#endif
