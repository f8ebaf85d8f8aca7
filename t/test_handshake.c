// SPDX-License-Identifier: MIT
/* The handshake codecs: round trips, and every malformed or truncated input refused without
 * reading past its end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ping/handshake.h"
#include "check_main.h"

static int encode_hello(uint32_t size, uint64_t count, uint8_t *buf)
{
	struct pp_hello h;

	pp_hello_init(&h, size, count, 0);
	return pp_hello_encode(&h, buf, PP_HS_HELLO_MAX);
}

START_TEST(test_hello_round_trip)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	struct pp_hello h;
	uint16_t status = 99;

	ck_assert_int_eq(encode_hello(1024, 10100, buf), PP_HS_HELLO_LEN);
	ck_assert_int_eq(pp_hello_peek(buf, 8, &status), PP_HS_HELLO_LEN);
	ck_assert_uint_eq(status, 99);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_OK);
	ck_assert_uint_eq(h.version, PP_HS_VERSION);
	ck_assert_uint_eq(h.length, PP_HS_HELLO_LEN);
	ck_assert_uint_eq(h.msg_size, 1024);
	ck_assert_uint_eq(h.count, 10100);
	ck_assert_uint_eq(h.flags, 0);
}
END_TEST

START_TEST(test_hello_is_big_endian_with_magic_first)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	static const uint8_t expect[PP_HS_HELLO_LEN] = {
		'P', 'P', 'N', 'G', 0, 1, 0, 24, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0,
		0, 0, 0, 0x05, 0x06, 0x07, 0x08, 0x09,
	};

	encode_hello(0x01020304, 0x0506070809ULL, buf);
	ck_assert_mem_eq(buf, expect, sizeof(expect));
}
END_TEST

START_TEST(test_hello_size_bounds)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	struct pp_hello h;

	encode_hello(0, 1, buf);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_BAD_SIZE);
	encode_hello(1, 1, buf);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_OK);
	encode_hello(16u << 20, 1, buf);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_OK);
	encode_hello((16u << 20) + 1, 1, buf);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_BAD_SIZE);
	encode_hello(UINT32_MAX, 1, buf);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_BAD_SIZE);
}
END_TEST

START_TEST(test_hello_bad_magic_is_seen_after_four_bytes)
{
	uint8_t buf[PP_HS_HELLO_MAX] = "GET / HTTP/1.1\r\n\r\n";
	struct pp_hello h;
	uint16_t status = 0;

	ck_assert_int_eq(pp_hello_peek(buf, 3, &status), -EAGAIN);
	ck_assert_int_eq(pp_hello_peek(buf, 4, &status), -EPROTO);
	ck_assert_uint_eq(status, PP_HS_BAD_MAGIC);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_BAD_MAGIC);
}
END_TEST

START_TEST(test_hello_other_version_is_refused_whatever_follows)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	struct pp_hello h;

	encode_hello(1024, 1, buf);
	buf[5] = 2;
	memset(buf + 8, 0xff, 16); /* a later version's fields, meaningless to us */
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_BAD_VERSION);
	ck_assert_uint_eq(h.version, 2);
	buf[5] = 0;
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_BAD_VERSION);
}
END_TEST

START_TEST(test_hello_length_bounds)
{
	uint8_t buf[PP_HS_HELLO_MAX + 8];
	struct pp_hello h;
	uint16_t status = 0;

	encode_hello(1024, 1, buf);
	buf[7] = 23;
	ck_assert_int_eq(pp_hello_peek(buf, 8, &status), -EPROTO);
	ck_assert_uint_eq(status, PP_HS_BAD_LENGTH);
	buf[6] = 0x01, buf[7] = 0x01; /* 257 */
	ck_assert_int_eq(pp_hello_peek(buf, 8, &status), -EPROTO);
	ck_assert_int_eq(pp_hello_decode(buf, sizeof(buf), &h), PP_HS_BAD_LENGTH);
}
END_TEST

START_TEST(test_longer_hello_of_this_version_is_accepted)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	struct pp_hello h;
	uint16_t status;

	pp_hello_init(&h, 64, 3, 0);
	h.length = PP_HS_HELLO_MAX;
	ck_assert_int_eq(pp_hello_encode(&h, buf, sizeof(buf)), PP_HS_HELLO_MAX);
	ck_assert_int_eq(pp_hello_peek(buf, 8, &status), PP_HS_HELLO_MAX);
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_MAX, &h), PP_HS_OK);
	ck_assert_uint_eq(h.msg_size, 64);
}
END_TEST

START_TEST(test_truncated_hello_never_decodes)
{
	uint8_t full[PP_HS_HELLO_LEN];

	encode_hello(1024, 1, full);
	for (size_t len = 0; len < PP_HS_HELLO_LEN; len++) {
		/* An exact-size heap copy, so ASan catches any read past len. */
		uint8_t *cut = malloc(len ? len : 1);
		struct pp_hello h;

		memcpy(cut, full, len);
		ck_assert_int_ne(pp_hello_decode(cut, len, &h), PP_HS_OK);
		free(cut);
	}
}
END_TEST

START_TEST(test_unknown_flags_are_refused)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	struct pp_hello h;

	pp_hello_init(&h, 64, 3, 0x80);
	pp_hello_encode(&h, buf, sizeof(buf));
	ck_assert_int_eq(pp_hello_decode(buf, PP_HS_HELLO_LEN, &h), PP_HS_BAD_FLAGS);
}
END_TEST

START_TEST(test_encode_refuses_small_buffer_and_bad_length)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	struct pp_hello h;

	pp_hello_init(&h, 64, 3, 0);
	ck_assert_int_eq(pp_hello_encode(&h, buf, PP_HS_HELLO_LEN - 1), -ENOSPC);
	h.length = 8;
	ck_assert_int_eq(pp_hello_encode(&h, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(pp_hs_reply_encode(PP_HS_OK, "abc", buf, PP_HS_REPLY_HDR + 2), -ENOSPC);
}
END_TEST

START_TEST(test_reply_round_trip)
{
	uint8_t buf[PP_HS_REPLY_MAX];
	struct pp_hs_reply r;
	int len;

	len = pp_hs_reply_encode(PP_HS_BAD_SIZE, "message size out of range", buf, sizeof(buf));
	ck_assert_int_eq(len, PP_HS_REPLY_HDR + 25);
	ck_assert_int_eq(pp_hs_reply_peek(buf, PP_HS_REPLY_HDR), len);
	ck_assert_int_eq(pp_hs_reply_decode(buf, (size_t)len, &r), 0);
	ck_assert_uint_eq(r.status, PP_HS_BAD_SIZE);
	ck_assert_uint_eq(r.version, PP_HS_VERSION);
	ck_assert_str_eq(r.reason, "message size out of range");

	len = pp_hs_reply_encode(PP_HS_OK, NULL, buf, sizeof(buf));
	ck_assert_int_eq(len, PP_HS_REPLY_HDR);
	ck_assert_int_eq(pp_hs_reply_decode(buf, (size_t)len, &r), 0);
	ck_assert_uint_eq(r.status, PP_HS_OK);
	ck_assert_str_eq(r.reason, "");
}
END_TEST

START_TEST(test_reply_reason_is_bounded_and_printable)
{
	char reason[PP_HS_REASON_MAX + 50];
	uint8_t buf[PP_HS_REPLY_MAX];
	struct pp_hs_reply r;
	int len;

	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	reason[3] = '\n';
	reason[4] = '\x1b';
	len = pp_hs_reply_encode(PP_HS_BUSY, reason, buf, sizeof(buf));
	ck_assert_int_eq(len, PP_HS_REPLY_MAX);
	ck_assert_int_eq(pp_hs_reply_decode(buf, (size_t)len, &r), 0);
	ck_assert_uint_eq(strlen(r.reason), PP_HS_REASON_MAX);
	ck_assert_int_eq(r.reason[3], '?');
	ck_assert_int_eq(r.reason[4], '?');
	/* A forged reply with control bytes is cleaned on decode too. */
	buf[PP_HS_REPLY_HDR] = 0x07;
	ck_assert_int_eq(pp_hs_reply_decode(buf, (size_t)len, &r), 0);
	ck_assert_int_eq(r.reason[0], '?');
}
END_TEST

START_TEST(test_reply_malformed)
{
	uint8_t buf[PP_HS_REPLY_MAX];
	struct pp_hs_reply r;
	int len = pp_hs_reply_encode(PP_HS_OK, "ok", buf, sizeof(buf));

	ck_assert_int_eq(pp_hs_reply_peek(buf, PP_HS_REPLY_HDR - 1), -EAGAIN);
	ck_assert_int_eq(pp_hs_reply_decode(buf, (size_t)len - 1, &r), -EPROTO);
	buf[9] = PP_HS_REASON_MAX + 1;
	ck_assert_int_eq(pp_hs_reply_peek(buf, PP_HS_REPLY_HDR), -EPROTO);
	pp_hs_reply_encode(PP_HS_OK, NULL, buf, sizeof(buf));
	buf[0] = 'X';
	ck_assert_int_eq(pp_hs_reply_decode(buf, PP_HS_REPLY_HDR, &r), -EPROTO);
}
END_TEST

START_TEST(test_random_bytes_never_crash_the_decoders)
{
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % (PP_HS_HELLO_MAX + 16));
		uint8_t *buf = malloc(len ? len : 1);
		struct pp_hello h;
		struct pp_hs_reply r;
		uint16_t status;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand_r(&seed);
		if (len >= 4 && round % 2)
			memcpy(buf, "PPNG", 4); /* get past the magic half of the time */
		(void)pp_hello_peek(buf, len, &status);
		(void)pp_hello_decode(buf, len, &h);
		if (pp_hs_reply_decode(buf, len, &r) == 0)
			ck_assert_uint_le(strlen(r.reason), PP_HS_REASON_MAX);
		free(buf);
	}
}
END_TEST

START_TEST(test_status_names)
{
	ck_assert_str_eq(pp_hs_status_name(PP_HS_OK), "ok");
	ck_assert_str_eq(pp_hs_status_name(PP_HS_BUSY), "server busy");
	ck_assert_str_eq(pp_hs_status_name(999), "unknown status");
}
END_TEST

PP_CHECK_TESTS("handshake", 0,
	       test_hello_round_trip,
	       test_hello_is_big_endian_with_magic_first,
	       test_hello_size_bounds,
	       test_hello_bad_magic_is_seen_after_four_bytes,
	       test_hello_other_version_is_refused_whatever_follows,
	       test_hello_length_bounds,
	       test_longer_hello_of_this_version_is_accepted,
	       test_truncated_hello_never_decodes,
	       test_unknown_flags_are_refused,
	       test_encode_refuses_small_buffer_and_bad_length,
	       test_reply_round_trip,
	       test_reply_reason_is_bounded_and_printable,
	       test_reply_malformed,
	       test_random_bytes_never_crash_the_decoders,
	       test_status_names)
