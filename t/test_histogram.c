// SPDX-License-Identifier: MIT
/* The bounded-memory percentiles: exact (pp_percentile's own doubles) while small, then within
 * |x|/2048 of the full sort's answer on a million samples of several shapes, edges included,
 * in the memory histogram.h states. */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/histogram.h"
#include "common/stats.h"
#include "check_main.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static double uniform01(void)
{
	return (double)(next_random() >> 11) / 9007199254740992.0; /* [0, 1) */
}

enum shape { UNIFORM, LOG_UNIFORM, NORMAL, PARETO, SIGNED, FEW_VALUES, NSHAPES };
static const char *const shape_name[NSHAPES] = { "uniform", "log-uniform", "normal", "pareto",
						 "signed", "few values" };

/* Latency-like shapes in ns: flat, spread over decades, a bell around 50 us, a heavy tail,
 * both signs around 0 (network of misordered points), and many repeats. */
static int64_t sample(enum shape s)
{
	switch (s) {
	case UNIFORM:
		return (int64_t)(next_random() % 1000000);
	case LOG_UNIFORM:
		return (int64_t)exp(uniform01() * log(1e12));
	case NORMAL: { /* Box-Muller */
		double u = uniform01() + 1e-300, v = uniform01();

		return (int64_t)(50000 + 5000 * sqrt(-2 * log(u)) * cos(2 * M_PI * v));
	}
	case PARETO:
		return (int64_t)(10000 / pow(1 - uniform01(), 1 / 1.2));
	case SIGNED:
		return (int64_t)(next_random() % 200001) - 100000;
	default:
		return (int64_t)(next_random() % 5) * 1000;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Every percentile in steps of 0.37 plus the summary's: within the bound of histogram.h. */
static void check_bound(struct pp_hist *h, const int64_t *sorted, size_t n, const char *what,
			double unit)
{
	static const double fixed[] = { 0, 50, 90, 99, 99.9, 99.99, 100 };
	double worst = 0;

	for (int i = 0; i < 300; i++) {
		double p = i < 7 ? fixed[i] : (i - 7) * 0.37;
		size_t lo;
		double frac, want, got, bound;

		if (p > 100)
			break;
		if (pp_percentile_rank(n, p, &lo, &frac)) {
			double a = (double)sorted[lo] / unit, b = (double)sorted[lo + 1] / unit;

			want = a + frac * (b - a);
			bound = fmax(fabs(a), fabs(b)) / 2048;
		} else {
			want = (double)sorted[n - 1] / unit;
			bound = 0;
		}
		got = pp_hist_percentile(h, p, unit);
		/* + a few ulps of the interpolation itself */
		if (fabs(got - want) > bound + 1e-9 * fabs(want))
			ck_abort_msg("%s: p%g = %.6f, exact %.6f, bound %.6f", what, p, got, want, bound);
		if (want)
			worst = fmax(worst, fabs(got - want) / fabs(want));
	}
	ck_assert_msg(worst <= 1.0 / 2048 + 1e-12, "%s: worst relative error %g", what, worst);
}

START_TEST(test_error_bound_on_a_million_samples)
{
	const size_t n = 1000000;
	int64_t *x = malloc(n * sizeof(*x));
	/* binned from the first sample, and exact first then binned: the pour must lose nothing */
	const size_t exact_max[] = { 0, PP_HIST_EXACT_DEFAULT };

	for (int s = 0; s < NSHAPES; s++) {
		for (size_t m = 0; m < 2; m++) {
			struct pp_hist *h;
			__int128 sum = 0;
			char what[64];
			int rc = 0;

			ck_assert_int_eq(pp_hist_new(&h, exact_max[m]), 0);

			/* (one assertion after the loop: Check's each costs a system call) */
			for (size_t i = 0; i < n; i++) {
				x[i] = sample((enum shape)s);
				sum += x[i];
				rc |= pp_hist_add(h, x[i]);
			}
			ck_assert_int_eq(rc, 0);
			qsort(x, n, sizeof(*x), cmp_i64);
			ck_assert(!pp_hist_exact(h));
			ck_assert_uint_eq(pp_hist_count(h), n);
			ck_assert_int_eq(pp_hist_min(h), x[0]);
			ck_assert_int_eq(pp_hist_max(h), x[n - 1]);
			ck_assert_double_eq_tol(pp_hist_mean(h, 1), (double)sum / (double)n, 1e-6);
			snprintf(what, sizeof(what), "%s, exact_max %zu", shape_name[s], exact_max[m]);
			check_bound(h, x, n, what, 1);
			check_bound(h, x, n, what, 1000);
			ck_assert_uint_le(pp_hist_bytes(h), PP_HIST_MAX_BYTES(exact_max[m]));
			pp_hist_free(h);
		}
	}
	free(x);
}
END_TEST

/* While exact, the very doubles pp_percentile gives over ns / 1000, as the summary had. */
START_TEST(test_exact_is_pp_percentile_bit_for_bit)
{
	const size_t n = 4099;
	struct pp_hist *h;
	int64_t *x = malloc(n * sizeof(*x));
	double *us = malloc(n * sizeof(*us));

	ck_assert_int_eq(pp_hist_new(&h, n), 0);
	for (size_t i = 0; i < n; i++) {
		x[i] = sample(i % 2 ? PARETO : SIGNED);
		us[i] = (double)x[i] / 1000.0;
		ck_assert_int_eq(pp_hist_add(h, x[i]), 0);
	}
	ck_assert(pp_hist_exact(h));
	pp_sort_doubles(us, n);
	for (double p = 0; p <= 100; p += 0.1) {
		double got = pp_hist_percentile(h, p, 1000), want = pp_percentile(us, n, p);

		ck_assert_msg(memcmp(&got, &want, sizeof(got)) == 0, "p%g: %.17g vs %.17g", p, got, want);
	}
	/* one more sample bins them all */
	ck_assert_int_eq(pp_hist_add(h, 0), 0);
	ck_assert(!pp_hist_exact(h));
	free(us);
	free(x);
	pp_hist_free(h);
}
END_TEST

/* 0, 1, the bucket edges, the top of the range and beyond it, both signs. */
START_TEST(test_edge_values)
{
	const int64_t top = (int64_t)(1ull << 60) - 1;
	const int64_t edges[] = { 0, 1, 2, 2047, 2048, 2049, 4095, 4096, 1000000, top - 1, top,
				  -1, -2047, -2048, -top };
	const size_t n = sizeof(edges) / sizeof(edges[0]);
	struct pp_hist *h;

	ck_assert_int_eq(pp_hist_new(&h, 0), 0);
	/* each alone: the only sample is min and max, read exactly */
	for (size_t i = 0; i < n; i++) {
		pp_hist_reset(h);
		ck_assert_int_eq(pp_hist_add(h, edges[i]), 0);
		ck_assert_double_eq(pp_hist_percentile(h, 50, 1), (double)edges[i]);
		ck_assert_double_eq(pp_hist_mean(h, 1), (double)edges[i]);
	}
	/* each among many zeros and many tops: the middle rank reads its bucket, within bound */
	for (size_t i = 0; i < n; i++) {
		double got, want = (double)edges[i];

		pp_hist_reset(h);
		for (int k = 0; k < 10; k++) {
			ck_assert_int_eq(pp_hist_add(h, -top), 0);
			ck_assert_int_eq(pp_hist_add(h, top), 0);
		}
		ck_assert_int_eq(pp_hist_add(h, edges[i]), 0);
		got = pp_hist_percentile(h, 50, 1);
		ck_assert_msg(fabs(got - want) <= fabs(want) / 2048, "%lld read as %.1f",
			      (long long)edges[i], got);
		if (llabs(edges[i]) < 2048)
			ck_assert_double_eq(got, want);
	}
	ck_assert_uint_le(pp_hist_bytes(h), PP_HIST_MAX_BYTES(0));
	pp_hist_free(h);
}
END_TEST

/* Beyond 2^60 (garbage clocks): counted in the last bucket, min, max and mean still exact. */
START_TEST(test_out_of_range_is_clamped_not_lost)
{
	struct pp_hist *h;

	ck_assert_int_eq(pp_hist_new(&h, 0), 0);
	ck_assert_int_eq(pp_hist_add(h, INT64_MAX), 0);
	ck_assert_int_eq(pp_hist_add(h, INT64_MIN), 0);
	ck_assert_int_eq(pp_hist_add(h, 5), 0);
	ck_assert_uint_eq(pp_hist_count(h), 3);
	ck_assert_int_eq(pp_hist_min(h), INT64_MIN);
	ck_assert_int_eq(pp_hist_max(h), INT64_MAX);
	/* (INT64_MAX + INT64_MIN + 5) / 3 = 4/3: the 128-bit sum did not wrap */
	ck_assert_double_eq_tol(pp_hist_mean(h, 1), 4.0 / 3, 1e-12);
	ck_assert_double_eq(pp_hist_percentile(h, 50, 1), 5);
	ck_assert_double_eq(pp_hist_percentile(h, 0, 1), (double)INT64_MIN);
	ck_assert_double_eq(pp_hist_percentile(h, 100, 1), (double)INT64_MAX);
	pp_hist_free(h);
}
END_TEST

/* Reset: no samples, exact again, memory kept and not grown by reuse. */
START_TEST(test_reset_reuses_memory)
{
	struct pp_hist *h;
	size_t bytes = 0;

	ck_assert_int_eq(pp_hist_new(&h, 1000), 0);
	for (int round = 0; round < 5; round++) {
		int rc = 0;

		pp_hist_reset(h);
		ck_assert_uint_eq(pp_hist_count(h), 0);
		ck_assert(pp_hist_exact(h));
		for (int i = 0; i < 3000; i++)
			rc |= pp_hist_add(h, sample(SIGNED) + round * 1000000);
		ck_assert_int_eq(rc, 0);
		ck_assert(!pp_hist_exact(h));
		ck_assert_int_ge(pp_hist_min(h), round * 1000000 - 100000);
		if (round == 1)
			bytes = pp_hist_bytes(h);
		if (round > 1)
			ck_assert_uint_eq(pp_hist_bytes(h), bytes);
	}
	ck_assert_uint_le(bytes, PP_HIST_MAX_BYTES(1000));
	/* a small round after binned ones is exact again */
	pp_hist_reset(h);
	ck_assert_int_eq(pp_hist_add(h, 123456789), 0);
	ck_assert_int_eq(pp_hist_add(h, 123456790), 0);
	ck_assert_double_eq(pp_hist_percentile(h, 50, 1), 123456789.5);
	pp_hist_free(h);
}
END_TEST

/* Positive samples only, the summary's setting: never more than 1 MiB, however many. */
START_TEST(test_memory_is_bounded)
{
	struct pp_hist *h;
	size_t most = 0;
	int rc = 0;

	ck_assert_int_eq(pp_hist_new(&h, PP_HIST_EXACT_DEFAULT), 0);
	for (int i = 0; i < 3000000; i++) {
		rc |= pp_hist_add(h, sample(LOG_UNIFORM));
		if (pp_hist_bytes(h) > most)
			most = pp_hist_bytes(h);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_le(most, 1 << 20);
	ck_assert_uint_le(pp_hist_bytes(h), PP_HIST_SIDE_BYTES + 256);
	pp_hist_free(h);
}
END_TEST

PP_CHECK_TESTS("histogram", 120,
	       test_error_bound_on_a_million_samples,
	       test_exact_is_pp_percentile_bit_for_bit,
	       test_edge_values,
	       test_out_of_range_is_clamped_not_lost,
	       test_reset_reuses_memory,
	       test_memory_is_bounded)
