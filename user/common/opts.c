/* Strict decimal parsing (strtoull accepts signs and spaces and wraps "-1" to 2^64-1, which a
 * --count must never do) and getopt's error messages in our one-line form. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"

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

int pp_cli_number(const char *opt, const char *text, uint64_t min, uint64_t max,
		  const char *unit, uint64_t *out, char *err, size_t errlen)
{
	if (pp_parse_u64(text, min, max, out) == 0)
		return 0;
	snprintf(err, errlen, "%s must be %llu..%llu%s%s (got %s)", opt, (unsigned long long)min,
		 (unsigned long long)max, *unit ? " " : "", unit, text);
	return -EINVAL;
}

void pp_cli_bad_option(int c, char **argv, char *err, size_t errlen)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	bool is_long = arg[0] == '-' && arg[1] == '-';
	int name_len = (int)strcspn(arg, "=");

	if (c == ':') {
		if (is_long)
			snprintf(err, errlen, "option '%.*s' needs a value", name_len, arg);
		else
			snprintf(err, errlen, "option '-%c' needs a value", optopt);
	} else if (is_long && optopt) {
		/* a known long option given "=value" although it takes none */
		snprintf(err, errlen, "option '%.*s' takes no value", name_len, arg);
	} else if (is_long) {
		snprintf(err, errlen, "unknown option '%.*s'", name_len, arg);
	} else {
		snprintf(err, errlen, "unknown option '-%c'", optopt);
	}
}
