// SPDX-License-Identifier: MIT
/* What a measured service's run gives: results.csv (a row per exchange, with its connection,
 * index and sizes), the summary (text and JSON) and the connections' lines. The one sink of
 * turns.c, for pingpong-analyze --turns (two logs) and pingpong-ebpf --peer (live).
 *
 *	pp_service_report_open(&r, "results.csv");
 *	cfg.on_row = pp_service_report_row; cfg.on_conn = pp_service_report_conn; cfg.ctx = r;
 *	... run the turns ...
 *	pp_service_report_commit(r);                       // results.csv in place
 *	pp_service_report_print(r, pp_turns_stats(t), &info, verbose, stdout);
 *	pp_service_report_json(r, pp_turns_stats(t), &info, "summary.json");
 *	pp_service_report_free(r);
 *
 * Memory follows the connections named, not the run: every pipelined connection up to
 * PP_SERVICE_LIST_MAX is kept by name, the others' request counts go into a histogram and the
 * first PP_SERVICE_LIST_MAX of them are kept by name for --verbose and the JSON list. */
#ifndef PP_SERVICE_REPORT_H
#define PP_SERVICE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze/summary.h"
#include "analyze/turns.h"

#define PP_SERVICE_LIST_MAX 10000   /* connections named, per kind (split, pipelined) */

struct pp_service_report;

/* results_path NULL: no results file (the summary only). 0 or -errno. */
int pp_service_report_open(struct pp_service_report **out, const char *results_path);
/* results.csv's bytes also to fd (results.h pp_results_tee). */
void pp_service_report_tee(struct pp_service_report *r, int fd);
/* The turns' callbacks (turns.h): ctx is the report. 0 or -errno. */
int pp_service_report_row(void *ctx, const struct pp_turn *turn);
int pp_service_report_conn(void *ctx, const struct pp_turns_conn *conn);
/* Publishes results.csv (atomic). 0 or -errno. */
int pp_service_report_commit(struct pp_service_report *r);
/* The summary (summary.h, info filled by the caller, exchanges and matched from the stats),
 * then the service's own lines: connections, pipelined ones by name, requests per
 * connection, what was ignored. 0 or -errno. */
int pp_service_report_print(struct pp_service_report *r, const struct pp_turns_stats *st,
			    struct pp_summary_info *info, bool verbose, FILE *out);
/* The same as JSON, with a "connections" object. 0 or -errno. */
int pp_service_report_json(struct pp_service_report *r, const struct pp_turns_stats *st,
			   struct pp_summary_info *info, const char *path);
/* Malformed input found before the events reached the turns (a log's bad rows): counted with
 * the turns' own in the "malformed" figure. */
void pp_service_report_add_malformed(struct pp_service_report *r, uint64_t n);
/* The summary's rows so far (for a caller's own use, e.g. the plots' title). */
uint64_t pp_service_report_rows(const struct pp_service_report *r);
/* Removes an uncommitted results file; frees everything. */
void pp_service_report_free(struct pp_service_report *r);

#endif
