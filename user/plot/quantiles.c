// SPDX-License-Identifier: MIT
/* The percentile table and the CDF's quantile grid; plots/plot_cdf.py mirrors both, so a
 * change here is a change there. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plot/csvread.h"
#include "plot/quantiles.h"
#include "common/stats.h"

#define GRID_MAX_NINES 8.0 /* 1e8 samples: beyond that the grid ends and the curve jumps to max */

/* Maps a double to an unsigned key with the same order: negatives flipped whole, positives
 * with the sign bit set. */
static uint64_t order_key(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return bits & (1ull << 63) ? ~bits : bits | (1ull << 63);
}

static double from_order_key(uint64_t key)
{
	uint64_t bits = key & (1ull << 63) ? key & ~(1ull << 63) : ~key;
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

void pp_sort_doubles_radix(double *x, size_t n)
{
	uint64_t *key, *tmp, *src, *dst;
	size_t count[8][256] = { { 0 } };

	if (n < 2048 || !(key = malloc(2 * n * sizeof(*key)))) {
		pp_sort_doubles(x, n);
		return;
	}
	tmp = key + n;
	for (size_t i = 0; i < n; i++) {
		key[i] = order_key(x[i]);
		for (int b = 0; b < 8; b++)
			count[b][(key[i] >> (8 * b)) & 0xff]++;
	}
	src = key;
	dst = tmp;
	for (int b = 0; b < 8; b++) {
		size_t pos = 0;

		/* A byte every key shares (the high bytes of similar latencies) needs no pass. */
		if (count[b][(src[0] >> (8 * b)) & 0xff] == n)
			continue;
		for (int d = 0; d < 256; d++) {
			size_t c = count[b][d];

			count[b][d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[b][(src[i] >> (8 * b)) & 0xff]++] = src[i];
		uint64_t *swap = src;

		src = dst;
		dst = swap;
	}
	for (size_t i = 0; i < n; i++)
		x[i] = from_order_key(src[i]);
	free(key);
}

int pp_parse_percentiles(const char *list, double *pct, size_t *n)
{
	const char *p = list;

	for (;;) {
		size_t len;
		double v;

		p += strspn(p, ", \t");
		if (!*p)
			return 0;
		len = strcspn(p, ", \t");
		if (pp_parse_double(p, len, &v) || v < 0 || v > 100)
			return -EINVAL;
		if (*n == PP_MAX_PERCENTILES)
			return -E2BIG;
		pct[(*n)++] = v;
		p += len;
	}
}

void pp_table_header(FILE *f, const double *pct, size_t npct)
{
	char label[32];

	fprintf(f, "%-13s %9s", "component", "count");
	for (size_t i = 0; i < npct; i++) {
		snprintf(label, sizeof(label), "p%.10g", pct[i]);
		fprintf(f, " %10s", label);
	}
	fprintf(f, " %10s %10s  (us)\n", "max", "mean");
}

void pp_table_row(FILE *f, const char *name, const double *x, size_t n, const double *pct, size_t npct)
{
	fprintf(f, "%-13s %9zu", name, n);
	for (size_t i = 0; i < npct; i++)
		fprintf(f, " %10.3f", pp_percentile(x, n, pct[i]));
	fprintf(f, " %10.3f %10.3f\n", x[n - 1], pp_mean(x, n));
}

double pp_nines_top(size_t n)
{
	double top = log10((double)n);

	return top > 1 ? top : 1;
}

double pp_nines(double pct, size_t n)
{
	double top = pp_nines_top(n);
	double y;

	if (pct >= 100)
		return top;
	y = -log10(1 - pct / 100);
	return y < top ? y : top;
}

size_t pp_quantile_grid(double *pct, size_t max, size_t n)
{
	double top = pp_nines_top(n);
	size_t k = 0;

	if (top > GRID_MAX_NINES)
		top = GRID_MAX_NINES;
	/* The body: the CDF's lower 90% in equal steps of probability. */
	for (int i = 0; i <= 360 && k < max; i++)
		pct[k++] = i * 0.25;
	/* The tail: equal steps of nines, 1 - 10^-u for u = 1.01, 1.02, ... below the top. */
	for (int i = 101; i < (int)(top * 100 + 1e-9) && k < max; i++)
		pct[k++] = 100 * (1 - pow(10, -i / 100.0));
	if (k < max)
		pct[k++] = 100;
	return k;
}
