// SPDX-License-Identifier: MIT
/* The control channel's frame codec: round trips, the exact wire bytes, every truncation,
 * and rejection of bad magic, versions, lengths and field values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/proto.h"
#include "check_main.h"

static struct pp_flow_key v4_key(void)
{
	struct pp_flow_key k;

	ck_assert_int_eq(pp_flow_key_set(&k, "198.18.0.1", 40000, "198.18.0.2", 12345), 0);
	return k;
}

static struct pp_event sample_event(uint32_t i)
{
	struct pp_event ev = { 0 };

	ev.ts_ns = 0x0102030405060708ull + i;
	ev.ts_other_ns = 0x1112131415161718ull;
	ev.seq = 0xfffffff0u + i;
	ev.len = 1448;
	ev.ack = 0xdeadbeef;
	ev.tgid = 4242;
	ev.sport = 40000;
	ev.dport = 12345;
	ev.saddr[0] = 198, ev.saddr[1] = 18, ev.saddr[3] = 1;
	ev.daddr[0] = 198, ev.daddr[1] = 18, ev.daddr[3] = 2;
	ev.point = (uint8_t)(PP_SEND + i % 7);
	ev.family = PP_AF_INET;
	ev.tcp_flags = 0x18;
	return ev;
}

START_TEST(test_fetch_round_trip)
{
	struct pp_fetch_req req = { .flow = v4_key(), .flags = PP_FETCH_HAVE_ISN, .isn = 0x89abcdef }, back;
	uint8_t buf[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN];
	struct pp_frame_hdr hdr;
	const uint8_t *payload;

	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), sizeof(buf));
	ck_assert_int_eq(pp_proto_decode_frame(buf, sizeof(buf), &hdr, &payload), sizeof(buf));
	ck_assert_uint_eq(hdr.type, PP_MSG_FETCH);
	ck_assert_int_eq(pp_proto_decode_fetch(payload, hdr.length, &back), 0);
	ck_assert_mem_eq(&back.flow, &req.flow, sizeof(req.flow));
	ck_assert_uint_eq(back.flags, PP_FETCH_HAVE_ISN);
	ck_assert_uint_eq(back.isn, 0x89abcdef);

	ck_assert_int_eq(pp_flow_key_set(&req.flow, "fd00::1", 1, "fd00::2:3", 65535), 0);
	req.flags = 0;
	req.isn = 0;
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), sizeof(buf));
	ck_assert_int_eq(pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, PP_PROTO_FETCH_LEN, &back), 0);
	ck_assert_mem_eq(&back.flow, &req.flow, sizeof(req.flow));
}
END_TEST

/* docs/protocol.md shows these bytes: the order and byte order of every field are pinned */
START_TEST(test_fetch_wire_bytes)
{
	static const uint8_t want[] = {
		0x50, 0x50, 0x43, 0x54, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2c, /* header */
		0x02, 0x01, 0x00, 0x00, 0x9c, 0x40, 0x30, 0x39,                         /* family flags rsvd ports */
		198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x01, 0x02, 0x03, 0x04,                                                 /* isn */
	};
	struct pp_fetch_req req = { .flow = v4_key(), .flags = PP_FETCH_HAVE_ISN, .isn = 0x01020304 };
	uint8_t buf[64];

	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(test_events_round_trip)
{
	static struct pp_event ev[PP_PROTO_MAX_BATCH], back[PP_PROTO_MAX_BATCH];
	static uint8_t buf[PP_PROTO_MAX_FRAME];
	uint32_t counts[] = { 0, 1, 7, PP_PROTO_MAX_BATCH };
	struct pp_frame_hdr hdr;
	const uint8_t *payload;
	uint32_t n;

	for (uint32_t i = 0; i < PP_PROTO_MAX_BATCH; i++)
		ev[i] = sample_event(i);
	ev[1].family = PP_AF_INET6;
	memset(ev[1].saddr, 0xfe, 16);
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		ssize_t len = pp_proto_encode_events(buf, sizeof(buf), ev, counts[k]);

		ck_assert_int_eq(len, PP_PROTO_HDR_LEN + 4 + counts[k] * PP_PROTO_EVENT_LEN);
		ck_assert_int_eq(pp_proto_decode_frame(buf, (size_t)len, &hdr, &payload), len);
		ck_assert_int_eq(pp_proto_decode_events(payload, hdr.length, back, PP_PROTO_MAX_BATCH, &n), 0);
		ck_assert_uint_eq(n, counts[k]);
		for (uint32_t i = 0; i < n; i++)
			ck_assert_mem_eq(&back[i], &ev[i], sizeof(ev[i]));
	}
	ck_assert_int_eq(pp_proto_encode_events(buf, sizeof(buf), ev, PP_PROTO_MAX_BATCH + 1), -EINVAL);
	/* a receiver with less room says so instead of overflowing */
	pp_proto_encode_events(buf, sizeof(buf), ev, 10);
	ck_assert_int_eq(pp_proto_decode_events(buf + PP_PROTO_HDR_LEN, 4 + 10 * PP_PROTO_EVENT_LEN, back, 9, &n),
			 -EMSGSIZE);
}
END_TEST

START_TEST(test_event_is_encoded_field_by_field)
{
	struct pp_event ev = sample_event(0);
	uint8_t buf[PP_PROTO_HDR_LEN + 4 + PP_PROTO_EVENT_LEN];
	const uint8_t *p = buf + PP_PROTO_HDR_LEN + 4;

	ck_assert_int_eq(pp_proto_encode_events(buf, sizeof(buf), &ev, 1), sizeof(buf));
	ck_assert_uint_eq(p[0], 0x01);              /* ts_ns, big-endian */
	ck_assert_uint_eq(p[7], 0x08);
	ck_assert_uint_eq(p[16], 0xff);             /* seq */
	ck_assert_uint_eq(p[19], 0xf0);
	ck_assert_uint_eq(p[20] | p[21], 0);        /* len */
	ck_assert_uint_eq((unsigned)p[22] << 8 | p[23], 1448);
	ck_assert_uint_eq(p[32] << 8 | p[33], 40000);   /* sport */
	ck_assert_uint_eq(p[36], 198);              /* saddr */
	ck_assert_uint_eq(p[68], PP_SEND);          /* point, family, flags, reserved */
	ck_assert_uint_eq(p[69], PP_AF_INET);
	ck_assert_uint_eq(p[70], 0x18);
	ck_assert_uint_eq(p[71], 0);
}
END_TEST

START_TEST(test_end_and_error_round_trip)
{
	struct pp_end_counts end = { 123456789012ull, 7, 0xffffffffffffffffull }, end_back;
	uint8_t buf[512];
	char text[PP_PROTO_ERROR_TEXT_MAX + 1], longtext[400];
	uint16_t code;
	ssize_t len;

	len = pp_proto_encode_end(buf, sizeof(buf), &end);
	ck_assert_int_eq(len, PP_PROTO_HDR_LEN + PP_PROTO_END_LEN);
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, PP_PROTO_END_LEN, &end_back), 0);
	ck_assert_uint_eq(end_back.events_sent, end.events_sent);
	ck_assert_uint_eq(end_back.lost_samples, end.lost_samples);
	ck_assert_uint_eq(end_back.pcap_drops, end.pcap_drops);
	ck_assert_uint_eq(end_back.dropped, end.dropped);
	ck_assert(!end_back.bpf_known);

	len = pp_proto_encode_error(buf, sizeof(buf), PP_ERR_VERSION, "agent speaks version 1");
	ck_assert_int_eq(len, PP_PROTO_HDR_LEN + 4 + 22);
	ck_assert_int_eq(pp_proto_decode_error(buf + PP_PROTO_HDR_LEN, (size_t)len - PP_PROTO_HDR_LEN, &code, text), 0);
	ck_assert_uint_eq(code, PP_ERR_VERSION);
	ck_assert_str_eq(text, "agent speaks version 1");

	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	longtext[3] = '\033';
	len = pp_proto_encode_error(buf, sizeof(buf), PP_ERR_INTERNAL, longtext);
	ck_assert_int_eq(len, PP_PROTO_HDR_LEN + 4 + PP_PROTO_ERROR_TEXT_MAX);
	ck_assert_int_eq(pp_proto_decode_error(buf + PP_PROTO_HDR_LEN, (size_t)len - PP_PROTO_HDR_LEN, &code, text), 0);
	ck_assert_uint_eq(strlen(text), PP_PROTO_ERROR_TEXT_MAX);
	ck_assert_int_eq(text[3], '?');             /* no escape sequences reach a terminal */
}
END_TEST

/* Every prefix of every frame: the frame decoder asks for more, never reads past the end. */
START_TEST(test_every_truncation_is_incomplete)
{
	struct pp_fetch_req req = { .flow = v4_key() };
	struct pp_end_counts end = { 1, 2, 3 };
	struct pp_event ev[3] = { sample_event(0), sample_event(1), sample_event(2) };
	uint8_t frames[4][512];
	ssize_t lens[4];

	lens[0] = pp_proto_encode_fetch(frames[0], 512, &req);
	lens[1] = pp_proto_encode_events(frames[1], 512, ev, 3);
	lens[2] = pp_proto_encode_end(frames[2], 512, &end);
	lens[3] = pp_proto_encode_error(frames[3], 512, 1, "bad");
	for (int f = 0; f < 4; f++) {
		ck_assert_int_gt(lens[f], 0);
		for (ssize_t n = 0; n < lens[f]; n++) {
			/* a heap copy of exactly n bytes, so ASan catches any read past it */
			uint8_t *copy = malloc(n ? (size_t)n : 1);
			struct pp_frame_hdr hdr;
			const uint8_t *payload;

			memcpy(copy, frames[f], (size_t)n);
			ck_assert_int_eq(pp_proto_decode_frame(copy, (size_t)n, &hdr, &payload), -EAGAIN);
			free(copy);
		}
	}
}
END_TEST

/* A payload cut short (or padded) is malformed for every payload decoder. */
START_TEST(test_every_truncated_payload_is_rejected)
{
	struct pp_fetch_req req = { .flow = v4_key() }, back;
	struct pp_end_counts end = { 1, 2, 3 }, end_back;
	struct pp_event ev[2] = { sample_event(0), sample_event(1) }, out[4];
	uint8_t buf[512];
	char text[PP_PROTO_ERROR_TEXT_MAX + 1];
	uint16_t code;
	uint32_t n;
	ssize_t len;

	len = pp_proto_encode_fetch(buf, sizeof(buf), &req) - PP_PROTO_HDR_LEN;
	for (ssize_t k = 0; k <= len + 1; k++)
		if (k != len)
			ck_assert_int_eq(pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, (size_t)k, &back), -EBADMSG);
	len = pp_proto_encode_events(buf, sizeof(buf), ev, 2) - PP_PROTO_HDR_LEN;
	for (ssize_t k = 0; k <= len + 1; k++)
		if (k != len)
			ck_assert_int_eq(pp_proto_decode_events(buf + PP_PROTO_HDR_LEN, (size_t)k, out, 4, &n), -EBADMSG);
	len = pp_proto_encode_end(buf, sizeof(buf), &end) - PP_PROTO_HDR_LEN;
	for (ssize_t k = 0; k <= len + 1; k++)
		if (k != len && k != PP_PROTO_END_LEN_SHORT) /* an older agent's END is its head */
			ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, (size_t)k, &end_back), -EBADMSG);
	len = pp_proto_encode_error(buf, sizeof(buf), 3, "some text") - PP_PROTO_HDR_LEN;
	for (ssize_t k = 0; k <= len + 1; k++)
		if (k != len)
			ck_assert_int_eq(pp_proto_decode_error(buf + PP_PROTO_HDR_LEN, (size_t)k, &code, text), -EBADMSG);
}
END_TEST

START_TEST(test_small_buffers_are_refused)
{
	struct pp_fetch_req req = { .flow = v4_key() };
	struct pp_event ev[2] = { sample_event(0), sample_event(1) };
	struct pp_end_counts end = { 0 };
	uint8_t buf[512];

	for (size_t cap = 0; cap < PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN; cap++)
		ck_assert_int_eq(pp_proto_encode_fetch(buf, cap, &req), -ENOSPC);
	for (size_t cap = 0; cap < PP_PROTO_HDR_LEN + 4 + 2 * PP_PROTO_EVENT_LEN; cap++)
		ck_assert_int_eq(pp_proto_encode_events(buf, cap, ev, 2), -ENOSPC);
	for (size_t cap = 0; cap < PP_PROTO_HDR_LEN + PP_PROTO_END_LEN; cap++)
		ck_assert_int_eq(pp_proto_encode_end(buf, cap, &end), -ENOSPC);
	for (size_t cap = 0; cap < PP_PROTO_HDR_LEN + 4 + 4; cap++)
		ck_assert_int_eq(pp_proto_encode_error(buf, cap, 1, "abcd"), -ENOSPC);
}
END_TEST

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

START_TEST(test_bad_headers_are_rejected)
{
	struct pp_end_counts end = { 1, 2, 3 };
	uint8_t good[64], buf[64];
	struct pp_frame_hdr hdr;

	pp_proto_encode_end(good, sizeof(good), &end);
	ck_assert_int_eq(pp_proto_decode_hdr(good, sizeof(good), &hdr), 0);

	memcpy(buf, good, sizeof(buf));
	buf[0] = 'X';
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EPROTO);

	memcpy(buf, good, sizeof(buf));
	buf[5] = 1;                                 /* version 1 */
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EPROTONOSUPPORT);
	ck_assert_uint_eq(hdr.version, 1);
	ck_assert_uint_eq(hdr.type, PP_MSG_END);    /* filled: the answer can go in version 1 */
	buf[5] = 3;                                 /* version 3 */
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EPROTONOSUPPORT);
	ck_assert_uint_eq(hdr.version, 3);
	buf[5] = 0;
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EPROTONOSUPPORT);

	memcpy(buf, good, sizeof(buf));
	buf[7] = 6;                                 /* unknown type */
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EBADMSG);
	buf[7] = 0;
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EBADMSG);

	/* lengths the type cannot have, down to the 4 GiB a hostile peer could claim */
	memcpy(buf, good, sizeof(buf));
	put32(buf + 8, PP_PROTO_END_LEN + 1);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EMSGSIZE);
	buf[7] = PP_MSG_EVENTS;
	put32(buf + 8, 0xffffffffu);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EMSGSIZE);
	put32(buf + 8, PP_PROTO_MAX_PAYLOAD + PP_PROTO_EVENT_LEN);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EMSGSIZE);
	put32(buf + 8, 4 + PP_PROTO_EVENT_LEN - 1);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EMSGSIZE);
	put32(buf + 8, PP_PROTO_MAX_PAYLOAD);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), 0);
	buf[7] = PP_MSG_ERROR;
	put32(buf + 8, 4 + PP_PROTO_ERROR_TEXT_MAX + 1);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EMSGSIZE);
	buf[7] = PP_MSG_FETCH;
	put32(buf + 8, PP_PROTO_FETCH_LEN - 1);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EMSGSIZE);
	buf[7] = PP_MSG_STOP;                       /* STOP carries nothing */
	put32(buf + 8, 1);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), -EMSGSIZE);
	put32(buf + 8, 0);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), 0);
}
END_TEST

/* Version 2's additions: FOLLOW, STOP, the 32-byte END, an ERROR in version 1's words, and
 * EVENTS frames built an event at a time equal to those built at once. */
START_TEST(test_v2_follow_stop_end_and_v1_error)
{
	static const uint8_t want_stop[] = { 0x50, 0x50, 0x43, 0x54, 0x00, 0x02, 0x00, 0x05, 0, 0, 0, 0 };
	static const uint8_t want_end[] = {
		0x50, 0x50, 0x43, 0x54, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x20,
		0, 0, 0, 0, 0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 3,  0, 0, 0, 0, 0, 0, 0, 4,
	};
	struct pp_fetch_req req = { .flow = v4_key(), .flags = PP_FETCH_FOLLOW }, back;
	struct pp_end_counts end = { .events_sent = 1, .lost_samples = 2, .pcap_drops = 3, .dropped = 4 };
	struct pp_event ev[3] = { sample_event(0), sample_event(1), sample_event(2) };
	uint8_t buf[512], once[512];
	const uint8_t *payload;
	struct pp_frame_hdr hdr;
	char text[PP_PROTO_ERROR_TEXT_MAX + 1];
	uint16_t code;
	ssize_t len;

	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN);
	ck_assert_uint_eq(buf[PP_PROTO_HDR_LEN + 1], 0x02);
	ck_assert_int_eq(pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, PP_PROTO_FETCH_LEN, &back), 0);
	ck_assert_uint_eq(back.flags, PP_FETCH_FOLLOW);
	req.flags = PP_FETCH_FOLLOW | PP_FETCH_HAVE_ISN;
	req.isn = 7;
	pp_proto_encode_fetch(buf, sizeof(buf), &req);
	ck_assert_int_eq(pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, PP_PROTO_FETCH_LEN, &back), 0);
	ck_assert_uint_eq(back.isn, 7);
	req.flags = 0x04;
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);

	ck_assert_int_eq(pp_proto_encode_stop(buf, sizeof(buf)), sizeof(want_stop));
	ck_assert_mem_eq(buf, want_stop, sizeof(want_stop));
	ck_assert_int_eq(pp_proto_encode_stop(buf, 11), -ENOSPC);
	ck_assert_int_eq(pp_proto_decode_frame(buf, sizeof(want_stop), &hdr, &payload), 12);
	ck_assert_uint_eq(hdr.type, PP_MSG_STOP);

	ck_assert_int_eq(pp_proto_encode_end_len(buf, sizeof(buf), &end, PP_PROTO_END_LEN_SHORT),
			 sizeof(want_end));
	ck_assert_mem_eq(buf, want_end, sizeof(want_end));
	memset(&end, 0, sizeof(end));
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, 32, &end), 0);
	ck_assert_uint_eq(end.dropped, 4);
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, 24, &end), -EBADMSG); /* v1's */

	len = pp_proto_encode_error_in(buf, sizeof(buf), 1, PP_ERR_VERSION, "this agent speaks 2");
	ck_assert_int_gt(len, 0);
	ck_assert_uint_eq(buf[5], 1);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, PP_PROTO_HDR_LEN, &hdr), -EPROTONOSUPPORT);
	ck_assert_int_eq(pp_proto_decode_error(buf + PP_PROTO_HDR_LEN, hdr.length, &code, text), 0);
	ck_assert_uint_eq(code, PP_ERR_VERSION);
	ck_assert_str_eq(text, "this agent speaks 2");

	len = pp_proto_encode_events(once, sizeof(once), ev, 3);
	ck_assert_int_eq(pp_proto_encode_events_head(buf, sizeof(buf), 3), PP_PROTO_HDR_LEN + 4);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(pp_proto_encode_event(buf + PP_PROTO_HDR_LEN + 4 + i * PP_PROTO_EVENT_LEN,
						       PP_PROTO_EVENT_LEN, &ev[i]), PP_PROTO_EVENT_LEN);
	ck_assert_mem_eq(buf, once, (size_t)len);
	ck_assert_int_eq(pp_proto_encode_events_head(buf, sizeof(buf), PP_PROTO_MAX_BATCH + 1), -EINVAL);
	ev[0].point = 0;
	ck_assert_int_eq(pp_proto_encode_event(buf, sizeof(buf), &ev[0]), -EINVAL);
	ck_assert_int_eq(pp_proto_encode_event(buf, PP_PROTO_EVENT_LEN - 1, &ev[1]), -ENOSPC);
}
END_TEST

START_TEST(test_bad_payload_fields_are_rejected)
{
	struct pp_fetch_req req = { .flow = v4_key() }, back;
	struct pp_event ev = sample_event(0), out;
	uint8_t buf[512], *p = buf + PP_PROTO_HDR_LEN;
	uint32_t n;

	pp_proto_encode_fetch(buf, sizeof(buf), &req);
	p[0] = 3;                                   /* family */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	p[0] = PP_AF_INET;
	p[1] = 0x80;                                /* unknown flag */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	p[1] = 0;
	p[3] = 1;                                   /* reserved */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	p[3] = 0;
	p[4] = p[5] = 0;                            /* port 0 */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	pp_proto_encode_fetch(buf, sizeof(buf), &req);
	p[8 + 5] = 1;                               /* IPv4 with bytes past the fourth */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	pp_proto_encode_fetch(buf, sizeof(buf), &req);
	p[43] = 1;                                  /* an ISN without its flag */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);

	pp_proto_encode_events(buf, sizeof(buf), &ev, 1);
	p[3] = 2;                                   /* count says 2, length says 1 */
	ck_assert_int_eq(pp_proto_decode_events(p, 4 + PP_PROTO_EVENT_LEN, &out, 1, &n), -EBADMSG);
	p[3] = 1;
	p[4 + 68] = PP_POINT_MAX;                   /* point */
	ck_assert_int_eq(pp_proto_decode_events(p, 4 + PP_PROTO_EVENT_LEN, &out, 1, &n), -EBADMSG);
	p[4 + 68] = PP_SEND;
	p[4 + 69] = 7;                              /* family */
	ck_assert_int_eq(pp_proto_decode_events(p, 4 + PP_PROTO_EVENT_LEN, &out, 1, &n), -EBADMSG);
	p[4 + 69] = PP_AF_INET;
	p[4 + 71] = 1;                              /* reserved */
	ck_assert_int_eq(pp_proto_decode_events(p, 4 + PP_PROTO_EVENT_LEN, &out, 1, &n), -EBADMSG);
	p[4 + 71] = 0;
	ck_assert_int_eq(pp_proto_decode_events(p, 4 + PP_PROTO_EVENT_LEN, &out, 1, &n), 0);
	ck_assert_uint_eq(n, 1);

	ev.point = 0;
	ck_assert_int_eq(pp_proto_encode_events(buf, sizeof(buf), &ev, 1), -EINVAL);
	req.flow.client_port = 0;
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);
}
END_TEST

/* Random bytes, and valid frames with random bytes flipped: decoders answer, never crash. */
START_TEST(test_random_input_never_crashes)
{
	static struct pp_event out[PP_PROTO_MAX_BATCH];
	struct pp_event ev[4] = { sample_event(0), sample_event(1), sample_event(2), sample_event(3) };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t valid[512], buf[512];
	ssize_t vlen = pp_proto_encode_events(valid, sizeof(valid), ev, 4);
	unsigned accepted = 0;

	for (int round = 0; round < 200000; round++) {
		size_t len = (size_t)(x % sizeof(buf));
		struct pp_frame_hdr hdr;
		const uint8_t *payload;
		struct pp_fetch_req req;
		struct pp_end_counts end;
		char text[PP_PROTO_ERROR_TEXT_MAX + 1];
		uint16_t code;
		uint32_t n;
		ssize_t r;

		if (round & 1) {
			memcpy(buf, valid, (size_t)vlen);
			len = (size_t)vlen;
		}
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (!(round & 1) || (x & 63) == 0)
				buf[i] = (uint8_t)x;
		}
		if (!(round & 1) && len >= 8) {
			memcpy(buf, valid, 6);              /* get past the magic now and then */
			buf[7] = (uint8_t)(1 + round % 4);
		}
		r = pp_proto_decode_frame(buf, len, &hdr, &payload);
		if (r < 0)
			continue;
		ck_assert_int_le(r, (ssize_t)len);
		switch (hdr.type) {
		case PP_MSG_FETCH:
			accepted += pp_proto_decode_fetch(payload, hdr.length, &req) == 0;
			break;
		case PP_MSG_EVENTS:
			if (pp_proto_decode_events(payload, hdr.length, out, PP_PROTO_MAX_BATCH, &n) == 0) {
				ck_assert_uint_le(4 + n * PP_PROTO_EVENT_LEN, hdr.length);
				accepted++;
			}
			break;
		case PP_MSG_END:
			accepted += pp_proto_decode_end(payload, hdr.length, &end) == 0;
			break;
		case PP_MSG_ERROR:
			if (pp_proto_decode_error(payload, hdr.length, &code, text) == 0)
				ck_assert_uint_le(strlen(text), PP_PROTO_ERROR_TEXT_MAX);
			break;
		}
	}
	ck_assert_uint_gt(accepted, 0);   /* the mutations did reach the payload decoders */
}
END_TEST

START_TEST(test_flow_direction)
{
	struct pp_flow_key k = v4_key(), k6;
	struct pp_event ev = sample_event(0);
	char s[PP_FLOW_KEY_STRLEN];

	ck_assert_int_eq(pp_flow_dir(&k, &ev), PP_DIR_TO_SERVER);
	memcpy(ev.saddr, k.server_addr, 16), memcpy(ev.daddr, k.client_addr, 16);
	ev.sport = 12345, ev.dport = 40000;
	ck_assert_int_eq(pp_flow_dir(&k, &ev), PP_DIR_TO_CLIENT);
	ev.dport = 40001;
	ck_assert_int_eq(pp_flow_dir(&k, &ev), PP_DIR_NONE);
	ev.dport = 40000;
	ev.family = PP_AF_INET6;
	ck_assert_int_eq(pp_flow_dir(&k, &ev), PP_DIR_NONE);
	ev.family = PP_AF_INET;
	ev.daddr[3] = 9;
	ck_assert_int_eq(pp_flow_dir(&k, &ev), PP_DIR_NONE);

	ck_assert_str_eq(pp_flow_key_str(&k, s, sizeof(s)), "198.18.0.1:40000 -> 198.18.0.2:12345");
	ck_assert_int_eq(pp_flow_key_set(&k6, "2001:db8::1", 5, "2001:db8::2", 6), 0);
	ck_assert_str_eq(pp_flow_key_str(&k6, s, sizeof(s)), "[2001:db8::1]:5 -> [2001:db8::2]:6");
	ck_assert_int_eq(pp_flow_key_set(&k6, "2001:db8::1", 5, "198.18.0.2", 6), -EINVAL);
	ck_assert_int_eq(pp_flow_key_set(&k6, "nonsense", 5, "198.18.0.2", 6), -EINVAL);
	ck_assert_int_eq(pp_flow_key_set(&k6, "198.18.0.1", 0, "198.18.0.2", 6), -EINVAL);

	ev = sample_event(0);
	pp_flow_key_from_event(&k6, &ev, true);
	ck_assert_mem_eq(&k6, &k, sizeof(k));
}
END_TEST

/* PP_FETCH_ALL_PORTS: client port 0 and no ISN, checked by the encoder and by the decoder on
 * the wire bytes, each refusal on its own; unknown flag bits stay refused. */
START_TEST(test_fetch_all_ports)
{
	static const uint8_t want[] = {
		0x50, 0x50, 0x43, 0x54, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2c, /* header */
		0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x30, 0x39,                         /* any port, 12345 */
		198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x00, 0x00,                                                 /* no ISN */
	};
	struct pp_fetch_req req = { .flow = v4_key(), .flags = PP_FETCH_ALL_PORTS | PP_FETCH_FOLLOW }, back;
	uint8_t buf[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN], *p = buf + PP_PROTO_HDR_LEN;
	char s[PP_FLOW_KEY_STRLEN];

	ck_assert_uint_eq(PP_FETCH_ALL_PORTS, 0x4);
	/* encoder: a port with the flag, an ISN with the flag, a port 0 without it */
	ck_assert(!pp_fetch_req_valid(&req));
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);
	req.flow.client_port = 0;
	ck_assert(pp_fetch_req_valid(&req));
	req.flags |= PP_FETCH_HAVE_ISN;
	req.isn = 7;
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);
	req.flags &= (uint8_t)~PP_FETCH_HAVE_ISN;
	req.isn = 0;
	req.flags &= (uint8_t)~PP_FETCH_ALL_PORTS;
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);
	req.flags = PP_FETCH_ALL_PORTS | 0x10;       /* a bit nobody defined */
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);
	req.flags = PP_FETCH_ALL_PORTS;
	req.flow.server_port = 0;                   /* the server end is never a wildcard */
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);
	req.flow.server_port = 12345;
	req.flow.client_addr[6] = 1;                /* IPv4 with bytes past the fourth */
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), -EINVAL);
	req.flow.client_addr[6] = 0;

	/* round trip, and the bytes docs/protocol.md shows: flags 0x06, client port 0 */
	req.flags = PP_FETCH_ALL_PORTS | PP_FETCH_FOLLOW;
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), sizeof(buf));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), 0);
	ck_assert_mem_eq(&back.flow, &req.flow, sizeof(req.flow));
	ck_assert_uint_eq(back.flags, PP_FETCH_ALL_PORTS | PP_FETCH_FOLLOW);
	ck_assert_str_eq(pp_flow_key_str(&back.flow, s, sizeof(s)), "198.18.0.1:* -> 198.18.0.2:12345");

	/* decoder, on the wire: a port with the flag, an ISN with the flag, unknown bits */
	p[5] = 1;
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	p[5] = 0;
	p[1] |= PP_FETCH_HAVE_ISN;
	p[43] = 1;
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	p[43] = 0;                                  /* the flag alone, ISN 0: still one instance */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	p[1] &= (uint8_t)~PP_FETCH_HAVE_ISN;
	for (unsigned bit = 0x10; bit <= 0x80; bit <<= 1) { /* 0x8: PP_FETCH_COST */
		p[1] |= (uint8_t)bit;
		ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
		p[1] &= (uint8_t)~bit;
	}
	p[1] &= (uint8_t)~PP_FETCH_ALL_PORTS;       /* port 0 without the flag */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);
	p[1] |= PP_FETCH_ALL_PORTS;
	p[6] = p[7] = 0;                            /* server port 0 */
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), -EBADMSG);

	/* without the flag, a FETCH is as it was */
	req = (struct pp_fetch_req){ .flow = v4_key() };
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), sizeof(buf));
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), 0);

	/* IPv6 too */
	ck_assert_int_eq(pp_flow_key_set(&req.flow, "fd00::1", 1, "fd00::2", 6379), 0);
	req.flow.client_port = 0;
	req.flags = PP_FETCH_ALL_PORTS;
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), sizeof(buf));
	ck_assert_int_eq(pp_proto_decode_fetch(p, PP_PROTO_FETCH_LEN, &back), 0);
	ck_assert_str_eq(pp_flow_key_str(&back.flow, s, sizeof(s)), "[fd00::1]:* -> [fd00::2]:6379");
}
END_TEST

/* A key with client port 0 matches every client port of its address, in both directions, and
 * nothing else: not another client address, not another server port, not port 0 of the server
 * end; a one-connection key does not match an event whose port is 0. */
START_TEST(test_flow_direction_all_ports)
{
	struct pp_flow_key one = v4_key(), all = one;
	struct pp_event ev = sample_event(0);

	all.client_port = 0;
	ck_assert(pp_flow_key_any_port(&all) && !pp_flow_key_any_port(&one));
	for (uint32_t port = 1; port <= 65535; port += 4099) {
		ev = sample_event(0);
		ev.sport = (uint16_t)port;
		ck_assert_int_eq(pp_flow_dir(&all, &ev), PP_DIR_TO_SERVER);
		ck_assert_int_eq(pp_flow_dir(&one, &ev), port == 40000 ? PP_DIR_TO_SERVER : PP_DIR_NONE);
		memcpy(ev.saddr, all.server_addr, 16), memcpy(ev.daddr, all.client_addr, 16);
		ev.sport = 12345, ev.dport = (uint16_t)port;
		ck_assert_int_eq(pp_flow_dir(&all, &ev), PP_DIR_TO_CLIENT);
	}
	ev = sample_event(0);
	ev.sport = 0;                                /* an event's port 0 is no wildcard */
	ck_assert_int_eq(pp_flow_dir(&one, &ev), PP_DIR_NONE);
	ev = sample_event(0);
	ev.saddr[3] = 3;                             /* another client host */
	ck_assert_int_eq(pp_flow_dir(&all, &ev), PP_DIR_NONE);
	ev = sample_event(0);
	ev.dport = 12346;                            /* another service port (the control port) */
	ck_assert_int_eq(pp_flow_dir(&all, &ev), PP_DIR_NONE);
	ev.dport = 0;
	ck_assert_int_eq(pp_flow_dir(&all, &ev), PP_DIR_NONE);
	ev = sample_event(0);
	ev.family = PP_AF_INET6;
	ck_assert_int_eq(pp_flow_dir(&all, &ev), PP_DIR_NONE);
	/* the server talking to the client host from another port is not the service */
	ev = sample_event(0);
	memcpy(ev.saddr, all.server_addr, 16), memcpy(ev.daddr, all.client_addr, 16);
	ev.sport = 22, ev.dport = 40000;
	ck_assert_int_eq(pp_flow_dir(&all, &ev), PP_DIR_NONE);
	ck_assert(!pp_flow_key_valid(&all));         /* one connection's key: never a wildcard */
}
END_TEST

/* END with the agent's probe cost (48 bytes, to a client that sent PP_FETCH_COST), the short
 * one of older agents still read (cost unknown), and the cost's "unknown" on the wire. */
START_TEST(test_end_with_probe_cost)
{
	static const uint8_t want[] = {
		0x50, 0x50, 0x43, 0x54, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x30,
		0, 0, 0, 0, 0, 0, 0, 1,  0, 0, 0, 0, 0, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 0, 3,  0, 0, 0, 0, 0, 0, 0, 4,
		0, 0, 0, 0, 0x01, 0x1b, 0xbd, 0x69,  0, 0, 0, 0, 0, 0x03, 0xc8, 0x13, /* 18595177, 247827 */
	};
	struct pp_end_counts end = { .events_sent = 1, .lost_samples = 2, .pcap_drops = 3, .dropped = 4,
				     .bpf_known = true, .bpf_run_ns = 18595177, .bpf_runs = 247827 }, back;
	struct pp_fetch_req req = { .flow = v4_key(), .flags = PP_FETCH_FOLLOW | PP_FETCH_COST }, rback;
	struct pp_frame_hdr hdr;
	uint8_t buf[128];

	ck_assert_int_eq(pp_proto_encode_end(buf, sizeof(buf), &end), sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), 0);
	ck_assert_uint_eq(hdr.length, PP_PROTO_END_LEN);
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, PP_PROTO_END_LEN, &back), 0);
	ck_assert(back.bpf_known);
	ck_assert_uint_eq(back.bpf_run_ns, 18595177);
	ck_assert_uint_eq(back.bpf_runs, 247827);
	ck_assert_uint_eq(back.dropped, 4);

	/* an older agent's END: the same head, 32 bytes, cost unknown */
	ck_assert_int_eq(pp_proto_encode_end_len(buf, sizeof(buf), &end, PP_PROTO_END_LEN_SHORT),
			 PP_PROTO_HDR_LEN + PP_PROTO_END_LEN_SHORT);
	ck_assert_mem_eq(buf + PP_PROTO_HDR_LEN, want + PP_PROTO_HDR_LEN, PP_PROTO_END_LEN_SHORT);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr), 0);
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, hdr.length, &back), 0);
	ck_assert(!back.bpf_known);
	ck_assert_uint_eq(back.bpf_run_ns, 0);
	ck_assert_uint_eq(back.dropped, 4);
	ck_assert_int_eq(pp_proto_encode_end_len(buf, sizeof(buf), &end, 40), -EINVAL);

	/* unknown: both fields all ones; one of them alone is malformed */
	end.bpf_known = false;
	ck_assert_int_eq(pp_proto_encode_end(buf, sizeof(buf), &end), sizeof(want));
	for (int i = 44; i < 60; i++)
		ck_assert_uint_eq(buf[i], 0xff);
	back.bpf_known = true;
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, PP_PROTO_END_LEN, &back), 0);
	ck_assert(!back.bpf_known);
	buf[59] = 0xfe;
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, PP_PROTO_END_LEN, &back), -EBADMSG);
	/* a known count that would read as unknown is sent as unknown, never half */
	end.bpf_known = true;
	end.bpf_run_ns = PP_END_UNKNOWN;
	pp_proto_encode_end(buf, sizeof(buf), &end);
	ck_assert_int_eq(pp_proto_decode_end(buf + PP_PROTO_HDR_LEN, PP_PROTO_END_LEN, &back), 0);
	ck_assert(!back.bpf_known);

	/* no other END length passes the header */
	for (uint32_t n = 0; n < 64; n++) {
		pp_proto_encode_end(buf, sizeof(buf), &end);
		put32(buf + 8, n);
		ck_assert_int_eq(pp_proto_decode_hdr(buf, sizeof(buf), &hdr),
				 n == 32 || n == 48 ? 0 : -EMSGSIZE);
	}

	/* the client's flag asking for it: bit 3, with any other */
	ck_assert_int_eq(pp_proto_encode_fetch(buf, sizeof(buf), &req), PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN);
	ck_assert_uint_eq(buf[PP_PROTO_HDR_LEN + 1], 0x0a);
	ck_assert_int_eq(pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, PP_PROTO_FETCH_LEN, &rback), 0);
	ck_assert_uint_eq(rback.flags, PP_FETCH_FOLLOW | PP_FETCH_COST);
	buf[PP_PROTO_HDR_LEN + 1] = 0x10;            /* the next bit is still unknown */
	ck_assert_int_eq(pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, PP_PROTO_FETCH_LEN, &rback), -EBADMSG);
}
END_TEST

PP_CHECK_TESTS("proto", 60,
	       test_end_with_probe_cost,
	       test_v2_follow_stop_end_and_v1_error,
	       test_fetch_round_trip,
	       test_fetch_wire_bytes,
	       test_events_round_trip,
	       test_event_is_encoded_field_by_field,
	       test_end_and_error_round_trip,
	       test_every_truncation_is_incomplete,
	       test_every_truncated_payload_is_rejected,
	       test_small_buffers_are_refused,
	       test_bad_headers_are_rejected,
	       test_bad_payload_fields_are_rejected,
	       test_random_input_never_crashes,
	       test_flow_direction,
	       test_fetch_all_ports,
	       test_flow_direction_all_ports)
