/* Kernel side of pingpong: classic tracepoints only (syscalls, net, tcp, sched), CO-RE reads,
 * filtered in the kernel by port, process tree and network namespace; one pp_event per point. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "pingpong.h"

#define ETH_P_IP     0x0800
#define ETH_P_IPV6   0x86DD
#define S_IFMT       0170000
#define S_IFSOCK     0140000
#define MSG_PEEK     0x2
#define IP_MF_OFFSET 0x3fff /* more-fragments flag and fragment offset */
#define TCP_SYN_FIN_RST 0x07
#define TCP_FLAGS_OFFSET 13 /* the flags byte inside struct tcphdr */

/* ---- maps: the event stream, then filters and in-flight syscall state ---- */

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pp_config);
} pp_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PP_MAX_PORTS);
	__type(key, __u16); /* host byte order */
	__type(value, __u8);
} pp_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PP_MAX_TGIDS);
	__type(key, __u32);
	__type(value, __u8);
} pp_tgids SEC(".maps");

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
 * as the rest of the syscall path). LRU: threads that are gone give their slots back. */
struct pp_inflight {
	__u64 enter_ns;
	__u64 sk;
	__u32 is_send;
	__u32 armed;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pp_inflight);
} pp_inflight SEC(".maps");

/* ---- helpers ---- */

static __always_inline const struct pp_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pp_config, &zero);
}

static __always_inline bool port_traced(__u16 a, __u16 b)
{
	return bpf_map_lookup_elem(&pp_ports, &a) || bpf_map_lookup_elem(&pp_ports, &b);
}

static __always_inline bool netns_ok(const struct pp_config *cfg, struct net *net)
{
	return !cfg->netns_ino || BPF_CORE_READ(net, ns.inum) == cfg->netns_ino;
}

static __always_inline bool tgid_traced(const struct pp_config *cfg, __u32 tgid)
{
	return (cfg->flags & PP_CFG_ALL_TGIDS) || bpf_map_lookup_elem(&pp_tgids, &tgid);
}

static __always_inline void output(void *ctx, struct pp_event *ev)
{
	__u32 key = PP_STAT_OUTPUT_FAILED;
	__u64 *failed;

	if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, ev, sizeof(*ev)) == 0)
		return;
	failed = bpf_map_lookup_elem(&pp_stats, &key);
	if (failed)
		(*failed)++;
}

/* ---- syscall points ---- */

/* The sock behind fd, if it is a TCP/IPv4-or-6 socket on a traced port; else NULL. */
static __always_inline struct sock *traced_tcp_sock(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	struct socket *sock;
	struct sock *sk;
	__u16 family, protocol, lport, rport;

	if (fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != PP_AF_INET && family != PP_AF_INET6)
		return NULL;
	/* a bitfield before 5.6, a u16 since: the probed read handles both layouts */
	protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (protocol != IPPROTO_TCP)
		return NULL;
	lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	return port_traced(lport, rport) ? sk : NULL;
}

static __always_inline int syscall_enter(long fd, __u32 is_send, __u64 msg_flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct pp_config *cfg = get_config();
	struct pp_inflight call = { .is_send = is_send, .armed = 1 }, *slot;
	struct sock *sk;

	if (!cfg || !tgid_traced(cfg, pid_tgid >> 32))
		return 0;
	call.enter_ns = bpf_ktime_get_ns();
	slot = bpf_map_lookup_elem(&pp_inflight, &pid_tgid);
	/* a peek moves no bytes: copied_seq stays, so the exit could not place them */
	sk = (msg_flags & MSG_PEEK) ? NULL : traced_tcp_sock(fd);
	if (!sk) {
		if (slot) /* an exit we missed must not be paired with this call's */
			slot->armed = 0;
		return 0;
	}
	call.sk = (__u64)sk;
	if (slot)
		*slot = call;
	else
		bpf_map_update_elem(&pp_inflight, &pid_tgid, &call, BPF_ANY);
	return 0;
}

static __always_inline bool v4_mapped(const __u32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

/* Flow of a call in the direction its data travels: send local->remote, recv remote->local.
 * A v4-mapped IPv6 socket carries IPv4 packets, so it is reported as IPv4 like them. */
static __always_inline void flow_from_sock(struct pp_event *ev, struct sock *sk, bool outgoing)
{
	__u8 *local = outgoing ? ev->saddr : ev->daddr;
	__u8 *remote = outgoing ? ev->daddr : ev->saddr;
	__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	__u16 rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__u32 raddr6[4];

	ev->sport = outgoing ? lport : rport;
	ev->dport = outgoing ? rport : lport;
	ev->family = PP_AF_INET;
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == PP_AF_INET6) {
		BPF_CORE_READ_INTO(&raddr6, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32);
		if (!v4_mapped(raddr6)) {
			ev->family = PP_AF_INET6;
			__builtin_memcpy(remote, raddr6, 16);
			bpf_core_read(local, 16, &sk->__sk_common.skc_v6_rcv_saddr);
			return;
		}
	}
	bpf_core_read(local, 4, &sk->__sk_common.skc_rcv_saddr);
	bpf_core_read(remote, 4, &sk->__sk_common.skc_daddr);
}

/* At the exit the socket's sequence counters already include this call's bytes:
 * they were [write_seq - ret, write_seq) for a send, [copied_seq - ret, copied_seq) for a recv. */
static __always_inline int syscall_exit(void *ctx, long ret, __u32 is_send)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pp_inflight *found = bpf_map_lookup_elem(&pp_inflight, &pid_tgid);
	struct pp_inflight call;
	struct tcp_sock *tp;
	struct pp_event ev;
	__u64 exit_ns;

	if (!found || !found->armed) /* every read/write on the machine comes here */
		return 0;
	exit_ns = bpf_ktime_get_ns();
	call = *found;
	found->armed = 0;
	if (ret <= 0 || call.is_send != is_send)
		return 0;
	__builtin_memset(&ev, 0, sizeof(ev));
	tp = (struct tcp_sock *)call.sk;
	if (is_send) {
		ev.point = PP_SEND;
		ev.ts_ns = call.enter_ns;
		ev.ts_other_ns = exit_ns;
		ev.seq = BPF_CORE_READ(tp, write_seq) - (__u32)ret;
	} else {
		ev.point = PP_RECV;
		ev.ts_ns = exit_ns;
		ev.ts_other_ns = call.enter_ns;
		ev.seq = BPF_CORE_READ(tp, copied_seq) - (__u32)ret;
	}
	ev.len = (__u32)ret;
	ev.tgid = pid_tgid >> 32;
	flow_from_sock(&ev, (struct sock *)call.sk, is_send);
	output(ctx, &ev);
	return 0;
}

/* sendto/recvfrom(fd, buf, len, flags, ...), sendmsg/recvmsg(fd, msg, flags), read/write(v)(fd, ...) */
#define PP_SYSCALL(name, is_send, flags_expr)                                         \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                   \
	int enter_##name(struct trace_event_raw_sys_enter *ctx)                       \
	{                                                                             \
		return syscall_enter((long)ctx->args[0], is_send, (flags_expr));      \
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

/* ---- packet points ---- */

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
static __always_inline int emit_packet(void *ctx, const struct pp_config *cfg, __u8 point, __u16 proto,
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
	if (!port_traced(ev.sport, ev.dport))
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
	ev.tcp_flags = ((const __u8 *)&th)[TCP_FLAGS_OFFSET];
	if (!ev.len && !(cfg->flags & PP_CFG_KEEP_ACKS) && !(ev.tcp_flags & TCP_SYN_FIN_RST))
		return 0;
	ev.point = point;
	ev.ts_ns = bpf_ktime_get_ns();
	ev.seq = bpf_ntohl(th.seq);
	ev.ack = bpf_ntohl(th.ack_seq);
	output(ctx, &ev);
	return 0;
}

static __always_inline bool dev_in_netns(const struct pp_config *cfg, struct sk_buff *skb)
{
	return netns_ok(cfg, BPF_CORE_READ(skb, dev, nd_net.net));
}

/* The device queue: the link-layer header is pushed, network_header is valid, so the IP
 * version is read from the header itself. */
SEC("tracepoint/net/net_dev_queue")
int on_net_dev_queue(struct trace_event_raw_net_dev_template *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	const struct pp_config *cfg = get_config();

	if (!cfg || !dev_in_netns(cfg, skb))
		return 0;
	return emit_packet(ctx, cfg, PP_XMIT, 0, skb,
			   BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header), 0xffff,
			   PP_LEN_FROM_HEADERS);
}

/* Fires in __netif_receive_skb_core BEFORE skb_reset_network_header: network_header may be
 * stale here, but the MAC header is already pulled, so the IP header is at skb->data;
 * skb->protocol says whether it is one. */
SEC("tracepoint/net/netif_receive_skb")
int on_netif_receive_skb(struct trace_event_raw_net_dev_template *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	const struct pp_config *cfg = get_config();
	__u32 headlen;

	if (!cfg || !dev_in_netns(cfg, skb))
		return 0;
	headlen = BPF_CORE_READ(skb, len) - BPF_CORE_READ(skb, data_len);
	return emit_packet(ctx, cfg, PP_RX, bpf_ntohs(BPF_CORE_READ(skb, protocol)), skb,
			   BPF_CORE_READ(skb, data), headlen, PP_LEN_FROM_HEADERS);
}

/* tcp_rcv_established: the segment reached its socket. The ports and the netns are the
 * socket's, so unrelated segments cost no packet read. The length is the tracepoint's
 * data_len (from skb->len), never the IP header's: segments that arrive while the socket is
 * owned by its process are coalesced in the backlog (tcp_add_backlog) into one skb that keeps
 * the first segment's headers, e.g. a pure ACK followed by 64 KiB. The IP version comes from
 * the header, not the socket: a v4-mapped IPv6 socket receives IPv4.
 * Kernels before skbaddr was added to this tracepoint only give the socket's view: the seq is
 * then rcv_nxt, which equals the segment's seq for in-order data (the case that matters). */
SEC("tracepoint/tcp/tcp_probe")
int on_tcp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	struct sock *sk = (struct sock *)ctx->skaddr;
	const struct pp_config *cfg = get_config();
	struct pp_event ev;

	if (!cfg || !port_traced(ctx->sport, ctx->dport) ||
	    !netns_ok(cfg, BPF_CORE_READ(sk, __sk_common.skc_net.net)))
		return 0;
	if (bpf_core_field_exists(ctx->skbaddr)) {
		struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;

		return emit_packet(ctx, cfg, PP_TCP, 0, skb,
				   BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header), 0xffff,
				   ctx->data_len);
	}
	if (!ctx->data_len && !(cfg->flags & PP_CFG_KEEP_ACKS))
		return 0;
	__builtin_memset(&ev, 0, sizeof(ev));
	ev.point = PP_TCP;
	ev.ts_ns = bpf_ktime_get_ns();
	ev.len = ctx->data_len;
	ev.seq = BPF_CORE_READ((struct tcp_sock *)sk, rcv_nxt);
	flow_from_sock(&ev, sk, false);
	output(ctx, &ev);
	return 0;
}

/* ---- the traced process tree (attached only when children are followed) ---- */

/* Runs in the parent. Threads are added too (the tracepoint cannot tell them apart);
 * on_exit removes each id again, so the map holds live tasks only. */
SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 child = ctx->child_pid;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&pp_tgids, &parent))
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
