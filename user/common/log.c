// SPDX-License-Identifier: MIT
/* The logging of common/log.h: one level for the whole program, lines to stderr. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static const char *log_prog = "pingpong";
static enum pp_log_level log_level = PP_LOG_INFO;
static bool status_shown;   /* a status line without its newline is on stderr */

void pp_log_init(const char *prog)
{
	log_prog = prog;
	log_level = PP_LOG_INFO;
}

const char *pp_log_prog(void)
{
	return log_prog;
}

void pp_log_more(int n)
{
	int level = (int)log_level + (n > 0 ? n : 0);

	log_level = level > PP_LOG_DEBUG ? PP_LOG_DEBUG : (enum pp_log_level)level;
}

void pp_log_set_level(enum pp_log_level level)
{
	log_level = level;
}

enum pp_log_level pp_log_level(void)
{
	return log_level;
}

int pp_log_enabled(enum pp_log_level level)
{
	return level <= log_level;
}

void pp_log_v(enum pp_log_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level > log_level)
		return;
	/* One write per line, so that lines of two threads (or two processes) never mix. */
	vsnprintf(line, sizeof(line), fmt, ap);
	pp_log_status_end();
	fprintf(stderr, "%s: %s\n", log_prog, line);
}

void pp_log_status(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r%s", line);
	status_shown = true;
}

void pp_log_status_end(void)
{
	if (status_shown)
		fputc('\n', stderr);
	status_shown = false;
}

void pp_log(enum pp_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pp_log_v(level, fmt, ap);
	va_end(ap);
}

void pp_log_lines(enum pp_log_level level, const char *text)
{
	while (*text) {
		int len = (int)strcspn(text, "\n");

		pp_log(level, "%.*s", len, text);
		text += len;
		if (*text)
			text++;
	}
}

int pp_log_fail(const struct pp_err *e, int status)
{
	pp_log(PP_LOG_ERROR, "%s", pp_err_text(e));
	return status;
}

void pp_log_fatal(const struct pp_err *e)
{
	pp_log_fail(e, 1);
	exit(1);
}
