// SPDX-License-Identifier: MIT
/* The probe's own cost: the kernel's BPF run-time statistics (run_time_ns and run_cnt of every
 * loaded program of the tracer's object) read at two moments; their difference is what our
 * programs cost the host in between. The kernel counts only while statistics are on: trace.c
 * holds a bpf_enable_stats(BPF_STATS_RUN_TIME) fd for the tracer's life (the kernel stops
 * counting by itself when the last such fd closes, so nothing is left on); without it (EPERM,
 * a kernel before 5.8) the cost is unknown.
 *
 *	struct pp_bpf_cost from, to, d;
 *	pp_trace_cost_snapshot(t, &from);  ... the run ...  pp_trace_cost_snapshot(t, &to);
 *	pp_bpf_cost_delta(&from, &to, &d);        // d.run_ns, d.runs; d.prog[] per program
 *	pp_bpf_cost_format(buf, sizeof(buf), d.known, d.run_ns, d.runs, exchanges);
 *
 * Counting itself costs: the kernel reads the clock twice around every program run (README,
 * Performance; docs/design.md 2.5). */
#ifndef PP_BPF_COST_H
#define PP_BPF_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_BPF_COST_MAX_PROGS 32   /* more programs than the object has: the rest are not read */
#define PP_BPF_COST_NAME_LEN  48

struct pp_bpf_prog_cost {
	char name[PP_BPF_COST_NAME_LEN]; /* the program's function name (bpf_program__name) */
	uint64_t run_ns;                 /* run_time_ns: time inside the program, all CPUs */
	uint64_t runs;                   /* run_cnt */
};

struct pp_bpf_cost {
	bool known;                      /* statistics were on: the counts mean something */
	uint64_t run_ns, runs;           /* the sums over prog[] */
	size_t n;
	struct pp_bpf_prog_cost prog[PP_BPF_COST_MAX_PROGS];
};

struct bpf_object;

/* Every loaded program of obj (those with autoload off, or not loaded, are skipped), in the
 * object's order. counting: the statistics are on (else c->known is false, the counts are still
 * read). 0, or -errno of the first program whose info could not be read (c holds the others). */
int pp_bpf_cost_snapshot(struct bpf_object *obj, bool counting, struct pp_bpf_cost *c);

/* What ran between two snapshots, per program by name (a program only in `to` counts from 0; a
 * counter that went back, the program replaced, counts 0) and in all. known only if both are. */
void pp_bpf_cost_delta(const struct pp_bpf_cost *from, const struct pp_bpf_cost *to,
		       struct pp_bpf_cost *d);

/* ns / n as a double; false (and *out 0) when n is 0. */
bool pp_bpf_cost_per(uint64_t ns, uint64_t n, double *out);

/* One line for a summary: "4.321 us of BPF per exchange (14.0 runs, 43.210 ms in 140000 runs)",
 * without exchanges "43.210 ms of BPF in 140000 runs", or "unknown" when !known. Returns what
 * snprintf returns. */
int pp_bpf_cost_format(char *buf, size_t size, bool known, uint64_t run_ns, uint64_t runs,
		       uint64_t exchanges);

/* One program's row for -v: "on_net_dev_queue: 20000 runs, 123.4 ns per run" (", not run" when
 * runs is 0). Returns what snprintf returns. */
int pp_bpf_cost_format_prog(char *buf, size_t size, const struct pp_bpf_prog_cost *p);

#endif
