// SPDX-License-Identifier: MIT
/* Per-percentile split of the RTT into parts, averaged over the whole exchanges nearest it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "plot/stacksplit.h"
#include "common/stats.h"

struct ranked_row {
	double rtt;
	size_t row;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked_row *x = a, *y = b;

	if (x->rtt != y->rtt)
		return (x->rtt > y->rtt) - (x->rtt < y->rtt);
	return (x->row > y->row) - (x->row < y->row);
}

size_t pp_stack_window(size_t n, double pct)
{
	double k = (double)n / 1000, tail = (double)n * (100 - pct) / 100 / 10;

	if (tail < k)
		k = tail;
	k = floor(k + 1e-6); /* 100 - 99.9 is 0.0999...: a whole count must stay whole */
	return k < 1 ? 1 : k > 100 ? 100 : (size_t)k;
}

/* First index in ranked[0..n) whose rtt is >= target. */
static size_t lower_bound(const struct ranked_row *ranked, size_t n, double target)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ranked[mid].rtt < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Averages the k rows nearest target, widening toward the nearer side (ties: the lower). */
static void average_nearest(const struct ranked_row *ranked, size_t n, size_t k, double target,
			    const double *const part[PP_STACK_PARTS], const double *rtt,
			    struct pp_stack_bar *bar)
{
	size_t hi = lower_bound(ranked, n, target), lo = hi; /* window is [lo, hi) */
	double sum[PP_STACK_PARTS] = { 0 }, rtt_sum = 0;

	while (hi - lo < k) {
		if (lo == 0)
			hi++;
		else if (hi == n)
			lo--;
		else if (target - ranked[lo - 1].rtt <= ranked[hi].rtt - target)
			lo--;
		else
			hi++;
	}
	for (size_t i = lo; i < hi; i++) {
		size_t r = ranked[i].row;

		for (int p = 0; p < PP_STACK_PARTS; p++)
			sum[p] += part[p][r];
		rtt_sum += rtt[r];
	}
	bar->rows = k;
	for (int p = 0; p < PP_STACK_PARTS; p++)
		bar->part_us[p] = sum[p] / (double)k;
	bar->rtt_mean_us = rtt_sum / (double)k;
}

int pp_stack_split(const double *rtt, const double *const part[PP_STACK_PARTS], size_t rows,
		   const double *pct, size_t npct, struct pp_stack_bar *bar)
{
	struct ranked_row *ranked = malloc((rows ? rows : 1) * sizeof(*ranked));
	double *all_rtt = malloc((rows ? rows : 1) * sizeof(*all_rtt));
	size_t ncomplete = 0, nrtt = 0;
	int ret = 0;

	if (!ranked || !all_rtt) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t r = 0; r < rows; r++) {
		int p;

		if (isnan(rtt[r]))
			continue;
		all_rtt[nrtt++] = rtt[r];
		for (p = 0; p < PP_STACK_PARTS && !isnan(part[p][r]); p++)
			;
		if (p == PP_STACK_PARTS)
			ranked[ncomplete++] = (struct ranked_row){ rtt[r], r };
	}
	if (ncomplete == 0) {
		ret = -ENODATA;
		goto cleanup;
	}
	pp_sort_doubles(all_rtt, nrtt);
	qsort(ranked, ncomplete, sizeof(*ranked), cmp_ranked);
	for (size_t i = 0; i < npct; i++) {
		bar[i].pct = pct[i];
		bar[i].rtt_us = pp_percentile(all_rtt, nrtt, pct[i]);
		average_nearest(ranked, ncomplete, pp_stack_window(ncomplete, pct[i]), bar[i].rtt_us, part, rtt, &bar[i]);
	}
cleanup:
	free(ranked);
	free(all_rtt);
	return ret;
}
