// SPDX-License-Identifier: MIT
/* common/log: "prog: message" lines, the level -v raises, a pp_err's reason, and the status
 * line that the next line ends. stderr is sent to a temporary file and read back. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "common/log.h"

static char text[4096];

/* Runs fn with stderr going to a temporary file; text gets what it wrote. */
static void capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = '\0';
	fclose(tmp);
}

static void default_levels(void)
{
	pp_log_init("prog");
	pp_log_error("bad %d", 1);
	pp_log_warn("careful");
	pp_log_info("doing");
	pp_log_debug("details");
}

static void verbose_levels(void)
{
	pp_log_init("prog");
	pp_log_more(1);
	pp_log_debug("details");
	pp_log_more(5); /* no further than debug */
	ck_assert_int_eq(pp_log_level(), PP_LOG_DEBUG);
}

static void errors_and_lines(void)
{
	struct pp_err e = { 0 };

	pp_log_init("prog");
	pp_err_set(&e, -EINVAL, "--port must be 1..65535 (got 0)");
	ck_assert_int_eq(pp_log_fail(&e, 2), 2);
	e = (struct pp_err){ .code = -ENOENT };
	pp_log_fail(&e, 1);
	pp_log_lines(PP_LOG_INFO, "capture: a\ncapture: b\n");
}

static void status_then_line(void)
{
	pp_log_init("prog");
	pp_log_status("%d/%d", 1, 2);
	pp_log_status("%d/%d", 2, 2);
	pp_log_warn("after");
	pp_log_status_end(); /* nothing more: the line above ended the status */
}

START_TEST(test_info_is_the_default_level)
{
	capture_stderr(default_levels);
	ck_assert_str_eq(text, "prog: bad 1\nprog: careful\nprog: doing\n");
}
END_TEST

START_TEST(test_v_shows_debug)
{
	capture_stderr(verbose_levels);
	ck_assert_str_eq(text, "prog: details\n");
}
END_TEST

START_TEST(test_reasons_and_reports_are_prog_lines)
{
	capture_stderr(errors_and_lines);
	ck_assert_str_eq(text, "prog: --port must be 1..65535 (got 0)\n"
			       "prog: No such file or directory\n"
			       "prog: capture: a\nprog: capture: b\n");
}
END_TEST

START_TEST(test_a_line_ends_the_status_first)
{
	capture_stderr(status_then_line);
	ck_assert_str_eq(text, "\r1/2\r2/2\nprog: after\n");
}
END_TEST

PP_CHECK_TESTS("log", 0, test_info_is_the_default_level, test_v_shows_debug,
	       test_reasons_and_reports_are_prog_lines, test_a_line_ends_the_status_first)
