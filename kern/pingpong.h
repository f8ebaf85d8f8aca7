// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
/* What kern/pingpong.bpf.c and user/ share: the event (the layout of every perf record the
 * kernel side sends), the per-CPU batch, the filter maps' sizes. Fixed-width types only, and it
 * compiles on its own on either side: __u8..__u64 come from vmlinux.h in BPF, <linux/types.h>
 * in user space. */
#ifndef PINGPONG_H
#define PINGPONG_H

#ifdef __bpf__
#include "vmlinux.h" /* guarded: a no-op after the program's own include */
#else
#include <linux/types.h>
#endif

/* Measurement points, in the order a message meets them on one host (docs/design.md). */
enum pp_point {
	PP_SEND    = 1, /* start of the send-family call (tcp:tcp_sendmsg_locked or syscall entry) */
	PP_XMIT    = 2, /* net:net_dev_queue */
	PP_WIRE_TX = 3, /* libpcap, packet leaving */
	PP_WIRE_RX = 4, /* libpcap, packet arriving */
	PP_RX      = 5, /* net:netif_receive_skb */
	PP_TCP     = 6, /* tcp:tcp_probe */
	PP_RECV    = 7, /* end of the recv-family call (sock:sock_recv_length or syscall exit) */
	/* --sched: the thread whose recv holds the message's last byte, taken at that recv (same
	 * flow, seq and len as its PP_RECV event). Numbered after PP_RECV, which older agents and
	 * clients already know; in time they fall between PP_TCP and PP_RECV. */
	PP_WAKE    = 8, /* sched:sched_waking of the thread: its last wake-up */
	PP_IDLE    = 9, /* power:cpu_idle exit of the CPU it then ran on, if after the wake-up */
	PP_ONCPU   = 10, /* sched:sched_switch to the thread: its last switch-in */
	PP_POINT_MAX = 11,
};

#define PP_AF_INET  2
#define PP_AF_INET6 10

/* Bits of the TCP flags byte (struct pp_event.tcp_flags). */
#define PP_TCP_FIN 0x01
#define PP_TCP_SYN 0x02
#define PP_TCP_RST 0x04
#define PP_TCP_PSH 0x08
#define PP_TCP_ACK 0x10

/* One point for one skb, frame or syscall. The flow is always written in the direction the
 * data travels (a recv's source is the remote peer), so one stream has one seq space.
 * seq..seq+len covers: the payload of the skb/frame, or the bytes the syscall moved. */
struct pp_event {
	__u64 ts_ns;       /* the point's time, CLOCK_MONOTONIC */
	__u64 ts_other_ns; /* syscalls: the call's other end (send: exit, recv: entry); else 0 */
	__u32 seq;         /* TCP sequence number of the first byte covered */
	__u32 len;         /* payload bytes covered; 0 for a pure ACK */
	__u32 ack;         /* packets: TCP ack field */
	__u32 tgid;        /* syscalls: the calling process */
	__u16 sport;       /* host byte order */
	__u16 dport;
	__u8  saddr[16];   /* IPv4 in the first 4 bytes, rest zero */
	__u8  daddr[16];
	__u8  point;       /* enum pp_point */
	__u8  family;      /* PP_AF_INET or PP_AF_INET6 */
	__u8  tcp_flags;   /* packets: TCP flags byte (PP_TCP_*) */
	__u8  pad[9];    /* keeps the struct 80 bytes with no hidden padding */
};

/* The kernel side writes struct pp_event raw into perf records and user space reads it back by
 * this layout (the control channel's 72-byte encoding, docs/protocol.md, is field by field):
 * a change of size or order breaks both sides at once, so it must be made on purpose. */
_Static_assert(sizeof(struct pp_event) == 80, "struct pp_event is 80 bytes");
_Static_assert(__builtin_offsetof(struct pp_event, saddr) == 36 &&
	       __builtin_offsetof(struct pp_event, point) == 68 &&
	       __builtin_offsetof(struct pp_event, pad) == 71, "struct pp_event's layout");

/* What is fixed at load time (network namespace, pure ACKs, every process) is the BPF
 * object's read-only data (pp_netns_ino, pp_keep_acks, pp_all_tgids in kern/pingpong.bpf.c),
 * set through the skeleton before the load; only what changes while running is in maps. */

#define PP_MAX_PORTS 64
#define PP_MAX_TGIDS 4096

/* Events leave the kernel in batches of this many per CPU (one perf record), or one by one
 * when a program interrupts another one's write; pp_trace_flush() sends what is left. */
#define PP_BATCH_EVENTS 8
struct pp_batch {
	__u32 n;           /* events waiting in ev[] */
	__u32 busy;        /* a program is writing: one that interrupts it sends its own event */
	struct pp_event ev[PP_BATCH_EVENTS];
};

/* One perf record carries ev[0..n) as it lies here, and pp_trace_flush reads the map's values
 * by this layout. */
_Static_assert(__builtin_offsetof(struct pp_batch, ev) == 8 &&
	       sizeof(struct pp_batch) == 8 + PP_BATCH_EVENTS * sizeof(struct pp_event),
	       "struct pp_batch's layout");

/* pp_flow_filter[0]: the one connection the tracer passes, once user space has set it
 * (pp_trace_set_flow, after the connect): a client's tracer then drops, in the kernel, the
 * other connections on its server's port (other clients of the same server), which would
 * otherwise take CPU and perf buffer space from its own. Ends a and b are the connection's two
 * ends (client, server); an event passes if it runs either way between them, since its flow is
 * written in the data's direction. Checked by every program after the port test; a filter
 * that is not enabled costs one inlined array lookup and one load. */
struct pp_flow_filter {
	__u32 enabled;   /* 0: every connection on the traced ports passes */
	__u32 family;    /* PP_AF_INET or PP_AF_INET6 */
	__u16 port_a;    /* host byte order, as pp_event.sport/dport */
	__u16 port_b;
	__u32 addr_a[4]; /* as pp_event.saddr: network byte order, IPv4 in [0], the rest 0 */
	__u32 addr_b[4];
};
_Static_assert(sizeof(struct pp_flow_filter) == 44, "struct pp_flow_filter is 44 bytes");

/* The test itself, compiled into the BPF programs and, the very same code, into user space
 * (t/test_flow_filter.c): a 4-byte-aligned pp_event on the BPF stack may be read by words,
 * so 16-byte addresses cost four compares, and only when the ports already matched. */
typedef __u32 __attribute__((may_alias)) pp_u32_alias; /* words read out of a __u8[16] */

static inline __attribute__((always_inline)) int
pp_flow_addr_eq(const __u8 *ev_addr, const __u32 *f)
{
	const pp_u32_alias *a = (const pp_u32_alias *)(const void *)ev_addr;

	return a[0] == f[0] && a[1] == f[1] && a[2] == f[2] && a[3] == f[3];
}

static inline __attribute__((always_inline)) int
pp_flow_filter_passes(const struct pp_flow_filter *f, const struct pp_event *ev)
{
	if (!f || !f->enabled)
		return 1;
	if (ev->family != f->family)
		return 0;
	return (ev->sport == f->port_a && ev->dport == f->port_b &&
		pp_flow_addr_eq(ev->saddr, f->addr_a) && pp_flow_addr_eq(ev->daddr, f->addr_b)) ||
	       (ev->sport == f->port_b && ev->dport == f->port_a &&
		pp_flow_addr_eq(ev->saddr, f->addr_b) && pp_flow_addr_eq(ev->daddr, f->addr_a));
}

/* pp_ports: one bit per TCP port, 64 to an element. pp_tgid_seen: one word per tgid & mask,
 * nonzero once any traced tgid with those low bits was added (never cleared): a quick "no". */
#define PP_PORT_WORDS     1024
#define PP_TGID_SEEN_MASK 0xffff

#endif
