// SPDX-License-Identifier: MIT
/* Quantile views of sorted samples: the percentile table both plot backends print, and the
 * compact, tail-dense quantile grid that stands in for a million points in a CDF plot. */
#ifndef PP_QUANTILES_H
#define PP_QUANTILES_H

#include <stddef.h>
#include <stdio.h>

#define PP_MAX_PERCENTILES 16

/* Sorts ascending exactly as pp_sort_doubles does (same result for any finite values, -0 and
 * +0 aside), by LSD radix sort: a million values in ~20 ms instead of ~100 ms. Falls back to
 * pp_sort_doubles if it cannot allocate its scratch array. */
void pp_sort_doubles_radix(double *x, size_t n);

/* Parses "50,90,99,99.9" (commas or blanks) into pct[] (each 0..100), appending to *n.
 * -EINVAL a bad or out-of-range number, -E2BIG more than PP_MAX_PERCENTILES. */
int pp_parse_percentiles(const char *list, double *pct, size_t *n);

/* Header line and one row per component of the table plots/plot_cdf.py prints byte for byte:
 * count, each percentile (stats.h definition), max and mean, microseconds, 3 decimals. */
void pp_table_header(FILE *f, const double *pct, size_t npct);
/* x sorted ascending, n >= 1. */
void pp_table_row(FILE *f, const char *name, const double *x, size_t n, const double *pct, size_t npct);

/* The CDF plot's y axis is "nines", -log10(1 - p), so p50..p99.99 are spread out evenly; the
 * top of the axis for n samples is log10(n), where the maximum is drawn. */
double pp_nines(double pct, size_t n);
double pp_nines_top(size_t n);

/* Percentiles (0..100) to draw a CDF of n samples: 0..90 in steps of 0.25, then 100 per decade
 * of nines up to the sample's resolution, then 100 (the maximum). Returns how many were
 * written (at most max; PP_GRID_MAX always suffices). */
#define PP_GRID_MAX 1200
size_t pp_quantile_grid(double *pct, size_t max, size_t n);

#endif
