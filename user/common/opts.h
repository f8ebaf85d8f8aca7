// SPDX-License-Identifier: MIT
/* The one way the programs read their command lines: a table of options (name, short letter,
 * type, bounds, default, help, destination) that both parses argv and writes --help, so that
 * the bounds a value is checked against and the bounds --help promises are the same numbers.
 *
 * Why our own table over getopt_long, and not glibc's argp (bcc's libbpf-tools use argp):
 *  - argp_error reports a bad option as two lines ("prog: msg" and "Try `prog --help' ...")
 *    and exits 64 (EX_USAGE) from inside argp_parse (ARGP_NO_EXIT keeps the process but not
 *    the one line); our programs promise one line and exit 2, and the tests parse many
 *    command lines in one process, so the parser must return a reason, not print it.
 *  - argp knows no types or bounds: every number would still need a hand-written check and
 *    a hand-written range in the help text, which is what drifted apart before.
 *  - argp's messages (getopt's "unrecognized option", "option requires an argument") are
 *    not the ones the tests and users know, and its --help adds --usage and -? that the
 *    programs never had.
 *  - bpftool's command tables (struct cmd: a word and its function) dispatch subcommands;
 *    our programs have none, only options, so only its habits below carry over.
 * From xdp-tools' option helper comes the shape: typed entries whose destination is an
 * offset into the program's own options struct, defaults taken from a struct of defaults,
 * and usage generated from the table. From bpftool: the table is plain data that the code
 * walks (bpftool's struct cmd arrays), and errors go to one place that prints them (p_err).
 * From argp we keep "-h, --help" supplied by the mechanism, not by each program.
 *
 *	static const struct pp_opt opts[] = {
 *		{ "port", 'p', PP_OPT_UINT, PP_OPT_AT(struct o, port), .min = 1, .max = 65535,
 *		  .metavar = "PORT", .help = "server port", .required = "" },
 *		{ 0 },
 *	};
 *	rc = pp_opts_parse(&spec, argc, argv, &o, NULL, &err);  // PP_OPTS_OK, _HELP, -EINVAL
 *
 * A rejected value gives one line without the program name, e.g.
 * "--size must be 1..16777216 bytes (got 0)"; the main prints it and exits 2. */
#ifndef PP_OPTS_H
#define PP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

enum { PP_OPTS_OK = 0, PP_OPTS_HELP = 1 };

enum pp_opt_type {
	PP_OPT_END = 0,
	PP_OPT_FLAG,     /* bool = true */
	PP_OPT_COUNT,    /* int += 1 each time (-v -v) */
	PP_OPT_STRING,   /* const char * = the argument itself */
	PP_OPT_UINT,     /* unsigned (or non-negative) integer of the field's size, strict decimal */
	PP_OPT_CUSTOM,   /* .parse does it (lists, pairs, fractions, repeats) */
};

struct pp_opt;
struct pp_opts_spec;

/* For PP_OPT_CUSTOM: 0, or -EINVAL with the reason in err (pp_opt_number, pp_opt_bad_value).
 * cfg is the options struct. */
typedef int (*pp_opt_parse_fn)(const struct pp_opts_spec *spec, const struct pp_opt *opt,
			       const char *arg, void *cfg, struct pp_err *err);

struct pp_opt {
	const char *name;          /* long name without "--" */
	char short_opt;            /* 0: long only */
	enum pp_opt_type type;
	size_t offset, size;       /* destination in the options struct: PP_OPT_AT() */
	const char *metavar;       /* "PORT": the option takes a value; NULL for flags */
	const char *help;          /* what it does; bounds and default are appended */
	uint64_t min, max;         /* PP_OPT_UINT (and CUSTOM, for help and pp_opt_number) */
	const char *unit;          /* "bytes": in the bound error and the help */
	const char *range;         /* instead of "min..max unit" in errors and help */
	const char *def;           /* default as shown in --help; NULL: PP_OPT_UINT shows the
	                            * defaults struct's value, a string its text if any */
	bool no_default;           /* show no default at all */
	bool pow2;                 /* PP_OPT_UINT: a power of 2 as well */
	const char *nonempty;      /* strings: NULL takes "", "" refuses it with "--x must not be
	                            * empty", other text with "--x needs <text>" */
	const char *required;      /* NULL: optional; else the hint after "--x is required"
	                            * ("" for none) */
	pp_opt_parse_fn parse;     /* PP_OPT_CUSTOM */
};

#define PP_OPT_AT(type, field) .offset = offsetof(type, field), \
			       .size = sizeof(((type *)0)->field)

/* Options more than one program has, with one meaning and one help text everywhere. */
#define PP_OPT_KEEP_ROOT(type, field) \
	{ "keep-root", 0, PP_OPT_FLAG, PP_OPT_AT(type, field), .help = "stay root throughout" }
#define PP_OPT_VERBOSE(type, field, what) \
	{ "verbose", 'v', PP_OPT_COUNT, PP_OPT_AT(type, field), .no_default = true, .help = (what) }

/* A spec's table and the defaults (a struct of the options' type) it starts from. */
#define PP_OPTS_TABLE(table, defaults_struct) \
	.opts = (table), .defaults = &(defaults_struct), .cfg_size = sizeof(defaults_struct)

struct pp_opts_spec {
	const char *prog;          /* for nothing but the usage text's reader */
	const char *usage;         /* "Usage: ..." lines and what the program does, as printed */
	const char *epilog;        /* after the options; may be NULL */
	const struct pp_opt *opts; /* ends with { 0 } */
	const void *defaults;      /* copied into cfg first; cfg_size bytes */
	size_t cfg_size;
	bool stop_at_operand;      /* the first operand ends the options (a command to run) */
	bool quote_got;            /* "(got '0')" rather than "(got 0)": kept as each program had */
};

/* Copies the defaults into cfg and parses argv (resets getopt first, so it may be called
 * again). -h/--help returns PP_OPTS_HELP at once. Operands: with first_operand NULL any is
 * "unexpected argument 'x'"; else *first_operand is argv's index of the first one (argc if
 * none). Required options are checked last. Returns PP_OPTS_OK, PP_OPTS_HELP or -EINVAL
 * with the reason in err. */
int pp_opts_parse(const struct pp_opts_spec *spec, int argc, char **argv, void *cfg,
		  int *first_operand, struct pp_err *err);

/* The --help text: usage, one entry an option (bounds and default from the table), epilog. */
void pp_opts_usage(const struct pp_opts_spec *spec, FILE *out);

/* 0 if text is a decimal integer in min..max (no sign, space, base prefix or exponent:
 * strtoull would take "-1" as 2^64-1 and "010" as 8); -EINVAL (not a number) or -ERANGE. */
int pp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* A strict decimal in opt's bounds, or -EINVAL with "--x must be min..max unit (got v)". */
int pp_opt_number(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *arg,
		  uint64_t *out, struct pp_err *err);

/* "--x must be <what> (got v)" in the spec's quoting; returns -EINVAL. */
int pp_opt_bad_value(const struct pp_opts_spec *spec, const struct pp_opt *opt, const char *what,
		     const char *arg, struct pp_err *err);

#endif
