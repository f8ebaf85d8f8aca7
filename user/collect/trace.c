// SPDX-License-Identifier: MIT
/* The collector: checks what the kernel side needs (privileges, tracefs, BTF, tracepoints),
 * loads and attaches the embedded BPF object, sets its filter maps and reads its perf buffer. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "pingpong.skel.h"
#include "collect/bpf_cost.h"
#include "collect/trace.h"
#include "common/log.h"
#include "model/proto.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT   38
#define CAP_BPF_BIT       39
#define DEBUGFS_TRACING   "/sys/kernel/debug/tracing"
#define TRACEFS           "/sys/kernel/tracing"
#define KERNEL_BTF        "/sys/kernel/btf/vmlinux"

struct pp_trace {
	struct pingpong_bpf *skel;
	struct perf_buffer *pb;
	pp_event_fn on_event;
	void *ctx;
	size_t buffer_bytes;
	uint64_t events;
	uint64_t lost;
	uint64_t delivered_now; /* by the current poll/consume call */
	uint64_t unflushed;     /* events the last flush could not reach (a CPU we may not run on) */
	struct pp_flow_filter flow; /* what pp_flow_filter[0] holds */
	__u64 *per_cpu;          /* scratch for reading a per-CPU counter */
	struct pp_batch *batches; /* scratch for reading every CPU's partial batch */
	int ncpus;
	bool socket_send, socket_recv; /* where the send and recv points come from */
	bool tcp_point;          /* on_tcp_probe loaded (pp_trace_opts.tcp_point) */
	bool sched;              /* the scheduler's programs loaded (pp_trace_opts.sched) */
	bool flush_by_syscall;   /* the kernel cannot run on_flush on a chosen CPU (before 5.10) */
	int stats_fd;            /* bpf_enable_stats: the kernel counts run time while it is open */
	int stats_err;           /* why it could not be opened (-errno), or 0 */
};

/* The layouts of the two perf records the kernel writes into a BPF output buffer. */
struct pp_sample_record {
	struct perf_event_header header;
	__u32 size;
	__u8 data[];
};

struct pp_lost_record {
	struct perf_event_header header;
	__u64 id;
	__u64 lost;
};

static int libbpf_verbosity;

/* libbpf's own lines ("libbpf: ..."), shown as -v asked: the one print of this module,
 * through the program's logger so that they read like the program's other lines. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;

	if ((level == LIBBPF_DEBUG && libbpf_verbosity < 2) || libbpf_verbosity < 1)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	pp_log(level == LIBBPF_DEBUG ? PP_LOG_DEBUG : PP_LOG_INFO, "%s", line);
	return 0;
}

/* Root, or CAP_BPF with CAP_PERFMON (5.8+), or CAP_SYS_ADMIN: read from CapEff because
 * euid 0 inside a user namespace or with dropped capabilities is not enough. */
static bool has_bpf_privileges(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	if (caps & (1ULL << CAP_SYS_ADMIN_BIT))
		return true;
	return (caps & (1ULL << CAP_BPF_BIT)) && (caps & (1ULL << CAP_PERFMON_BIT));
}

/* libbpf resolves tracepoint ids through tracefs: under debugfs if that path exists,
 * else at /sys/kernel/tracing, which a fresh mount namespace (ip netns exec) leaves empty. */
static const char *tracefs_root(void)
{
	return access(DEBUGFS_TRACING, F_OK) == 0 ? DEBUGFS_TRACING : TRACEFS;
}

static int ensure_tracefs(struct pp_err *e)
{
	char events[128];

	snprintf(events, sizeof(events), "%s/events", tracefs_root());
	if (access(events, F_OK) == 0)
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) < 0)
		return pp_err_set(e, -errno, "tracefs is not mounted and mounting it on %s failed: %s", TRACEFS,
			    strerror(errno));
	if (access(TRACEFS "/events", F_OK) < 0)
		return pp_err_set(e, -ENOENT, "tracefs mounted on %s has no events/ (kernel without tracepoints?)",
			    TRACEFS);
	return 0;
}

static int check_btf(const char *btf_path, struct pp_err *e)
{
	const char *path = btf_path ? btf_path : KERNEL_BTF;

	if (access(path, R_OK) == 0)
		return 0;
	if (btf_path)
		return pp_err_set(e, -errno, "cannot read BTF file %s: %s", btf_path, strerror(errno));
	return pp_err_set(e, -ENOENT, "this kernel has no BTF (%s missing): pass a BTF file (--btf FILE) "
		    "for it", KERNEL_BTF);
}

/* Says which tracepoint is missing before libbpf fails on it with a bare ENOENT. */
static int check_tracepoints(struct bpf_object *obj, struct pp_err *e)
{
	const char *root = tracefs_root();
	struct bpf_program *prog;
	char path[256];

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);

		if (!bpf_program__autoload(prog) || strncmp(sec, "tracepoint/", 11) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/events/%s", root, sec + 11);
		if (access(path, F_OK) < 0)
			return pp_err_set(e, -ENOENT, "tracepoint %s is missing on this kernel (%s)", sec + 11,
				    path);
	}
	return 0;
}

static int check_opts(const struct pp_trace_opts *o, struct pp_err *e)
{
	size_t i;

	if (o->n_ports < 1 || o->n_ports > PP_MAX_PORTS)
		return pp_err_set(e, -EINVAL, "1..%d ports to trace are needed (got %zu)", PP_MAX_PORTS, o->n_ports);
	for (i = 0; i < o->n_ports; i++)
		if (!o->ports[i])
			return pp_err_set(e, -EINVAL, "port 0 cannot be traced");
	if (o->n_tgids > PP_MAX_TGIDS)
		return pp_err_set(e, -EINVAL, "at most %d processes can be traced (got %zu)", PP_MAX_TGIDS,
			    o->n_tgids);
	if (o->perf_pages & (o->perf_pages - 1))
		return pp_err_set(e, -EINVAL, "perf buffer pages must be a power of 2 (got %zu)", o->perf_pages);
	return 0;
}

static int own_netns_ino(__u32 *ino, struct pp_err *e)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return pp_err_set(e, -errno, "cannot find this process's network namespace "
			    "(/proc/self/ns/net): %s", strerror(errno));
	*ino = (__u32)st.st_ino;
	return 0;
}

/* What is fixed for the whole run goes into the object's read-only data, before the load. */
static int set_load_knobs(struct pp_trace *t, const struct pp_trace_opts *o, struct pp_err *e)
{
	__u32 netns_ino = o->netns_ino;
	int err;

	if (!netns_ino && (err = own_netns_ino(&netns_ino, e)) < 0)
		return err;
	t->skel->rodata->pp_netns_ino = netns_ino;
	t->skel->rodata->pp_keep_acks = o->keep_acks;
	t->skel->rodata->pp_all_tgids = o->all_tgids;
	t->skel->rodata->pp_sched = o->sched;
	return 0;
}

/* The filter maps, after the load and before the attach. */
static int set_filters(struct pp_trace *t, const struct pp_trace_opts *o, struct pp_err *e)
{
	size_t i;
	int err;

	for (i = 0; i < o->n_ports; i++) {
		__u32 word = o->ports[i] >> 6;
		__u64 bits = 0;

		bpf_map__lookup_elem(t->skel->maps.pp_ports, &word, sizeof(word), &bits, sizeof(bits), 0);
		bits |= 1ull << (o->ports[i] & 63);
		err = bpf_map__update_elem(t->skel->maps.pp_ports, &word, sizeof(word), &bits,
					   sizeof(bits), BPF_ANY);
		if (err < 0)
			return pp_err_set(e, err, "setting the port filter failed: %s", strerror(-err));
	}
	for (i = 0; i < o->n_tgids; i++)
		if ((err = pp_trace_add_tgid(t, o->tgids[i])) < 0)
			return pp_err_set(e, err, "setting the process filter failed: %s", strerror(-err));
	return 0;
}

static enum bpf_perf_event_ret on_record(void *ctx, int cpu, struct perf_event_header *hdr)
{
	struct pp_trace *t = ctx;
	struct pp_event ev;

	(void)cpu;
	if (hdr->type == PERF_RECORD_SAMPLE) {
		const struct pp_sample_record *s = (const void *)hdr;

		/* a batch of events, or one; the kernel pads the raw data by less than an event */
		size_t n = s->size / sizeof(ev);

		if (n == 0 || n > PP_BATCH_EVENTS) { /* not ours: counted, never dropped silently */
			t->lost++;
			return LIBBPF_PERF_EVENT_CONT;
		}
		for (size_t i = 0; i < n; i++) {
			memcpy(&ev, s->data + i * sizeof(ev), sizeof(ev)); /* only 4-byte aligned */
			t->events++;
			t->delivered_now++;
			if (t->on_event)
				t->on_event(t->ctx, &ev);
		}
	} else if (hdr->type == PERF_RECORD_LOST) {
		t->lost += ((const struct pp_lost_record *)hdr)->lost;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

/* Wakeup at a quarter full, not per event: a wakeup per event would cost the traced
 * exchange a context switch per point on a small machine; the poll timeout bounds latency. */
static int open_perf_buffer(struct pp_trace *t, size_t pages, struct pp_err *e)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.watermark = 1,
	};
	long page_size = sysconf(_SC_PAGESIZE);
	int err;

	t->buffer_bytes = pages * (size_t)page_size;
	attr.wakeup_watermark = (__u32)(t->buffer_bytes / 4);
	t->pb = perf_buffer__new_raw(bpf_map__fd(t->skel->maps.events), pages, &attr, on_record, t,
				     NULL);
	if (!t->pb) {
		err = -errno;
		return pp_err_set(e, err, "cannot open the perf buffer (%zu pages per CPU): %s", pages,
			    strerror(-err));
	}
	return 0;
}

/* Whether the kernel has tracepoint NAME: each has a typedef btf_trace_NAME in the kernel's
 * BTF, the file given or the running kernel's. */
static bool has_tracepoint(const struct btf *btf, const char *name)
{
	char type[96];

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return btf && btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF) >= 0;
}

/* The send and recv points from the socket tracepoints where this kernel has them, else from
 * the syscall tracepoints of that direction's family (kern/pingpong.bpf.c), and the tcp point
 * only if asked: only the chosen programs load. */
static void choose_points(struct pp_trace *t, const struct pp_trace_opts *o)
{
	struct btf *btf = NULL;
	struct pingpong_bpf *s = t->skel;
	struct bpf_program *send_family[] = {
		s->progs.enter_sendto, s->progs.exit_sendto, s->progs.enter_sendmsg,
		s->progs.exit_sendmsg, s->progs.enter_write, s->progs.exit_write,
		s->progs.enter_writev, s->progs.exit_writev,
	};
	struct bpf_program *recv_family[] = {
		s->progs.enter_recvfrom, s->progs.exit_recvfrom, s->progs.enter_recvmsg,
		s->progs.exit_recvmsg, s->progs.enter_read, s->progs.exit_read,
		s->progs.enter_readv, s->progs.exit_readv,
	};
	size_t i;

	if (!o->syscall_points) {
		btf = o->btf_path ? btf__parse(o->btf_path, NULL) : btf__load_vmlinux_btf();
		if (libbpf_get_error(btf))
			btf = NULL;
	}
	t->socket_send = has_tracepoint(btf, "tcp_sendmsg_locked");
	t->socket_recv = has_tracepoint(btf, "sock_recv_length");
	btf__free(btf);
	for (i = 0; i < sizeof(send_family) / sizeof(send_family[0]); i++)
		bpf_program__set_autoload(send_family[i], !t->socket_send);
	for (i = 0; i < sizeof(recv_family) / sizeof(recv_family[0]); i++)
		bpf_program__set_autoload(recv_family[i], !t->socket_recv);
	bpf_program__set_autoload(s->progs.on_tcp_sendmsg_locked, t->socket_send);
	bpf_program__set_autoload(s->progs.on_sock_recv_length, t->socket_recv);
	/* no split formula uses it: loaded only when asked (docs/design.md 1.1) */
	bpf_program__set_autoload(s->progs.on_tcp_probe, o->tcp_point);
	t->tcp_point = o->tcp_point;
	/* they run on every wake-up, context switch and idle exit of the host: only when asked */
	bpf_program__set_autoload(s->progs.on_sched_waking, o->sched);
	bpf_program__set_autoload(s->progs.on_sched_switch, o->sched);
	bpf_program__set_autoload(s->progs.on_cpu_idle, o->sched);
	t->sched = o->sched;
	bpf_program__set_autoattach(s->progs.on_flush, false); /* run by flush_older, not attached */
}

/* The perf buffer opens between the load and the attach: a program that ran before it was
 * open would find no perf event in its CPU's slot, and what it output, the events of any
 * connection on the traced ports, would be counted as lost at every start. */
static int load_and_attach(struct pp_trace *t, const struct pp_trace_opts *o,
			   struct pp_err *e)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = o->btf_path);
	int err;

	t->skel = pingpong_bpf__open_opts(&open_opts);
	if (!t->skel)
		return pp_err_set(e, -errno, "cannot open the BPF object: %s", strerror(errno));
	if (!o->follow_children) {
		bpf_program__set_autoload(t->skel->progs.on_fork, false);
		bpf_program__set_autoload(t->skel->progs.on_exit, false);
	}
	choose_points(t, o);
	if ((err = check_tracepoints(t->skel->obj, e)) < 0)
		return err;
	if ((err = set_load_knobs(t, o, e)) < 0)
		return err;
	err = pingpong_bpf__load(t->skel);
	if (err == -EPERM)
		return pp_err_set(e, err, "the kernel refused to load the BPF programs (EPERM): needs root or "
			    "CAP_BPF+CAP_PERFMON, and before Linux 5.11 a high memlock limit (ulimit -l)");
	if (err < 0)
		return pp_err_set(e, err, "loading the BPF programs failed: %s%s", strerror(-err),
			    o->verbosity ? "" : " (-v shows libbpf's log)");
	if ((err = set_filters(t, o, e)) < 0 ||
	    (err = open_perf_buffer(t, o->perf_pages ? o->perf_pages : PP_TRACE_DEFAULT_PAGES, e)) < 0)
		return err;
	err = pingpong_bpf__attach(t->skel);
	if (err < 0)
		return pp_err_set(e, err, "attaching to the tracepoints failed: %s%s", strerror(-err),
			    o->verbosity ? "" : " (-v shows which)");
	return 0;
}

int pp_trace_open(struct pp_trace **out, const struct pp_trace_opts *o, struct pp_err *e)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct pp_trace *t;
	int err;

	*out = NULL;
	if ((err = check_opts(o, e)) < 0)
		return err;
	if (!has_bpf_privileges())
		return pp_err_set(e, -EPERM, "tracing needs root (or CAP_BPF and CAP_PERFMON)");
	if ((err = ensure_tracefs(e)) < 0 || (err = check_btf(o->btf_path, e)) < 0)
		return err;
	/* kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK; later ones ignore it */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	libbpf_verbosity = o->verbosity;
	libbpf_set_print(print_libbpf);

	t = calloc(1, sizeof(*t));
	if (t) {
		t->stats_fd = -1;
		t->ncpus = libbpf_num_possible_cpus();
		t->per_cpu = t->ncpus > 0 ? calloc((size_t)t->ncpus, sizeof(*t->per_cpu)) : NULL;
		t->batches = t->ncpus > 0 ? calloc((size_t)t->ncpus, sizeof(*t->batches)) : NULL;
	}
	if (!t || !t->per_cpu || !t->batches) {
		pp_trace_close(t);
		return pp_err_set(e, -ENOMEM, "out of memory");
	}
	t->on_event = o->on_event;
	t->ctx = o->ctx;
	if ((err = load_and_attach(t, o, e)) < 0) {
		pp_trace_close(t);
		return err;
	}
	/* run-time statistics for the tracer's life: the kernel stops when the fd closes */
	if (o->probe_cost) {
		t->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		t->stats_err = t->stats_fd < 0 ? -errno : 0; /* libbpf sets errno either way */
	}
	*out = t;
	return 0;
}

int pp_trace_add_tgid(struct pp_trace *t, __u32 tgid)
{
	__u32 low = tgid & PP_TGID_SEEN_MASK, seen = 1;
	__u8 one = 1;
	int err;

	/* the seen-word first: the programs look at it before the tgid map */
	err = bpf_map__update_elem(t->skel->maps.pp_tgid_seen, &low, sizeof(low), &seen,
				   sizeof(seen), BPF_ANY);
	return err ? err : bpf_map__update_elem(t->skel->maps.pp_tgids, &tgid, sizeof(tgid), &one,
						sizeof(one), BPF_ANY);
}

int pp_flow_filter_from_key(struct pp_flow_filter *f, const struct pp_flow_key *flow)
{
	if (!pp_flow_key_valid(flow))
		return -EINVAL;
	*f = (struct pp_flow_filter){
		.enabled = 1,
		.family = flow->family,
		.port_a = flow->client_port,
		.port_b = flow->server_port,
	};
	/* the key keeps an IPv4 address's tail zero, as the events do (pp_flow_key_valid) */
	memcpy(f->addr_a, flow->client_addr, sizeof(f->addr_a));
	memcpy(f->addr_b, flow->server_addr, sizeof(f->addr_b));
	return 0;
}

static int write_flow_filter(struct pp_trace *t, const struct pp_flow_filter *f)
{
	__u32 zero = 0;
	int err = bpf_map__update_elem(t->skel->maps.pp_flow_filter, &zero, sizeof(zero), f,
				       sizeof(*f), BPF_ANY);

	if (err == 0)
		t->flow = *f;
	return err;
}

/* A map update is a plain copy that a program on another CPU may read half done. So each
 * write changes only the enabled word, or only a key nobody compares: disable (the old key
 * stays), put the new key in while disabled, enable. A program sees the old flow, everything,
 * or the new flow, never a mix of the two keys. */
int pp_trace_set_flow(struct pp_trace *t, const struct pp_flow_key *flow)
{
	struct pp_flow_filter f, off;
	int err;

	if ((err = pp_flow_filter_from_key(&f, flow)) < 0)
		return err;
	if (t->flow.enabled && (err = pp_trace_clear_flow(t)) < 0)
		return err;
	off = f;
	off.enabled = 0;
	if ((err = write_flow_filter(t, &off)) < 0)
		return err;
	return write_flow_filter(t, &f);
}

int pp_trace_clear_flow(struct pp_trace *t)
{
	struct pp_flow_filter off = t->flow;

	off.enabled = 0;
	return write_flow_filter(t, &off);
}

static int delivered(struct pp_trace *t)
{
	return t->delivered_now > INT32_MAX ? INT32_MAX : (int)t->delivered_now;
}

int pp_trace_consume(struct pp_trace *t)
{
	int err;

	t->delivered_now = 0;
	err = perf_buffer__consume(t->pb);
	return err < 0 ? err : delivered(t);
}

static int set_flush_tid(struct pp_trace *t, __u32 tid)
{
	__u32 zero = 0;

	return bpf_map__update_elem(t->skel->maps.pp_flush_tid, &zero, sizeof(zero), &tid,
				    sizeof(tid), BPF_ANY);
}

/* Before 5.10 (no BPF_F_TEST_RUN_ON_CPU): the syscall set's send programs flush when this thread
 * makes a send-family call on fd -1 (syscall_enter), so visit, pinned, each CPU in pending. A
 * CPU this thread may not run on (a cpuset) keeps its batch. */
static int flush_by_syscall(struct pp_trace *t, uint64_t age_ns)
{
	cpu_set_t saved, one;
	int err, cpu;

	if (sched_getaffinity(0, sizeof(saved), &saved) < 0)
		return -errno;
	if ((err = set_flush_tid(t, (__u32)syscall(SYS_gettid))) < 0)
		return err;
	for (cpu = 0; cpu < t->ncpus && cpu < CPU_SETSIZE; cpu++) {
		if (!t->batches[cpu].n)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0) {
			if (!age_ns)
				t->unflushed += t->batches[cpu].n;
			continue;
		}
		syscall(SYS_sendto, (long)-1, NULL, 0L, 0L, NULL, 0L); /* EBADF, after the program ran */
	}
	sched_setaffinity(0, sizeof(saved), &saved);
	return set_flush_tid(t, 0);
}

/* The programs' partial batch of each CPU (older than age_ns; 0 = any) is sent up by
 * kern/pingpong.bpf.c's on_flush, run there by BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU
 * (5.10+): no tracepoint of ours needs to fire for it. Where the kernel refuses that, by the
 * syscall set's fd -1 call (flush_by_syscall). A CPU it cannot run on keeps its batch:
 * pp_trace_lost() counts those events. */
static int flush_older(struct pp_trace *t, uint64_t age_ns)
{
	__u32 zero = 0;
	struct timespec now;
	uint64_t now_ns;
	int err, cpu, pending = 0, prog_fd = bpf_program__fd(t->skel->progs.on_flush);

	err = bpf_map__lookup_elem(t->skel->maps.pp_batch, &zero, sizeof(zero), t->batches,
				   (size_t)t->ncpus * sizeof(*t->batches), 0);
	if (err < 0)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	for (cpu = 0; cpu < t->ncpus; cpu++) {
		const struct pp_batch *b = &t->batches[cpu];
		uint64_t first = b->n ? b->ev[0].ts_ns : 0;

		/* the batch changes under us: a stale copy only means a visit for nothing */
		if (b->n && age_ns && (first > now_ns || now_ns - first < age_ns))
			t->batches[cpu].n = 0;
		pending += t->batches[cpu].n != 0;
	}
	if (!age_ns)
		t->unflushed = 0;
	if (!pending)
		return pp_trace_consume(t);
	for (cpu = 0; cpu < t->ncpus && !t->flush_by_syscall; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (__u32)cpu);

		if (!t->batches[cpu].n)
			continue;
		err = bpf_prog_test_run_opts(prog_fd, &run);
		/* before 5.10 the kernel refuses it (EINVAL for the flag, ENOTSUPP before 5.10's
		 * raw_tp test runs); the send family is the syscall set there */
		if (err < 0 && !t->socket_send) {
			t->flush_by_syscall = true;
		} else {
			if (err < 0 && !age_ns)
				t->unflushed += t->batches[cpu].n;
			t->batches[cpu].n = 0; /* done: the syscall path must not visit it again */
		}
	}
	if (t->flush_by_syscall && (err = flush_by_syscall(t, age_ns)) < 0)
		return err;
	return pp_trace_consume(t);
}

int pp_trace_flush(struct pp_trace *t)
{
	return flush_older(t, 0);
}

int pp_trace_flush_stale(struct pp_trace *t, uint64_t age_ns)
{
	return flush_older(t, age_ns ? age_ns : 1);
}

int pp_trace_poll(struct pp_trace *t, int timeout_ms)
{
	uint64_t polled;
	int err;

	t->delivered_now = 0;
	err = perf_buffer__poll(t->pb, timeout_ms);
	if (err < 0 && err != -EINTR)
		return err;
	polled = t->delivered_now;
	/* buffers below their wakeup mark are drained too, so nothing waits past a timeout */
	if ((err = pp_trace_consume(t)) < 0)
		return err;
	t->delivered_now += polled;
	return delivered(t);
}

int pp_trace_epoll_fd(const struct pp_trace *t)
{
	return perf_buffer__epoll_fd(t->pb);
}

const char *pp_trace_points(const struct pp_trace *t)
{
	static const char *const names[2][2] = {
		{ "send syscalls (sendto, sendmsg, write, writev), recv syscalls (recvfrom, recvmsg, read, readv)",
		  "send syscalls (sendto, sendmsg, write, writev), recv sock:sock_recv_length" },
		{ "send tcp:tcp_sendmsg_locked, recv syscalls (recvfrom, recvmsg, read, readv)",
		  "send tcp:tcp_sendmsg_locked, recv sock:sock_recv_length" },
	};

	return names[t->socket_send][t->socket_recv];
}

bool pp_trace_socket_send(const struct pp_trace *t)
{
	return t->socket_send;
}

bool pp_trace_socket_recv(const struct pp_trace *t)
{
	return t->socket_recv;
}

bool pp_trace_tcp_point(const struct pp_trace *t)
{
	return t->tcp_point;
}

bool pp_trace_sched(const struct pp_trace *t)
{
	return t->sched;
}

uint64_t pp_trace_events(const struct pp_trace *t)
{
	return t->events;
}

/* The kernel's LOST records arrive only in front of a later sample; the programs' own count of
 * refused outputs also covers drops at the very end. Both count the same drops: take the larger.
 * Events the last flush could not reach are missing from what was delivered so far, too. */
uint64_t pp_trace_lost(const struct pp_trace *t)
{
	__u32 key = 0;
	uint64_t failed = 0;

	if (bpf_map__lookup_elem(t->skel->maps.pp_stats, &key, sizeof(key), t->per_cpu,
				 (size_t)t->ncpus * sizeof(*t->per_cpu), 0) == 0)
		for (int i = 0; i < t->ncpus; i++)
			failed += t->per_cpu[i];
	return (failed > t->lost ? failed : t->lost) + t->unflushed;
}

uint64_t pp_trace_skipped(const struct pp_trace *t)
{
	struct bpf_program *prog;
	uint64_t skipped = 0;

	bpf_object__for_each_program(prog, t->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			skipped += info.recursion_misses;
	}
	return skipped;
}

size_t pp_trace_buffer_bytes(const struct pp_trace *t)
{
	return t->buffer_bytes;
}

void pp_trace_close(struct pp_trace *t)
{
	if (!t)
		return;
	perf_buffer__free(t->pb);
	if (t->stats_fd >= 0)
		close(t->stats_fd);
	pingpong_bpf__destroy(t->skel);
	free(t->per_cpu);
	free(t->batches);
	free(t);
}

int pp_trace_cost_snapshot(const struct pp_trace *t, struct pp_bpf_cost *c)
{
	int rc = pp_bpf_cost_snapshot(t->skel->obj, t->stats_fd >= 0, c);

	return t->stats_fd >= 0 ? rc : t->stats_err;
}
