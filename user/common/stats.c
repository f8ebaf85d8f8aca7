// SPDX-License-Identifier: MIT
/* Percentiles and means over sorted samples; see stats.h for the definition. */
#include <math.h>
#include <stdlib.h>

#include "common/stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void pp_sort_doubles(double *x, size_t n)
{
	qsort(x, n, sizeof(*x), cmp_double);
}

bool pp_percentile_rank(size_t n, double p, size_t *lo, double *frac)
{
	double h = (double)(n - 1) * p / 100.0;

	*lo = (size_t)floor(h);
	*frac = h - (double)*lo;
	return *lo + 1 < n;
}

double pp_percentile(const double *x, size_t n, double p)
{
	size_t lo;
	double frac;

	if (!pp_percentile_rank(n, p, &lo, &frac))
		return x[n - 1];
	return x[lo] + frac * (x[lo + 1] - x[lo]);
}

double pp_mean(const double *x, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += x[i];
	return n ? sum / (double)n : 0;
}
