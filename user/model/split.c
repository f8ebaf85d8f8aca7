// SPDX-License-Identifier: MIT
/* The split of docs/design.md: every difference is taken on one host, so no clock sync is needed,
 * and the parts add up to the round trip exactly, in integer nanoseconds. */
#include "model/split.h"
#include "pingpong.h" /* enum pp_point */

const char *const pp_component_name[PP_NCOMPONENTS] = {
	[PP_RTT] = "rtt",
	[PP_CLIENT_STACK] = "client_stack",
	[PP_NETWORK] = "network",
	[PP_SERVER_STACK] = "server_stack",
	[PP_SERVER_APP] = "server_app",
	[PP_CLIENT_DEV] = "client_dev",
	[PP_WIRE] = "wire",
	[PP_SERVER_DEV] = "server_dev",
	[PP_RTT_APP] = "rtt_app",
	[PP_CLIENT_PROC] = "client_proc",
	[PP_CLIENT_WAKEUP] = "client_wakeup",
	[PP_CLIENT_IDLE] = "client_idle",
	[PP_CLIENT_RETURN] = "client_return",
	[PP_SERVER_PROC] = "server_proc",
	[PP_SERVER_WAKEUP] = "server_wakeup",
	[PP_SERVER_IDLE] = "server_idle",
	[PP_SERVER_RETURN] = "server_return",
};

const char *const pp_slot_name[PP_NSLOTS] = {
	[C_SEND] = "c_send", [C_XMIT] = "c_xmit", [C_WIRE_TX] = "c_wire_tx", [C_WIRE_RX] = "c_wire_rx",
	[C_RX] = "c_rx", [C_TCP] = "c_tcp", [C_WAKE] = "c_wake", [C_IDLE] = "c_idle",
	[C_ONCPU] = "c_oncpu", [C_RECV] = "c_recv",
	[S_WIRE_RX] = "s_wire_rx", [S_RX] = "s_rx", [S_TCP] = "s_tcp", [S_WAKE] = "s_wake",
	[S_IDLE] = "s_idle", [S_ONCPU] = "s_oncpu", [S_RECV] = "s_recv",
	[S_SEND] = "s_send", [S_XMIT] = "s_xmit", [S_WIRE_TX] = "s_wire_tx",
};

static bool have_all(const struct pp_row *row, const enum pp_slot *slots, int n)
{
	for (int i = 0; i < n; i++)
		if (!row->ts[slots[i]])
			return false;
	return true;
}

static void set(struct pp_split *out, enum pp_component c, int64_t ns)
{
	out->ns[c] = ns;
	out->have |= 1u << c;
}

#define HAVE(row, ...) have_all(row, (const enum pp_slot[]){ __VA_ARGS__ }, \
	sizeof((const enum pp_slot[]){ __VA_ARGS__ }) / sizeof(enum pp_slot))

/* One host's stack = proc + wakeup + return (docs/design.md 1.7), from the points of its send
 * (send, xmit) and receive (rx, wake, idle, oncpu, recv). The receiving thread's last switch-in
 * (oncpu) counts only from rx and before recv: otherwise it was on a CPU when the data came,
 * and the whole receive is processing (oncpu == recv is the kernel's mark for a thread not
 * switched in since its previous recv). The wake-up runs from the later of rx and the thread's
 * wake-up (rx itself when it was not asleep but waiting for a CPU) to that switch-in; idle is
 * the part of it before the CPU's idle exit. Each bound is clamped into [rx, recv], so the
 * three parts add up to the stack exactly. */
struct host_slots {
	enum pp_slot send, xmit, rx, wake, idle, oncpu, recv;
	enum pp_component proc, wakeup, idle_part, ret;
};

static const struct host_slots host_slots[2] = {
	{ C_SEND, C_XMIT, C_RX, C_WAKE, C_IDLE, C_ONCPU, C_RECV,
	  PP_CLIENT_PROC, PP_CLIENT_WAKEUP, PP_CLIENT_IDLE, PP_CLIENT_RETURN },
	{ S_SEND, S_XMIT, S_RX, S_WAKE, S_IDLE, S_ONCPU, S_RECV,
	  PP_SERVER_PROC, PP_SERVER_WAKEUP, PP_SERVER_IDLE, PP_SERVER_RETURN },
};

static void split_stack(const struct pp_row *row, const struct host_slots *h, struct pp_split *out)
{
	const uint64_t *t = row->ts;
	uint64_t rx, recv, w, r, i;

	if (!HAVE(row, h->send, h->xmit, h->rx, h->oncpu, h->recv))
		return;
	rx = t[h->rx];
	recv = t[h->recv];
	r = t[h->oncpu];
	if (r < rx || r >= recv) {
		w = r = recv;
	} else {
		w = t[h->wake] && t[h->wake] <= r && t[h->wake] > rx ? t[h->wake] : rx;
	}
	i = t[h->idle] && t[h->idle] >= w && t[h->idle] <= r ? t[h->idle] : w;
	set(out, h->proc, (int64_t)(t[h->xmit] - t[h->send]) + (int64_t)(w - rx));
	set(out, h->wakeup, (int64_t)(r - w));
	set(out, h->idle_part, (int64_t)(i - w));
	set(out, h->ret, (int64_t)(recv - r));
}

void pp_split_row(const struct pp_row *row, struct pp_split *out)
{
	const uint64_t *t = row->ts;

	*out = (struct pp_split){ 0 };
	if (row->rtt_app_ns >= 0)
		set(out, PP_RTT_APP, row->rtt_app_ns);
	if (HAVE(row, C_SEND, C_RECV))
		set(out, PP_RTT, (int64_t)(t[C_RECV] - t[C_SEND]));
	if (HAVE(row, C_SEND, C_XMIT, C_RX, C_RECV))
		set(out, PP_CLIENT_STACK, (int64_t)(t[C_XMIT] - t[C_SEND]) + (int64_t)(t[C_RECV] - t[C_RX]));
	if (HAVE(row, S_RX, S_RECV, S_SEND, S_XMIT)) {
		set(out, PP_SERVER_STACK, (int64_t)(t[S_RECV] - t[S_RX]) + (int64_t)(t[S_XMIT] - t[S_SEND]));
		set(out, PP_SERVER_APP, (int64_t)(t[S_SEND] - t[S_RECV]));
	}
	if (HAVE(row, C_XMIT, C_RX, S_RX, S_XMIT))
		set(out, PP_NETWORK, (int64_t)(t[C_RX] - t[C_XMIT]) - (int64_t)(t[S_XMIT] - t[S_RX]));
	if (HAVE(row, C_XMIT, C_WIRE_TX, C_WIRE_RX, C_RX))
		set(out, PP_CLIENT_DEV, (int64_t)(t[C_WIRE_TX] - t[C_XMIT]) + (int64_t)(t[C_RX] - t[C_WIRE_RX]));
	if (HAVE(row, S_WIRE_RX, S_RX, S_XMIT, S_WIRE_TX))
		set(out, PP_SERVER_DEV, (int64_t)(t[S_RX] - t[S_WIRE_RX]) + (int64_t)(t[S_WIRE_TX] - t[S_XMIT]));
	if (HAVE(row, C_WIRE_TX, C_WIRE_RX, S_WIRE_RX, S_WIRE_TX))
		set(out, PP_WIRE, (int64_t)(t[C_WIRE_RX] - t[C_WIRE_TX]) - (int64_t)(t[S_WIRE_TX] - t[S_WIRE_RX]));
	split_stack(row, &host_slots[0], out);
	split_stack(row, &host_slots[1], out);
}

static bool stack_adds_up(const struct pp_split *sp, enum pp_component stack,
			  const struct host_slots *h)
{
	if (!pp_split_has(sp, stack) || !pp_split_has(sp, h->proc))
		return true;
	return sp->ns[stack] == sp->ns[h->proc] + sp->ns[h->wakeup] + sp->ns[h->ret] &&
	       sp->ns[h->wakeup] >= 0 && sp->ns[h->ret] >= 0 &&
	       sp->ns[h->idle_part] >= 0 && sp->ns[h->idle_part] <= sp->ns[h->wakeup];
}

bool pp_split_identities_hold(const struct pp_split *sp)
{
	if (pp_split_has(sp, PP_RTT) && pp_split_has(sp, PP_CLIENT_STACK) &&
	    pp_split_has(sp, PP_SERVER_STACK) && pp_split_has(sp, PP_SERVER_APP) &&
	    pp_split_has(sp, PP_NETWORK) &&
	    sp->ns[PP_RTT] != sp->ns[PP_CLIENT_STACK] + sp->ns[PP_SERVER_STACK] +
			      sp->ns[PP_SERVER_APP] + sp->ns[PP_NETWORK])
		return false;
	if (pp_split_has(sp, PP_NETWORK) && pp_split_has(sp, PP_CLIENT_DEV) &&
	    pp_split_has(sp, PP_WIRE) && pp_split_has(sp, PP_SERVER_DEV) &&
	    sp->ns[PP_NETWORK] != sp->ns[PP_CLIENT_DEV] + sp->ns[PP_WIRE] + sp->ns[PP_SERVER_DEV])
		return false;
	return stack_adds_up(sp, PP_CLIENT_STACK, &host_slots[0]) &&
	       stack_adds_up(sp, PP_SERVER_STACK, &host_slots[1]);
}

static const struct {
	int8_t slot[2];         /* [host] */
	uint8_t client_stream;
	bool first_byte;
} points[PP_POINT_MAX] = {
	[0]          = { { -1, -1 }, 0, false },
	[PP_SEND]    = { { C_SEND, S_SEND }, 0, true },
	[PP_XMIT]    = { { C_XMIT, S_XMIT }, 0, false },
	[PP_WIRE_TX] = { { C_WIRE_TX, S_WIRE_TX }, 0, false },
	[PP_WIRE_RX] = { { C_WIRE_RX, S_WIRE_RX }, 1, false },
	[PP_RX]      = { { C_RX, S_RX }, 1, false },
	[PP_TCP]     = { { C_TCP, S_TCP }, 1, false },
	[PP_RECV]    = { { C_RECV, S_RECV }, 1, false },
	[PP_WAKE]    = { { C_WAKE, S_WAKE }, 1, false },
	[PP_IDLE]    = { { C_IDLE, S_IDLE }, 1, false },
	[PP_ONCPU]   = { { C_ONCPU, S_ONCPU }, 1, false },
};

struct pp_point_place pp_point_place(int host, int point)
{
	uint8_t stream = points[point].client_stream;

	return (struct pp_point_place){
		.slot = points[point].slot[host],
		.stream = host == 0 ? stream : (uint8_t)(1 - stream),
		.first_byte = points[point].first_byte,
	};
}

const bool pp_slot_is_packet[PP_NSLOTS] = {
	[C_XMIT] = true, [C_WIRE_TX] = true, [C_WIRE_RX] = true, [C_RX] = true, [C_TCP] = true,
	[S_WIRE_RX] = true, [S_RX] = true, [S_TCP] = true, [S_XMIT] = true, [S_WIRE_TX] = true,
};
