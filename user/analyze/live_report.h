// SPDX-License-Identifier: MIT
/* The live report (pingpong-client --report SEC): while the run goes, one line per period over
 * that period's rows only, as ping or sockperf print them. A legend first, once:
 *
 *   every 1.0 s: exchanges, matched (complete) and late rows; p50/p99 in us of each part
 *   [   1.0 s] 152034 exchanges, 152034 matched | rtt 31.234/55.012 | client_stack 10.100/20.300 | network 5.900/9.800 | server_stack 10.200/21.000 | server_app 4.100/6.000
 *
 * The stamp is the end of the period, counted from the first row's t_ns (a flushed partial
 * period: its latest row). The parts, in this fixed order, are those with samples in the
 * period: rtt (rtt_app in its place when there is no rtt, i.e. untraced), client_stack,
 * network, server_stack, server_app, with --sched each stack followed by its parts (e.g.
 * client_proc, client_wakeup, client_idle, client_return); figures as the summary prints them (histogram.h: exact
 * up to 65536 samples a period). "matched" counts rows with kernel points and none missing,
 * as the summary's does. A period without rows prints no line. A row for a period already
 * printed (or before the first row's) is counted in the open period and as "N late", shown
 * only when nonzero. Memory: one histogram per part, reset each period (PP_LIVE_REPORT_MAX_BYTES). */
#ifndef PP_LIVE_REPORT_H
#define PP_LIVE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "common/histogram.h"
#include "model/split.h"

#define PP_LIVE_REPORT_PARTS 14 /* rtt, the four parts, 2 x 4 stack parts, rtt_app */
#define PP_LIVE_REPORT_MAX_BYTES \
	(PP_LIVE_REPORT_PARTS * PP_HIST_MAX_BYTES(PP_HIST_EXACT_DEFAULT) + 256)

struct pp_live_report;

/* period_ns > 0; out_file: where lines go (stdout). 0, -EINVAL or -ENOMEM. */
int pp_live_report_new(struct pp_live_report **out, uint64_t period_ns, FILE *out_file);
/* Row of an exchange that happened at t_ns (the client's CLOCK_MONOTONIC, e.g. its send
 * time; rows arrive roughly in t_ns order, maybe late by a second). Rows of period k are
 * printed, as one line, once a row of a later period arrives. 0 or -errno (-ENOMEM, -EIO). */
int pp_live_report_add(struct pp_live_report *r, uint64_t t_ns, const struct pp_row *row);
/* Prints the last (partial) period, if it has rows. 0 or -EIO. */
int pp_live_report_flush(struct pp_live_report *r);
void pp_live_report_free(struct pp_live_report *r);

#endif
