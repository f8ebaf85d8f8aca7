// SPDX-License-Identifier: MIT
/* How the RTT at a percentile splits into its parts. Parts taken at their own percentiles come
 * from different exchanges and do not add up, so the split is taken from whole exchanges: the
 * mean of each part over the few exchanges whose RTT is nearest the RTT percentile. */
#ifndef PP_STACKSPLIT_H
#define PP_STACKSPLIT_H

#include <stddef.h>

#define PP_STACK_PARTS 4 /* client_stack, network, server_stack, server_app: they sum to rtt */

struct pp_stack_bar {
	double pct;
	double rtt_us;                  /* the RTT percentile, over every row with an RTT */
	size_t rows;                    /* complete exchanges averaged */
	double part_us[PP_STACK_PARTS]; /* mean of each part over those rows */
	double rtt_mean_us;             /* mean RTT of those rows (= the parts' sum, to rounding) */
};

/* Rows averaged for the bar at percentile pct of n complete rows: n/1000 but at most a tenth
 * of the rows beyond the percentile, clamped to 1..100, so the bar stays close to its
 * percentile even in a sparse tail. */
size_t pp_stack_window(size_t n, double pct);

/* rtt and part[] are row-aligned (NAN = not measured); a row counts if all five are present.
 * Fills bar[i] for each pct[i]. -ENODATA if no row is complete or no row has an RTT. */
int pp_stack_split(const double *rtt, const double *const part[PP_STACK_PARTS], size_t rows,
		   const double *pct, size_t npct, struct pp_stack_bar *bar);

#endif
