// SPDX-License-Identifier: MIT
/* Percentiles, min, max and mean of signed integer samples (nanoseconds) in bounded memory,
 * however many samples come: the samples themselves while there are at most exact_max of
 * them, then a log-linear (HDR-style) histogram.
 *
 * Percentiles have the one definition of stats.h (type 7, interpolating between the two
 * samples around the rank). While exact, the result is that of pp_percentile over the samples
 * divided by `unit`, bit for bit. Once binned, each of the two samples is read as its bucket's
 * middle: |v| < 2^11 ns have a bucket each (exact), larger |v| in [2^e, 2^(e+1)) share buckets
 * 2^(e-10) wide, so a sample read back is off by at most |v|/2048 (rank 0 and n-1 read the
 * exact min and max). The interpolated percentile is then off by at most
 * max(|x_lo|, |x_hi|)/2048, i.e. by at most |q|/2048 when both samples have the same sign.
 * min, max, count and mean are always exact (the sum is kept in 128 bits).
 *
 * Range: |v| < 2^60 ns (36 years); larger magnitudes (garbage clocks) fall in the last bucket
 * of their sign, still counted exactly in min, max and mean. Negative samples (a component
 * of misordered points, split.h) have a histogram of their own, allocated on the first one.
 *
 * Memory: at most exact_max * 8 bytes of samples plus PP_HIST_SIDE_BYTES per sign in use
 * (pp_hist_bytes tells the current figure); an add is O(1) (amortised while exact). */
#ifndef PP_HISTOGRAM_H
#define PP_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_HIST_SUB_BITS   11  /* 2^11 exact buckets, then 2^10 buckets per power of two */
#define PP_HIST_RANGE_BITS 60  /* magnitudes below 2^60 are binned as they are */
#define PP_HIST_BUCKETS    ((1u << PP_HIST_SUB_BITS) + \
			    (PP_HIST_RANGE_BITS - PP_HIST_SUB_BITS) * (1u << (PP_HIST_SUB_BITS - 1)))
#define PP_HIST_SIDE_BYTES ((size_t)PP_HIST_BUCKETS * sizeof(uint64_t)) /* 408 KiB */
/* What the summary keeps exact: its printed digits (1 ns) stay those of the full sort for
 * runs up to this many samples per component, at 512 KiB each. */
#define PP_HIST_EXACT_DEFAULT 65536u
/* The most a histogram ever holds on the heap. */
#define PP_HIST_MAX_BYTES(exact_max) \
	((size_t)(exact_max) * sizeof(int64_t) + 2 * PP_HIST_SIDE_BYTES + 256)

struct pp_hist;

/* exact_max: samples kept as they are before binning (0 = bin from the first). 0 or -ENOMEM. */
int pp_hist_new(struct pp_hist **out, size_t exact_max);
/* 0 or -ENOMEM (the first sample past exact_max, or the first negative, allocates). */
int pp_hist_add(struct pp_hist *h, int64_t v);
uint64_t pp_hist_count(const struct pp_hist *h);
bool pp_hist_exact(const struct pp_hist *h);  /* still holding the samples themselves */
/* The following need count >= 1. unit divides every sample before it is used (1000 for
 * microseconds), as the caller would have converted them for pp_percentile. */
int64_t pp_hist_min(const struct pp_hist *h);
int64_t pp_hist_max(const struct pp_hist *h);
double pp_hist_mean(const struct pp_hist *h, double unit);
/* p in [0, 100]. Not const: exact samples are sorted on first use after an add. */
double pp_hist_percentile(struct pp_hist *h, double p, double unit);
size_t pp_hist_bytes(const struct pp_hist *h);
/* Back to no samples, exact again; the memory already allocated is kept for reuse. */
void pp_hist_reset(struct pp_hist *h);
void pp_hist_free(struct pp_hist *h);

#endif
