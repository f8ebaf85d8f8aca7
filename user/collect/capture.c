// SPDX-License-Identifier: MIT
/* libpcap capture of the measured flow, turned into PP_WIRE_TX / PP_WIRE_RX events.
 *
 * Where the timestamps are taken (Linux 6.18, veth; measured against perf's net_dev_queue and
 * netif_receive_skb events on CLOCK_MONOTONIC, 2000 64-byte exchanges per case):
 *  - TX: the packet tap runs in dev_queue_xmit_nit(), after the net:net_dev_queue tracepoint, and
 *    stamps its clone there: wire_tx - xmit was +0.7..+20 us (p50 1.0-1.9 us), never negative.
 *  - RX through a relay (testbed --router with tools/wire-delay, the skb is new): the skb is
 *    stamped in netif_rx() before the backlog, so before `rx`: rx - wire_rx +0.8 us p50, never
 *    negative. That needs the netstamp_needed static key on; any socket with SO_TIMESTAMPNS turns
 *    it on (for the whole kernel), so the capture holds one open while it runs.
 *  - RX on a direct veth pair: the skb still carries TCP's CLOCK_MONOTONIC departure time
 *    (tstamp_type mono survives the namespace crossing), netif_rx() does not restamp it, and
 *    tpacket_rcv() reads the clock itself at the tap, after the tracepoint: wire_rx was LATER
 *    than rx by 0.8..3.6 us (p50 0.9-1.5 us, perf's own cost included), key on or off.
 *    There, wire_rx <= rx cannot hold; the difference is the tap's position, not clock error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "collect/capture.h"
#include "collect/packet.h"

#define MAX_LOCAL_ADDRS 64
#define SNAPLEN 160                 /* >= PP_PACKET_SNAPLEN, also for the 20-byte SLL2 header */
#define DEFAULT_BUFFER_BYTES (4 << 20)
#define RESAMPLE_NS 1000000000ull
#define MAX_DISPATCH_ROUNDS 64   /* re-measure the clock offset at most once a second */
#define DRAIN_MIN_QUIET_MS 10    /* immediate mode has no batch time: the quiet time to wait */

struct local_addr {
	uint8_t family;
	uint8_t addr[16];
};

struct pp_capture {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	char *dump_path;
	struct pp_atomic_file dump_file; /* temp + rename, via the root helper after a drop */
	bool dump_open;
	int linktype;
	int tstamp_type;
	bool keep_acks;
	bool finished;
	int batch_ms;              /* opts.batch_ms: how long a frame may wait in the ring */
	uint32_t queued_base;      /* frames the kernel had queued before the filter was set */
	int stamp_fd;              /* SO_TIMESTAMPNS socket held open, or -1 */
	char iface[IF_NAMESIZE];
	char filter[600];
	struct local_addr local[MAX_LOCAL_ADDRS];
	int nlocal;
	uint64_t resolution_ns;
	struct pp_clockmap online;  /* the last two samples: converts frames as they come */
	struct pp_clockmap run;     /* first and closing sample: the report */
	struct pp_capture_stats stats;
	pp_capture_cb cb;           /* set for the duration of one dispatch */
	void *cb_ctx;
};

/* The reason goes into the caller's record at once; its code is set by the public function
 * that returns (failed()), which knows the -errno it returns. */
#define errf(e, ...) pp_err_set(e, -EIO, __VA_ARGS__)

static int failed(struct pp_err *e, int ret)
{
	if (e && ret < 0)
		e->code = ret;
	return ret;
}

static uint64_t mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_numeric(const char *text, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai;

	if (getaddrinfo(text, "9", &hints, &ai))
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return false;
}

/* A connected UDP socket sends nothing but makes the kernel pick the route and source address. */
int pp_capture_route_iface(const char *peer, char *iface, size_t len, struct pp_err *e)
{
	struct sockaddr_storage dst, src;
	socklen_t dstlen, srclen = sizeof(src);
	struct ifaddrs *ifs, *ifa;
	int fd, ret = -ENODEV;

	if (parse_numeric(peer, &dst, &dstlen)) {
		errf(e, "peer '%s' is not a numeric IPv4/IPv6 address", peer);
		return failed(e, -EINVAL);
	}
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, dstlen) ||
	    getsockname(fd, (struct sockaddr *)&src, &srclen)) {
		ret = -errno;
		errf(e, "no route to %s: %s", peer, strerror(errno));
		if (fd >= 0)
			close(fd);
		return failed(e, ret);
	}
	close(fd);
	if (getifaddrs(&ifs)) {
		ret = -errno;
		errf(e, "getifaddrs: %s", strerror(errno));
		return failed(e, ret);
	}
	for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr && same_addr(ifa->ifa_addr, (struct sockaddr *)&src)) {
			snprintf(iface, len, "%s", ifa->ifa_name);
			ret = 0;
			break;
		}
	}
	freeifaddrs(ifs);
	if (ret)
		errf(e, "no interface holds the source address used toward %s", peer);
	return failed(e, ret);
}

/* Every address of this host (namespace): a frame from one of them is leaving. */
static int load_local_addrs(struct pp_capture *c, struct pp_err *e)
{
	struct ifaddrs *ifs, *ifa;

	if (getifaddrs(&ifs)) {
		errf(e, "getifaddrs: %s", strerror(errno));
		return -errno;
	}
	for (ifa = ifs; ifa && c->nlocal < MAX_LOCAL_ADDRS; ifa = ifa->ifa_next) {
		struct local_addr *l = &c->local[c->nlocal];

		if (!ifa->ifa_addr)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			l->family = PP_AF_INET;
			memcpy(l->addr, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			l->family = PP_AF_INET6;
			memcpy(l->addr, &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		c->nlocal++;
	}
	freeifaddrs(ifs);
	return 0;
}

static bool is_local(const struct pp_capture *c, const struct pp_event *ev)
{
	for (int i = 0; i < c->nlocal; i++)
		if (c->local[i].family == ev->family && !memcmp(c->local[i].addr, ev->saddr, 16))
			return true;
	return false;
}

/* Only the measured flow reaches user space; VLAN-tagged copies (one or two tags) as well. */
static int build_filter(struct pp_capture *c, const struct pp_capture_opts *o, struct pp_err *e)
{
	char flow[160];
	int n;

	if (o->peer && o->port && o->local_port)
		n = snprintf(flow, sizeof(flow), "tcp and host %s and port %u and port %u", o->peer,
			     o->port, o->local_port);
	else if (o->peer && o->port)
		n = snprintf(flow, sizeof(flow), "tcp and host %s and port %u", o->peer, o->port);
	else if (o->peer)
		n = snprintf(flow, sizeof(flow), "tcp and host %s", o->peer);
	else if (o->port)
		n = snprintf(flow, sizeof(flow), "tcp port %u", o->port);
	else
		n = snprintf(flow, sizeof(flow), "tcp");
	if (n < 0 || (size_t)n >= sizeof(flow)) {
		errf(e, "peer address too long for a filter");
		return -EINVAL;
	}
	if (c->linktype == DLT_EN10MB)
		snprintf(c->filter, sizeof(c->filter), "(%s) or (vlan and ((%s) or (vlan and %s)))",
			 flow, flow, flow);
	else
		snprintf(c->filter, sizeof(c->filter), "%s", flow);
	return 0;
}

static int set_filter(struct pp_capture *c, struct pp_err *e)
{
	struct bpf_program prog;

	if (pcap_compile(c->pcap, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN)) {
		errf(e, "filter '%s': %s", c->filter, pcap_geterr(c->pcap));
		return -EINVAL;
	}
	if (pcap_setfilter(c->pcap, &prog)) {
		errf(e, "cannot set filter: %s", pcap_geterr(c->pcap));
		pcap_freecode(&prog);
		return -EIO;
	}
	pcap_freecode(&prog);
	return 0;
}

/* The *_unsynced types count on the NIC's own clock, which no offset maps onto MONOTONIC. */
static int choose_tstamp_type(struct pp_capture *c, const char *name, struct pp_err *e)
{
	int type = pcap_tstamp_type_name_to_val(name);
	int ret;

	if (type < 0) {
		errf(e, "unknown --tstamp-type '%s' (host, host_lowprec, host_hiprec, adapter)",
		     name);
		return -EINVAL;
	}
	if (type == PCAP_TSTAMP_ADAPTER_UNSYNCED || type == PCAP_TSTAMP_HOST_HIPREC_UNSYNCED) {
		errf(e, "--tstamp-type %s is not on the system clock and cannot be mapped "
			"onto CLOCK_MONOTONIC", name);
		return -EINVAL;
	}
	ret = pcap_set_tstamp_type(c->pcap, type);
	if (ret == PCAP_WARNING_TSTAMP_TYPE_NOTSUP || ret == PCAP_ERROR_CANTSET_TSTAMP_TYPE) {
		char offered[128] = "";

		pp_capture_tstamp_types(c->iface, offered, sizeof(offered), NULL);
		errf(e, "%s does not offer --tstamp-type %s (%s)", c->iface, name, offered);
		return -ENOTSUP;
	}
	if (ret) {
		errf(e, "--tstamp-type %s: %s", name, pcap_statustostr(ret));
		return -EIO;
	}
	c->tstamp_type = type;
	return 0;
}

static int open_dump(struct pp_capture *c, const char *path, struct pp_err *e)
{
	FILE *f = NULL;
	int fd, ret;

	c->dump_path = strdup(path);
	if (!c->dump_path) {
		errf(e, "out of memory");
		return -ENOMEM;
	}
	if ((ret = pp_atomic_open(&c->dump_file, path)) < 0) {
		errf(e, "--pcap-out %s: %s", path, strerror(-ret));
		return ret;
	}
	c->dump_open = true;
	fd = dup(c->dump_file.fd);
	if (fd >= 0)
		f = fdopen(fd, "wb");
	c->dumper = f ? pcap_dump_fopen(c->pcap, f) : NULL;
	if (!c->dumper) {
		errf(e, "--pcap-out %s: %s", path, f ? pcap_geterr(c->pcap) : strerror(errno));
		if (f)
			fclose(f);
		else if (fd >= 0)
			close(fd);
		return -EIO;
	}
	return 0;
}

/* See the top of the file: makes the kernel stamp received skbs before the netif_receive_skb
 * tracepoint. The key is flipped by a workqueue, so give it a moment. Failing is not fatal. */
static void hold_timestamp_socket(struct pp_capture *c)
{
	int one = 1;

	c->stamp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->stamp_fd < 0)
		return;
	if (setsockopt(c->stamp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one))) {
		close(c->stamp_fd);
		c->stamp_fd = -1;
		return;
	}
	usleep(1000);
}

static int activate(struct pp_capture *c, const struct pp_capture_opts *o, struct pp_err *e)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	int ret;

	c->pcap = pcap_create(c->iface, pcap_err);
	if (!c->pcap) {
		errf(e, "pcap on %s: %s", c->iface, pcap_err);
		return -ENODEV;
	}
	pcap_set_snaplen(c->pcap, SNAPLEN);
	pcap_set_promisc(c->pcap, 0);
	if (o->batch_ms > 0) {
		pcap_set_immediate_mode(c->pcap, 0);
		pcap_set_timeout(c->pcap, o->batch_ms);
	} else {
		pcap_set_immediate_mode(c->pcap, 1);
	}
	pcap_set_buffer_size(c->pcap, o->buffer_bytes > 0 ? o->buffer_bytes : DEFAULT_BUFFER_BYTES);
	pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO); /* falls back to us below */
	if (o->tstamp_type && (ret = choose_tstamp_type(c, o->tstamp_type, e)))
		return ret;
	ret = pcap_activate(c->pcap);
	if (ret < 0) {
		errf(e, "pcap on %s: %s%s%s", c->iface, pcap_statustostr(ret),
		     *pcap_geterr(c->pcap) ? ": " : "", pcap_geterr(c->pcap));
		return ret == PCAP_ERROR_PERM_DENIED ? -EPERM :
		       ret == PCAP_ERROR_NO_SUCH_DEVICE ? -ENODEV : -EIO;
	}
	c->resolution_ns = pcap_get_tstamp_precision(c->pcap) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
	c->linktype = pcap_datalink(c->pcap);
	if (pcap_setnonblock(c->pcap, 1, pcap_err)) {
		errf(e, "pcap_setnonblock: %s", pcap_err);
		return -EIO;
	}
	if (pcap_get_selectable_fd(c->pcap) < 0) {
		errf(e, "%s has no selectable descriptor", c->iface);
		return -ENOTSUP;
	}
	return 0;
}

/* Frames the kernel has put in the ring for us so far (since the filter was set), read or not:
 * the kernel counts a frame as it queues it, including into the ring's current block, which
 * it hands over only later (pcap_stats: ps_recv counts what passed the filter, dropped or not,
 * and ps_drop what did not fit). pcap_stats counts in 32 bits: modulo 2^32, as is this. */
static uint32_t kernel_queued(struct pp_capture *c)
{
	struct pcap_stat ps;

	if (pcap_stats(c->pcap, &ps))
		return (uint32_t)c->stats.frames; /* unknown: as if all were read */
	return (uint32_t)(ps.ps_recv - ps.ps_drop) - c->queued_base;
}

/* Of q (kernel_queued), the frames not read yet. Frames of the ring from before the filter
 * went in may be read after it, which would make it negative: 0 then. */
static uint64_t unread_of(const struct pp_capture *c, uint32_t q)
{
	int32_t d = (int32_t)(q - (uint32_t)c->stats.frames);

	return d > 0 ? (uint64_t)d : 0;
}

static int take_first_sample(struct pp_capture *c)
{
	struct pp_clock_sample s;
	int ret = pp_clock_sample_take(&s, PP_CLOCK_TRIES);

	if (ret)
		return ret;
	pp_clockmap_init(&c->online, c->resolution_ns);
	pp_clockmap_init(&c->run, c->resolution_ns);
	pp_clockmap_set_start(&c->online, &s);
	pp_clockmap_set_start(&c->run, &s);
	return 0;
}

int pp_capture_open(struct pp_capture **out, const struct pp_capture_opts *o, struct pp_err *e)
{
	struct pp_capture *c;
	int ret;

	*out = NULL;
	if (!o->iface && !o->peer) {
		errf(e, "capture needs an interface or a peer address to route to");
		return failed(e, -EINVAL);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errf(e, "out of memory");
		return failed(e, -ENOMEM);
	}
	c->stamp_fd = -1;
	c->keep_acks = o->keep_acks;
	c->tstamp_type = -1;
	if (o->iface)
		snprintf(c->iface, sizeof(c->iface), "%s", o->iface);
	else if ((ret = pp_capture_route_iface(o->peer, c->iface, sizeof(c->iface), e)))
		goto fail;
	c->batch_ms = o->batch_ms;
	if ((ret = load_local_addrs(c, e)) || (ret = activate(c, o, e)) ||
	    (ret = build_filter(c, o, e)) || (ret = set_filter(c, e)))
		goto fail;
	c->queued_base = kernel_queued(c);
	if (o->pcap_out && (ret = open_dump(c, o->pcap_out, e)))
		goto fail;
	if (!o->no_early_rx_stamp)
		hold_timestamp_socket(c);
	if ((ret = take_first_sample(c))) {
		errf(e, "clock_gettime: %s", strerror(-ret));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	pp_capture_close(c);
	return failed(e, ret);
}

int pp_capture_fd(const struct pp_capture *c)
{
	return pcap_get_selectable_fd(c->pcap);
}

uint64_t pp_capture_to_mono(const struct pp_capture *c, uint64_t realtime_ns)
{
	return pp_clockmap_to_mono(&c->online, realtime_ns);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct pp_capture *c = (struct pp_capture *)user;
	struct pp_event ev;
	uint64_t real_ns;
	int ret;

	c->stats.frames++;
	if (c->dumper)
		pcap_dump((u_char *)c->dumper, h, bytes);
	ret = pp_packet_parse(bytes, h->caplen, h->len, c->linktype, &ev);
	if (ret == -EPROTONOSUPPORT) {
		c->stats.skipped++;
		return;
	}
	if (ret) {
		c->stats.malformed++;
		return;
	}
	if (ev.len == 0 && !c->keep_acks) {
		c->stats.acks++;
		return;
	}
	/* tv_usec holds nanoseconds when the precision is nano. */
	real_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * c->resolution_ns;
	ev.ts_ns = pp_clockmap_to_mono(&c->online, real_ns);
	ev.point = is_local(c, &ev) ? PP_WIRE_TX : PP_WIRE_RX;
	c->stats.delivered++;
	if (c->cb)
		c->cb(c->cb_ctx, &ev);
}

/* Frames waiting in the ring were stamped before this sample, so they fall between the last
 * two samples: interpolation. A step of the wall clock restarts the map from the new sample. */
static void resample_clock(struct pp_capture *c, bool force)
{
	struct pp_clock_sample s;
	const struct pp_clock_sample *last = c->online.have_end ? &c->online.end : &c->online.start;

	if (!force && mono_now_ns() - last->mono_ns < RESAMPLE_NS)
		return;
	if (pp_clock_sample_take(&s, PP_CLOCK_TRIES))
		return;
	if (c->online.have_end)
		c->online.start = c->online.end;
	pp_clockmap_set_end(&c->online, &s);
	if (pp_clockmap_stepped(&c->online)) {
		c->stats.clock_steps++;
		c->online.start = s;
		c->online.have_end = false;
	}
	pp_clockmap_set_end(&c->run, &s);
}

int pp_capture_dispatch(struct pp_capture *c, pp_capture_cb cb, void *ctx, struct pp_err *e)
{
	uint64_t before = c->stats.delivered;
	int ret;

	if (c->finished)
		return 0;
	resample_clock(c, false);
	c->cb = cb;
	c->cb_ctx = ctx;
	/* Bounded, so that a busy link cannot keep the caller from its other descriptors. */
	for (int round = 0; round < MAX_DISPATCH_ROUNDS; round++) {
		ret = pcap_dispatch(c->pcap, -1, on_frame, (u_char *)c);
		if (ret <= 0)
			break;
	}
	c->cb = NULL;
	if (ret == PCAP_ERROR)
		return pp_err_set(e, -EIO, "%s: %s", c->iface, pcap_geterr(c->pcap));
	return (int)(c->stats.delivered - before);
}

int pp_capture_drain(struct pp_capture *c, pp_capture_cb cb, void *ctx, int max_ms,
		     struct pp_err *e)
{
	const uint64_t quiet_ns = (uint64_t)(c->batch_ms > DRAIN_MIN_QUIET_MS ? c->batch_ms
						: DRAIN_MIN_QUIET_MS) * 1000000u;
	const uint64_t start = mono_now_ns(), deadline = start + (uint64_t)max_ms * 1000000u;
	uint64_t before = c->stats.delivered, last_new = start, now;
	uint32_t queued = 0;
	int rc;

	if (c->finished)
		return 0;
	for (;;) {
		struct pollfd pfd = { .fd = pcap_get_selectable_fd(c->pcap), .events = POLLIN };
		uint64_t until;
		uint32_t q;

		if ((rc = pp_capture_dispatch(c, cb, ctx, e)) < 0)
			return rc;
		now = mono_now_ns();
		if ((q = kernel_queued(c)) != queued) {
			queued = q;
			last_new = now;
		}
		/* all read, and a whole batch time without a new frame: the traffic has ended */
		if (!unread_of(c, q) && now - last_new >= quiet_ns)
			break;
		if (now >= deadline)
			break;
		/* a block the kernel hands over wakes us; else look again when the quiet time is up */
		until = last_new + quiet_ns < deadline ? last_new + quiet_ns : deadline;
		poll(&pfd, 1, until > now ? (int)((until - now + 999999u) / 1000000u) : 1);
	}
	c->stats.drain_ms = (now - start) / 1000000u;
	return (int)(c->stats.delivered - before);
}

static void read_pcap_stats(struct pp_capture *c)
{
	struct pcap_stat ps;

	if (pcap_stats(c->pcap, &ps))
		return;
	c->stats.pcap_recv = ps.ps_recv;
	c->stats.pcap_drop = ps.ps_drop;
	c->stats.pcap_ifdrop = ps.ps_ifdrop;
}

static int publish_dump(struct pp_capture *c, struct pp_err *e)
{
	int ret = 0;

	if (!c->dumper)
		return 0;
	if (pcap_dump_flush(c->dumper))
		ret = -EIO;
	pcap_dump_close(c->dumper);
	c->dumper = NULL;
	c->dump_open = false;
	if (!ret)
		ret = pp_atomic_commit(&c->dump_file);
	else
		pp_atomic_abort(&c->dump_file);
	if (ret)
		pp_err_set(e, ret, "cannot write %s: %s", c->dump_path, strerror(-ret));
	return ret;
}

int pp_capture_finish(struct pp_capture *c, pp_capture_cb cb, void *ctx, struct pp_err *e)
{
	struct pp_err dump_err = { 0 };
	int ret;

	if (c->finished)
		return 0;
	resample_clock(c, true);
	ret = pp_capture_dispatch(c, cb, ctx, e);
	c->finished = true;
	/* what the kernel queued and we never read is lost as surely as a drop: said, not hidden */
	c->stats.unread = unread_of(c, kernel_queued(c));
	read_pcap_stats(c);
	/* the file is published (or removed) either way; the first failure is the reason */
	if (publish_dump(c, &dump_err) && ret >= 0) {
		ret = dump_err.code;
		if (e)
			*e = dump_err;
	}
	return ret < 0 ? ret : 0;
}

void pp_capture_close(struct pp_capture *c)
{
	if (!c)
		return;
	if (c->dumper)
		pcap_dump_close(c->dumper);
	if (c->dump_open)
		pp_atomic_abort(&c->dump_file);
	free(c->dump_path);
	if (c->pcap)
		pcap_close(c->pcap);
	if (c->stamp_fd >= 0)
		close(c->stamp_fd);
	free(c);
}

void pp_capture_get_stats(const struct pp_capture *c, struct pp_capture_stats *st)
{
	*st = c->stats;
}

const char *pp_capture_iface(const struct pp_capture *c)
{
	return c->iface;
}

const char *pp_capture_filter(const struct pp_capture *c)
{
	return c->filter;
}

const struct pp_clockmap *pp_capture_clock(const struct pp_capture *c)
{
	return &c->run;
}

size_t pp_capture_report(const struct pp_capture *c, char *buf, size_t len)
{
	const struct pp_clockmap *m = &c->run;
	const char *tstamp = c->tstamp_type >= 0 ? pcap_tstamp_type_val_to_name(c->tstamp_type)
						 : "default (host)";
	size_t at = 0;

#define ADD(...) (at += (size_t)snprintf(buf + at, at < len ? len - at : 0, __VA_ARGS__))
	if (!len)
		return 0;
	buf[0] = '\0';
	ADD("capture: %s, %s time stamps (%s), %llu frames, %llu events, %llu pure ACKs "
	    "left out, %llu skipped, %llu malformed\n", c->iface, tstamp,
	    c->resolution_ns == 1 ? "ns" : "us", (unsigned long long)c->stats.frames,
	    (unsigned long long)c->stats.delivered, (unsigned long long)c->stats.acks,
	    (unsigned long long)c->stats.skipped, (unsigned long long)c->stats.malformed);
	ADD("capture: pcap drops %llu (capture buffer full) + %llu (interface, all traffic)\n",
	    (unsigned long long)c->stats.pcap_drop, (unsigned long long)c->stats.pcap_ifdrop);
	if (c->stats.unread)
		ADD("capture: WARNING %llu frames queued by the kernel were never read (the capture "
		    "ended first, after draining %llu ms): their wire points are lost\n",
		    (unsigned long long)c->stats.unread, (unsigned long long)c->stats.drain_ms);
	ADD("capture: clock offset realtime-monotonic %lld ns at start",
	    (long long)m->start.offset_ns);
	if (m->have_end)
		ADD(", %lld ns at end, drift %.1f ns/s", (long long)m->end.offset_ns,
		    pp_clockmap_drift_ns_per_s(m));
	ADD("; wire times converted within +-%llu ns\n",
	    (unsigned long long)pp_clockmap_uncertainty_ns(m));
	if (c->stats.clock_steps)
		ADD("capture: WARNING the wall clock was stepped %u times during the run; wire "
		    "times next to a step may be off by the step\n", c->stats.clock_steps);
	if (c->stamp_fd < 0)
		ADD("capture: kernel RX time stamps not requested: received frames may be "
		    "stamped at the packet tap, after `rx`\n");
#undef ADD
	return at < len ? at : len - 1;
}

int pp_capture_tstamp_types(const char *iface, char *buf, size_t len, struct pp_err *e)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(iface, pcap_err);
	int *types = NULL, n;
	bool hardware = false;
	size_t used = 0;

	if (!p) {
		errf(e, "pcap on %s: %s", iface, pcap_err);
		return failed(e, -ENODEV);
	}
	n = pcap_list_tstamp_types(p, &types);
	if (n < 0) {
		errf(e, "%s: %s", iface, pcap_geterr(p));
		pcap_close(p);
		return failed(e, -EIO);
	}
	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 pcap_tstamp_type_val_to_name(types[i]));

		used += w > 0 ? (size_t)w : 0;
		if (types[i] == PCAP_TSTAMP_ADAPTER || types[i] == PCAP_TSTAMP_ADAPTER_UNSYNCED)
			hardware = true;
	}
	if (!hardware && used < len)
		snprintf(buf + used, len - used, "%s%s offers no hardware time stamps", n ? "; " : "",
			 iface);
	pcap_free_tstamp_types(types);
	pcap_close(p);
	return 0;
}
