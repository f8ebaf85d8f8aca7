// SPDX-License-Identifier: MIT
/* The agent's service to clients: its event store behind the control channel, and the wire
 * capture on its host, both driven from the agent's one poll loop. */
#ifndef PP_AGENT_SERVE_H
#define PP_AGENT_SERVE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "collect/capture.h"
#include "agent/control.h"
#include "agent/eventstore.h"
#include "common/err.h"

/* How long captured frames may wait in the kernel ring; a control request waits this long
 * first, so the last exchange's frames are in the store when they are served. */
#define PP_AGENT_CAPTURE_BATCH_MS 50
/* ... and the capture is read to its end before an answer or a follower's END, this long at
 * most (a quiet port: one batch time; a busy one: the bound, which stalls the agent's loop for
 * other clients' events no longer than the old fixed wait of a batch time did, by much). */
#define PP_AGENT_ANSWER_DRAIN_MS 100
/* At the end, how long the capture may take to read what the kernel still holds for it: the
 * ring hands its last block over after PP_AGENT_CAPTURE_BATCH_MS, and a quiet batch time
 * follows; past this bound what is left is counted as never read (pp_capture_drain). */
#define PP_AGENT_CAPTURE_DRAIN_MAX_MS 1000

struct pp_agent_serve_opts {
	bool control;               /* serve events on control_port */
	const char *control_bind;   /* numeric address; NULL = all */
	uint16_t control_port;
	bool capture;               /* capture the traced port's traffic on this host */
	const char *iface;          /* capture interface; NULL = every interface ("any") */
	uint16_t port;              /* the traced server port (capture filter) */
	const char *pcap_out;
	const char *tstamp_type;
	bool keep_acks;
	int capture_buffer_bytes;   /* the capture's kernel ring; 0 = the capture's default */
};

struct pp_agent_serve {
	struct pp_eventstore *store;
	struct pp_control_server *control;
	struct pp_capture *capture;
	uint64_t lost_samples;      /* kept current by the agent, reported in END */
	/* Optional: sends the tracer's partial batches up before the answers of a round start
	 * (so an answer holds the client's last exchanges); set by the agent after open. */
	int (*flush)(void *ctx);
	void *flush_ctx;
	/* Optional: the probe's own cost since the agent started (its BPF programs' run time and
	 * runs), for END; false when unknown (the kernel's statistics off). Set by the agent. */
	bool (*bpf_cost)(void *ctx, uint64_t *run_ns, uint64_t *runs);
	void *bpf_cost_ctx;
	uint64_t capture_errors;    /* wire events the store refused */
	uint64_t dropped;           /* events with no room: store and follower queues at the bound */
	/* Optional: sees every event as it arrives, before it is routed (the agent's --output log,
	 * written as events come, since followed events never stay in the store). */
	void (*tap)(void *ctx, const struct pp_event *ev);
	void *tap_ctx;
	/* Optional: takes every event instead of the store and the followers (pingpong-ebpf
	 * --peer correlates this host's events as they come and keeps none). */
	void (*sink)(void *ctx, const struct pp_event *ev);
	void *sink_ctx;
	/* A request's events in time order, for both of the control server's passes over them
	 * (count, then send): valid while the store has order_count events and the flow is it. */
	size_t *order, order_n, order_count;
	struct pp_flow_key order_flow;
};

/* 0 or -errno with a one-line reason in e. Also without control or capture (opts asks for
 * neither), s then only routes events to the store. */
int pp_agent_serve_open(struct pp_agent_serve *s, struct pp_eventstore *store,
			const struct pp_agent_serve_opts *opts, struct pp_err *e);
/* A new event (from the tracer; the capture's come in by themselves): to the tap, then to the
 * follower of its connection if there is one, else into the store; the store and the follower
 * queues together hold at most the store's bound, past which the event is dropped (counted).
 * 0, or -ENOSPC (dropped). */
int pp_agent_serve_event(struct pp_agent_serve *s, const struct pp_event *ev);
/* Events dropped for want of room (store or follower queues), all sources. */
uint64_t pp_agent_serve_dropped(const struct pp_agent_serve *s);
/* Follow conversations in progress: while there are any, the agent sends the tracer's partial
 * batches up often (PP_AGENT_FOLLOW_FLUSH_MS). */
int pp_agent_serve_followers(const struct pp_agent_serve *s);
#define PP_AGENT_FOLLOW_FLUSH_MS 50
/* "control: 2 follow conversations (1 ended early), queues peaked at 1843 events": its length,
 * or 0 when nobody followed. */
size_t pp_agent_serve_follow_report(const struct pp_agent_serve *s, char *buf, size_t len);
/* The control server's next line about a follower (control.h), else 0. */
size_t pp_agent_serve_notice(struct pp_agent_serve *s, char *buf, size_t len);
/* pollfds the service may fill: the capture, the control listener and its connections */
#define PP_AGENT_SERVE_MAX_POLLFDS (1 + PP_CONTROL_MAX_POLLFDS)

/* Fills up to PP_AGENT_SERVE_MAX_POLLFDS pollfds (capture, then the control server's);
 * returns how many. */
int pp_agent_serve_pollfds(const struct pp_agent_serve *s, struct pollfd *fds);
/* Handles whatever the pollfds said is ready (fds as filled by pp_agent_serve_pollfds), without
 * blocking; call it every round (the control connections' deadlines run here). Refused control
 * connections are only counted (pp_agent_serve_summary); a capture read or the event store
 * failing is returned (-errno) with its reason in e ("capture: ...", "control request: ..."). */
int pp_agent_serve_handle(struct pp_agent_serve *s, const struct pollfd *fds, int n,
			  struct pp_err *e);
/* The control port's refusal summary line when one is due (control.h), else 0. */
size_t pp_agent_serve_summary(struct pp_agent_serve *s, bool force, char *buf, size_t len);
/* Ends the capture: reads it to the end (pp_capture_drain, at most
 * PP_AGENT_CAPTURE_DRAIN_MAX_MS), so the last frames land in the store, counts what could not
 * be read (pp_capture_stats.unread, in the report and END's pcap_drops), publishes pcap_out.
 * 0, or -errno with the reason in e. */
int pp_agent_serve_finish(struct pp_agent_serve *s, struct pp_err *e);
/* The capture's report (capture.h) into buf; empty without a capture. Its length. */
size_t pp_agent_serve_report(const struct pp_agent_serve *s, char *buf, size_t len);
void pp_agent_serve_close(struct pp_agent_serve *s);

#endif
