// SPDX-License-Identifier: MIT
/* TEMP stub until the agentv2 branch lands */
#include <errno.h>
#include "collect/fetch.h"
int pp_control_follow_open(struct pp_fetch **out, const char *addr, uint16_t port,
			   const struct pp_fetch_req *req, int timeout_ms)
{ (void)addr; (void)port; (void)req; (void)timeout_ms; *out = 0; return -ECONNREFUSED; }
int pp_control_follow_fd(const struct pp_fetch *f) { (void)f; return -1; }
int pp_control_follow_read(struct pp_fetch *f, pp_emit_fn cb, void *ctx) { (void)f; (void)cb; (void)ctx; return -ECONNRESET; }
int pp_control_follow_stop(struct pp_fetch *f) { (void)f; return -EPIPE; }
uint64_t pp_control_follow_last_frame_ns(const struct pp_fetch *f) { (void)f; return 0; }
