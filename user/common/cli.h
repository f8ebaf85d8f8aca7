/* Command-line helpers shared by the programs: strict number parsing and the message for
 * an option getopt_long did not accept. */
#ifndef PP_CLI_H
#define PP_CLI_H

#include <stddef.h>
#include <stdint.h>

enum { PP_OPTS_OK = 0, PP_OPTS_HELP = 1 };

/* 0 if text is a decimal integer in min..max; -EINVAL (not a number) or -ERANGE. */
int pp_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* pp_parse_u64 for option opt; on failure puts "--size must be 1..16777216 bytes (got 0)"
 * into err and returns -EINVAL. unit may be "". */
int pp_cli_number(const char *opt, const char *text, uint64_t min, uint64_t max,
		  const char *unit, uint64_t *out, char *err, size_t errlen);

/* After getopt_long returned '?' or ':' (opterr = 0, optstring starting with ':'): puts
 * "unknown option '--x'" or "option '--size' needs a value" into err. */
void pp_cli_bad_option(int c, char **argv, char *err, size_t errlen);

#endif
