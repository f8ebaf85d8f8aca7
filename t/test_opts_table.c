// SPDX-License-Identifier: MIT
/* The option table itself (common/opts.h): bounds and their errors, strict numbers, unknown
 * options and missing values, defaults, operands, and the --help it writes. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "common/opts.h"

struct cfg {
	uint16_t port;
	uint32_t size;
	uint64_t big;
	size_t pages;
	int count;
	bool flag;
	const char *name;
	const char *path;
	int custom;
};

static int take_custom(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		       void *cfg, struct pp_err *err)
{
	if (strcmp(arg, "yes") != 0)
		return pp_opt_bad_value(spec, opt, "yes", arg, err);
	((struct cfg *)cfg)->custom = 1;
	return 0;
}

static const struct cfg defaults = { .size = 1024, .path = "out.csv" };

static const struct pp_opt options[] = {
	{ "port", 'p', PP_OPT_UINT, PP_OPT_AT(struct cfg, port), .metavar = "PORT", .min = 1,
	  .max = 65535, .help = "server port", .required = "(the server's port)" },
	{ "size", 's', PP_OPT_UINT, PP_OPT_AT(struct cfg, size), .metavar = "BYTES", .min = 1,
	  .max = 16777216, .unit = "bytes", .help = "message size" },
	{ "big", 0, PP_OPT_UINT, PP_OPT_AT(struct cfg, big), .metavar = "N", .max = UINT64_MAX,
	  .help = "anything" },
	{ "pages", 0, PP_OPT_UINT, PP_OPT_AT(struct cfg, pages), .metavar = "N", .min = 1,
	  .max = 64, .pow2 = true, .unit = "pages", .help = "pages", .def = "8 pages" },
	{ "verbose", 'v', PP_OPT_COUNT, PP_OPT_AT(struct cfg, count), .no_default = true,
	  .help = "more" },
	{ "flag", 0, PP_OPT_FLAG, PP_OPT_AT(struct cfg, flag), .help = "a flag" },
	{ "name", 'n', PP_OPT_STRING, PP_OPT_AT(struct cfg, name), .metavar = "NAME",
	  .nonempty = "a name", .help = "a name" },
	{ "path", 0, PP_OPT_STRING, PP_OPT_AT(struct cfg, path), .metavar = "FILE", .nonempty = "",
	  .help = "where to write" },
	{ "custom", 0, PP_OPT_CUSTOM, PP_OPT_AT(struct cfg, custom), .metavar = "X",
	  .parse = take_custom, .help = "only yes" },
	{ 0 },
};

static const struct pp_opts_spec spec = {
	.usage = "Usage: prog --port PORT\n",
	.epilog = "The end.\n",
	PP_OPTS_TABLE(options, defaults),
};

static const struct pp_opts_spec quoted = {
	.opts = options, .defaults = &defaults, .cfg_size = sizeof(defaults), .quote_got = true,
};

#define ARGV(...) ((char *[]){ "prog", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "prog", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(sp, c, e, ...) pp_opts_parse(sp, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), c, NULL, &(e))

START_TEST(test_values_land_in_their_fields_over_the_defaults)
{
	struct cfg c;
	struct pp_err e;

	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "80", "--big=18446744073709551615", "-v", "-v",
			       "--flag", "-n", "x", "--pages", "16", "--custom", "yes"), PP_OPTS_OK);
	ck_assert_uint_eq(c.port, 80);
	ck_assert_uint_eq(c.size, 1024);
	ck_assert(c.big == UINT64_MAX);
	ck_assert_uint_eq(c.pages, 16);
	ck_assert_int_eq(c.count, 2);
	ck_assert(c.flag);
	ck_assert_str_eq(c.name, "x");
	ck_assert_str_eq(c.path, "out.csv");
	ck_assert_int_eq(c.custom, 1);
	ck_assert_int_eq(e.code, 0);
}
END_TEST

START_TEST(test_bounds_give_the_range_unit_and_value)
{
	struct cfg c;
	struct pp_err e;

	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "0"), -EINVAL);
	ck_assert_str_eq(e.msg, "--port must be 1..65535 (got 0)");
	ck_assert_int_eq(e.code, -EINVAL);
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--size", "16777217"), -EINVAL);
	ck_assert_str_eq(e.msg, "--size must be 1..16777216 bytes (got 16777217)");
	ck_assert_int_eq(PARSE(&quoted, &c, e, "-p", "65536"), -EINVAL);
	ck_assert_str_eq(e.msg, "--port must be 1..65535 (got '65536')");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--pages", "3"), -EINVAL);
	ck_assert_str_eq(e.msg, "--pages must be a power of 2, 1..64 pages (got 3)");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--pages", "128"), -EINVAL);
	ck_assert_str_eq(e.msg, "--pages must be 1..64 pages (got 128)");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--custom", "no"), -EINVAL);
	ck_assert_str_eq(e.msg, "--custom must be yes (got no)");
}
END_TEST

START_TEST(test_numbers_are_strict_decimal)
{
	static const char *const bad[] = { "010x", "0x10", "-1", "+5", " 80", "80 ", "1e3", "",
					   "18446744073709551616", "1.5" };
	struct cfg c;
	struct pp_err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "prog", "-p", "1", "--big", (char *)bad[i], NULL };

		ck_assert_msg(pp_opts_parse(&spec, 5, argv, &c, NULL, &e) == -EINVAL, "'%s' taken",
			      bad[i]);
		ck_assert_ptr_null(strchr(e.msg, '\n'));
	}
	/* a leading zero is still decimal, never octal */
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "010"), PP_OPTS_OK);
	ck_assert_uint_eq(c.port, 10);
}
END_TEST

START_TEST(test_unknown_options_missing_values_and_operands)
{
	struct cfg c;
	struct pp_err e;
	int first;

	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--colour"), -EINVAL);
	ck_assert_str_eq(e.msg, "unknown option '--colour'");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "-x"), -EINVAL);
	ck_assert_str_eq(e.msg, "unknown option '-x'");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p"), -EINVAL);
	ck_assert_str_eq(e.msg, "option '-p' needs a value");
	ck_assert_int_eq(PARSE(&spec, &c, e, "--port"), -EINVAL);
	ck_assert_str_eq(e.msg, "option '--port' needs a value");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--flag=1"), -EINVAL);
	ck_assert_str_eq(e.msg, "option '--flag' takes no value");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "stray"), -EINVAL);
	ck_assert_str_eq(e.msg, "unexpected argument 'stray'");
	ck_assert_int_eq(PARSE(&spec, &c, e, "--size", "5"), -EINVAL);
	ck_assert_str_eq(e.msg, "--port is required (the server's port)");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--name", ""), -EINVAL);
	ck_assert_str_eq(e.msg, "--name needs a name");
	ck_assert_int_eq(PARSE(&spec, &c, e, "-p", "1", "--path="), -EINVAL);
	ck_assert_str_eq(e.msg, "--path must not be empty");
	{
		char **argv = ARGV("a", "-p", "1", "b");

		ck_assert_int_eq(pp_opts_parse(&spec, 5, argv, &c, &first, &e), PP_OPTS_OK);
		/* getopt moved the operands behind the options */
		ck_assert_int_eq(first, 3);
		ck_assert_str_eq(argv[first], "a");
		ck_assert_str_eq(argv[first + 1], "b");
	}
}
END_TEST

START_TEST(test_help_wins_and_lists_bounds_and_defaults)
{
	struct cfg c;
	struct pp_err e;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(PARSE(&spec, &c, e, "--size", "0", "--help"), -EINVAL);
	ck_assert_int_eq(PARSE(&spec, &c, e, "--help", "--size", "0"), PP_OPTS_HELP);
	ck_assert_int_eq(PARSE(&spec, &c, e, "-h"), PP_OPTS_HELP);
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	pp_opts_usage(&spec, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "Usage: prog --port PORT\n"));
	ck_assert_ptr_nonnull(strstr(text, "  -p, --port PORT          server port, 1..65535 (required)\n"));
	ck_assert_ptr_nonnull(strstr(text, "  -s, --size BYTES         message size, 1..16777216 bytes (default 1024)\n"));
	ck_assert_ptr_nonnull(strstr(text, "--pages N"));
	ck_assert_ptr_nonnull(strstr(text, "1..64 pages (default 8 pages)"));
	ck_assert_ptr_nonnull(strstr(text, "where to write (default out.csv)"));
	ck_assert_ptr_nonnull(strstr(text, "  -v, --verbose            more\n"));
	ck_assert_ptr_nonnull(strstr(text, "  -h, --help               this text\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nThe end.\n"));
	for (char *line = text; *line; line = strchr(line, '\n') + 1)
		ck_assert_int_le((int)(strchr(line, '\n') - line), 79);
	free(text);
}
END_TEST

PP_CHECK_TESTS("opts_table", 0, test_values_land_in_their_fields_over_the_defaults,
	       test_bounds_give_the_range_unit_and_value, test_numbers_are_strict_decimal,
	       test_unknown_options_missing_values_and_operands,
	       test_help_wins_and_lists_bounds_and_defaults)
