// SPDX-License-Identifier: MIT
/* libFuzzer target for the handshake decoders: any byte string, any length, must decode or be
 * refused without reading past its end, a decoded hello must re-encode to the same bytes, and
 * any reason text must survive a reply's encode and decode (cleaned). `make fuzz` builds it:
 *   make -f GNUmakefile -f t/fuzz/fuzz.mk fuzz FUZZ_TARGETS=handshake */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ping/handshake.h"

/* The input as a reply's reason: what the server says must reach the client, cut to
 * PP_HS_REASON_MAX bytes and with every byte outside printable ASCII made a '?'. */
static void reply_round_trip(const uint8_t *data, size_t size)
{
	char *reason = malloc(size + 1);
	uint8_t buf[PP_HS_REPLY_MAX];
	uint16_t status = size ? data[0] : 0;
	struct pp_hs_reply reply;
	size_t n;
	int len;

	memcpy(reason, data, size);
	reason[size] = '\0';
	n = strnlen(reason, PP_HS_REASON_MAX);
	len = pp_hs_reply_encode(status, reason, buf, sizeof(buf));
	if (len != (int)(PP_HS_REPLY_HDR + n) || pp_hs_reply_peek(buf, (size_t)len) != len ||
	    pp_hs_reply_decode(buf, (size_t)len, &reply) != 0 || reply.status != status ||
	    reply.version != PP_HS_VERSION || strlen(reply.reason) != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)reason[i];

		if (reply.reason[i] != (c >= 0x20 && c < 0x7f ? (char)c : '?'))
			abort();
	}
	/* one byte short is never a whole reply */
	if (pp_hs_reply_decode(buf, (size_t)len - 1, &reply) == 0)
		abort();
	free(reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */
	struct pp_hello hello;
	struct pp_hs_reply reply;
	uint16_t status;

	memcpy(copy, data, size);
	(void)pp_hello_peek(copy, size, &status);
	if (pp_hello_decode(copy, size, &hello) == PP_HS_OK && hello.length == PP_HS_HELLO_LEN) {
		uint8_t again[PP_HS_HELLO_MAX];

		if (pp_hello_encode(&hello, again, sizeof(again)) != PP_HS_HELLO_LEN ||
		    memcmp(again, copy, PP_HS_HELLO_LEN))
			abort();
	}
	if (pp_hs_reply_decode(copy, size, &reply) == 0 && strlen(reply.reason) > PP_HS_REASON_MAX)
		abort();
	(void)pp_hs_reply_peek(copy, size);
	free(copy);
	reply_round_trip(data, size);
	return 0;
}
