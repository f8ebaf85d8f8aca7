// SPDX-License-Identifier: MIT
/* The collector: loads and attaches kern/pingpong.bpf.c (embedded skeleton), sets its filters,
 * and delivers its events from the perf buffer; used by pingpong-ebpf and pingpong-client.
 *
 *	struct pp_trace *t;
 *	if (pp_trace_open(&t, &opts, &err) < 0) return pp_log_fail(&err, 1);
 *	while (running) pp_trace_poll(t, 100);   // calls opts.on_event for each event
 *	pp_trace_consume(t); pp_trace_close(t);   // drain, then detach everything
 *
 * Not thread-safe: one thread owns a struct pp_trace. Events arrive in per-CPU batches, so
 * they are ordered by time only within one CPU; sort by ts_ns if order matters. */
#ifndef PP_TRACE_H
#define PP_TRACE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "pingpong.h"

#define PP_TRACE_DEFAULT_PAGES 256 /* per CPU: 1 MiB, ~13,000 events of 80 bytes each */

typedef void (*pp_event_fn)(void *ctx, const struct pp_event *ev);

struct pp_trace_opts {
	const __u16 *ports;     /* TCP ports (either end) to trace; at least one */
	size_t n_ports;
	const __u32 *tgids;     /* processes whose send/recv calls are traced */
	size_t n_tgids;
	bool follow_children;   /* also trace processes (and threads) these tgids start later */
	bool all_tgids;         /* syscalls of every process on the traced ports */
	bool keep_acks;         /* also report segments without payload */
	__u32 netns_ino;        /* network namespace of the packets; 0 = this process's own */
	size_t perf_pages;      /* perf buffer pages per CPU, a power of 2; 0 = default */
	const char *btf_path;   /* kernel BTF for kernels without /sys/kernel/btf/vmlinux; or NULL */
	bool syscall_points;    /* send/recv from the syscall tracepoints even where the kernel has
				 * the socket ones (the older design, to compare them) */
	bool tcp_point;         /* also the tcp point (tcp:tcp_probe, PP_TCP): no part of the split
				 * uses it, and it costs a program run per received segment */
	bool sched;             /* the wake, idle and oncpu points at each recv (sched:sched_waking,
				 * sched:sched_switch, power:cpu_idle), for the stack's parts; the
				 * programs run on every wake-up, context switch and idle exit */
	bool probe_cost;        /* the kernel's BPF run-time statistics on for the tracer's life
				 * (pp_trace_cost_snapshot); they cost every program run on the host
				 * some 40-70 ns, ours and anyone's, so only when asked */
	int verbosity;          /* 0: libbpf silent, 1: warnings and info, 2: debug */
	pp_event_fn on_event;   /* called from pp_trace_poll/consume, in the caller's thread */
	void *ctx;
};

/* The option rows of the knobs above that both pingpong-ebpf and pingpong-client take (one
 * wording in both --help texts): --syscall-points, --tcp-point, --sched, --probe-cost, as flags
 * into the fields of type. Needs common/opts.h. */
#define PP_TRACE_OPT_ROWS(type, syscall_points, tcp_point, sched, probe_cost)                    \
	{ "syscall-points", 0, PP_OPT_FLAG, PP_OPT_AT(type, syscall_points),                     \
	  .help = "send/recv points from the syscall tracepoints, even where the kernel has "     \
		  "tcp:tcp_sendmsg_locked and sock:sock_recv_length (costs every process's "       \
		  "reads and writes)" },                                                         \
	{ "tcp-point", 0, PP_OPT_FLAG, PP_OPT_AT(type, tcp_point),                               \
	  .help = "also record the tcp point (tcp:tcp_probe, the segment reached its socket), "  \
		  "which no part of the split uses; it costs a program run per received segment" }, \
	{ "sched", 0, PP_OPT_FLAG, PP_OPT_AT(type, sched),                                       \
	  .help = "split each host's stack into processing, wake-up (and of it the CPU leaving "   \
		  "idle) and return, from the scheduler's tracepoints; they run on every "          \
		  "context switch of the host" },                                                  \
	{ "probe-cost", 0, PP_OPT_FLAG, PP_OPT_AT(type, probe_cost),                             \
	  .help = "the probe's own cost in the summary: the kernel's BPF run-time statistics, on " \
		  "while this runs; they add some 40-70 ns to every BPF program run on the host" }

struct pp_trace;
struct pp_flow_key; /* model/proto.h */

/* 0, or -errno with e saying what is wrong in one line (no program name).
 * -EPERM: not root / no CAP_BPF+CAP_PERFMON, or the memlock limit; -ENOENT: no kernel BTF or
 * a tracepoint missing on this kernel; -EINVAL: bad options. */
int pp_trace_open(struct pp_trace **out, const struct pp_trace_opts *opts, struct pp_err *e);

/* Adds a process to the traced set after open (e.g. a child released after attaching). */
int pp_trace_add_tgid(struct pp_trace *t, __u32 tgid);

/* From now on the kernel passes only this connection's events, either direction (its packets,
 * and the calls on its socket): other connections on the traced ports (another client of the
 * same server) cost the programs a compare, no perf buffer space and no delivery. Set it once
 * the connection is up (after connect), to keep the SYN. Events of other connections already
 * in the buffer or a per-CPU batch are still delivered. 0, or -EINVAL (an invalid key,
 * pp_flow_key_valid) or another -errno from the map update. Setting another flow replaces it;
 * events in the instant of the change may be judged by either flow or pass. */
int pp_trace_set_flow(struct pp_trace *t, const struct pp_flow_key *flow);
/* Every connection on the traced ports passes again (as after open). 0 or -errno. */
int pp_trace_clear_flow(struct pp_trace *t);
/* The map value that names flow (enabled), as pp_trace_set_flow writes it: exposed for the
 * tests. 0, or -EINVAL for an invalid key. */
int pp_flow_filter_from_key(struct pp_flow_filter *f, const struct pp_flow_key *flow);

/* Waits up to timeout_ms for a buffer to fill to its wakeup mark, then drains every buffer,
 * so no event waits longer than one timeout. Events delivered (>= 0), or -errno;
 * an interrupting signal counts as 0. */
int pp_trace_poll(struct pp_trace *t, int timeout_ms);
/* Drains every buffer now, without waiting. */
int pp_trace_consume(struct pp_trace *t);
/* Events leave the kernel in per-CPU batches (PP_BATCH_EVENTS): this sends every partial
 * batch too, then drains. Call it before reading "everything so far" (at a control request,
 * at the end). It runs a program on each CPU that holds a batch (BPF_PROG_TEST_RUN). */
int pp_trace_flush(struct pp_trace *t);

/* As pp_trace_flush, for a reader that runs while the traffic goes on: sends up only the
 * batches whose oldest event waited at least age_ns (a CPU that went quiet), so a busy CPU,
 * whose batches fill within microseconds, is not visited. 0 or events delivered, or -errno. */
int pp_trace_flush_stale(struct pp_trace *t, uint64_t age_ns);

/* For an event loop of the caller's own: readable when pp_trace_poll(t, 0) has work. */
int pp_trace_epoll_fd(const struct pp_trace *t);

/* Where the send and recv points come from on this kernel, in one line for people, e.g.
 * "send tcp:tcp_sendmsg_locked, recv sock:sock_recv_length" (docs/design.md 2.1). */
const char *pp_trace_points(const struct pp_trace *t);
/* The same as two flags: the socket tracepoint (true) or the syscall ones (false). */
bool pp_trace_socket_send(const struct pp_trace *t);
bool pp_trace_socket_recv(const struct pp_trace *t);
/* Whether the tcp point (tcp:tcp_probe) is recorded: pp_trace_opts.tcp_point. */
bool pp_trace_tcp_point(const struct pp_trace *t);
/* Whether the wake, idle and oncpu points are recorded: pp_trace_opts.sched. */
bool pp_trace_sched(const struct pp_trace *t);

uint64_t pp_trace_events(const struct pp_trace *t); /* delivered so far */
/* Events dropped because a buffer was full, and those the last flush could not reach. */
uint64_t pp_trace_lost(const struct pp_trace *t);
size_t pp_trace_buffer_bytes(const struct pp_trace *t); /* per CPU */
/* Tracepoint hits the kernel did not run our programs for, because another tracing BPF program
 * (ours or anyone's) was running on that CPU: a network softirq that runs while a program is
 * active in process context loses its points. An upper bound of missed events: it also counts
 * hits the filters would have dropped. Linux 5.12+ (0 before). */
uint64_t pp_trace_skipped(const struct pp_trace *t);

/* The probe's own cost so far (collect/bpf_cost.h): every loaded program's run time and runs
 * since the load. The kernel counts them while the tracer is open (it enables the run-time
 * statistics at open, for its own life). 0; or -errno why the statistics are off (-EPERM,
 * -EINVAL on a kernel before 5.8: c->known is false) or a program's info could not be read. */
struct pp_bpf_cost;
int pp_trace_cost_snapshot(const struct pp_trace *t, struct pp_bpf_cost *c);

/* Detaches every program and frees everything; events not yet consumed are dropped. */
void pp_trace_close(struct pp_trace *t);

#endif
