// SPDX-License-Identifier: MIT
/* Maps wall-clock (CLOCK_REALTIME) timestamps, as libpcap gives them, onto CLOCK_MONOTONIC, the
 * clock of the BPF events, from offsets measured at the start and the end of a run. */
#ifndef PP_CLOCKMAP_H
#define PP_CLOCKMAP_H

#include <stdbool.h>
#include <stdint.h>

/* One measurement of REALTIME - MONOTONIC. */
struct pp_clock_sample {
	int64_t  offset_ns;      /* realtime - monotonic */
	uint64_t mono_ns;        /* when (CLOCK_MONOTONIC, midpoint of the bracket) */
	uint64_t uncertainty_ns; /* half the bracket: the realtime read happened within +- this */
};

struct pp_clockmap {
	struct pp_clock_sample start, end;
	bool     have_start, have_end;
	uint64_t resolution_ns;  /* of the timestamps converted (pcap: 1 ns nano, 1000 ns micro) */
};

#define PP_CLOCK_TRIES 50

/* Reads mono a, real, mono b `tries` times and keeps the tightest bracket (smallest b - a):
 * offset = real - (a + b) / 2, uncertainty = (b - a) / 2. Returns 0 or -errno. */
int pp_clock_sample_take(struct pp_clock_sample *out, int tries);

/* The arithmetic of pp_clock_sample_take for one bracket (exposed for tests). */
void pp_clock_sample_from(struct pp_clock_sample *out, uint64_t mono_a, uint64_t real,
			  uint64_t mono_b);

void pp_clockmap_init(struct pp_clockmap *m, uint64_t resolution_ns);
void pp_clockmap_set_start(struct pp_clockmap *m, const struct pp_clock_sample *s);
void pp_clockmap_set_end(struct pp_clockmap *m, const struct pp_clock_sample *s);

/* Wall-clock ns -> CLOCK_MONOTONIC ns. With both samples the offset is interpolated linearly
 * (extrapolated outside them); with one it is constant. Without any it returns 0. */
uint64_t pp_clockmap_to_mono(const struct pp_clockmap *m, uint64_t realtime_ns);

/* How fast REALTIME runs against MONOTONIC (ns per s; NTP slews up to +-500000); 0 with < 2
 * samples. */
double pp_clockmap_drift_ns_per_s(const struct pp_clockmap *m);

/* Bound on a converted time's error: the worst bracket plus the timestamps' resolution. */
uint64_t pp_clockmap_uncertainty_ns(const struct pp_clockmap *m);

/* True when the two offsets differ more than NTP could slew between them: the wall clock was
 * stepped during the run, and converted times around the step are wrong. */
bool pp_clockmap_stepped(const struct pp_clockmap *m);

#endif
