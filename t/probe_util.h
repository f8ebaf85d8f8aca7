// SPDX-License-Identifier: MIT
/* What the test programs t/rr_probe.c, t/uring_echo.c and t/sched_hog.c share: a bounded
 * number from an option, and one numeric address resolved. Header-only (static inline): each links it
 * into its own binary, and the library's resolver (common/net.h) does the work. */
#ifndef PP_PROBE_UTIL_H
#define PP_PROBE_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/net.h"

/* s as a decimal number in min..max (no sign, no trailing text). 0, or -1. */
static inline int probe_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The first address of addr:port (passive: for bind), into ss and len; says why not on stderr
 * as "prog: addr: reason". 0, or -1. */
static inline int probe_resolve(const char *prog, const char *addr, uint16_t port, bool passive,
				struct sockaddr_storage *ss, socklen_t *len)
{
	struct pp_addr a;
	size_t n = 0;
	int rc = pp_resolve(addr, port, passive, &a, 1, &n);

	if (rc < 0 || !n) {
		fprintf(stderr, "%s: %s: %s\n", prog, addr ? addr : "(any)",
			rc < 0 ? strerror(-rc) : "no address");
		return -1;
	}
	memcpy(ss, &a.ss, a.len);
	*len = a.len;
	return 0;
}

#endif
