// SPDX-License-Identifier: MIT
/* The one error convention: a module's function returns 0 (or a count) on success and -errno
 * on failure, and, where a reason helps the user, fills the caller's struct pp_err with one
 * line (no program name, no newline). Only the programs' mains print it, through common/log.h.
 *
 *	struct pp_err err = { 0 };
 *	if (pp_trace_open(&t, &opts, &err) < 0)
 *		pp_log_fatal(&err);          // "pingpong-ebpf: <reason>"
 */
#ifndef PP_ERR_H
#define PP_ERR_H

#include <stdarg.h>

#define PP_ERR_MSG_MAX 256

struct pp_err {
	int code;                   /* -errno, 0 while nothing failed */
	char msg[PP_ERR_MSG_MAX];   /* one line; empty: strerror(-code) says it all */
};

/* Records code (a -errno) and the formatted reason in e (which may be NULL); returns code,
 * so that a module can `return pp_err_set(e, -EINVAL, "--port must be ...");`. */
__attribute__((format(printf, 3, 4)))
int pp_err_set(struct pp_err *e, int code, const char *fmt, ...);

/* The reason of a failure: e->msg, or strerror(-e->code) when no reason was given. */
const char *pp_err_text(const struct pp_err *e);

#endif
