// SPDX-License-Identifier: MIT
/* Latency components of a results.csv, loaded into memory for percentiles and plots:
 * column "<component>_us" of every row, an empty cell meaning "not measured". */
#ifndef PP_SAMPLES_H
#define PP_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>

#include "model/split.h"

struct pp_sample_col {
	enum pp_component comp;
	bool in_header;
	double *v;          /* one value per row, NAN where empty; sorted and compacted by pp_samples_sort */
	size_t n;           /* non-empty cells */
};

struct pp_samples {
	size_t rows;        /* data rows in the file */
	size_t ncols;
	struct pp_sample_col col[PP_NCOMPONENTS];
};

/* Where a load failed, for the one-line message the program prints. */
struct pp_samples_error {
	size_t line;        /* 0 when not about a line */
	char column[64];
	char cell[32];      /* the offending cell, cut short */
};

/* Loads the given components, in that order. A component whose column the header lacks is
 * kept with in_header false, unless required (then -ENOENT, err->column names it). Errors
 * (pp_csv_open's and pp_csv_next's, plus -EINVAL / -ERANGE for a cell that is not a finite
 * decimal number) fill err. */
int pp_samples_load(struct pp_samples *s, const char *path, const enum pp_component *comps,
		    size_t ncomps, bool required, struct pp_samples_error *err);
/* Drops the empty cells of every column and sorts what is left (row order is lost). */
void pp_samples_sort(struct pp_samples *s);
void pp_samples_free(struct pp_samples *s);

/* Component by name ("rtt" or "rtt_us"), or -ENOENT. */
int pp_component_by_name(const char *name);

#endif
