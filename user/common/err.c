// SPDX-License-Identifier: MIT
/* The error record of common/err.h. */
#include "common/err.h"

#include <stdio.h>
#include <string.h>

int pp_err_set(struct pp_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *pp_err_text(const struct pp_err *e)
{
	if (e->msg[0])
		return e->msg;
	return strerror(e->code < 0 ? -e->code : e->code);
}
