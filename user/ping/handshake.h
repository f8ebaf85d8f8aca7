// SPDX-License-Identifier: MIT
/* The handshake that opens every ping-pong connection (docs/protocol.md): the client's hello
 * (magic, version, message size, count, flags) and the server's reply (status + reason).
 * Pure codecs on byte buffers: big-endian, every length bounded, never read past the input. */
#ifndef PP_HANDSHAKE_H
#define PP_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "model/split.h" /* PP_MSG_SIZE_MIN, PP_MSG_SIZE_MAX */

#define PP_HS_MAGIC        0x50504e47u /* "PPNG" */
#define PP_HS_VERSION      1
#define PP_HS_HELLO_LEN    24          /* what version 1 writes */
#define PP_HS_HELLO_MAX    256         /* longest hello a server accepts (later fields) */
#define PP_HS_REPLY_HDR    12          /* reply before its reason text */
#define PP_HS_REASON_MAX   200
#define PP_HS_REPLY_MAX    (PP_HS_REPLY_HDR + PP_HS_REASON_MAX)

/* Flags the hello may carry; a server refuses bits it does not know. None yet. */
#define PP_HS_FLAGS_KNOWN  0u

enum pp_hs_status {
	PP_HS_OK          = 0,
	PP_HS_BAD_MAGIC   = 1, /* not a pingpong client */
	PP_HS_BAD_VERSION = 2, /* reply carries the server's version */
	PP_HS_BAD_LENGTH  = 3, /* hello length outside 24..256 */
	PP_HS_BAD_SIZE    = 4, /* message size outside 1 B..16 MiB */
	PP_HS_BAD_FLAGS   = 5, /* a flag the server does not know */
	PP_HS_BUSY        = 6, /* connection or memory limit reached; try later */
	PP_HS_INTERNAL    = 7,
};

struct pp_hello {
	uint16_t version;
	uint16_t length;      /* bytes of the whole hello, >= PP_HS_HELLO_LEN */
	uint32_t msg_size;    /* bytes of every ping and pong */
	uint32_t flags;
	uint64_t count;       /* exchanges the client will make, warm-up included; 0 = not said */
};

struct pp_hs_reply {
	uint16_t version;     /* the server's */
	uint16_t status;      /* enum pp_hs_status */
	char reason[PP_HS_REASON_MAX + 1]; /* NUL-terminated, printable ASCII only */
};

/* Fills h for this version. */
void pp_hello_init(struct pp_hello *h, uint32_t msg_size, uint64_t count, uint32_t flags);

/* Writes h->length bytes (extra bytes beyond the known fields are zero). Returns the length,
 * or -ENOSPC if cap is too small, -EINVAL if h->length is out of bounds. */
int pp_hello_encode(const struct pp_hello *h, uint8_t *buf, size_t cap);

/* How many bytes the hello in buf[0..len) has in total: needs the first 8 bytes (magic,
 * version, length). Returns the total length, -EAGAIN if len < 8, or -EPROTO with *status
 * set (bad magic, bad length) when the hello is not worth reading further. */
int pp_hello_peek(const uint8_t *buf, size_t len, uint16_t *status);

/* Decodes a complete hello and checks it. Returns PP_HS_OK or the status to reply with;
 * h is filled as far as it could be read. len must be at least the hello's length. */
enum pp_hs_status pp_hello_decode(const uint8_t *buf, size_t len, struct pp_hello *h);

/* Writes the reply: header + strlen(reason) (cut at PP_HS_REASON_MAX, non-printable bytes
 * turned into '?'). Returns the length or -ENOSPC. reason may be NULL. */
int pp_hs_reply_encode(uint16_t status, const char *reason, uint8_t *buf, size_t cap);

/* Reply length from its first PP_HS_REPLY_HDR bytes; -EAGAIN if fewer, -EPROTO if malformed. */
int pp_hs_reply_peek(const uint8_t *buf, size_t len);
/* Decodes a complete reply; 0 or -EPROTO (bad magic, length, or too short). */
int pp_hs_reply_decode(const uint8_t *buf, size_t len, struct pp_hs_reply *r);

/* "bad message size" etc.; never NULL. */
const char *pp_hs_status_name(uint16_t status);

#endif
