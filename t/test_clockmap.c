// SPDX-License-Identifier: MIT
/* Wall clock -> CLOCK_MONOTONIC: the bracket arithmetic, constant offsets, interpolated drift,
 * step detection, and a real measurement on this machine. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "collect/clockmap.h"
#include "sanitized.h"
#include "check_main.h"

#define S 1000000000ull

static struct pp_clock_sample sample(uint64_t mono, int64_t offset, uint64_t unc)
{
	return (struct pp_clock_sample){ .mono_ns = mono, .offset_ns = offset, .uncertainty_ns = unc };
}

/* A map at 1 ns resolution from a start and an end sample; returns its drift (ns/s). */
static double map_between(struct pp_clockmap *m, struct pp_clock_sample a, struct pp_clock_sample b)
{
	pp_clockmap_init(m, 1);
	pp_clockmap_set_start(m, &a);
	pp_clockmap_set_end(m, &b);
	return pp_clockmap_drift_ns_per_s(m);
}

START_TEST(test_bracket_midpoint_and_half_width)
{
	struct pp_clock_sample s;

	pp_clock_sample_from(&s, 1000, 5000 + 1050, 1100);
	ck_assert_uint_eq(s.mono_ns, 1050);
	ck_assert_int_eq(s.offset_ns, 5000);
	ck_assert_uint_eq(s.uncertainty_ns, 50);
	pp_clock_sample_from(&s, 1000, 900, 1001); /* realtime behind monotonic: negative offset */
	ck_assert_int_eq(s.offset_ns, -100);
	ck_assert_uint_eq(s.uncertainty_ns, 1);
}
END_TEST

START_TEST(test_constant_offset_with_one_sample)
{
	struct pp_clockmap m;
	struct pp_clock_sample s = sample(100 * S, (int64_t)(1700000000 * S), 20);

	pp_clockmap_init(&m, 1);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 1700000000 * S), 0); /* no sample: unknown */
	pp_clockmap_set_start(&m, &s);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 1700000000 * S + 100 * S + 5), 100 * S + 5);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 1700000000 * S + 90 * S), 90 * S);
	ck_assert(pp_clockmap_drift_ns_per_s(&m) == 0);
	ck_assert_uint_eq(pp_clockmap_uncertainty_ns(&m), 21);
}
END_TEST

START_TEST(test_end_sample_alone_is_used)
{
	struct pp_clockmap m;
	struct pp_clock_sample s = sample(100 * S, 1000, 20);

	pp_clockmap_init(&m, 1000);
	pp_clockmap_set_end(&m, &s);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 50 * S + 1000), 50 * S);
	ck_assert_uint_eq(pp_clockmap_uncertainty_ns(&m), 1020);
}
END_TEST

/* Offset grows 100 ns/s (100 ppb) between samples 10 s apart: halfway it is 500 ns larger. */
START_TEST(test_drift_is_interpolated_between_samples)
{
	struct pp_clockmap m;

	ck_assert(fabs(map_between(&m, sample(100 * S, 5 * (int64_t)S, 10),
				   sample(110 * S, 5 * (int64_t)S + 1000, 30)) - 100.0) < 1e-9);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 100 * S + 5 * S), 100 * S);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 110 * S + 5 * S + 1000), 110 * S);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 105 * S + 5 * S + 500), 105 * S);
	/* extrapolated outside the samples, same line */
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 120 * S + 5 * S + 2000), 120 * S);
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 90 * S + 5 * S - 1000), 90 * S);
	ck_assert_uint_eq(pp_clockmap_uncertainty_ns(&m), 31);
	ck_assert(!pp_clockmap_stepped(&m));
}
END_TEST

START_TEST(test_negative_drift_round_trips)
{
	struct pp_clockmap m;

	/* -30 us in 60 s: -500 ns/s */
	ck_assert(fabs(map_between(&m, sample(1000 * S, -77 * (int64_t)S, 10),
				   sample(1060 * S, -77 * (int64_t)S - 30000, 10)) + 500.0) < 1e-9);
	for (uint64_t mono = 990 * S; mono <= 1070 * S; mono += 7 * S + 13) {
		int64_t offset = -77 * (int64_t)S - (int64_t)(((__int128)mono - 1000 * S) * 30000 / (60 * S));
		uint64_t back = pp_clockmap_to_mono(&m, (uint64_t)((int64_t)mono + offset));

		ck_assert_msg(back + 1 >= mono && back <= mono + 1, "%llu -> %llu",
			      (unsigned long long)mono, (unsigned long long)back);
	}
}
END_TEST

/* Between two samples 1 s apart NTP can move the offset 500 us at most; 2 ms is a step. */
START_TEST(test_step_is_detected_and_not_interpolated)
{
	struct pp_clockmap m;
	struct pp_clock_sample b = sample(11 * S, 1000 * (int64_t)S + 2000000, 20);

	map_between(&m, sample(10 * S, 1000 * (int64_t)S, 20), b);
	ck_assert(pp_clockmap_stepped(&m));
	ck_assert_uint_eq(pp_clockmap_to_mono(&m, 1010 * S + 500000000), 10 * S + 500000000);
	b.offset_ns = 1000 * (int64_t)S + 400000; /* 400 us in 1 s: a slew */
	pp_clockmap_set_end(&m, &b);
	ck_assert(!pp_clockmap_stepped(&m));
}
END_TEST

START_TEST(test_measured_offset_matches_the_clocks)
{
	struct pp_clock_sample s;
	struct pp_clockmap m;
	struct timespec real, mono_a, mono_b;
	uint64_t real_ns, a_ns, b_ns, got;

	ck_assert_int_eq(pp_clock_sample_take(&s, 0), -EINVAL);
	ck_assert_int_eq(pp_clock_sample_take(&s, PP_CLOCK_TRIES), 0);
	/* The check below is only as sharp as the uncertainty: the tightest of 50 brackets is
	 * some tens of ns; 100 us allows a loaded machine. A time bound, so not under the
	 * sanitizers (sanitized.h). */
	if (!PP_SANITIZED)
		ck_assert_uint_lt(s.uncertainty_ns, 100000);
	pp_clockmap_init(&m, 1);
	pp_clockmap_set_start(&m, &s);
	/* The realtime read converted must land between the two monotonic reads around it,
	 * give or take the sample's own uncertainty: no bound on how long anything took, so a
	 * preemption (a loaded machine, the sanitizers) cannot fail it. */
	clock_gettime(CLOCK_MONOTONIC, &mono_a);
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono_b);
	real_ns = (uint64_t)real.tv_sec * S + (uint64_t)real.tv_nsec;
	a_ns = (uint64_t)mono_a.tv_sec * S + (uint64_t)mono_a.tv_nsec;
	b_ns = (uint64_t)mono_b.tv_sec * S + (uint64_t)mono_b.tv_nsec;
	got = pp_clockmap_to_mono(&m, real_ns);
	ck_assert_uint_ge(got + s.uncertainty_ns + 1, a_ns);
	ck_assert_uint_le(got, b_ns + s.uncertainty_ns + 1);
}
END_TEST

PP_CHECK_TESTS("clockmap", 0,
	       test_bracket_midpoint_and_half_width,
	       test_constant_offset_with_one_sample,
	       test_end_sample_alone_is_used,
	       test_drift_is_interpolated_between_samples,
	       test_negative_drift_round_trips,
	       test_step_is_detected_and_not_interpolated,
	       test_measured_offset_matches_the_clocks)
