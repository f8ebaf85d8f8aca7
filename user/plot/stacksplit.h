// SPDX-License-Identifier: MIT
/* How the RTT at a percentile splits into its parts. Parts taken at their own percentiles come
 * from different exchanges and do not add up, so the split is taken from whole exchanges: the
 * mean of each part over the few exchanges whose RTT is nearest the RTT percentile. */
#ifndef PP_STACKSPLIT_H
#define PP_STACKSPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "model/split.h"

/* The parts a bar can be stacked from. Without --sched a bar is client_stack, network,
 * server_stack, server_app. A host whose rows carry the --sched parts has its stack drawn as
 * four: processing, waiting for a CPU (its wake-up less the idle exit), its CPU leaving idle,
 * and the return to the program; the four add up to its stack, so the bar still adds up to
 * the RTT. */
enum pp_stack_part {
	PP_PART_CLIENT_STACK, PP_PART_NETWORK, PP_PART_SERVER_STACK, PP_PART_SERVER_APP,
	PP_PART_CLIENT_PROC, PP_PART_CLIENT_WAIT, PP_PART_CLIENT_IDLE, PP_PART_CLIENT_RETURN,
	PP_PART_SERVER_PROC, PP_PART_SERVER_WAIT, PP_PART_SERVER_IDLE, PP_PART_SERVER_RETURN,
	PP_NPARTS
};

#define PP_STACK_PARTS_MAX 10 /* both hosts split: 4 + network + 4 + server_app */

struct pp_stack_part_info {
	const char *name;           /* in stack.dat and the printed split: "client_wait", ... */
	const char *key;            /* the legend's plain words: "client: waiting for CPU" */
	enum pp_component comp;     /* the column it is read from (a wait: the wake-up's) */
	enum pp_component family;   /* drawn in a shade of this component's colour */
};

extern const struct pp_stack_part_info pp_stack_part_info[PP_NPARTS];

/* What the bars are stacked from, and each part's value per row. */
struct pp_stack_parts {
	size_t n;
	enum pp_stack_part part[PP_STACK_PARTS_MAX]; /* stacking order, bottom first */
	const double *v[PP_STACK_PARTS_MAX];         /* row-aligned, NAN = not measured */
	bool split[2];                               /* client's, server's stack in its parts */
	double *wait[2];                             /* the waits computed, owned */
};

/* Chooses the parts from component columns: col[c] holds component c's value per row (NAN =
 * not measured), or is NULL when the CSV lacks it. A host's stack is split when some row has
 * all four of its --sched parts; then only rows with them make its bars. 0 or -ENOMEM. */
int pp_stack_parts_choose(struct pp_stack_parts *sp, const double *const col[PP_NCOMPONENTS],
			  size_t rows);
void pp_stack_parts_free(struct pp_stack_parts *sp);

struct pp_stack_bar {
	double pct;
	double rtt_us;                      /* the RTT percentile, over every row with an RTT */
	size_t rows;                        /* complete exchanges averaged */
	size_t nparts;
	double part_us[PP_STACK_PARTS_MAX]; /* mean of each part over those rows */
	double rtt_mean_us;                 /* mean RTT of those rows (= the parts' sum, to rounding) */
};

/* Rows averaged for the bar at percentile pct of n complete rows: n/1000 but at most a tenth
 * of the rows beyond the percentile, clamped to 1..100, so the bar stays close to its
 * percentile even in a sparse tail. */
size_t pp_stack_window(size_t n, double pct);

/* rtt and part[0..nparts) are row-aligned (NAN = not measured); a row counts if rtt and every
 * part are present. Fills bar[i] for each pct[i]. -ENODATA if no row is complete or no row
 * has an RTT, -EINVAL for nparts beyond PP_STACK_PARTS_MAX. */
int pp_stack_split(const double *rtt, const double *const *part, size_t nparts, size_t rows,
		   const double *pct, size_t npct, struct pp_stack_bar *bar);

#endif
