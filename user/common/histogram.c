// SPDX-License-Identifier: MIT
/* Bounded-memory percentiles (histogram.h): exact samples first, then one log-linear
 * histogram per sign over the magnitudes, read back through stats.h's rank definition. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/histogram.h"
#include "common/stats.h"

#define LINEAR  (1u << PP_HIST_SUB_BITS)        /* magnitudes below this: one bucket each */
#define PER_OCT (1u << (PP_HIST_SUB_BITS - 1))  /* buckets per power of two above */
#define TOP     ((1ull << PP_HIST_RANGE_BITS) - 1)

/* One sign's histogram; lo..hi bound the buckets in use, so reading and resetting touch only
 * those (a period of the live report fills a few hundred of the 52224). */
struct side {
	uint64_t *count;  /* PP_HIST_BUCKETS, NULL until the sign's first sample */
	uint64_t n;
	uint32_t lo, hi;  /* valid when n > 0 */
};

struct pp_hist {
	size_t exact_max;
	int64_t *x;        /* the samples while exact */
	size_t cap;
	bool sorted;
	bool binned;       /* past exact_max: x is gone, the sides hold everything */
	struct side neg, pos;
	uint64_t n;
	int64_t min, max;
	__int128 sum;      /* 2^64 samples of |v| <= 2^63 fit: the mean stays exact */
};

int pp_hist_new(struct pp_hist **out, size_t exact_max)
{
	struct pp_hist *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->exact_max = exact_max;
	h->binned = exact_max == 0;
	*out = h;
	return 0;
}

static uint64_t magnitude(int64_t v)
{
	/* through unsigned: -INT64_MIN would overflow */
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

static uint32_t bucket_of(uint64_t m)
{
	int e;

	if (m > TOP)
		m = TOP;
	if (m < LINEAR)
		return (uint32_t)m;
	e = 63 - __builtin_clzll(m);  /* m in [2^e, 2^(e+1)), e >= PP_HIST_SUB_BITS */
	return LINEAR + (uint32_t)(e - PP_HIST_SUB_BITS) * PER_OCT +
	       (uint32_t)((m >> (e - PP_HIST_SUB_BITS + 1)) - PER_OCT);
}

/* The middle of bucket i: [lo, lo + w) holds magnitudes >= 2^e with w = 2^(e-10), so
 * lo + w/2 is within w/2 = 2^(e-11) <= m/2048 of each. Exact as a double (12 bits). */
static double bucket_mid(uint32_t i)
{
	uint32_t oct, sub;
	int shift;

	if (i < LINEAR)
		return (double)i;
	oct = (i - LINEAR) / PER_OCT;
	sub = (i - LINEAR) % PER_OCT;
	shift = (int)oct + 1;  /* e - 10 with e = oct + 11 */
	return (double)(((uint64_t)(PER_OCT + sub) << shift) + (1ull << (shift - 1)));
}

static int side_alloc(struct side *s)
{
	if (!s->count && !(s->count = calloc(PP_HIST_BUCKETS, sizeof(*s->count))))
		return -ENOMEM;
	return 0;
}

static void side_add(struct side *s, int64_t v)
{
	uint32_t i = bucket_of(magnitude(v));

	s->count[i]++;
	if (!s->n++) {
		s->lo = s->hi = i;
	} else {
		if (i < s->lo)
			s->lo = i;
		if (i > s->hi)
			s->hi = i;
	}
}

static void bin(struct pp_hist *h, int64_t v)
{
	side_add(v < 0 ? &h->neg : &h->pos, v);
}

/* Past exact_max: both sides the samples need first (nothing can fail after), then pour. */
static int start_binning(struct pp_hist *h, int64_t v)
{
	bool neg = v < 0 || (h->n && h->min < 0), pos = v >= 0 || (h->n && h->max >= 0);

	if ((neg && side_alloc(&h->neg)) || (pos && side_alloc(&h->pos)))
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++)
		bin(h, h->x[i]);
	free(h->x);
	h->x = NULL;
	h->cap = 0;
	h->binned = true;
	return 0;
}

static int keep(struct pp_hist *h, int64_t v)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		int64_t *grown;

		if (cap > h->exact_max)
			cap = h->exact_max;
		grown = realloc(h->x, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		h->x = grown;
		h->cap = cap;
	}
	h->x[h->n] = v;
	h->sorted = false;
	return 0;
}

int pp_hist_add(struct pp_hist *h, int64_t v)
{
	int rc;

	if (!h->binned && h->n < h->exact_max)
		rc = keep(h, v);
	else if (!h->binned)
		rc = start_binning(h, v);
	else
		rc = side_alloc(v < 0 ? &h->neg : &h->pos);
	if (rc)
		return rc;
	if (h->binned)
		bin(h, v);
	if (!h->n || v < h->min)
		h->min = v;
	if (!h->n || v > h->max)
		h->max = v;
	h->sum += v;
	h->n++;
	return 0;
}

uint64_t pp_hist_count(const struct pp_hist *h)
{
	return h->n;
}

bool pp_hist_exact(const struct pp_hist *h)
{
	return !h->binned;
}

int64_t pp_hist_min(const struct pp_hist *h)
{
	return h->min;
}

int64_t pp_hist_max(const struct pp_hist *h)
{
	return h->max;
}

double pp_hist_mean(const struct pp_hist *h, double unit)
{
	/* quotient and remainder: each converts exactly enough, where the 128-bit sum would not */
	__int128 q = h->sum / (__int128)h->n, r = h->sum % (__int128)h->n;

	return ((double)q + (double)r / (double)h->n) / unit;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The k-th smallest sample (0-based), binned: negatives come first, largest magnitude first. */
static double binned_at(const struct pp_hist *h, uint64_t k)
{
	uint64_t seen = 0;
	double v = 0;

	if (k == 0)
		return (double)h->min;
	if (k == h->n - 1)
		return (double)h->max;
	if (k < h->neg.n) {
		for (uint32_t i = h->neg.hi;; i--) {
			seen += h->neg.count[i];
			if (seen > k) {
				v = -bucket_mid(i);
				break;
			}
		}
	} else {
		k -= h->neg.n;
		for (uint32_t i = h->pos.lo;; i++) {
			seen += h->pos.count[i];
			if (seen > k) {
				v = bucket_mid(i);
				break;
			}
		}
	}
	/* the sample lies in [min, max]: clamping the middle there only brings it closer */
	if (v < (double)h->min)
		v = (double)h->min;
	if (v > (double)h->max)
		v = (double)h->max;
	return v;
}

static double at(struct pp_hist *h, uint64_t k)
{
	return h->binned ? binned_at(h, k) : (double)h->x[k];
}

double pp_hist_percentile(struct pp_hist *h, double p, double unit)
{
	size_t lo;
	double frac, a, b;

	if (!h->binned && !h->sorted) {
		qsort(h->x, h->n, sizeof(*h->x), cmp_i64);
		h->sorted = true;
	}
	/* the operations of pp_percentile on samples / unit, so exact results are its own */
	if (!pp_percentile_rank(h->n, p, &lo, &frac))
		return (double)h->max / unit;
	a = at(h, lo) / unit;
	b = at(h, lo + 1) / unit;
	return a + frac * (b - a);
}

size_t pp_hist_bytes(const struct pp_hist *h)
{
	return sizeof(*h) + h->cap * sizeof(*h->x) + (h->neg.count ? PP_HIST_SIDE_BYTES : 0) +
	       (h->pos.count ? PP_HIST_SIDE_BYTES : 0);
}

static void side_reset(struct side *s)
{
	if (s->n)
		memset(s->count + s->lo, 0, (size_t)(s->hi - s->lo + 1) * sizeof(*s->count));
	s->n = 0;
}

void pp_hist_reset(struct pp_hist *h)
{
	side_reset(&h->neg);
	side_reset(&h->pos);
	h->n = 0;
	h->sum = 0;
	h->min = h->max = 0;
	h->sorted = false;
	h->binned = h->exact_max == 0;
}

void pp_hist_free(struct pp_hist *h)
{
	if (!h)
		return;
	free(h->neg.count);
	free(h->pos.count);
	free(h->x);
	free(h);
}
