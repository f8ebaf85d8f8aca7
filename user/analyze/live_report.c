// SPDX-License-Identifier: MIT
/* The live report (live_report.h): rows fall into periods of the client's clock; the open
 * period's parts fill histograms, printed as one line and reset when a later period begins. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "analyze/live_report.h"

/* Line order; rtt_app last, printed in rtt's place only when the period has no rtt. Each
 * host's --sched parts follow its stack; like every part, only when the period has them. */
static const enum pp_component parts[PP_LIVE_REPORT_PARTS] = {
	PP_RTT, PP_CLIENT_STACK, PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN,
	PP_NETWORK, PP_SERVER_STACK, PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE,
	PP_SERVER_RETURN, PP_SERVER_APP, PP_RTT_APP,
};
#define RTT_APP (PP_LIVE_REPORT_PARTS - 1)

struct pp_live_report {
	uint64_t period_ns;
	FILE *out;
	bool started;           /* a row came: origin_ns is set */
	bool legend_done;
	uint64_t origin_ns;     /* the first row's t_ns: elapsed time counts from it */
	uint64_t period;        /* the open period: [origin + period * period_ns, + period_ns) */
	uint64_t last_ns;       /* the open period's latest t_ns, the stamp of a flushed one */
	uint64_t exchanges, matched, late;
	struct pp_hist *hist[PP_LIVE_REPORT_PARTS];
};

int pp_live_report_new(struct pp_live_report **out, uint64_t period_ns, FILE *out_file)
{
	struct pp_live_report *r;

	if (!period_ns || !out_file)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->period_ns = period_ns;
	r->out = out_file;
	for (int i = 0; i < PP_LIVE_REPORT_PARTS; i++) {
		/* exact as far as the summary is, so a period's figures read like its own */
		int rc = pp_hist_new(&r->hist[i], PP_HIST_EXACT_DEFAULT);

		if (rc) {
			pp_live_report_free(r);
			return rc;
		}
	}
	*out = r;
	return 0;
}

/* Whole tenths of a second get one decimal (ping's look); other periods the ms. */
static int stamp_decimals(uint64_t period_ns)
{
	return period_ns % 100000000 == 0 ? 1 : 3;
}

static void legend(struct pp_live_report *r)
{
	fprintf(r->out, "every %.*f s: exchanges, matched (complete) and late rows; "
		"p50/p99 in us of each part\n", stamp_decimals(r->period_ns),
		(double)r->period_ns / 1e9);
	r->legend_done = true;
}

static void part(struct pp_live_report *r, enum pp_component c, struct pp_hist *h)
{
	fprintf(r->out, " | %s %.3f/%.3f", pp_component_name[c], pp_hist_percentile(h, 50, 1000.0),
		pp_hist_percentile(h, 99, 1000.0));
}

/* The open period as one line, stamped end_ns after the origin; then an empty period. */
static int print_period(struct pp_live_report *r, uint64_t end_ns)
{
	int decimals = stamp_decimals(r->period_ns);

	if (!r->legend_done)
		legend(r);
	/* stamps line up to 9999 s (the line only widens past that) */
	fprintf(r->out, "[%*.*f s] %" PRIu64 " exchanges, %" PRIu64 " matched", 5 + decimals,
		decimals, (double)end_ns / 1e9, r->exchanges, r->matched);
	if (r->late)
		fprintf(r->out, ", %" PRIu64 " late", r->late);
	/* the round trip leads: the kernel's rtt, or the app's own clock around it untraced */
	if (pp_hist_count(r->hist[0]))
		part(r, parts[0], r->hist[0]);
	else if (pp_hist_count(r->hist[RTT_APP]))
		part(r, parts[RTT_APP], r->hist[RTT_APP]);
	for (int i = 1; i < RTT_APP; i++)
		if (pp_hist_count(r->hist[i]))
			part(r, parts[i], r->hist[i]);
	fputc('\n', r->out);
	fflush(r->out);
	for (int i = 0; i < PP_LIVE_REPORT_PARTS; i++)
		pp_hist_reset(r->hist[i]);
	r->exchanges = r->matched = r->late = 0;
	return ferror(r->out) ? -EIO : 0;
}

static bool has_kernel_points(const struct pp_row *row)
{
	for (int s = 0; s < PP_NSLOTS; s++)
		if (row->ts[s])
			return true;
	return false;
}

int pp_live_report_add(struct pp_live_report *r, uint64_t t_ns, const struct pp_row *row)
{
	struct pp_split split;
	int rc;

	if (!r->started) {
		r->started = true;
		r->origin_ns = r->last_ns = t_ns;
		r->period = 0;
	}
	if (t_ns < r->origin_ns || (t_ns - r->origin_ns) / r->period_ns < r->period) {
		r->late++;  /* its period's line is out (or never was): the open one takes it */
	} else if ((t_ns - r->origin_ns) / r->period_ns > r->period) {
		if (r->exchanges && (rc = print_period(r, (r->period + 1) * r->period_ns)))
			return rc;
		r->period = (t_ns - r->origin_ns) / r->period_ns;
		r->last_ns = t_ns;
	}
	if (t_ns > r->last_ns)
		r->last_ns = t_ns;
	r->exchanges++;
	r->matched += !(row->flags & PP_ROW_INCOMPLETE) && has_kernel_points(row);
	pp_split_row(row, &split);
	for (int i = 0; i < PP_LIVE_REPORT_PARTS; i++) {
		if (!pp_split_has(&split, parts[i]))
			continue;
		/* rtt_app only of rows without rtt: a period with any rtt never prints it */
		if (i == RTT_APP && pp_split_has(&split, PP_RTT))
			continue;
		if ((rc = pp_hist_add(r->hist[i], split.ns[parts[i]])))
			return rc;
	}
	return 0;
}

int pp_live_report_flush(struct pp_live_report *r)
{
	if (!r->exchanges)
		return 0;
	return print_period(r, r->last_ns - r->origin_ns);
}

void pp_live_report_free(struct pp_live_report *r)
{
	if (!r)
		return;
	for (int i = 0; i < PP_LIVE_REPORT_PARTS; i++)
		pp_hist_free(r->hist[i]);
	free(r);
}
