// SPDX-License-Identifier: MIT
/* The run's summary: what was measured and lost first, then p50 p90 p99 p99.9 max mean of
 * every component that has samples; as text (stdout) and as JSON (--summary-json).
 *
 * Memory does not grow with the run: each component keeps its first PP_SUMMARY_EXACT samples
 * (figures exact, as a full sort gives them), then a histogram (common/histogram.h: each
 * percentile within max(|x_lo|, |x_hi|)/2048 of the exact one, max and mean still exact).
 * On the heap, whatever the number of rows: at most PP_SUMMARY_MAX_BYTES (22 MiB: 17
 * components each with 512 KiB of samples and both signs' histograms at the moment it bins);
 * once binned, 408 KiB per component and sign in use (6.8 MiB when no part is negative).
 * With --sched, each host's stack parts also get one line of means over the same rows, which
 * add up to the stack's mean (the percentiles of parts do not). */
#ifndef PP_SUMMARY_H
#define PP_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/histogram.h"
#include "model/split.h"

/* The probe's own cost on one host over the run: its BPF programs' run time and runs, from the
 * kernel's run-time statistics (collect/bpf_cost.h). */
struct pp_probe_cost {
	bool present;                /* this host was traced: its cost is said, known or not */
	bool known;                  /* the kernel counted (statistics on; an agent new enough) */
	uint64_t bpf_ns, runs;
};

struct pp_summary_info {
	const char *what;            /* e.g. "1024 B x 10000 exchanges, 198.18.0.1 -> 198.18.0.2:12345" */
	uint64_t exchanges;          /* rows recorded */
	uint64_t matched;            /* rows with every point the split needs */
	uint64_t incomplete;
	uint64_t retransmitted;
	uint64_t lost_samples_client, lost_samples_server; /* perf buffer losses */
	uint64_t pcap_drops_client, pcap_drops_server;
	bool traced;                 /* client-side kernel points were recorded */
	bool server_events;          /* the agent's events were fetched */
	bool capture;                /* wire columns were recorded */
	const char *points_client;   /* where this host's send/recv points came from (trace.h
				      * pp_trace_points), NULL = unknown (not traced, or offline) */
	uint32_t required_slots;     /* points a row needs (bit 1 << enum pp_slot): those missing
				      * from incomplete rows are named; 0 = none named */
	uint64_t run_start_ns;       /* CLOCK_MONOTONIC around the recorded exchanges (JSON only, */
	uint64_t run_end_ns;         /* to line the run up with other tools); 0 = unknown */
	/* The probe's cost per host ("probe cost:" line, "probe_cost" in the JSON), per exchange
	 * over cost_exchanges (the exchanges its window saw, warm-up included; 0 = exchanges). */
	struct pp_probe_cost cost_client, cost_server;
	uint64_t cost_exchanges;
	/* Optional: writes more members of the JSON object (each `  "name": value,\n`), after
	 * the counts and before the components: a service's connections. */
	void (*json_extra)(void *ctx, FILE *f);
	void *json_extra_ctx;
};

/* Samples per component kept exact: 512 KiB each. */
#define PP_SUMMARY_EXACT PP_HIST_EXACT_DEFAULT
#define PP_SUMMARY_MAX_BYTES \
	(PP_NCOMPONENTS * PP_HIST_MAX_BYTES(PP_SUMMARY_EXACT) + 2 * PP_NSLOTS * sizeof(uint64_t))

struct pp_summary;

struct pp_summary *pp_summary_new(void);
int pp_summary_add(struct pp_summary *s, const struct pp_row *row);   /* 0 or -ENOMEM */
int pp_summary_print(struct pp_summary *s, const struct pp_summary_info *info, FILE *out);
/* Atomic (temp + rename). */
int pp_summary_write_json(struct pp_summary *s, const struct pp_summary_info *info, const char *path);
void pp_summary_free(struct pp_summary *s);

#endif
