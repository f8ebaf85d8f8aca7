// SPDX-License-Identifier: MIT
/* One exchange's points on both hosts, and the split of its round trip (docs/design.md). */
#ifndef PP_SPLIT_H
#define PP_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

/* A message, ping or pong: the handshake refuses other sizes, and the correlator's sequence
 * windows are sized for this bound. */
#define PP_MSG_SIZE_MIN    1u
#define PP_MSG_SIZE_MAX    (16u << 20) /* 16 MiB */

/* A point's slot in a row; 0 in a slot means "not measured". In the order a message meets
 * them on each host: the client's, then the server's (turns.c relies on this order). */
enum pp_slot {
	C_SEND, C_XMIT, C_WIRE_TX, C_WIRE_RX, C_RX, C_TCP, C_WAKE, C_IDLE, C_ONCPU, C_RECV,
	S_WIRE_RX, S_RX, S_TCP, S_WAKE, S_IDLE, S_ONCPU, S_RECV, S_SEND, S_XMIT, S_WIRE_TX,
	PP_NSLOTS
};

#define PP_ROW_RETRANS    0x1 /* a segment of the ping or pong was sent more than once */
#define PP_ROW_INCOMPLETE 0x2 /* a point the split needs is missing */

struct pp_row {
	uint64_t index;            /* exchange number, 0 = first recorded (after warm-up) */
	uint32_t ping_seq;         /* client->server seq of the ping's first byte */
	uint32_t pong_seq;         /* server->client seq of the pong's first byte */
	int64_t  rtt_app_ns;       /* the client program's own clock around send..recv; <0 unknown */
	uint64_t ts[PP_NSLOTS];    /* CLOCK_MONOTONIC ns of each host (C_* client, S_* server) */
	uint32_t flags;
};

/* Components, in ns. A component is valid only if its bit in `have` is set. */
enum pp_component {
	PP_RTT, PP_CLIENT_STACK, PP_NETWORK, PP_SERVER_STACK, PP_SERVER_APP,
	PP_CLIENT_DEV, PP_WIRE, PP_SERVER_DEV, PP_RTT_APP,
	/* --sched: each host's stack in three parts that add up to it, and the part of the
	 * wake-up its CPU spent leaving idle (docs/design.md 1.3). */
	PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN,
	PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN,
	PP_NCOMPONENTS
};

struct pp_split {
	int64_t  ns[PP_NCOMPONENTS];
	uint32_t have;             /* bit (1 << pp_component) */
};

extern const char *const pp_component_name[PP_NCOMPONENTS]; /* "rtt", "client_stack", ... */
extern const char *const pp_slot_name[PP_NSLOTS];           /* "c_send", ... as in results.csv */

/* Computes every component whose inputs are all measured. */
void pp_split_row(const struct pp_row *row, struct pp_split *out);

static inline bool pp_split_has(const struct pp_split *s, enum pp_component c)
{
	return s->have & (1u << c);
}

/* rtt = client_stack + server_stack + server_app + network, network = client_dev + wire +
 * server_dev, and each host's stack = proc + wakeup + return with 0 <= idle <= wakeup, each
 * where all its terms are present. The correlators assert it on every row. */
bool pp_split_identities_hold(const struct pp_split *s);

/* 36 years of CLOCK_MONOTONIC: no real event is later. Below it every difference of the split
 * is under 2^60 and every sum of four under 2^63, so no component wraps (t/fuzz/correlate). */
#define PP_MAX_TS_NS (1ull << 60)

/* Where a host's point goes in a row. Each point of a host sees one direction only: the client
 * sends requests and receives replies, the server the other way round. */
struct pp_point_place {
	int8_t slot;        /* enum pp_slot; -1: not a point (point 0) */
	uint8_t stream;     /* 0: client -> server, 1: server -> client */
	bool first_byte;    /* send: the call holding the message's first byte; every other point
			     * holds its last byte */
};

/* host: 0 client, 1 server; point: enum pp_point (kern/pingpong.h), 0..PP_POINT_MAX-1. */
struct pp_point_place pp_point_place(int host, int point);

/* Slots of packet points: several events on one byte there mean a retransmission (or a
 * duplicate arrival). */
extern const bool pp_slot_is_packet[PP_NSLOTS];

#endif
