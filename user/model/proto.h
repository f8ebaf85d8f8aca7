// SPDX-License-Identifier: MIT
/* The control channel's frame codec (docs/protocol.md): pure functions over byte buffers, no I/O,
 * every length checked before it is used, so it can be fuzzed. Also the 4-tuple of a connection. */
#ifndef PP_PROTO_H
#define PP_PROTO_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pingpong.h"

/* One TCP connection, by its two ends. Ports in host byte order; IPv4 addresses in the first
 * 4 bytes, the rest zero (as in struct pp_event). client_port 0 is the wildcard of an all-ports
 * FETCH (PP_FETCH_ALL_PORTS): every connection from client_addr, any port, to the server end;
 * pp_flow_key_valid refuses it, pp_fetch_req_valid allows it with that flag only. */
struct pp_flow_key {
	uint8_t  family;            /* PP_AF_INET or PP_AF_INET6 */
	uint16_t client_port;
	uint16_t server_port;
	uint8_t  client_addr[16];
	uint8_t  server_addr[16];
};

enum pp_flow_dir {
	PP_DIR_NONE = 0,      /* another connection */
	PP_DIR_TO_SERVER = 1, /* the event's data travels client -> server (the ping) */
	PP_DIR_TO_CLIENT = 2, /* server -> client (the pong) */
};

/* Takes one event; 0 to go on, a negative errno to stop. */
typedef int (*pp_emit_fn)(void *emit_ctx, const struct pp_event *ev);

/* A key with client_port 0 (pp_flow_key_any_port) matches any client port; an event's own
 * port 0 is a port like any other, never a wildcard. */
enum pp_flow_dir pp_flow_dir(const struct pp_flow_key *key, const struct pp_event *ev);
/* One connection: a family, both ports nonzero, IPv4 tails zero. */
bool pp_flow_key_valid(const struct pp_flow_key *key);
/* The all-ports wildcard: client_port 0 (whatever else the key holds). */
static inline bool pp_flow_key_any_port(const struct pp_flow_key *key)
{
	return key->client_port == 0;
}
/* The key of ev's connection, taking ev's source as the client if to_server. */
void pp_flow_key_from_event(struct pp_flow_key *key, const struct pp_event *ev, bool to_server);
/* Parses numeric addresses ("198.18.0.1", "fd00::1"); 0 or -EINVAL (families must agree). */
int pp_flow_key_set(struct pp_flow_key *key, const char *client_addr, uint16_t client_port,
		    const char *server_addr, uint16_t server_port);
/* "198.18.0.1:40000 -> 198.18.0.2:12345" ([v6]:port for IPv6; "198.18.0.1:*" for the
 * all-ports wildcard); returns buf. */
const char *pp_flow_key_str(const struct pp_flow_key *key, char *buf, size_t size);
#define PP_FLOW_KEY_STRLEN 112

/* ---- frames: magic u32, version u16, type u16, length u32 (payload bytes), payload.
 * Every integer in network byte order. ---- */
#define PP_PROTO_MAGIC        0x50504354u /* "PPCT" */
#define PP_PROTO_VERSION      2
#define PP_PROTO_HDR_LEN      12
#define PP_PROTO_FETCH_LEN    44
#define PP_PROTO_EVENT_LEN    72          /* one event, field by field, plus 1 reserved byte */
#define PP_PROTO_MAX_BATCH    4096        /* events in one EVENTS frame */
#define PP_PROTO_END_LEN      48          /* with the agent's probe cost (PP_FETCH_COST) */
#define PP_PROTO_END_LEN_SHORT 32         /* without: older agents, and to clients that did not ask */
#define PP_PROTO_ERROR_TEXT_MAX 200
#define PP_PROTO_MAX_PAYLOAD  (4 + PP_PROTO_EVENT_LEN * PP_PROTO_MAX_BATCH)
#define PP_PROTO_MAX_FRAME    (PP_PROTO_HDR_LEN + PP_PROTO_MAX_PAYLOAD)
/* Each read and each write of either end, unless told otherwise. */
#define PP_CONTROL_DEFAULT_TIMEOUT_MS 5000

enum pp_msg_type {
	PP_MSG_FETCH  = 1, /* client -> agent: the events of this connection, please */
	PP_MSG_EVENTS = 2, /* agent -> client: a batch of events */
	PP_MSG_END    = 3, /* agent -> client: that was all, with the agent's loss counters */
	PP_MSG_ERROR  = 4, /* either way: the request cannot be served; code and text */
	PP_MSG_STOP   = 5, /* client -> agent, follow mode: my run is over, send the rest and END */
};

enum pp_proto_error {
	PP_ERR_BAD_REQUEST = 1, /* malformed frame or payload */
	PP_ERR_VERSION     = 2, /* a version this side does not speak */
	PP_ERR_INTERNAL    = 3, /* the agent failed while serving */
	PP_ERR_TIMEOUT     = 4, /* the request did not arrive in time */
};

#define PP_FETCH_HAVE_ISN 0x1 /* pp_fetch_req.isn is the client's initial sequence number */
#define PP_FETCH_FOLLOW   0x2 /* stream the connection's events during the run, until STOP */
/* Every connection from flow.client_addr, any client port, to flow.server_addr:server_port,
 * every instance: flow.client_port must be 0 and PP_FETCH_HAVE_ISN unset (without this flag a
 * client_port 0 is invalid). An addition to protocol 2: an older agent refuses it with ERROR 1. */
#define PP_FETCH_ALL_PORTS 0x4
/* The client reads END of PP_PROTO_END_LEN bytes (the agent's probe cost); without it the
 * agent sends the short END of older versions. An addition to protocol 2: an older agent refuses
 * it with ERROR 1, and the client asks again without it (collect/fetch.c). */
#define PP_FETCH_COST      0x8
#define PP_FETCH_FLAGS    (PP_FETCH_HAVE_ISN | PP_FETCH_FOLLOW | PP_FETCH_ALL_PORTS | PP_FETCH_COST)

struct pp_fetch_req {
	struct pp_flow_key flow;
	uint8_t  flags;    /* PP_FETCH_* */
	uint32_t isn;      /* seq of the client's SYN: picks this instance of the 4-tuple */
};

/* Whether FETCH can carry req: known flags only; with PP_FETCH_ALL_PORTS a key valid but for its
 * client_port, which must be 0, and no ISN; without it a valid key (pp_flow_key_valid). The
 * ISN must be 0 unless PP_FETCH_HAVE_ISN (the encoder writes 0 then; the decoder insists). */
bool pp_fetch_req_valid(const struct pp_fetch_req *req);

struct pp_end_counts {
	uint64_t events_sent;   /* events in the EVENTS frames before this END */
	uint64_t lost_samples;  /* the agent's perf buffer losses (whole run, all flows) */
	uint64_t pcap_drops;    /* the agent's capture drops */
	uint64_t dropped;       /* events the agent had no room for (store / follower queues full) */
	/* The probe's own cost on the agent's host (the long END only): its BPF programs' run time
	 * and runs since the conversation began (follow) or the agent started (one-shot). known is
	 * false when the agent could not count (statistics off) or sent the short END; on the wire
	 * both fields are then all ones. */
	bool bpf_known;
	uint64_t bpf_run_ns, bpf_runs;
};
#define PP_END_UNKNOWN UINT64_MAX

struct pp_frame_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length;
};

/* Decodes and checks a header: 0; -EAGAIN fewer than PP_PROTO_HDR_LEN bytes; -EPROTO bad magic;
 * -EPROTONOSUPPORT other version (hdr is still filled, so the caller can answer); -EBADMSG
 * unknown type; -EMSGSIZE length impossible for the type. The payload length is thus bounded
 * by the type before anyone reads or allocates it. */
int pp_proto_decode_hdr(const uint8_t *buf, size_t len, struct pp_frame_hdr *hdr);

/* A whole frame in buf: its length (header + payload) with *payload pointing into buf, or
 * -EAGAIN if buf holds only part of it, or an error of pp_proto_decode_hdr. */
ssize_t pp_proto_decode_frame(const uint8_t *buf, size_t len, struct pp_frame_hdr *hdr,
			      const uint8_t **payload);

/* Encoders write a whole frame into buf and return its length, or -ENOSPC if cap is too small,
 * -EINVAL for values the protocol cannot carry. */
ssize_t pp_proto_encode_fetch(uint8_t *buf, size_t cap, const struct pp_fetch_req *req);
ssize_t pp_proto_encode_events(uint8_t *buf, size_t cap, const struct pp_event *ev, uint32_t n);
/* END of PP_PROTO_END_LEN bytes (with the probe cost); pp_proto_encode_end_len chooses
 * PP_PROTO_END_LEN or PP_PROTO_END_LEN_SHORT (for a client that did not send PP_FETCH_COST). */
ssize_t pp_proto_encode_end(uint8_t *buf, size_t cap, const struct pp_end_counts *counts);
ssize_t pp_proto_encode_end_len(uint8_t *buf, size_t cap, const struct pp_end_counts *counts,
				uint32_t len);
/* text is cut to PP_PROTO_ERROR_TEXT_MAX bytes. */
ssize_t pp_proto_encode_error(uint8_t *buf, size_t cap, uint16_t code, const char *text);
/* The same ERROR frame in another version's header (its layout is the same in versions 1 and
 * 2): the refusal of a peer that speaks an older version, in words it understands. */
ssize_t pp_proto_encode_error_in(uint8_t *buf, size_t cap, uint16_t version, uint16_t code,
				 const char *text);
ssize_t pp_proto_encode_stop(uint8_t *buf, size_t cap);
/* Pieces of an EVENTS frame built an event at a time (the agent's follower queues): the header
 * and count of n events (PP_PROTO_HDR_LEN + 4 bytes), and one event (PP_PROTO_EVENT_LEN bytes)
 * at the place it takes in the frame. Their length, or -ENOSPC / -EINVAL. */
ssize_t pp_proto_encode_events_head(uint8_t *buf, size_t cap, uint32_t n);
ssize_t pp_proto_encode_event(uint8_t *buf, size_t cap, const struct pp_event *ev);

/* Payload decoders: 0 or -EBADMSG (wrong length, bad field values, nonzero reserved bytes). */
int pp_proto_decode_fetch(const uint8_t *p, size_t len, struct pp_fetch_req *req);
/* out has room for cap events; *n gets the count (-EMSGSIZE if more than cap). */
int pp_proto_decode_events(const uint8_t *p, size_t len, struct pp_event *out, uint32_t cap,
			   uint32_t *n);
/* END of either length: the short one gives bpf_known false; in the long one the cost fields are
 * both all ones (unknown) or neither. */
int pp_proto_decode_end(const uint8_t *p, size_t len, struct pp_end_counts *counts);
/* text gets at most PP_PROTO_ERROR_TEXT_MAX bytes and a NUL; control bytes become '?'. */
int pp_proto_decode_error(const uint8_t *p, size_t len, uint16_t *code,
			  char text[PP_PROTO_ERROR_TEXT_MAX + 1]);

#endif
