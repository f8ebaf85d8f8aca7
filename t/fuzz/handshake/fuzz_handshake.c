/* libFuzzer target for the handshake decoders: any byte string, any length, must decode or be
 * refused without reading past its end, and a decoded hello must re-encode to the same bytes.
 *   clang -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iuser \
 *         t/fuzz/handshake/fuzz_handshake.c user/handshake.c -o build/fuzz_handshake
 *   build/fuzz_handshake -max_total_time=60 t/fuzz/handshake/ */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"

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
	return 0;
}
