// SPDX-License-Identifier: MIT
/* libFuzzer target for the control channel's frame codec (user/model/proto.c): the input is a byte
 * stream as a control connection would carry it, cut into frames the way the agent and the
 * client read them. Nothing may read past a frame, and every payload that decodes must encode
 * back to the very same bytes (ERROR aside: its text is cleaned on the way in). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/proto.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct pp_event batch[PP_PROTO_MAX_BATCH];
static uint8_t again[PP_PROTO_MAX_FRAME];

/* A decoded payload re-encoded: the frame it came from, header included. */
static void same_frame(const uint8_t *frame, ssize_t frame_len, ssize_t encoded)
{
	CHECK(encoded == frame_len);
	CHECK(memcmp(again, frame, (size_t)frame_len) == 0);
}

static void check_events(const uint8_t *frame, ssize_t frame_len, const uint8_t *payload, uint32_t len)
{
	struct pp_event one;
	uint32_t n = UINT32_MAX, n_one = UINT32_MAX;
	int err = pp_proto_decode_events(payload, len, batch, PP_PROTO_MAX_BATCH, &n);

	/* a one-event buffer: more than one must be refused without a write past it */
	int err_one = pp_proto_decode_events(payload, len, &one, 1, &n_one);

	if (err) {
		CHECK(n == 0 && err == -EBADMSG);
		return;
	}
	CHECK(n <= PP_PROTO_MAX_BATCH);
	CHECK(err_one == (n > 1 ? -EMSGSIZE : 0));
	same_frame(frame, frame_len, pp_proto_encode_events(again, sizeof(again), batch, n));
	for (uint32_t i = 0; i < n; i++) {
		struct pp_flow_key key;
		char text[PP_FLOW_KEY_STRLEN];

		pp_flow_key_from_event(&key, &batch[i], i & 1);
		/* an event from an end to itself reads as to-server either way */
		CHECK(pp_flow_dir(&key, &batch[i]) == (i & 1 ? PP_DIR_TO_SERVER : PP_DIR_TO_CLIENT) ||
		      (memcmp(batch[i].saddr, batch[i].daddr, 16) == 0 && batch[i].sport == batch[i].dport));
		pp_flow_key_str(&key, text, sizeof(text));
		CHECK(memchr(text, '\0', sizeof(text)));
	}
}

static void check_payload(const uint8_t *frame, ssize_t frame_len, const struct pp_frame_hdr *hdr,
			  const uint8_t *payload)
{
	struct pp_fetch_req req;
	struct pp_end_counts counts;
	char text[PP_PROTO_ERROR_TEXT_MAX + 1], key_text[PP_FLOW_KEY_STRLEN];
	uint16_t code;

	switch (hdr->type) {
	case PP_MSG_FETCH:
		if (pp_proto_decode_fetch(payload, hdr->length, &req) == 0) {
			CHECK(pp_fetch_req_valid(&req)); /* one connection, or the all-ports wildcard */
			same_frame(frame, frame_len, pp_proto_encode_fetch(again, sizeof(again), &req));
			pp_flow_key_str(&req.flow, key_text, sizeof(key_text));
			CHECK(strlen(key_text) < sizeof(key_text));
		}
		break;
	case PP_MSG_EVENTS:
		check_events(frame, frame_len, payload, hdr->length);
		break;
	case PP_MSG_END:
		if (pp_proto_decode_end(payload, hdr->length, &counts) == 0)
			same_frame(frame, frame_len, pp_proto_encode_end_len(again, sizeof(again), &counts,
								     hdr->length));
		break;
	case PP_MSG_ERROR:
		if (pp_proto_decode_error(payload, hdr->length, &code, text) == 0) {
			size_t n = strlen(text);

			CHECK(n <= PP_PROTO_ERROR_TEXT_MAX && n == hdr->length - 4u);
			for (size_t i = 0; i < n; i++)
				CHECK((unsigned char)text[i] >= 0x20 && text[i] != 0x7f);
			CHECK(pp_proto_encode_error(again, sizeof(again), code, text) == frame_len);
		}
		break;
	case PP_MSG_STOP: /* nothing but the header: the same bytes again */
		CHECK(hdr->length == 0);
		same_frame(frame, frame_len, pp_proto_encode_stop(again, sizeof(again)));
		break;
	default:
		abort(); /* decode_hdr let an unknown type through */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */
	size_t pos = 0;

	memcpy(copy, data, size);
	while (pos < size) {
		struct pp_frame_hdr hdr;
		const uint8_t *payload = NULL;
		ssize_t n = pp_proto_decode_frame(copy + pos, size - pos, &hdr, &payload);

		if (n == -EAGAIN)
			break;
		if (n < 0) {
			/* the real readers hang up here; resync by one byte to reach later frames */
			CHECK(n == -EPROTO || n == -EPROTONOSUPPORT || n == -EBADMSG || n == -EMSGSIZE);
			pos++;
			continue;
		}
		CHECK(n >= PP_PROTO_HDR_LEN && (size_t)n <= size - pos);
		CHECK(payload == copy + pos + PP_PROTO_HDR_LEN && (size_t)n == PP_PROTO_HDR_LEN + hdr.length);
		check_payload(copy + pos, n, &hdr, payload);
		pos += (size_t)n;
	}
	free(copy);
	return 0;
}
