// SPDX-License-Identifier: MIT
/* The one way the programs talk to their user on stderr: "prog: message" lines, each with a
 * level, shown up to the level -v raised (as xdp-tools' logging helper: info by default,
 * debug with -v). Only mains (and the libbpf print callback collect/trace.c installs for
 * them) print; modules fill a struct pp_err (common/err.h) and return -errno.
 *
 *	pp_log_init("pingpong-ebpf");
 *	pp_log_more(opts.verbosity);             // -v: debug lines too
 *	if (pp_trace_open(&t, &o, &err) < 0)
 *		return pp_log_fail(&err, 1);     // "pingpong-ebpf: <reason>", exit status 1
 */
#ifndef PP_LOG_H
#define PP_LOG_H

#include <stdarg.h>

#include "common/err.h"

enum pp_log_level {
	PP_LOG_ERROR,  /* it failed; always shown */
	PP_LOG_WARN,   /* it goes on, with less than asked */
	PP_LOG_INFO,   /* what it does; shown by default */
	PP_LOG_DEBUG,  /* counts and details: -v */
};

/* The program name every line starts with; the level starts at PP_LOG_INFO. */
void pp_log_init(const char *prog);
const char *pp_log_prog(void);
/* Raises the level by n steps (each -v is one), at most to PP_LOG_DEBUG. */
void pp_log_more(int n);
void pp_log_set_level(enum pp_log_level level);
enum pp_log_level pp_log_level(void);
/* Whether a line of this level would be shown (to skip costly formatting). */
int pp_log_enabled(enum pp_log_level level);

__attribute__((format(printf, 2, 3)))
void pp_log(enum pp_log_level level, const char *fmt, ...);
__attribute__((format(printf, 2, 0)))
void pp_log_v(enum pp_log_level level, const char *fmt, va_list ap);

#define pp_log_error(...) pp_log(PP_LOG_ERROR, __VA_ARGS__)
#define pp_log_warn(...)  pp_log(PP_LOG_WARN, __VA_ARGS__)
#define pp_log_info(...)  pp_log(PP_LOG_INFO, __VA_ARGS__)
#define pp_log_debug(...) pp_log(PP_LOG_DEBUG, __VA_ARGS__)

/* A status that rewrites itself in place on a terminal ("\r12000/20000 exchanges", no
 * newline); the next line of any level, or pp_log_status_end, ends it first. */
__attribute__((format(printf, 1, 2)))
void pp_log_status(const char *fmt, ...);
void pp_log_status_end(void);

/* Each line of text (newline-separated, as a module's report) as a line of this level. */
void pp_log_lines(enum pp_log_level level, const char *text);

/* Prints e's reason as an error line and returns status: `return pp_log_fail(&err, 2);`. */
int pp_log_fail(const struct pp_err *e, int status);
/* Prints e's reason and exits 1: for a failure before anything needs cleaning up. */
__attribute__((noreturn))
void pp_log_fatal(const struct pp_err *e);

#endif
