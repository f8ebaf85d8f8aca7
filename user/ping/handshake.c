// SPDX-License-Identifier: MIT
/* Encoders and decoders of the connection handshake (docs/protocol.md). Every read is
 * checked against the buffer's length first, so any byte string is safe input. */
#include <errno.h>
#include <string.h>

#include "ping/handshake.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

void pp_hello_init(struct pp_hello *h, uint32_t msg_size, uint64_t count, uint32_t flags)
{
	*h = (struct pp_hello){
		.version = PP_HS_VERSION,
		.length = PP_HS_HELLO_LEN,
		.msg_size = msg_size,
		.flags = flags,
		.count = count,
	};
}

int pp_hello_encode(const struct pp_hello *h, uint8_t *buf, size_t cap)
{
	if (h->length < PP_HS_HELLO_LEN || h->length > PP_HS_HELLO_MAX)
		return -EINVAL;
	if (cap < h->length)
		return -ENOSPC;
	memset(buf, 0, h->length);
	put32(buf, PP_HS_MAGIC);
	put16(buf + 4, h->version);
	put16(buf + 6, h->length);
	put32(buf + 8, h->msg_size);
	put32(buf + 12, h->flags);
	put64(buf + 16, h->count);
	return h->length;
}

int pp_hello_peek(const uint8_t *buf, size_t len, uint16_t *status)
{
	uint16_t length;

	if (len < 4)
		return -EAGAIN;
	if (get32(buf) != PP_HS_MAGIC) {
		*status = PP_HS_BAD_MAGIC;
		return -EPROTO;
	}
	if (len < 8)
		return -EAGAIN;
	length = get16(buf + 6);
	if (length < PP_HS_HELLO_LEN || length > PP_HS_HELLO_MAX) {
		*status = PP_HS_BAD_LENGTH;
		return -EPROTO;
	}
	return length;
}

enum pp_hs_status pp_hello_decode(const uint8_t *buf, size_t len, struct pp_hello *h)
{
	uint16_t status = PP_HS_OK;
	int total = pp_hello_peek(buf, len, &status);

	memset(h, 0, sizeof(*h));
	if (total == -EAGAIN)
		return PP_HS_BAD_LENGTH;
	if (total < 0)
		return (enum pp_hs_status)status;
	h->version = get16(buf + 4);
	h->length = (uint16_t)total;
	if ((size_t)total > len)
		return PP_HS_BAD_LENGTH;
	/* Checked before the fields: a later version may lay them out differently. */
	if (h->version != PP_HS_VERSION)
		return PP_HS_BAD_VERSION;
	h->msg_size = get32(buf + 8);
	h->flags = get32(buf + 12);
	h->count = get64(buf + 16);
	if (h->flags & ~PP_HS_FLAGS_KNOWN)
		return PP_HS_BAD_FLAGS;
	if (h->msg_size < PP_MSG_SIZE_MIN || h->msg_size > PP_MSG_SIZE_MAX)
		return PP_HS_BAD_SIZE;
	return PP_HS_OK;
}

int pp_hs_reply_encode(uint16_t status, const char *reason, uint8_t *buf, size_t cap)
{
	size_t n = reason ? strnlen(reason, PP_HS_REASON_MAX) : 0;

	if (cap < PP_HS_REPLY_HDR + n)
		return -ENOSPC;
	put32(buf, PP_HS_MAGIC);
	put16(buf + 4, PP_HS_VERSION);
	put16(buf + 6, status);
	put16(buf + 8, (uint16_t)n);
	put16(buf + 10, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)reason[i];

		buf[PP_HS_REPLY_HDR + i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	return (int)(PP_HS_REPLY_HDR + n);
}

int pp_hs_reply_peek(const uint8_t *buf, size_t len)
{
	uint16_t n;

	if (len < PP_HS_REPLY_HDR)
		return -EAGAIN;
	n = get16(buf + 8);
	if (get32(buf) != PP_HS_MAGIC || n > PP_HS_REASON_MAX)
		return -EPROTO;
	return PP_HS_REPLY_HDR + n;
}

int pp_hs_reply_decode(const uint8_t *buf, size_t len, struct pp_hs_reply *r)
{
	int total = pp_hs_reply_peek(buf, len);
	size_t n;

	memset(r, 0, sizeof(*r));
	if (total < 0 || (size_t)total > len)
		return -EPROTO;
	r->version = get16(buf + 4);
	r->status = get16(buf + 6);
	n = (size_t)total - PP_HS_REPLY_HDR;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = buf[PP_HS_REPLY_HDR + i];

		r->reason[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	r->reason[n] = '\0';
	return 0;
}

const char *pp_hs_status_name(uint16_t status)
{
	switch (status) {
	case PP_HS_OK:          return "ok";
	case PP_HS_BAD_MAGIC:   return "not a pingpong hello";
	case PP_HS_BAD_VERSION: return "unsupported version";
	case PP_HS_BAD_LENGTH:  return "bad hello length";
	case PP_HS_BAD_SIZE:    return "message size out of range";
	case PP_HS_BAD_FLAGS:   return "unknown flags";
	case PP_HS_BUSY:        return "server busy";
	case PP_HS_INTERNAL:    return "server error";
	}
	return "unknown status"; /* a peer's number, not ours: anything may come */
}
