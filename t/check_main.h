// SPDX-License-Identifier: MIT
/* The one runner of the Check unit tests: every t/test_*.c ends with PP_CHECK_TESTS (its
 * tests form one case), PP_CHECK_TESTS_AND_TABLE or PP_CHECK_TABLE (a test run once per row
 * of a table of cases) or PP_CHECK_MAIN (it builds its own suite: fixtures), instead of its own
 * copy of the suite and runner set-up. A binary exits 1 when a test failed,
 * which is what t/run-unit counts. */
#ifndef PP_CHECK_MAIN_H
#define PP_CHECK_MAIN_H

#include <check.h>
#include <stddef.h>

/* Runs every test of s (then frees it): 0 when all passed, else 1. */
static inline int pp_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* A suite of one case named name, each test limited to timeout_s seconds (0: Check's
 * default, 4 s, or CK_DEFAULT_TIMEOUT). */
static inline Suite *pp_check_suite(const char *name, int timeout_s, const TTest *const *tests,
				    size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);

	if (timeout_s)
		tcase_set_timeout(tc, timeout_s);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return s;
}

/* Adds to s a case named name that runs test once per row of a table, rows 0..n-1 (the
 * test's _i), each limited to timeout_s seconds (0: Check's default). Returns s. */
static inline Suite *pp_check_add_loop(Suite *s, const char *name, int timeout_s, const TTest *test,
				       int n)
{
	TCase *tc = tcase_create(name);

	if (timeout_s)
		tcase_set_timeout(tc, timeout_s);
	tcase_add_loop_test(tc, test, 0, n);
	suite_add_tcase(s, tc);
	return s;
}

/* main() of a file whose tests form one case: PP_CHECK_TESTS("proto", 60, test_a, test_b). */
#define PP_CHECK_TESTS(name, timeout_s, ...)                                                    \
	int main(void)                                                                          \
	{                                                                                       \
		const TTest *const tests[] = { __VA_ARGS__ };                                   \
		return pp_check_run(pp_check_suite(name, timeout_s, tests,                      \
						   sizeof(tests) / sizeof(tests[0])));          \
	}

/* main() of a file whose tests form one case and that has one table-driven test besides, run
 * once per row of table (the test's _i):
 *	PP_CHECK_TESTS_AND_TABLE("packet", 60, test_frame_parses, parse_cases, test_a, test_b) */
#define PP_CHECK_TESTS_AND_TABLE(name, timeout_s, table_test, table, ...)                       \
	int main(void)                                                                          \
	{                                                                                       \
		const TTest *const tests[] = { __VA_ARGS__ };                                   \
		Suite *s = pp_check_suite(name, timeout_s, tests, sizeof(tests) / sizeof(tests[0])); \
                                                                                                \
		return pp_check_run(pp_check_add_loop(s, #table, timeout_s, table_test,        \
						      (int)(sizeof(table) / sizeof((table)[0])))); \
	}

/* main() of a file whose one test is table-driven. */
#define PP_CHECK_TABLE(name, timeout_s, table_test, table)                                      \
	int main(void)                                                                          \
	{                                                                                       \
		return pp_check_run(pp_check_add_loop(suite_create(name), #table, timeout_s,   \
						      table_test,                               \
						      (int)(sizeof(table) / sizeof((table)[0])))); \
	}

/* main() of a file that builds its own suite: PP_CHECK_MAIN(suite). */
#define PP_CHECK_MAIN(suite_fn)                                                                 \
	int main(void)                                                                          \
	{                                                                                       \
		return pp_check_run(suite_fn());                                                \
	}

#endif
