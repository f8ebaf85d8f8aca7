// SPDX-License-Identifier: MIT
/* Reads results.csv-style files: a header line of column names, then comma-separated rows
 * (no quoting); cells are looked up by column name. An empty cell means "not measured". */
#ifndef PP_CSVREAD_H
#define PP_CSVREAD_H

#include <stddef.h>

#define PP_CSV_MAX_LINE (1u << 20) /* longer lines are an error, not an allocation */

struct pp_csv;

/* Opens path and reads its header. -ENODATA: empty file (no header); -EBADMSG: a header
 * with an empty or duplicate name. */
int pp_csv_open(struct pp_csv **out, const char *path);
void pp_csv_close(struct pp_csv *csv);

size_t pp_csv_ncols(const struct pp_csv *csv);
const char *pp_csv_name(const struct pp_csv *csv, size_t col);
/* Column index of name, or -ENOENT. */
int pp_csv_find(const struct pp_csv *csv, const char *name);

/* Reads the next row, skipping blank lines: 1 row read, 0 end of file, -EBADMSG a row whose
 * cell count differs from the header's, -E2BIG a line over PP_CSV_MAX_LINE, other -errno. */
int pp_csv_next(struct pp_csv *csv);
/* Line number (1 = header) of the row last read or of the error just returned. */
size_t pp_csv_lineno(const struct pp_csv *csv);
/* Cells of the current row, not NUL-terminated. */
const char *pp_csv_cell(const struct pp_csv *csv, size_t col, size_t *len);
/* Number in a cell: 0, -ENODATA empty, -EINVAL not a decimal number, -ERANGE not finite. */
int pp_csv_double(const struct pp_csv *csv, size_t col, double *out);

/* The number grammar used everywhere (plots/plot_cdf.py accepts exactly the same):
 * [+-] digits [. [digits]] | [+-] . digits, then optionally e|E [+-] digits; finite.
 * Correctly rounded, like strtod and Python's float(); -0 reads as 0. */
int pp_parse_double(const char *s, size_t len, double *out);

#endif
