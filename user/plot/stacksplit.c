// SPDX-License-Identifier: MIT
/* Per-percentile split of the RTT into parts, averaged over the whole exchanges nearest it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot/stacksplit.h"
#include "common/stats.h"

#define PART(p, name, key, comp, family) [p] = { name, key, comp, family }

const struct pp_stack_part_info pp_stack_part_info[PP_NPARTS] = {
	PART(PP_PART_CLIENT_STACK, "client_stack", "client: stack", PP_CLIENT_STACK, PP_CLIENT_STACK),
	PART(PP_PART_NETWORK, "network", "network", PP_NETWORK, PP_NETWORK),
	PART(PP_PART_SERVER_STACK, "server_stack", "server: stack", PP_SERVER_STACK, PP_SERVER_STACK),
	PART(PP_PART_SERVER_APP, "server_app", "server: application", PP_SERVER_APP, PP_SERVER_APP),
	PART(PP_PART_CLIENT_PROC, "client_proc", "client: stack processing", PP_CLIENT_PROC,
	     PP_CLIENT_STACK),
	PART(PP_PART_CLIENT_WAIT, "client_wait", "client: waiting for CPU", PP_CLIENT_WAKEUP,
	     PP_CLIENT_STACK),
	PART(PP_PART_CLIENT_IDLE, "client_idle", "client: CPU leaving idle", PP_CLIENT_IDLE,
	     PP_CLIENT_STACK),
	PART(PP_PART_CLIENT_RETURN, "client_return", "client: return to program", PP_CLIENT_RETURN,
	     PP_CLIENT_STACK),
	PART(PP_PART_SERVER_PROC, "server_proc", "server: stack processing", PP_SERVER_PROC,
	     PP_SERVER_STACK),
	PART(PP_PART_SERVER_WAIT, "server_wait", "server: waiting for CPU", PP_SERVER_WAKEUP,
	     PP_SERVER_STACK),
	PART(PP_PART_SERVER_IDLE, "server_idle", "server: CPU leaving idle", PP_SERVER_IDLE,
	     PP_SERVER_STACK),
	PART(PP_PART_SERVER_RETURN, "server_return", "server: return to program", PP_SERVER_RETURN,
	     PP_SERVER_STACK),
};

/* Per host (0 client, 1 server): its stack whole and its four --sched parts in stacking order
 * (each read from its pp_stack_part_info.comp; a wait is computed from the wake-up and its idle
 * exit). */
static const enum pp_stack_part whole_stack[2] = { PP_PART_CLIENT_STACK, PP_PART_SERVER_STACK };
#define WAIT 1 /* the wait's place in sched_parts[host] */
static const enum pp_stack_part sched_parts[2][4] = {
	{ PP_PART_CLIENT_PROC, PP_PART_CLIENT_WAIT, PP_PART_CLIENT_IDLE, PP_PART_CLIENT_RETURN },
	{ PP_PART_SERVER_PROC, PP_PART_SERVER_WAIT, PP_PART_SERVER_IDLE, PP_PART_SERVER_RETURN },
};
/* The column of a host's i-th --sched part (for the wait: the wake-up's). */
static const double *sched_col(const double *const col[PP_NCOMPONENTS], int host, int i)
{
	return col[pp_stack_part_info[sched_parts[host][i]].comp];
}

/* Whether some row has all four --sched parts of the host. */
static bool has_sched_parts(const double *const col[PP_NCOMPONENTS], int host, size_t rows)
{
	const double *c[4];

	for (int i = 0; i < 4; i++)
		if (!(c[i] = sched_col(col, host, i)))
			return false;
	for (size_t r = 0; r < rows; r++)
		if (!isnan(c[0][r]) && !isnan(c[1][r]) && !isnan(c[2][r]) && !isnan(c[3][r]))
			return true;
	return false;
}

/* The wake-up less its idle exit: the time the woken thread waited for a CPU. */
static double *wait_values(const double *const col[PP_NCOMPONENTS], int host, size_t rows)
{
	const double *wakeup = sched_col(col, host, WAIT), *idle = sched_col(col, host, WAIT + 1);
	double *w = malloc((rows ? rows : 1) * sizeof(*w));

	if (w)
		for (size_t r = 0; r < rows; r++)
			w[r] = wakeup[r] - idle[r]; /* NAN if either is */
	return w;
}

static void add_part(struct pp_stack_parts *sp, enum pp_stack_part p, const double *v)
{
	sp->part[sp->n] = p;
	sp->v[sp->n++] = v;
}

static void add_host(struct pp_stack_parts *sp, int host, const double *const col[PP_NCOMPONENTS])
{
	if (!sp->split[host]) {
		add_part(sp, whole_stack[host], col[pp_stack_part_info[whole_stack[host]].comp]);
		return;
	}
	for (int i = 0; i < 4; i++)
		add_part(sp, sched_parts[host][i], i == WAIT ? sp->wait[host] : sched_col(col, host, i));
}

int pp_stack_parts_choose(struct pp_stack_parts *sp, const double *const col[PP_NCOMPONENTS],
			  size_t rows)
{
	memset(sp, 0, sizeof(*sp));
	for (int host = 0; host < 2; host++) {
		sp->split[host] = has_sched_parts(col, host, rows);
		if (sp->split[host] && !(sp->wait[host] = wait_values(col, host, rows))) {
			pp_stack_parts_free(sp);
			return -ENOMEM;
		}
	}
	add_host(sp, 0, col);
	add_part(sp, PP_PART_NETWORK, col[PP_NETWORK]);
	add_host(sp, 1, col);
	add_part(sp, PP_PART_SERVER_APP, col[PP_SERVER_APP]);
	return 0;
}

void pp_stack_parts_free(struct pp_stack_parts *sp)
{
	free(sp->wait[0]);
	free(sp->wait[1]);
	sp->wait[0] = sp->wait[1] = NULL;
}

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
			    const double *const *part, size_t nparts, const double *rtt,
			    struct pp_stack_bar *bar)
{
	size_t hi = lower_bound(ranked, n, target), lo = hi; /* window is [lo, hi) */
	double sum[PP_STACK_PARTS_MAX] = { 0 }, rtt_sum = 0;

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

		for (size_t p = 0; p < nparts; p++)
			sum[p] += part[p][r];
		rtt_sum += rtt[r];
	}
	bar->rows = k;
	bar->nparts = nparts;
	for (size_t p = 0; p < PP_STACK_PARTS_MAX; p++)
		bar->part_us[p] = p < nparts ? sum[p] / (double)k : 0;
	bar->rtt_mean_us = rtt_sum / (double)k;
}

int pp_stack_split(const double *rtt, const double *const *part, size_t nparts, size_t rows,
		   const double *pct, size_t npct, struct pp_stack_bar *bar)
{
	struct ranked_row *ranked;
	double *all_rtt;
	size_t ncomplete = 0, nrtt = 0;
	int ret = 0;

	if (nparts == 0 || nparts > PP_STACK_PARTS_MAX)
		return -EINVAL;
	for (size_t p = 0; p < nparts; p++)
		if (!part[p]) /* a column the CSV lacks: no row is complete */
			return -ENODATA;
	ranked = malloc((rows ? rows : 1) * sizeof(*ranked));
	all_rtt = malloc((rows ? rows : 1) * sizeof(*all_rtt));
	if (!ranked || !all_rtt) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t r = 0; r < rows; r++) {
		size_t p;

		if (isnan(rtt[r]))
			continue;
		all_rtt[nrtt++] = rtt[r];
		for (p = 0; p < nparts && !isnan(part[p][r]); p++)
			;
		if (p == nparts)
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
		average_nearest(ranked, ncomplete, pp_stack_window(ncomplete, pct[i]), bar[i].rtt_us,
				part, nparts, rtt, &bar[i]);
	}
cleanup:
	free(ranked);
	free(all_rtt);
	return ret;
}
