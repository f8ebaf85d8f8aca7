// SPDX-License-Identifier: MIT
/* libFuzzer target for the capture's frame parser (user/collect/packet.c). Input: a link type selector
 * byte, two bytes of extra wire length (what the snap length cut off), then the captured bytes.
 * The parser must never read outside the captured bytes and must fill *out consistently. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/packet.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const int linktypes[] = {
	PP_DLT_EN10MB, PP_DLT_RAW, PP_DLT_LINUX_SLL, PP_DLT_IPV4, PP_DLT_IPV6, PP_DLT_LINUX_SLL2,
	0, 147, /* two the parser does not know */
};

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_event ev;
	size_t caplen, wirelen;
	uint8_t *frame;
	int linktype, err;

	if (size < 3)
		return 0;
	linktype = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
	caplen = size - 3;
	/* the wire length is usually caplen plus what was cut; bit 7 of the selector makes it
	 * smaller than caplen, which only a broken capture file says */
	wirelen = data[0] & 0x80 ? (size_t)(data[1] << 8 | data[2]) % (caplen + 1)
				 : caplen + (size_t)(data[1] << 8 | data[2]);
	frame = malloc(caplen); /* exact size: ASan sees any overread */
	memcpy(frame, data + 3, caplen);
	memset(&ev, 0xa5, sizeof(ev));
	err = pp_packet_parse(frame, caplen, wirelen, linktype, &ev);
	if (err) {
		CHECK(err == -ENODATA || err == -EINVAL || err == -EPROTONOSUPPORT);
		CHECK(all_zero(&ev, sizeof(ev)));
	} else {
		size_t wire = wirelen < caplen ? caplen : wirelen;

		CHECK(caplen >= 40); /* at least IPv4 + TCP without options */
		CHECK(ev.family == PP_AF_INET || ev.family == PP_AF_INET6);
		CHECK(ev.len <= wire - 40);
		CHECK(ev.point == 0 && ev.ts_ns == 0 && ev.ts_other_ns == 0 && ev.tgid == 0);
		CHECK(all_zero(ev.pad, sizeof(ev.pad)));
		if (ev.family == PP_AF_INET)
			CHECK(all_zero(ev.saddr + 4, 12) && all_zero(ev.daddr + 4, 12));
	}
	free(frame);
	return 0;
}
