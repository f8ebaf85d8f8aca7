// SPDX-License-Identifier: MIT
/* Wall clock -> CLOCK_MONOTONIC. The offset is read by bracketing one CLOCK_REALTIME read
 * between two CLOCK_MONOTONIC reads; the tightest of many brackets is the least disturbed by
 * preemption or an interrupt. Both clocks come from the same vDSO clocksource, so a bracket
 * on this machine is some tens of ns wide. */
#include <errno.h>
#include <time.h>

#include "collect/clockmap.h"

/* NTP slews at most 500 ppm; more than that (plus the brackets) between start and end is a step. */
#define MAX_SLEW_PPM 500
#define STEP_FLOOR_NS 10000 /* below this, a change of offset is noise, not a step */

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void pp_clock_sample_from(struct pp_clock_sample *out, uint64_t mono_a, uint64_t real,
			  uint64_t mono_b)
{
	uint64_t mid = mono_a + (mono_b - mono_a) / 2;

	out->mono_ns = mid;
	out->offset_ns = (int64_t)(real - mid);
	out->uncertainty_ns = (mono_b - mono_a + 1) / 2;
}

int pp_clock_sample_take(struct pp_clock_sample *out, int tries)
{
	uint64_t best_width = UINT64_MAX;
	struct timespec probe;

	if (tries < 1)
		return -EINVAL;
	if (clock_gettime(CLOCK_REALTIME, &probe) || clock_gettime(CLOCK_MONOTONIC, &probe))
		return -errno;
	for (int i = 0; i < tries; i++) {
		uint64_t a = read_ns(CLOCK_MONOTONIC);
		uint64_t real = read_ns(CLOCK_REALTIME);
		uint64_t b = read_ns(CLOCK_MONOTONIC);

		if (b - a < best_width) {
			best_width = b - a;
			pp_clock_sample_from(out, a, real, b);
		}
	}
	return 0;
}

void pp_clockmap_init(struct pp_clockmap *m, uint64_t resolution_ns)
{
	*m = (struct pp_clockmap){ .resolution_ns = resolution_ns };
}

void pp_clockmap_set_start(struct pp_clockmap *m, const struct pp_clock_sample *s)
{
	m->start = *s;
	m->have_start = true;
}

void pp_clockmap_set_end(struct pp_clockmap *m, const struct pp_clock_sample *s)
{
	m->end = *s;
	m->have_end = true;
}

static bool interpolates(const struct pp_clockmap *m)
{
	return m->have_start && m->have_end && m->end.mono_ns > m->start.mono_ns &&
	       !pp_clockmap_stepped(m);
}

/*
 * offset(mono) = off0 + k (mono - m0), k = d_off / d_mono, and real = mono + offset(mono), so
 * mono - m0 = (real - off0 - m0) / (1 + k) = (real - off0 - m0) * d_mono / (d_mono + d_off).
 * Exact in 128-bit integers, no rounding of k.
 */
uint64_t pp_clockmap_to_mono(const struct pp_clockmap *m, uint64_t realtime_ns)
{
	const struct pp_clock_sample *s0 = m->have_start ? &m->start : &m->end;
	__int128 since, d_mono, d_off;

	if (!m->have_start && !m->have_end)
		return 0;
	since = (__int128)realtime_ns - s0->offset_ns - (__int128)s0->mono_ns;
	if (interpolates(m)) {
		d_mono = (__int128)m->end.mono_ns - m->start.mono_ns;
		d_off = (__int128)m->end.offset_ns - m->start.offset_ns;
		if (d_mono + d_off > 0)
			since = since * d_mono / (d_mono + d_off);
	}
	return (uint64_t)((__int128)s0->mono_ns + since);
}

double pp_clockmap_drift_ns_per_s(const struct pp_clockmap *m)
{
	if (!m->have_start || !m->have_end || m->end.mono_ns <= m->start.mono_ns)
		return 0;
	return (double)(m->end.offset_ns - m->start.offset_ns) * 1e9 /
	       (double)(m->end.mono_ns - m->start.mono_ns);
}

uint64_t pp_clockmap_uncertainty_ns(const struct pp_clockmap *m)
{
	uint64_t worst = 0;

	if (m->have_start)
		worst = m->start.uncertainty_ns;
	if (m->have_end && m->end.uncertainty_ns > worst)
		worst = m->end.uncertainty_ns;
	return worst + m->resolution_ns;
}

bool pp_clockmap_stepped(const struct pp_clockmap *m)
{
	uint64_t span, allowed;
	int64_t moved;

	if (!m->have_start || !m->have_end)
		return false;
	span = m->end.mono_ns > m->start.mono_ns ? m->end.mono_ns - m->start.mono_ns
						  : m->start.mono_ns - m->end.mono_ns;
	moved = m->end.offset_ns - m->start.offset_ns;
	if (moved < 0)
		moved = -moved;
	allowed = span / 1000000 * MAX_SLEW_PPM + m->start.uncertainty_ns + m->end.uncertainty_ns +
		  STEP_FLOOR_NS;
	return (uint64_t)moved > allowed;
}
