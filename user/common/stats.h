// SPDX-License-Identifier: MIT
/* The one percentile definition, shared by the summary, pingpong-plot and plots/plot_cdf.py:
 * linear interpolation between closest ranks (numpy's default, Hyndman-Fan type 7):
 * for sorted x[0..n-1], h = (n-1)*p/100, q = x[floor h] + (h - floor h)*(x[floor h + 1] - x[floor h]). */
#ifndef PP_STATS_H
#define PP_STATS_H

#include <stdbool.h>
#include <stddef.h>

void pp_sort_doubles(double *x, size_t n);
/* x sorted ascending, n >= 1, p in [0, 100]. */
double pp_percentile(const double *x, size_t n, double p);
/* The definition's ranks, for holders of samples that are not a sorted array (histogram.h):
 * the p-th percentile of n >= 1 sorted samples is x[*lo] + *frac*(x[*lo + 1] - x[*lo]) when
 * this returns true, else x[n - 1] (the maximum). Same operations as pp_percentile. */
bool pp_percentile_rank(size_t n, double p, size_t *lo, double *frac);
double pp_mean(const double *x, size_t n);

#endif
