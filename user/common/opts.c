// SPDX-License-Identifier: MIT
/* The option table of common/opts.h: getopt_long's arrays are built from it, each value is
 * checked and stored through it, and --help is written from it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/opts.h"

#define MAX_OPTS 64          /* per program; the largest has 22 */
#define HELP_WIDTH 79        /* --help lines are wrapped before this column */
#define HELP_COLUMN 27       /* where the help of an option starts */
#define OPT_LONG_ONLY 256    /* getopt_long's value for table entry i without a letter: + i */

int pp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;
	int too_big = 0;

	if (!text || !*text)
		return -EINVAL;
	for (const char *c = text; *c; c++) {
		unsigned digit;

		if (*c < '0' || *c > '9')
			return -EINVAL;
		digit = (unsigned)(*c - '0');
		if (value > (UINT64_MAX - digit) / 10)
			too_big = 1;
		else
			value = value * 10 + digit;
	}
	if (too_big || value < min || value > max)
		return -ERANGE;
	*out = value;
	return 0;
}

static void range_text(const struct pp_opt *opt, char *buf, size_t len)
{
	if (opt->range)
		snprintf(buf, len, "%s", opt->range);
	else
		snprintf(buf, len, "%" PRIu64 "..%" PRIu64 "%s%s", opt->min, opt->max,
			 opt->unit ? " " : "", opt->unit ? opt->unit : "");
}

int pp_opt_bad_value(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *what,
		     const char *arg, struct pp_err *err)
{
	const char *q = spec->quote_got ? "'" : "";

	return pp_err_set(err, -EINVAL, "--%s must be %s (got %s%s%s)", opt->name, what, q, arg, q);
}

int pp_opt_number(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		  uint64_t *out, struct pp_err *err)
{
	char range[128];

	if (pp_parse_u64(arg, opt->min, opt->max, out) == 0)
		return 0;
	range_text(opt, range, sizeof(range));
	return pp_opt_bad_value(spec, opt, range, arg, err);
}

static void *field(const struct pp_opt *opt, void *cfg)
{
	return (char *)cfg + opt->offset;
}

/* Unsigned fields of any size (and int fields holding non-negative values: the bounds keep
 * every value representable, so the low bytes are the value on either sign). */
static void store_uint(void *dst, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1: memcpy(dst, &u8, 1); break;
	case 2: memcpy(dst, &u16, 2); break;
	case 4: memcpy(dst, &u32, 4); break;
	default: memcpy(dst, &v, sizeof(v)); break;
	}
}

static uint64_t load_uint(const void *src, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1: memcpy(&u8, src, 1); return u8;
	case 2: memcpy(&u16, src, 2); return u16;
	case 4: memcpy(&u32, src, 4); return u32;
	default: memcpy(&u64, src, sizeof(u64)); return u64;
	}
}

static int take(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		void *cfg, struct pp_err *err)
{
	char range[128];
	uint64_t v;
	int rc;

	switch (opt->type) {
	case PP_OPT_FLAG:
		*(bool *)field(opt, cfg) = true;
		return 0;
	case PP_OPT_COUNT:
		(*(int *)field(opt, cfg))++;
		return 0;
	case PP_OPT_STRING:
		if (opt->nonempty && !*arg)
			return *opt->nonempty ?
			       pp_err_set(err, -EINVAL, "--%s needs %s", opt->name, opt->nonempty) :
			       pp_err_set(err, -EINVAL, "--%s must not be empty", opt->name);
		*(const char **)field(opt, cfg) = arg;
		return 0;
	case PP_OPT_UINT:
		if ((rc = pp_opt_number(spec, opt, arg, &v, err)) < 0)
			return rc;
		if (opt->pow2 && (v & (v - 1))) {
			range_text(opt, range, sizeof(range));
			return pp_err_set(err, -EINVAL, "--%s must be a power of 2, %s (got %s%s%s)",
					  opt->name, range, spec->quote_got ? "'" : "", arg,
					  spec->quote_got ? "'" : "");
		}
		store_uint(field(opt, cfg), opt->size, v);
		return 0;
	case PP_OPT_CUSTOM:
		return opt->parse(spec, opt, arg, cfg, err);
	default:
		return pp_err_set(err, -EINVAL, "--%s: option of unknown type", opt->name);
	}
}

/* After getopt_long returned '?' or ':' (opterr = 0, optstring starting with ':'). */
static int bad_option(int c, char **argv, struct pp_err *err)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	bool is_long = arg[0] == '-' && arg[1] == '-';
	int name_len = (int)strcspn(arg, "=");

	if (c == ':') {
		if (is_long)
			return pp_err_set(err, -EINVAL, "option '%.*s' needs a value", name_len, arg);
		return pp_err_set(err, -EINVAL, "option '-%c' needs a value", optopt);
	}
	if (is_long && optopt) /* a known long option given "=value" although it takes none */
		return pp_err_set(err, -EINVAL, "option '%.*s' takes no value", name_len, arg);
	if (is_long)
		return pp_err_set(err, -EINVAL, "unknown option '%.*s'", name_len, arg);
	return pp_err_set(err, -EINVAL, "unknown option '-%c'", optopt);
}

static size_t count_opts(const struct pp_opts_spec *spec)
{
	size_t n = 0;

	while (spec->opts[n].type != PP_OPT_END)
		n++;
	return n;
}

int pp_opts_parse(const struct pp_opts_spec *spec, int argc, char **argv, void *cfg,
		  int *first_operand, struct pp_err *err)
{
	struct option longopts[MAX_OPTS + 2];
	char shortopts[3 + 2 * MAX_OPTS + 2], *s = shortopts;
	bool seen[MAX_OPTS] = { false };
	size_t n = count_opts(spec), i;
	int c, rc;

	if (n > MAX_OPTS)
		return pp_err_set(err, -EINVAL, "too many options in the table (%zu)", n);
	memcpy(cfg, spec->defaults, spec->cfg_size);
	if (err)
		*err = (struct pp_err){ 0 };
	if (spec->stop_at_operand)
		*s++ = '+';
	*s++ = ':';
	for (i = 0; i < n; i++) {
		const struct pp_opt *opt = &spec->opts[i];
		int has_arg = opt->metavar ? required_argument : no_argument;

		longopts[i] = (struct option){ opt->name, has_arg, NULL,
					       opt->short_opt ? opt->short_opt : OPT_LONG_ONLY + (int)i };
		if (opt->short_opt) {
			*s++ = opt->short_opt;
			if (has_arg == required_argument)
				*s++ = ':';
		}
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	*s++ = 'h';
	*s = '\0';

	optind = 0; /* glibc: full reset, so tests may parse again */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct pp_opt *opt = NULL;

		if (c == 'h')
			return PP_OPTS_HELP;
		if (c == '?' || c == ':')
			return bad_option(c, argv, err);
		if (c >= OPT_LONG_ONLY) {
			i = (size_t)(c - OPT_LONG_ONLY);
		} else {
			for (i = 0; spec->opts[i].type != PP_OPT_END; i++)
				if (spec->opts[i].short_opt == c)
					break;
		}
		opt = &spec->opts[i];
		if ((rc = take(spec, opt, optarg, cfg, err)) < 0)
			return rc;
		seen[i] = true;
	}
	if (first_operand)
		*first_operand = optind;
	else if (optind < argc)
		return pp_err_set(err, -EINVAL, "unexpected argument '%s'", argv[optind]);
	for (i = 0; spec->opts[i].type != PP_OPT_END; i++)
		if (spec->opts[i].required && !seen[i])
			return pp_err_set(err, -EINVAL, "--%s is required%s%s", spec->opts[i].name,
					  *spec->opts[i].required ? " " : "", spec->opts[i].required);
	return PP_OPTS_OK;
}

/* Writes text from column `col` on, wrapped at HELP_WIDTH, continuation lines indented. */
static void wrap(FILE *out, const char *text, int col)
{
	int at = col;

	while (*text) {
		size_t word = strcspn(text, " ");

		if (at > col && at + 1 + (int)word > HELP_WIDTH) {
			fprintf(out, "\n%*s", col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', out);
			at++;
		}
		fwrite(text, 1, word, out);
		at += (int)word;
		text += word;
		while (*text == ' ')
			text++;
	}
	fputc('\n', out);
}

/* "<help>, <bounds> (default <d>)": the bounds and the default from the table itself. */
static void describe(const struct pp_opts_spec *spec, const struct pp_opt *opt, char *buf,
		     size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "%s", opt->help ? opt->help : "");
	char range[128];

	if (at < len && (opt->range || opt->max)) {
		range_text(opt, range, sizeof(range));
		at += (size_t)snprintf(buf + at, len - at, ", %s", range);
	}
	if (at >= len)
		return;
	if (opt->required) {
		snprintf(buf + at, len - at, " (required)");
	} else if (opt->def) {
		snprintf(buf + at, len - at, " (default %s)", opt->def);
	} else if (!opt->no_default && opt->type == PP_OPT_UINT) {
		snprintf(buf + at, len - at, " (default %" PRIu64 ")",
			 load_uint((const char *)spec->defaults + opt->offset, opt->size));
	} else if (!opt->no_default && opt->type == PP_OPT_STRING) {
		const char *d = *(const char *const *)((const char *)spec->defaults + opt->offset);

		if (d)
			snprintf(buf + at, len - at, " (default %s)", d);
	}
}

static void entry(FILE *out, char short_opt, const char *name, const char *metavar,
		  const char *text)
{
	char left[96];
	int n;

	if (short_opt)
		n = snprintf(left, sizeof(left), "  -%c, --%s%s%s", short_opt, name,
			     metavar ? " " : "", metavar ? metavar : "");
	else
		n = snprintf(left, sizeof(left), "      --%s%s%s", name, metavar ? " " : "",
			     metavar ? metavar : "");
	if (n + 1 >= HELP_COLUMN)
		fprintf(out, "%s\n%*s", left, HELP_COLUMN, "");
	else
		fprintf(out, "%-*s", HELP_COLUMN, left);
	wrap(out, text, HELP_COLUMN);
}

void pp_opts_usage(const struct pp_opts_spec *spec, FILE *out)
{
	char text[1024];

	fprintf(out, "%s\n", spec->usage);
	for (const struct pp_opt *opt = spec->opts; opt->type != PP_OPT_END; opt++) {
		describe(spec, opt, text, sizeof(text));
		entry(out, opt->short_opt, opt->name, opt->metavar, text);
	}
	entry(out, 'h', "help", NULL, "this text");
	if (spec->epilog)
		fprintf(out, "\n%s", spec->epilog);
}
