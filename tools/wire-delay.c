// SPDX-License-Identifier: MIT
/* wire-delay: an L2 relay between two interfaces that forwards every frame after a fixed delay,
 * the known wire of the testbed (this kernel has no netem). Links with -lpthread and, for its
 * options and messages, common/opts and common/log from build/libpingpong.a.
 *
 * A frame leaves exactly base + delay after the kernel stamped its arrival. Counting from the
 * kernel's stamp, not from when a relay thread got round to it, and holding every frame for a
 * constant base, make the wire independent of how fast this VM wakes an idle thread: measured
 * here, forwarding "at once" took 10-60 us depending on how long the CPUs had idled, so a
 * delay of 0 vs 500 us differed by 2*500 - 50 us of RTT. With a base, D = 0 and D = 500 differ
 * by exactly 500 us each way; frames the relay could not pick up within base + delay are sent
 * at once and counted late. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/opts.h"

#define PROG "wire-delay"
#define MAX_DELAY_US 10000000    /* 10 s */
#define DEFAULT_QUEUE 4096
#define DEFAULT_SPIN_US 50
#define DEFAULT_BASE_US 50       /* covers the relay's own wake-up on an idle 2-vCPU VM */
#define VLAN_ROOM 8              /* a re-inserted tag, and one more the frame may carry */
#define DEFAULT_RT_PRIORITY 10  /* SCHED_FIFO: above every normal task, below kernel RT threads */
#define POLL_MS 100              /* how often blocked threads look at the stop flag */

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() do { } while (0)
#endif

struct slot {
	uint64_t arrival_ns;
	uint32_t len;
	uint8_t *data;
};

/* One direction: frames received on `in` wait in a ring and leave on `out`. */
struct direction {
	const char *in_name, *out_name;
	int in_fd, out_fd;
	size_t frame_max;          /* slot capacity in bytes */
	uint32_t mtu_frame;        /* largest frame the outgoing side accepts (MTU + headers) */
	struct slot *ring;
	uint32_t cap, head, count;
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	pthread_t rx_thread, tx_thread;
	bool rx_started, tx_started;
	/* statistics (written by one thread each, read after join) */
	uint64_t forwarded, drop_full, drop_oversize, send_errors, csum_partial, recv_errors;
	uint64_t late_max_ns, late_sum_ns, late_count;
	uint64_t pickup_max_ns, pickup_sum_ns, unstamped; /* kernel arrival -> the relay thread has the frame */
	bool warned_oversize, warned_csum;
};

static uint64_t delay_ns;        /* base + delay: how long each frame is held */
static int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for the kernel stamps */
static uint64_t spin_ns = DEFAULT_SPIN_US * 1000ull;
static int rt_priority = DEFAULT_RT_PRIORITY;
static atomic_bool stop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Tightest of 50 brackets (mono, real, mono): the offset within some tens of ns. */
static void measure_realtime_offset(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 50; i++) {
		struct timespec real;
		uint64_t a = now_ns(), b;

		clock_gettime(CLOCK_REALTIME, &real);
		b = now_ns();
		if (b - a < best) {
			best = b - a;
			realtime_offset_ns = (int64_t)real.tv_sec * 1000000000ll + real.tv_nsec -
					     (int64_t)(a + (b - a) / 2);
		}
	}
}

/* Legacy ethtool GET commands still answer on every kernel: enough to see GRO/LRO. */
static int ethtool_get(int fd, const char *ifname, uint32_t cmd, uint32_t *value)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		return -errno;
	*value = ev.data;
	return 0;
}

static void check_offloads(int fd, const char *ifname)
{
	uint32_t gro = 0, flags = 0;

	if (ethtool_get(fd, ifname, ETHTOOL_GGRO, &gro) == 0 && gro)
		pp_log_warn("warning: GRO is on on %s: received frames may be merged past the "
			"MTU (ethtool -K %s gro off)", ifname, ifname);
	if (ethtool_get(fd, ifname, ETHTOOL_GFLAGS, &flags) == 0 && (flags & ETH_FLAG_LRO))
		pp_log_warn("warning: LRO is on on %s (ethtool -K %s lro off)", ifname, ifname);
}

static int get_mtu(int fd, const char *ifname, int *mtu)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		return -errno;
	*mtu = ifr.ifr_mtu;
	return 0;
}

/* A raw socket that sees every frame arriving on ifname (not the ones leaving: those include
 * our own sends) and sends on it. */
static int open_port(const char *ifname, int *mtu)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	int one = 1, rcvbuf = 4 << 20;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };

	if (fd < 0) {
		pp_log_error("packet socket: %s%s", strerror(errno),
			errno == EPERM ? " (needs root or CAP_NET_RAW)" : "");
		return -1;
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		pp_log_error("no interface '%s' in this network namespace", ifname);
		goto fail;
	}
	mr.mr_ifindex = sll.sll_ifindex;
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
		pp_log_error("%s: socket options: %s", ifname, strerror(errno));
		goto fail;
	}
	/* Best effort: a larger buffer absorbs bursts, the qdisc bypass saves a little time. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		pp_log_error("bind to %s: %s", ifname, strerror(errno));
		goto fail;
	}
	if (get_mtu(fd, ifname, mtu)) {
		pp_log_error("MTU of %s: %s", ifname, strerror(errno));
		goto fail;
	}
	check_offloads(fd, ifname);
	return fd;
fail:
	close(fd);
	return -1;
}

/* The kernel hands VLAN tags it parsed as metadata; put them back so they cross the relay. */
static uint32_t restore_vlan(uint8_t *frame, uint32_t len, const struct tpacket_auxdata *aux)
{
	uint16_t tpid, tci;

	if (!(aux->tp_status & TP_STATUS_VLAN_VALID) || len < 12)
		return len;
	tpid = aux->tp_status & TP_STATUS_VLAN_TPID_VALID ? aux->tp_vlan_tpid : ETH_P_8021Q;
	tci = aux->tp_vlan_tci;
	memmove(frame + 16, frame + 12, len - 12);
	frame[12] = tpid >> 8;
	frame[13] = tpid & 0xff;
	frame[14] = tci >> 8;
	frame[15] = tci & 0xff;
	return len + 4;
}

/* The kernel's arrival stamp on CLOCK_MONOTONIC; `now` when it has none or it makes no sense
 * (a frame cannot arrive in the future, nor long before we read it). */
static uint64_t arrival_mono(struct direction *d, const struct timespec *real, uint64_t now)
{
	int64_t real_ns = (int64_t)real->tv_sec * 1000000000ll + real->tv_nsec;
	uint64_t mono = (uint64_t)(real_ns - realtime_offset_ns);

	if (!real_ns || mono > now || now - mono > 1000000000ull) {
		d->unstamped++;
		return now;
	}
	return mono;
}

/* Receives one frame into buf; returns 1, 0 if nothing usable, -1 on error. */
static int receive(struct direction *d, uint8_t *buf, uint32_t *len, uint64_t *arrival_ns)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + CMSG_SPACE(sizeof(struct timespec))];
	} control;
	struct timespec stamp = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = d->frame_max - 4 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
			      .msg_controllen = sizeof(control) };
	struct tpacket_auxdata aux = { 0 };
	ssize_t n = recvmsg(d->in_fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
	uint64_t now = now_ns();

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if ((size_t)n > iov.iov_len || (uint32_t)n > d->mtu_frame) {
		d->drop_oversize++;
		if (!d->warned_oversize) {
			d->warned_oversize = true;
			pp_log_warn("warning: %zd-byte frame on %s is larger than the MTU: GSO/TSO "
				"or GRO is on upstream (ethtool -K IF tso off gso off gro off); dropped",
				n, d->in_name);
		}
		return 0;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
			memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
	}
	*arrival_ns = arrival_mono(d, &stamp, now);
	if (now - *arrival_ns > d->pickup_max_ns)
		d->pickup_max_ns = now - *arrival_ns;
	d->pickup_sum_ns += now - *arrival_ns;
	if (aux.tp_status & TP_STATUS_CSUMNOTREADY) {
		d->csum_partial++;
		if (!d->warned_csum) {
			d->warned_csum = true;
			pp_log_warn("warning: frames on %s arrive without their checksum (checksum "
				"offload on the sender: ethtool -K IF tx off); the far end will drop them",
				d->in_name);
		}
	}
	*len = restore_vlan(buf, (uint32_t)n, &aux);
	return 1;
}

static void transmit(struct direction *d, const uint8_t *frame, uint32_t len)
{
	while (send(d->out_fd, frame, len, 0) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS || errno == EAGAIN) { /* the device queue is full: retry shortly */
			if (atomic_load(&stop))
				break;
			sched_yield();
			continue;
		}
		d->send_errors++;
		return;
	}
}

/* Sleeps to deadline - spin, then spins: clock_nanosleep alone wakes some 10-60 us late. */
static void wait_until(uint64_t deadline)
{
	uint64_t now = now_ns();

	if (deadline > now + spin_ns) {
		uint64_t wake = deadline - spin_ns;
		struct timespec ts = { .tv_sec = (time_t)(wake / 1000000000ull),
				       .tv_nsec = (long)(wake % 1000000000ull) };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	while (now_ns() < deadline)
		cpu_relax();
}

/* A relay thread that waits for a CPU behind the test's own programs adds that wait to the
 * wire; real-time scheduling keeps it out (spins are bounded by --spin-us per frame). */
static void set_realtime(void)
{
	static atomic_bool warned;
	struct sched_param sp = { .sched_priority = rt_priority };
	int err;

	if (!rt_priority)
		return;
	err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (err && !atomic_exchange(&warned, true))
		pp_log_warn("warning: no SCHED_FIFO (%s): delays will be less exact on a busy "
			"machine", strerror(err));
}

static void *rx_main(void *arg)
{
	struct direction *d = arg;
	uint8_t *direct = delay_ns ? NULL : malloc(d->frame_max);

	set_realtime();
	if (!delay_ns && !direct) {
		pp_log_error("out of memory");
		atomic_store(&stop, true);
		return NULL;
	}
	while (!atomic_load(&stop)) {
		struct pollfd pfd = { .fd = d->in_fd, .events = POLLIN };
		struct slot *s;
		uint64_t arrival;
		uint32_t len;
		int ret;

		if (poll(&pfd, 1, POLL_MS) <= 0)
			continue;
		if (!delay_ns) { /* no queue, no hand-off between threads: the zero of the scale */
			if ((ret = receive(d, direct, &len, &arrival)) > 0) {
				transmit(d, direct, len);
				d->forwarded++;
			} else if (ret < 0) {
				d->recv_errors++;
			}
			continue;
		}
		pthread_mutex_lock(&d->lock);
		s = d->count < d->cap ? &d->ring[(d->head + d->count) % d->cap] : NULL;
		pthread_mutex_unlock(&d->lock);
		if (!s) { /* full: take the frame off the socket and drop it */
			uint8_t scratch[64];

			if (recv(d->in_fd, scratch, sizeof(scratch), MSG_DONTWAIT | MSG_TRUNC) >= 0)
				d->drop_full++;
			continue;
		}
		ret = receive(d, s->data, &s->len, &s->arrival_ns);
		if (ret < 0)
			d->recv_errors++;
		if (ret <= 0)
			continue;
		pthread_mutex_lock(&d->lock);
		d->count++;
		pthread_cond_signal(&d->nonempty);
		pthread_mutex_unlock(&d->lock);
	}
	free(direct);
	return NULL;
}

static void *tx_main(void *arg)
{
	struct direction *d = arg;

	set_realtime();
	for (;;) {
		struct slot *s;
		uint64_t deadline, late;

		pthread_mutex_lock(&d->lock);
		while (!d->count && !atomic_load(&stop)) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += POLL_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&d->nonempty, &d->lock, &ts);
		}
		s = d->count ? &d->ring[d->head] : NULL;
		pthread_mutex_unlock(&d->lock);
		if (!s || atomic_load(&stop))
			break;
		deadline = s->arrival_ns + delay_ns;
		wait_until(deadline);
		late = now_ns() - deadline;
		if (late > 1000) /* frames picked up after their deadline, or woken over 1 us late */
			d->late_count++;
		transmit(d, s->data, s->len);
		d->forwarded++;
		d->late_sum_ns += late;
		if (late > d->late_max_ns)
			d->late_max_ns = late;
		pthread_mutex_lock(&d->lock);
		d->head = (d->head + 1) % d->cap;
		d->count--;
		pthread_mutex_unlock(&d->lock);
	}
	return NULL;
}

static int setup_direction(struct direction *d, uint32_t queue, int in_mtu, int out_mtu)
{
	int mtu = in_mtu > out_mtu ? in_mtu : out_mtu;
	pthread_condattr_t attr;

	d->frame_max = (size_t)mtu + ETH_HLEN + VLAN_ROOM + 4;
	d->mtu_frame = (uint32_t)out_mtu + ETH_HLEN + VLAN_ROOM;
	d->cap = delay_ns ? queue : 0;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* the timed waits below count on it */
	pthread_cond_init(&d->nonempty, &attr);
	pthread_condattr_destroy(&attr);
	if (!d->cap)
		return 0;
	d->ring = calloc(d->cap, sizeof(*d->ring));
	if (!d->ring)
		return -1;
	for (uint32_t i = 0; i < d->cap; i++)
		if (!(d->ring[i].data = malloc(d->frame_max)))
			return -1;
	return 0;
}

static void free_direction(struct direction *d)
{
	for (uint32_t i = 0; d->ring && i < d->cap; i++)
		free(d->ring[i].data);
	free(d->ring);
}

static void report(const struct direction *d)
{
	uint64_t dropped = d->drop_full + d->drop_oversize + d->send_errors + d->recv_errors;
	char line[1024];
	size_t at;

	/* One line a direction, built whole, so that it goes out in one write. */
#define ADD(...) (at += (size_t)snprintf(line + at, at < sizeof(line) ? sizeof(line) - at : 0, \
					 __VA_ARGS__))
	at = 0;
	ADD("%s -> %s: %llu frames forwarded, %llu dropped (queue full %llu, larger than MTU %llu, "
	    "send errors %llu, receive errors %llu), %llu held at exit",
	    d->in_name, d->out_name, (unsigned long long)d->forwarded, (unsigned long long)dropped,
	    (unsigned long long)d->drop_full, (unsigned long long)d->drop_oversize,
	    (unsigned long long)d->send_errors, (unsigned long long)d->recv_errors,
	    (unsigned long long)d->count);
	if (d->forwarded)
		ADD("; pick-up after arrival max %.1f us, mean %.1f us", d->pickup_max_ns / 1e3,
		    (double)d->pickup_sum_ns / (double)d->forwarded / 1e3);
	if (delay_ns && d->forwarded)
		ADD("; sent after deadline max %.1f us, mean %.2f us, %llu over 1 us",
		    d->late_max_ns / 1e3, (double)d->late_sum_ns / (double)d->forwarded / 1e3,
		    (unsigned long long)d->late_count);
	if (d->unstamped)
		ADD("; %llu without a kernel arrival stamp (timed from pick-up)",
		    (unsigned long long)d->unstamped);
	if (d->csum_partial)
		ADD("; %llu without checksum", (unsigned long long)d->csum_partial);
#undef ADD
	pp_log_info("%s", line);
}

struct relay_opts {
	uint64_t delay_us, base_us, queue, spin_us, rt_prio;
};

static const struct pp_opt options[] = {
	{ "delay-us", 'd', PP_OPT_UINT, PP_OPT_AT(struct relay_opts, delay_us), .metavar = "N",
	  .max = MAX_DELAY_US, .help = "one-way delay added to every frame, microseconds" },
	{ "base-us", 'b', PP_OPT_UINT, PP_OPT_AT(struct relay_opts, base_us), .metavar = "N",
	  .max = MAX_DELAY_US,
	  .help = "constant hold on top of the delay, so that changing the delay changes the wire "
		  "by exactly that (with --base-us 0 --delay-us 0 frames are forwarded at once)" },
	{ "queue-frames", 'q', PP_OPT_UINT, PP_OPT_AT(struct relay_opts, queue), .metavar = "N",
	  .min = 1, .max = 1 << 20,
	  .help = "frames held per direction before new ones are dropped" },
	{ "spin-us", 's', PP_OPT_UINT, PP_OPT_AT(struct relay_opts, spin_us), .metavar = "N",
	  .max = 10000, .help = "busy-wait this long before each deadline for precision (0 = sleep "
				"only)" },
	{ "rt-priority", 'r', PP_OPT_UINT, PP_OPT_AT(struct relay_opts, rt_prio), .metavar = "N",
	  .max = 99, .help = "SCHED_FIFO priority of the relay threads; 0 = normal scheduling (a "
			     "busy machine delays normal threads)" },
	{ 0 },
};

/* Where parsing starts; --help shows these as the defaults. */
static const struct relay_opts defaults = {
	.base_us = DEFAULT_BASE_US, .queue = DEFAULT_QUEUE, .spin_us = DEFAULT_SPIN_US,
	.rt_prio = DEFAULT_RT_PRIORITY,
};

static const struct pp_opts_spec spec = {
	PP_OPTS_TABLE(options, defaults),
	.quote_got = true,
	.usage = "usage: " PROG " [options] IF_A IF_B\n"
		 "Relays every Ethernet frame between IF_A and IF_B (both ways) after a fixed delay.\n"
		 "Run it in the router namespace of `tools/testbed up --router`.\n",
	.epilog = "Offloads must be off on the whole path so frames stay wire-sized: on IF_A and IF_B\n"
		  "`ethtool -K IF gro off` (the relay warns otherwise), and on the endpoints' interfaces\n"
		  "`ethtool -K IF tx off tso off gso off` (frames larger than the MTU, or without their\n"
		  "checksum, are counted and reported). Stops on SIGINT/SIGTERM and prints statistics.\n",
};

int main(int argc, char **argv)
{
	struct relay_opts o;
	struct pp_err err = { 0 };
	struct direction dir[2] = { 0 };
	int fd_a = -1, fd_b = -1, mtu_a = 0, mtu_b = 0, first, ret = 1, sig;
	sigset_t sigs;

	pp_log_init(PROG);
	if ((ret = pp_opts_parse(&spec, argc, argv, &o, &first, &err)) != PP_OPTS_OK)
		return ret == PP_OPTS_HELP ? (pp_opts_usage(&spec, stdout), 0)
		                           : pp_log_fail(&err, 2);
	ret = 1;
	if (argc - first != 2) {
		pp_log_error("needs two interfaces, IF_A and IF_B (got %d; --help)", argc - first);
		return 2;
	}
	if (!strcmp(argv[first], argv[first + 1])) {
		pp_log_error("IF_A and IF_B must differ (got %s twice)", argv[first]);
		return 2;
	}
	delay_ns = (o.base_us + o.delay_us) * 1000;
	measure_realtime_offset();
	spin_ns = o.spin_us * 1000;
	rt_priority = (int)o.rt_prio;
	/* Default timer slack is 50 us: far too coarse for a delay we promise to the microsecond. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	mlockall(MCL_CURRENT | MCL_FUTURE); /* best effort: no page fault in the middle of a frame */

	/* Threads inherit the mask; only main takes the signals, with sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	fd_a = open_port(argv[first], &mtu_a);
	fd_b = fd_a < 0 ? -1 : open_port(argv[first + 1], &mtu_b);
	if (fd_a < 0 || fd_b < 0)
		goto cleanup;
	dir[0] = (struct direction){ .in_name = argv[first], .out_name = argv[first + 1],
				     .in_fd = fd_a, .out_fd = fd_b };
	dir[1] = (struct direction){ .in_name = argv[first + 1], .out_name = argv[first],
				     .in_fd = fd_b, .out_fd = fd_a };
	if (setup_direction(&dir[0], (uint32_t)o.queue, mtu_a, mtu_b) ||
	    setup_direction(&dir[1], (uint32_t)o.queue, mtu_b, mtu_a)) {
		pp_log_error("out of memory for %llu frames per direction", (unsigned long long)o.queue);
		goto cleanup;
	}
	for (int i = 0; i < 2; i++) {
		dir[i].rx_started = !pthread_create(&dir[i].rx_thread, NULL, rx_main, &dir[i]);
		dir[i].tx_started = delay_ns && !pthread_create(&dir[i].tx_thread, NULL, tx_main, &dir[i]);
		if (!dir[i].rx_started || (delay_ns && !dir[i].tx_started)) {
			pp_log_error("cannot start threads");
			atomic_store(&stop, true);
			goto cleanup;
		}
	}
	pp_log_info("relaying %s <-> %s, one-way delay %llu us + base %llu us, up to %llu frames "
		    "held per direction", argv[first], argv[first + 1],
		    (unsigned long long)o.delay_us, (unsigned long long)o.base_us,
		    (unsigned long long)(delay_ns ? o.queue : 0));
	while (sigwait(&sigs, &sig) == 0 && sig != SIGINT && sig != SIGTERM)
		;
	atomic_store(&stop, true);
	ret = 0;
cleanup:
	for (int i = 0; i < 2; i++) {
		if (dir[i].rx_started)
			pthread_join(dir[i].rx_thread, NULL);
		if (dir[i].tx_started) {
			pthread_mutex_lock(&dir[i].lock);
			pthread_cond_broadcast(&dir[i].nonempty);
			pthread_mutex_unlock(&dir[i].lock);
			pthread_join(dir[i].tx_thread, NULL);
		}
	}
	if (ret == 0)
		for (int i = 0; i < 2; i++)
			report(&dir[i]);
	for (int i = 0; i < 2; i++)
		free_direction(&dir[i]);
	if (fd_a >= 0)
		close(fd_a);
	if (fd_b >= 0)
		close(fd_b);
	return ret;
}
