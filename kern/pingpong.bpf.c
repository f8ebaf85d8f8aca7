// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
/* Kernel side of pingpong: stable tracepoints only (socket or syscalls, net, tcp, sched), CO-RE
 * reads, filtered in the kernel by port, process tree, network namespace and, once set,
 * connection; one pp_event per point, sent to user space in per-CPU batches (output()).
 *
 * Every program runs on every hit of its tracepoint on the machine (twice on the testbed: the
 * client's copy and the agent's), mostly to filter it out: the filters are inlined array
 * lookups, and reads of kernel memory are as few as the layout allows (make bench, section 3).
 *
 * The send and recv points come from one of two sets, chosen per direction when the object
 * loads (user/collect/trace.c, docs/design.md 2.1):
 *  - socket tracepoints where the kernel has them: tcp:tcp_sendmsg_locked (after 6.12; in
 *    6.18) and sock:sock_recv_length (after 6.1; in 6.12). They fire for TCP sends and socket receives only, with the
 *    socket as an argument, and for every way into the socket (io_uring, sendfile, any syscall);
 *  - else the syscall tracepoints of the send and recv families. These cost every process on
 *    the host: any syscall tracepoint turns on the traced-syscall path for every task, and
 *    sys_enter_read/write run a program on each read and write of every program.
 *
 * The packet and socket points attach to their tracepoints in raw mode (raw_tp/), the syscall
 * and sched points in classic mode (tracepoint/). Why: classic tracepoint programs share one
 * per-CPU recursion guard (bpf_prog_active), so a softirq that sends or receives a packet while
 * any classic program runs on that CPU in process context (our syscall programs fire for every
 * process's read and write) loses its point; with 1 MiB messages a fifth of the exchanges lost
 * one that way. Raw tracepoint programs guard each program on its own, so a point is lost only
 * if the same program is already running on that CPU. Raw mode is as old (4.17) and needs no
 * tracefs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "pingpong.h"

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define MSG_PEEK     0x2
#define MSG_ERRQUEUE 0x2000
#define IP_MF_OFFSET 0x3fff /* more-fragments flag and fragment offset */
#define TCP_SYN_FIN_RST (PP_TCP_SYN | PP_TCP_FIN | PP_TCP_RST)
#define TCP_FLAGS_OFFSET 13 /* the flags byte inside struct tcphdr */

/* ---- maps: the event stream, then filters and in-flight syscall state ---- */

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* Fixed at load time: read-only data that user space sets through skel->rodata before the
 * load (as libbpf-tools' targ_* knobs), so the verifier sees constants and a knob that is off
 * costs no instruction, nor a map lookup. */
const volatile __u32 pp_netns_ino = 0;  /* only this network namespace (its inode); 0 = any */
const volatile bool pp_keep_acks = false; /* also report segments without payload */
const volatile bool pp_all_tgids = false; /* syscalls of every process (no tgid filter) */
const volatile bool pp_sched = false;     /* --sched: the wake, idle and oncpu points at recv */

/* [0]: the thread whose send-family call on fd -1 flushes its CPU's batch: pp_trace_flush on a
 * kernel before 5.10, which cannot run on_flush on a chosen CPU (there the send family is
 * always the syscall set); set while running, hence a map; 0 = none. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pp_flush_tid SEC(".maps");

/* Array lookups are inlined by the verifier; hash lookups cost a call and a hash each, and the
 * port and tgid tests run on every packet and send/recv call of the machine. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PP_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64); /* bit p & 63 of word p >> 6: port p (host byte order) is traced */
} pp_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PP_MAX_TGIDS);
	__type(key, __u32);
	__type(value, __u8);
} pp_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PP_TGID_SEEN_MASK + 1);
	__type(key, __u32);
	__type(value, __u32);
} pp_tgid_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pp_batch);
} pp_batch SEC(".maps");

/* [0]: the one connection to pass (kern/pingpong.h); set while running, after the connect,
 * hence a map. An array of one: its lookup is inlined, and a filter not enabled costs a load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pp_flow_filter);
} pp_flow_filter SEC(".maps");

/* [0]: the address of our network namespace's struct net, once a packet showed it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pp_netns SEC(".maps");

/* [0]: events the perf buffer refused (full). Counted here because the kernel reports its own
 * losses only in front of the next sample that fits, which never comes after the last drop. */
#define PP_STAT_OUTPUT_FAILED 0
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pp_stats SEC(".maps");

/* A send/recv call between its entry and exit, one slot per thread, rewritten in place and
 * disarmed at the exit rather than deleted (an update and a delete per call cost about as much
 * as the rest of the syscall path). The entry fills in the event but for the exit's seq, length
 * and time, so the exit reads one counter of the socket and nothing else. LRU: threads that are
 * gone give their slots back. */
struct pp_inflight {
	__u64 sk;
	__u32 armed;
	__u32 pad;
	struct pp_event ev;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pp_inflight);
} pp_inflight SEC(".maps");

/* ---- helpers ---- */

#ifdef PP_ATTACH_ONLY /* make bench's floor: every program returns at once */
#define ATTACH_ONLY 1
#else
#define ATTACH_ONLY 0
#endif

static __always_inline bool port_bit(__u16 port)
{
	__u32 word = port >> 6;
	__u64 *bits = bpf_map_lookup_elem(&pp_ports, &word);

	return bits && (*bits >> (port & 63)) & 1;
}

static __always_inline bool port_traced(__u16 a, __u16 b)
{
	return port_bit(a) || port_bit(b);
}

/* ev's flow (filled in, either direction) is the connection pp_flow_filter names, or none is
 * named. After the port test: on a port nobody traces it would only add work. */
static __always_inline bool flow_passes(const struct pp_event *ev)
{
	__u32 zero = 0;

	return pp_flow_filter_passes(bpf_map_lookup_elem(&pp_flow_filter, &zero), ev);
}

/* The namespace is the tracer's own (pp_netns_ino), which lives as long as the tracer
 * does: no other struct net can have its address meanwhile, so once learned, the address
 * decides and the inode number is not read again. */
static __always_inline bool netns_ok(struct net *net)
{
	__u32 zero = 0;
	__u64 *ours;

	if (!pp_netns_ino)
		return true;
	ours = bpf_map_lookup_elem(&pp_netns, &zero);
	if (ours && *ours)
		return (__u64)net == *ours;
	if (BPF_CORE_READ(net, ns.inum) != pp_netns_ino)
		return false;
	if (ours)
		*ours = (__u64)net;
	return true;
}

/* Most calls on a machine are by untraced processes: the seen-word answers them inline.
 * false: certainly not traced; true: perhaps (a traced tgid shares the low bits). */
static __always_inline bool tgid_maybe_traced(__u32 tgid)
{
	__u32 low = tgid & PP_TGID_SEEN_MASK;
	__u32 *seen;

	if (pp_all_tgids)
		return true;
	seen = bpf_map_lookup_elem(&pp_tgid_seen, &low);
	return seen && *seen;
}

static __always_inline bool tgid_traced(__u32 tgid)
{
	return tgid_maybe_traced(tgid) && (pp_all_tgids || bpf_map_lookup_elem(&pp_tgids, &tgid));
}

static __always_inline void count_failed(__u64 events)
{
	__u32 key = PP_STAT_OUTPUT_FAILED;
	__u64 *failed = bpf_map_lookup_elem(&pp_stats, &key);

	if (failed)
		*failed += events;
}

/* busy must be set before, and cleared after, every access to n and ev[] as the CPU runs them:
 * the compiler may not drop the first store nor move n's store past the second. An interrupt
 * that finds busy clear must find a batch no one is writing. */
#define barrier() asm volatile("" ::: "memory")
#define SET_BUSY(b, v) do { barrier(); *(volatile __u32 *)&(b)->busy = (v); barrier(); } while (0)

/* One perf record per batch: a record costs about as much as the rest of a packet program,
 * whatever it holds. A program that interrupts another one mid-write on this CPU (a softirq
 * over a syscall exit, say) finds the batch busy and sends its event alone. */
static __always_inline void output(void *ctx, struct pp_event *ev)
{
	__u32 zero = 0, i;
	struct pp_batch *b = bpf_map_lookup_elem(&pp_batch, &zero);

	if (!b || *(volatile __u32 *)&b->busy) {
		if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, ev, sizeof(*ev)))
			count_failed(1);
		return;
	}
	SET_BUSY(b, 1);
	i = b->n & (PP_BATCH_EVENTS - 1);
	b->ev[i] = *ev;
	if (i + 1 < PP_BATCH_EVENTS) {
		b->n = i + 1;
	} else {
		if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, b->ev, sizeof(b->ev)))
			count_failed(PP_BATCH_EVENTS);
		b->n = 0;
	}
	SET_BUSY(b, 0);
}

/* pp_trace_flush() runs on_flush (below) on each CPU that holds a partial batch, or before 5.10
 * makes a send-family call on fd -1 there (syscall_enter). */
static __always_inline void flush(void *ctx)
{
	__u32 zero = 0, n;
	struct pp_batch *b = bpf_map_lookup_elem(&pp_batch, &zero);

	if (!b || *(volatile __u32 *)&b->busy || !b->n)
		return;
	SET_BUSY(b, 1);
	n = b->n & (PP_BATCH_EVENTS - 1);
	if (n && bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, b->ev,
				       n * sizeof(struct pp_event)))
		count_failed(n);
	b->n = 0;
	SET_BUSY(b, 0);
}

/* ---- scheduling points (--sched), kept per thread and sent with its recv ---- */

/* What the scheduler did to a thread since its last traced recv. Only threads that made a
 * traced recv have a slot (sched_points), so the sched programs, which run on every wake-up
 * and context switch of the host, turn every other thread away with one lookup. LRU: threads
 * that are gone give their slots back. */
struct pp_sched_thread {
	__u64 waking; /* sched_waking: its last wake-up since its last recv; 0 = none */
	__u64 idle;   /* the idle exit of the CPU it then ran on, if after waking; 0 = none */
	__u64 oncpu;  /* sched_switch: its last switch-in; 0 = not seen yet */
	__u64 recv;   /* its last traced recv */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32); /* thread id (task_struct.pid) */
	__type(value, struct pp_sched_thread);
} pp_sched_threads SEC(".maps");

/* [0]: this CPU's last exit from idle (power:cpu_idle), CLOCK_MONOTONIC ns. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pp_idle_exit SEC(".maps");

/* Before a recv event: the calling thread's wake-up, idle exit and switch-in, as copies of ev
 * (same flow and bytes, so placed with the recv), then the wake-up is consumed. A thread's
 * first recv gets it a slot and no points: what came before is not known. The
 * correlator keeps only those between the data's arrival and the recv (split.c). A thread not
 * switched in since its previous recv was on a CPU throughout: its oncpu point is then the
 * recv's own time, which says so (split.c), rather than a switch-in of long ago, which would
 * travel far out of time order (a spinning thread's may be from its start). */
static __always_inline void sched_points(void *ctx, struct pp_event *ev, __u32 tid)
{
	struct pp_sched_thread *t;
	__u64 ts = ev->ts_ns, other = ev->ts_other_ns;

	if (!pp_sched)
		return;
	t = bpf_map_lookup_elem(&pp_sched_threads, &tid);
	if (!t) {
		struct pp_sched_thread fresh = { .recv = ts };

		bpf_map_update_elem(&pp_sched_threads, &tid, &fresh, BPF_NOEXIST);
		return;
	}
	ev->ts_other_ns = 0;
	if (t->waking) {
		ev->point = PP_WAKE;
		ev->ts_ns = t->waking;
		output(ctx, ev);
		if (t->idle) {
			ev->point = PP_IDLE;
			ev->ts_ns = t->idle;
			output(ctx, ev);
		}
	}
	if (t->oncpu) {
		ev->point = PP_ONCPU;
		ev->ts_ns = t->oncpu > t->recv ? t->oncpu : ts;
		output(ctx, ev);
	}
	t->waking = 0;
	t->idle = 0;
	t->recv = ts;
	ev->point = PP_RECV;
	ev->ts_ns = ts;
	ev->ts_other_ns = other;
}

/* ---- syscall points ---- */

/* The leading fields of struct sock_common (addresses, ports, family) lie within a few bytes
 * of each other: one read takes them all, at offsets CO-RE fixes at load time. A kernel that
 * spreads them further apart gets one read each (the branch is settled when the object loads). */
#define SKC_HEAD 24
#define SKC_OFF(field) bpf_core_field_offset(struct sock_common, field)
#define SKC_BASE SKC_OFF(skc_daddr)
#define SKC_NEAR(field) (SKC_OFF(field) >= SKC_BASE && SKC_OFF(field) - SKC_BASE + \
			 bpf_core_field_size(struct sock_common, field) <= SKC_HEAD)
#define SKC_FIELD(head, sk, type, field)                                                   \
	(SKC_NEAR(field) ? *(type *)((head) + (SKC_OFF(field) - SKC_BASE))                   \
			 : (type)BPF_CORE_READ(sk, __sk_common.field))

struct skc_head {
	__u8 bytes[SKC_HEAD];
};

static __always_inline bool v4_mapped(const __u32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

/* ev's flow from the socket, in the direction the data travels (outgoing: local->remote).
 * A v4-mapped IPv6 socket carries IPv4 packets, so it is reported as IPv4 like them. */
static __always_inline void flow_from_sock(struct pp_event *ev, struct sock *sk,
					   const struct skc_head *head, __u16 family, __u16 lport,
					   __u16 rport, bool outgoing)
{
	__u8 *local = outgoing ? ev->saddr : ev->daddr, *remote = outgoing ? ev->daddr : ev->saddr;
	__u32 addr6[8];

	ev->sport = outgoing ? lport : rport;
	ev->dport = outgoing ? rport : lport;
	ev->family = PP_AF_INET;
	if (family == PP_AF_INET6) {
		/* skc_v6_daddr and skc_v6_rcv_saddr are neighbours: one read */
		if (bpf_core_field_offset(struct sock_common, skc_v6_rcv_saddr) ==
		    bpf_core_field_offset(struct sock_common, skc_v6_daddr) + 16) {
			bpf_core_read(addr6, 32, &sk->__sk_common.skc_v6_daddr);
		} else {
			bpf_core_read(addr6, 16, &sk->__sk_common.skc_v6_daddr);
			bpf_core_read(addr6 + 4, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		}
		if (!v4_mapped(addr6)) {
			ev->family = PP_AF_INET6;
			__builtin_memcpy(remote, addr6, 16);
			__builtin_memcpy(local, addr6 + 4, 16);
			return;
		}
	}
	*(__u32 *)local = SKC_FIELD(head->bytes, sk, __u32, skc_rcv_saddr);
	*(__u32 *)remote = SKC_FIELD(head->bytes, sk, __u32, skc_daddr);
}

/* Two neighbouring pointers in one read where the layout allows (CO-RE). */
#define PAIR_READ(dst0, dst1, obj, type, f0, f1)                                           \
	({                                                                                 \
		long __err;                                                                \
		if (bpf_core_field_offset(type, f1) == bpf_core_field_offset(type, f0) + 8) { \
			__u64 __pair[2];                                                   \
			__err = bpf_probe_read_kernel(__pair, sizeof(__pair),              \
				(__u8 *)(obj) + bpf_core_field_offset(type, f0));          \
			dst0 = (typeof(dst0))__pair[0];                                    \
			dst1 = (typeof(dst1))__pair[1];                                    \
		} else {                                                                   \
			__err = bpf_core_read(&dst0, sizeof(dst0), &(obj)->f0) |           \
				bpf_core_read(&dst1, sizeof(dst1), &(obj)->f1);            \
		}                                                                          \
		__err;                                                                     \
	})

/* sk, if it is a TCP/IPv4-or-6 socket on a traced port, with ev's flow filled in the
 * direction the call's data travels; else NULL. */
static __always_inline struct sock *traced_tcp_sock(struct sock *sk, bool outgoing,
						    struct pp_event *ev)
{
	struct skc_head head;
	__u16 family, lport, rport;

	if (!sk || bpf_probe_read_kernel(&head, sizeof(head), (__u8 *)sk + SKC_BASE))
		return NULL;
	family = SKC_FIELD(head.bytes, sk, __u16, skc_family);
	if (family != PP_AF_INET && family != PP_AF_INET6)
		return NULL;
	/* a bitfield before 5.6, a u16 since: the probed read handles both layouts */
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP)
		return NULL;
	lport = SKC_FIELD(head.bytes, sk, __u16, skc_num);
	rport = bpf_ntohs(SKC_FIELD(head.bytes, sk, __u16, skc_dport));
	if (!port_traced(lport, rport))
		return NULL;
	flow_from_sock(ev, sk, &head, family, lport, rport, outgoing);
	/* the tgid filter already keeps other processes out; this keeps the traced process's
	 * other connections on the port out too */
	return flow_passes(ev) ? sk : NULL;
}

/* The sock behind fd, as traced_tcp_sock. The file is a socket when its private data is a
 * struct socket pointing back at it (which spares reading the inode's mode). */
static __always_inline struct sock *traced_tcp_fd(long fd, bool outgoing, struct pp_event *ev)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL, *back = NULL;
	struct { __u32 max_fds, pad; __u64 fd; } fdt_head; /* struct fdtable's first two fields */
	struct socket *sock;
	struct sock *sk = NULL;

	if (!fdt)
		return NULL;
	if (bpf_core_field_offset(struct fdtable, max_fds) == 0 &&
	    bpf_core_field_offset(struct fdtable, fd) == 8) {
		if (bpf_probe_read_kernel(&fdt_head, sizeof(fdt_head), fdt))
			return NULL;
	} else {
		fdt_head.max_fds = BPF_CORE_READ(fdt, max_fds);
		fdt_head.fd = (__u64)BPF_CORE_READ(fdt, fd);
	}
	fds = (struct file **)fdt_head.fd;
	if (fd < 0 || fd >= fdt_head.max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || PAIR_READ(back, sk, sock, struct socket, file, sk) || back != file || !sk)
		return NULL;
	return traced_tcp_sock(sk, outgoing, ev);
}

static __always_inline int syscall_enter(void *ctx, long fd, __u32 is_send, __u64 msg_flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pp_inflight *slot, call = { .armed = 1 };
	struct sock *sk;
	__u32 zero = 0, *flush_tid;

	if (ATTACH_ONLY)
		return 0;
	if ((int)fd == -1 && (flush_tid = bpf_map_lookup_elem(&pp_flush_tid, &zero)) &&
	    (__u32)pid_tgid == *flush_tid) {
		flush(ctx);
		return 0;
	}
	if (!tgid_traced(pid_tgid >> 32))
		return 0;
	call.ev.ts_ns = bpf_ktime_get_ns();
	slot = bpf_map_lookup_elem(&pp_inflight, &pid_tgid);
	/* a peek moves no bytes: copied_seq stays, so the exit could not place them */
	sk = (msg_flags & MSG_PEEK) ? NULL : traced_tcp_fd(fd, is_send, &call.ev);
	if (!sk) {
		if (slot) /* an exit we missed must not be paired with this call's */
			slot->armed = 0;
		return 0;
	}
	call.sk = (__u64)sk;
	call.ev.point = is_send ? PP_SEND : PP_RECV;
	call.ev.tgid = pid_tgid >> 32;
	if (slot)
		*slot = call;
	else
		bpf_map_update_elem(&pp_inflight, &pid_tgid, &call, BPF_ANY);
	return 0;
}

/* At the exit the socket's sequence counters already include this call's bytes:
 * they were [write_seq - ret, write_seq) for a send, [copied_seq - ret, copied_seq) for a recv.
 * Every read and write on the machine comes here: the seen-word turns most away at once. */
static __always_inline int syscall_exit(void *ctx, long ret, __u32 is_send)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pp_inflight *found;
	struct tcp_sock *tp;
	struct pp_event ev;
	__u64 exit_ns;

	/* an exact answer would cost the hash lookup the in-flight slot makes anyway */
	if (ATTACH_ONLY || !tgid_maybe_traced(pid_tgid >> 32))
		return 0;
	found = bpf_map_lookup_elem(&pp_inflight, &pid_tgid);
	if (!found || !found->armed)
		return 0;
	exit_ns = bpf_ktime_get_ns();
	found->armed = 0;
	if (ret <= 0 || (found->ev.point == PP_SEND) != is_send)
		return 0;
	ev = found->ev;
	tp = (struct tcp_sock *)found->sk;
	if (is_send) {
		ev.ts_other_ns = exit_ns;
		ev.seq = BPF_CORE_READ(tp, write_seq) - (__u32)ret;
	} else {
		ev.ts_other_ns = ev.ts_ns;
		ev.ts_ns = exit_ns;
		ev.seq = BPF_CORE_READ(tp, copied_seq) - (__u32)ret;
	}
	ev.len = (__u32)ret;
	if (!is_send)
		sched_points(ctx, &ev, (__u32)pid_tgid);
	output(ctx, &ev);
	return 0;
}

/* sendto/recvfrom(fd, buf, len, flags, ...), sendmsg/recvmsg(fd, msg, flags), read/write(v)(fd, ...) */
#define PP_SYSCALL(name, is_send, flags_expr)                                         \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                   \
	int enter_##name(struct trace_event_raw_sys_enter *ctx)                       \
	{                                                                             \
		return syscall_enter(ctx, (long)ctx->args[0], is_send, (flags_expr)); \
	}                                                                             \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                    \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                         \
	{                                                                             \
		return syscall_exit(ctx, ctx->ret, is_send);                          \
	}

PP_SYSCALL(sendto, 1, 0)
PP_SYSCALL(sendmsg, 1, 0)
PP_SYSCALL(write, 1, 0)
PP_SYSCALL(writev, 1, 0)
PP_SYSCALL(recvfrom, 0, ctx->args[3])
PP_SYSCALL(recvmsg, 0, ctx->args[2])
PP_SYSCALL(read, 0, 0)
PP_SYSCALL(readv, 0, 0)

/* ---- socket points ---- */

/* The last send call each thread was seen in, by the end of its data: tcp_sendmsg_locked
 * fires once per skb the call fills, and only the first hit is the call's send point. */
struct pp_send_call {
	__u64 sk;
	__u32 end;  /* write_seq + the bytes the call still had to queue: the same on every hit */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pp_send_call);
} pp_send_calls SEC(".maps");

/* tcp:tcp_sendmsg_locked (raw args: sk, msg, skb, size_goal): in the copy loop of
 * tcp_sendmsg_locked, before each skb is filled, the socket locked. The first hit of a call is
 * its send point, before any byte is queued: write_seq is the call's first byte and
 * msg_data_left(msg) its length (what the call was given; a non-blocking call may queue less,
 * and a retry for the rest then has the same end and is not a new point). Later than the
 * syscall entry by the way in and lock_sock: a fraction of a microsecond. */
SEC("raw_tp/tcp_sendmsg_locked")
int on_tcp_sendmsg_locked(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	struct msghdr *msg = (struct msghdr *)ctx->args[1];
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ts;
	struct pp_send_call *last, call;
	struct pp_event ev;
	__u32 seq, left;

	if (ATTACH_ONLY || !tgid_traced(pid_tgid >> 32))
		return 0;
	ts = bpf_ktime_get_ns();
	__builtin_memset(&ev, 0, sizeof(ev));
	if (!traced_tcp_sock(sk, true, &ev))
		return 0;
	seq = BPF_CORE_READ((struct tcp_sock *)sk, write_seq);
	left = (__u32)BPF_CORE_READ(msg, msg_iter.count);
	last = bpf_map_lookup_elem(&pp_send_calls, &pid_tgid);
	if (last && last->sk == (__u64)sk && last->end == seq + left)
		return 0;
	call.sk = (__u64)sk;
	call.end = seq + left;
	call.pad = 0;
	if (last)
		*last = call;
	else
		bpf_map_update_elem(&pp_send_calls, &pid_tgid, &call, BPF_ANY);
	ev.ts_ns = ts;
	ev.seq = seq;
	ev.len = left;
	ev.point = PP_SEND;
	ev.tgid = pid_tgid >> 32;
	output(ctx, &ev);
	return 0;
}

/* sock:sock_recv_length (raw args: sk, ret, flags): at the end of every socket receive, after
 * the protocol's recvmsg returned, just before the call returns to the program. copied_seq
 * already includes the call's bytes: they were [copied_seq - ret, copied_seq). A peek moves no
 * bytes and an error-queue read moves none of the stream's. */
SEC("raw_tp/sock_recv_length")
int on_sock_recv_length(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	int ret = (int)ctx->args[1], flags = (int)ctx->args[2];
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ts;
	struct pp_event ev;

	if (ATTACH_ONLY || ret <= 0 || (flags & (MSG_PEEK | MSG_ERRQUEUE)) ||
	    !tgid_traced(pid_tgid >> 32))
		return 0;
	ts = bpf_ktime_get_ns();
	__builtin_memset(&ev, 0, sizeof(ev));
	if (!traced_tcp_sock(sk, false, &ev))
		return 0;
	ev.ts_ns = ts;
	ev.seq = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq) - (__u32)ret;
	ev.len = (__u32)ret;
	ev.point = PP_RECV;
	ev.tgid = pid_tgid >> 32;
	sched_points(ctx, &ev, (__u32)pid_tgid);
	output(ctx, &ev);
	return 0;
}

/* Never attached: pp_trace_flush() runs it on a CPU with BPF_PROG_TEST_RUN (the kernel's
 * BPF_F_TEST_RUN_ON_CPU, 5.10+) to send that CPU's partial batch. */
SEC("raw_tp")
int on_flush(void *ctx)
{
	flush(ctx);
	return 0;
}

/* ---- packet points ---- */

/* Pure ACKs are left out unless asked for; SYN, FIN and RST are kept (they place streams). */
static __always_inline bool wanted(struct pp_event *ev, const struct tcphdr *th)
{
	ev->tcp_flags = ((const __u8 *)th)[TCP_FLAGS_OFFSET];
	return ev->len || pp_keep_acks || (ev->tcp_flags & TCP_SYN_FIN_RST);
}

static __always_inline int send_packet(void *ctx, struct pp_event *ev, __u8 point,
				       const struct tcphdr *th)
{
	ev->point = point;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->seq = bpf_ntohl(th->seq);
	ev->ack = bpf_ntohl(th->ack_seq);
	output(ctx, ev);
	return 0;
}

/* The IP packet length skb->len implies, for a header at l3 (before or after skb->data). Only
 * read when the header's own length is 0: BIG TCP super-packets above 64 KiB. */
static __always_inline __u32 skb_ip_len(struct sk_buff *skb, const __u8 *l3)
{
	return BPF_CORE_READ(skb, len) + (__u32)(BPF_CORE_READ(skb, data) - l3);
}

/* Fills ev from the IP and TCP headers at l3 and sends it, if the packet passes the filters.
 * proto: ETH_P_IP/ETH_P_IPV6, or 0 to go by the header's version nibble (where l3 is known to
 * be an IP header). linear: bytes readable at l3 (a driver may leave headers in page fragments
 * at rx). payload_len: the payload if the caller knows it better than the headers
 * (PP_LEN_FROM_HEADERS otherwise). IPv6 extension headers are not parsed: such packets (and
 * 802.1Q frames without VLAN offload, IP fragments) are skipped. */
#define PP_LEN_FROM_HEADERS 0xffffffffu
static __always_inline int emit_packet(void *ctx, __u8 point, __u16 proto,
				       struct sk_buff *skb, const __u8 *l3, __u32 linear, __u32 payload_len)
{
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;
	struct pp_event ev;
	struct tcphdr th;
	__u32 ip_len, ip_hlen, tcp_hlen;

	if (proto && proto != ETH_P_IP && proto != ETH_P_IPV6)
		return 0;
	/* one read covers either header: 40 bytes is within any IPv4 packet with TCP */
	if (bpf_probe_read_kernel(&ip, sizeof(ip.v6), l3))
		return 0;
	if (!proto)
		proto = ip.v4.version == 4 ? ETH_P_IP : ip.v4.version == 6 ? ETH_P_IPV6 : 0;
	__builtin_memset(&ev, 0, sizeof(ev));
	if (proto == ETH_P_IP) {
		if (ip.v4.version != 4 || ip.v4.protocol != IPPROTO_TCP ||
		    (bpf_ntohs(ip.v4.frag_off) & IP_MF_OFFSET))
			return 0;
		ip_hlen = ip.v4.ihl * 4;
		ip_len = bpf_ntohs(ip.v4.tot_len);
		ev.family = PP_AF_INET;
		__builtin_memcpy(ev.saddr, &ip.v4.saddr, 4);
		__builtin_memcpy(ev.daddr, &ip.v4.daddr, 4);
	} else if (proto == ETH_P_IPV6) {
		if (ip.v6.nexthdr != IPPROTO_TCP)
			return 0;
		ip_hlen = sizeof(ip.v6);
		ip_len = bpf_ntohs(ip.v6.payload_len);
		if (ip_len)
			ip_len += sizeof(ip.v6);
		ev.family = PP_AF_INET6;
		__builtin_memcpy(ev.saddr, &ip.v6.saddr, 16);
		__builtin_memcpy(ev.daddr, &ip.v6.daddr, 16);
	} else {
		return 0;
	}
	if (ip_hlen < 20 || linear < ip_hlen + sizeof(th) ||
	    bpf_probe_read_kernel(&th, sizeof(th), l3 + ip_hlen))
		return 0;
	ev.sport = bpf_ntohs(th.source);
	ev.dport = bpf_ntohs(th.dest);
	if (!port_traced(ev.sport, ev.dport) || !flow_passes(&ev))
		return 0;
	tcp_hlen = th.doff * 4;
	if (payload_len == PP_LEN_FROM_HEADERS) {
		if (!ip_len)
			ip_len = skb_ip_len(skb, l3);
		if (ip_len < ip_hlen + tcp_hlen)
			return 0;
		payload_len = ip_len - ip_hlen - tcp_hlen;
	}
	ev.len = payload_len;
	return wanted(&ev, &th) ? send_packet(ctx, &ev, point, &th) : 0;
}

static __always_inline bool dev_in_netns(struct sk_buff *skb)
{
	return netns_ok(BPF_CORE_READ(skb, dev, nd_net.net));
}

/* The device queue (raw args: skb): the link-layer header is pushed, network_header is
 * valid, so the IP version is read from the header itself. */
SEC("raw_tp/net_dev_queue")
int on_net_dev_queue(struct bpf_raw_tracepoint_args *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->args[0];

	if (ATTACH_ONLY || !dev_in_netns(skb))
		return 0;
	return emit_packet(ctx, PP_XMIT, 0, skb,
			   BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header), 0xffff,
			   PP_LEN_FROM_HEADERS);
}

/* Fires in __netif_receive_skb_core BEFORE skb_reset_network_header (raw args: skb):
 * network_header may be stale here, but the MAC header is already pulled, so the IP header
 * is at skb->data; skb->protocol says whether it is one. */
SEC("raw_tp/netif_receive_skb")
int on_netif_receive_skb(struct bpf_raw_tracepoint_args *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->args[0];
	__u32 headlen;

	if (ATTACH_ONLY || !dev_in_netns(skb))
		return 0;
	headlen = BPF_CORE_READ(skb, len) - BPF_CORE_READ(skb, data_len);
	return emit_packet(ctx, PP_RX, bpf_ntohs(BPF_CORE_READ(skb, protocol)), skb,
			   BPF_CORE_READ(skb, data), headlen, PP_LEN_FROM_HEADERS);
}

/* tcp_rcv_established (raw args: sk, skb): the segment reached its socket. The ports, the
 * addresses and the netns are the socket's, so unrelated segments cost one read, and the TCP
 * header is at skb->data. The length is what the tracepoint itself reports as data_len,
 * skb->len less the TCP header, never the IP header's: segments that arrive while the socket
 * is owned by its process are coalesced in the backlog (tcp_add_backlog) into one skb that
 * keeps the first segment's headers, e.g. a pure ACK followed by 64 KiB. */
SEC("raw_tp/tcp_probe")
int on_tcp_probe(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	struct sk_buff *skb = (struct sk_buff *)ctx->args[1];
	struct skc_head head;
	struct pp_event ev;
	struct tcphdr th;
	__u16 lport, rport, family;

	if (ATTACH_ONLY || bpf_probe_read_kernel(&head, sizeof(head), (__u8 *)sk + SKC_BASE))
		return 0;
	lport = SKC_FIELD(head.bytes, sk, __u16, skc_num);
	rport = bpf_ntohs(SKC_FIELD(head.bytes, sk, __u16, skc_dport));
	if (!port_traced(lport, rport) || !netns_ok(BPF_CORE_READ(sk, __sk_common.skc_net.net)))
		return 0;
	/* the flow first: another connection is turned away before its skb is read */
	__builtin_memset(&ev, 0, sizeof(ev));
	family = SKC_FIELD(head.bytes, sk, __u16, skc_family);
	flow_from_sock(&ev, sk, &head, family, lport, rport, false);
	if (!flow_passes(&ev))
		return 0;
	if (bpf_probe_read_kernel(&th, sizeof(th), BPF_CORE_READ(skb, data)))
		return 0;
	ev.len = BPF_CORE_READ(skb, len) - th.doff * 4;
	if (!wanted(&ev, &th))
		return 0;
	return send_packet(ctx, &ev, PP_TCP, &th);
}

/* ---- the scheduler (loaded only with --sched) ---- */

/* sched:sched_waking (raw args: p), in the waker's context: try_to_wake_up found p asleep
 * (a running thread gives no event). For a reader woken by its data this is the moment the
 * receive path handed over: the softirq's protocol work is done. */
SEC("raw_tp/sched_waking")
int on_sched_waking(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx->args[0];
	__u32 tid = BPF_CORE_READ(p, pid);
	struct pp_sched_thread *t;

	if (ATTACH_ONLY)
		return 0;
	t = bpf_map_lookup_elem(&pp_sched_threads, &tid);
	if (t) {
		t->waking = bpf_ktime_get_ns();
		t->idle = 0;
	}
	return 0;
}

/* sched:sched_switch (raw args: preempt, prev, next[, prev_state since 5.18]), on the CPU
 * that switches: next starts running here. If this CPU left idle after next's wake-up, the
 * wake-up waited for it. */
SEC("raw_tp/sched_switch")
int on_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *next = (struct task_struct *)ctx->args[2];
	__u32 tid = BPF_CORE_READ(next, pid), zero = 0;
	struct pp_sched_thread *t;
	__u64 now, *idle_exit;

	if (ATTACH_ONLY)
		return 0;
	t = bpf_map_lookup_elem(&pp_sched_threads, &tid);
	if (!t)
		return 0;
	now = bpf_ktime_get_ns();
	t->oncpu = now;
	if (t->waking && !t->idle && (idle_exit = bpf_map_lookup_elem(&pp_idle_exit, &zero)) &&
	    *idle_exit >= t->waking)
		t->idle = *idle_exit;
	return 0;
}

/* power:cpu_idle (raw args: state, cpu_id): state (u32)-1 is the exit from idle. */
#define PWR_EVENT_EXIT 0xffffffffu
SEC("raw_tp/cpu_idle")
int on_cpu_idle(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	__u64 *idle_exit;

	if (ATTACH_ONLY || (__u32)ctx->args[0] != PWR_EVENT_EXIT)
		return 0;
	idle_exit = bpf_map_lookup_elem(&pp_idle_exit, &zero);
	if (idle_exit)
		*idle_exit = bpf_ktime_get_ns();
	return 0;
}

/* ---- the traced process tree (attached only when children are followed) ---- */

/* Runs in the parent. Threads are added too (the tracepoint cannot tell them apart);
 * on_exit removes each id again, so the map holds live tasks only. */
SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 child = ctx->child_pid, low = child & PP_TGID_SEEN_MASK;
	__u32 *seen;
	__u8 one = 1;

	if (!bpf_map_lookup_elem(&pp_tgids, &parent))
		return 0;
	/* seen first: a call of the child must not find its word clear once it is in pp_tgids */
	seen = bpf_map_lookup_elem(&pp_tgid_seen, &low);
	if (seen)
		*seen = 1;
	bpf_map_update_elem(&pp_tgids, &child, &one, BPF_NOEXIST);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int on_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&pp_tgids, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL"; /* the kernel lets GPL-only helpers run for this */

#ifdef PP_TEST_TRACEPOINT
/* Test-only, never set by a normal build: `make test-kernels BROKEN=1` (tools/test-kernels)
 * adds this program on a tracepoint that older kernels lack, -DPP_TEST_TRACEPOINT=CAT/NAME
 * (default sock/sock_recv_length, 6.5+), to show how a kernel without it fails. */
#define PP_STR_(x) #x
#define PP_STR(x) PP_STR_(x)
SEC("tracepoint/" PP_STR(PP_TEST_TRACEPOINT))
int on_test_tracepoint(void *ctx)
{
	return 0;
}
#endif
