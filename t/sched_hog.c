// SPDX-License-Identifier: MIT
/* Test helper: makes one process's socket reads wait for a CPU for a known time, so that a
 * test can see the time land in that host's wake-up (--sched: server_wakeup or client_wakeup)
 * and nowhere else (t/integration/test_sched_split.sh).
 *
 *   sched_hog --pid PID --port PORT --spin-us D [--cpu N] [--wait SEC] [--mlock]
 *
 * How. It takes a duplicate of PID's connected TCP socket whose local or remote port is PORT
 * (the descriptors in /proc/PID/fd, copied with pidfd_getfd: Linux 5.6+, root), pins itself to
 * CPU N (default: the one CPU PID's threads are all allowed on, else 0) and runs SCHED_FIFO at
 * priority 1. It then waits in epoll for that socket, edge-triggered, and never reads it. Each
 * arrival of data wakes everyone on the socket's wait queue: PID's thread blocked in recv (or
 * poll) and this hog. On the same CPU the FIFO hog runs first and busy-spins D us before it
 * waits again, and only then does the CFS thread get the CPU: the thread's wake-up (its
 * sched_waking to its sched_switch in) grows by about D, while the kernel's processing of the
 * data (softirq, before the wake-up) and the thread's own work do not. For that the thread must
 * be allowed on CPU N only (taskset), and the data must arrive while it sleeps: strict turns.
 *
 * Lines (stdout, one each): at the start
 *	sched_hog: pid P fd F port PORT (LOCAL - REMOTE) cpu N spin D us
 * (F: the descriptor's number in PID), and at the end
 *	sched_hog: N spins of D us on cpu N (WHY)
 * where WHY is "socket closed" (the peer's FIN or a reset), "pid P closed the socket",
 * "pid P exited" or "signal" (SIGINT/SIGTERM).
 *
 * Bounded: it exits on each of those. --wait SEC: the socket may not exist yet; look for it
 * again every 2 ms for up to SEC seconds (default 0: once). Exit status 0 for those ends, 1 on
 * a failure (no such process or socket, more than one socket with that port, no permission,
 * no SCHED_FIFO), 2 on bad usage (one line on stderr). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* CPU_SET, sched_setaffinity */
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probe_util.h"

/* Debian 12's glibc has no wrappers; the numbers are the same on every architecture. */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define HOG_MAX_SPIN_US 100000   /* 100 ms: more would be a stall, not a wake-up */
#define HOG_RESCAN_MS   2        /* --wait: how often to look for the socket again */
#define HOG_CHECK_MS    100      /* how often to ask whether PID still holds the socket */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sched_hog --pid PID --port PORT --spin-us D [--cpu N] [--wait SEC] [--mlock]\n"
		"  --pid PID      the process whose connected TCP socket to watch (root: pidfd_getfd)\n"
		"  --port PORT    that socket's local or remote port\n"
		"  --spin-us D    busy-spin D us (1..%d) each time data arrives on it\n"
		"  --cpu N        the CPU to spin on (default: the one CPU PID's threads are\n"
		"                 allowed on, else 0); the hog runs SCHED_FIFO 1 there\n"
		"  --wait SEC     look for the socket for up to SEC seconds (default 0: once)\n"
		"  --mlock        lock the hog's memory (mlockall), so no page fault delays a spin\n",
		HOG_MAX_SPIN_US);
}

/* One line on stderr, exit status 2. */
static int bad_usage(const char *why)
{
	fprintf(stderr, "sched_hog: %s (--help for usage)\n", why);
	return 2;
}

/* The inode of the socket behind "socket:[N]", the link of /proc/PID/fd/FD; 0 if not one. */
static unsigned long long fd_socket_inode(int pid, const char *fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	if (strncmp(link, "socket:[", 8))
		return 0;
	return strtoull(link + 8, NULL, 10);
}

static int sock_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -1;
	return v;
}

static uint16_t ss_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void ss_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ss_port(ss));
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ss_port(ss));
	}
}

struct found {
	int fd;                  /* our duplicate */
	int their_fd;            /* its number in PID */
	unsigned long long ino;
	struct sockaddr_storage local, remote;
};

/* Looks through PID's descriptors once for established TCP sockets with port. The number
 * found (the first one in *out, the second one's descriptor number in *other), or -errno. */
static int scan(int pid, int pidfd, uint16_t port, struct found *out, int *other)
{
	char dir[32];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		struct found f = { .fd = -1 };
		struct tcp_info ti;
		socklen_t len = sizeof(ti), ll = sizeof(f.local), rl = sizeof(f.remote);
		int dom;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		f.ino = fd_socket_inode(pid, d->d_name);
		if (!f.ino || (n && f.ino == out->ino))
			continue;   /* not a socket, or the one already found under another number */
		f.their_fd = atoi(d->d_name);
		f.fd = (int)syscall(SYS_pidfd_getfd, pidfd, f.their_fd, 0);
		if (f.fd < 0) {
			int e = errno;

			if (e == EBADF)
				continue;   /* closed since the readdir */
			closedir(dp);
			if (n)
				close(out->fd);
			return -e;
		}
		dom = sock_int(f.fd, SOL_SOCKET, SO_DOMAIN);
		if ((dom == AF_INET || dom == AF_INET6) &&
		    sock_int(f.fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
		    sock_int(f.fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP &&
		    !getsockopt(f.fd, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
		    ti.tcpi_state == 1 /* TCP_ESTABLISHED */ &&
		    !getsockname(f.fd, (struct sockaddr *)&f.local, &ll) &&
		    !getpeername(f.fd, (struct sockaddr *)&f.remote, &rl) &&
		    (ss_port(&f.local) == port || ss_port(&f.remote) == port)) {
			if (!n++) {
				*out = f;
				continue;   /* keep it */
			}
			*other = f.their_fd;
		}
		close(f.fd);
	}
	closedir(dp);
	return n;
}

/* Whether PID still has a descriptor on the socket ino: 1, 0, or -errno (PID gone). */
static int still_held(int pid, unsigned long long ino)
{
	char dir[32];
	struct dirent *d;
	DIR *dp;
	int held = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while (!held && (d = readdir(dp)))
		if (d->d_name[0] >= '0' && d->d_name[0] <= '9' && fd_socket_inode(pid, d->d_name) == ino)
			held = 1;
	closedir(dp);
	return held;
}

/* The CPU to spin on when none is given: the only CPU any of PID's threads may run on,
 * else 0 (a spin elsewhere than where the thread runs would delay nothing). */
static int default_cpu(int pid)
{
	char dir[32];
	struct dirent *d;
	cpu_set_t all;
	DIR *dp;
	int cpu = 0;

	CPU_ZERO(&all);
	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	dp = opendir(dir);
	if (!dp)
		return 0;
	while ((d = readdir(dp))) {
		cpu_set_t set;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (sched_getaffinity(atoi(d->d_name), sizeof(set), &set) == 0)
			CPU_OR(&all, &all, &set);
	}
	closedir(dp);
	if (CPU_COUNT(&all) == 1)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &all))
				cpu = i;
	return cpu;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "spin-us", required_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ "mlock", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t pid = 0, port = 0, spin_us = 0, cpu = 0, wait_s = 0, spins = 0, deadline, next_check;
	bool have_cpu = false, lock = false;
	struct sigaction sa = { .sa_handler = on_signal };
	struct sched_param sp = { .sched_priority = 1 };
	struct epoll_event ev;
	struct found f;
	char la[64], ra[64];
	const char *why = NULL;
	cpu_set_t set;
	int opt, pidfd, ep, n, other = -1;

	opterr = 0;   /* our own one-line messages */
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (probe_parse_u64(optarg, 1, 4194304, &pid))
				return bad_usage("--pid: a process id, 1..4194304");
			break;
		case 'P':
			if (probe_parse_u64(optarg, 1, 65535, &port))
				return bad_usage("--port: 1..65535");
			break;
		case 's':
			if (probe_parse_u64(optarg, 1, HOG_MAX_SPIN_US, &spin_us))
				return bad_usage("--spin-us: 1..100000");
			break;
		case 'c':
			if (probe_parse_u64(optarg, 0, CPU_SETSIZE - 1, &cpu))
				return bad_usage("--cpu: a CPU number");
			have_cpu = true;
			break;
		case 'w':
			if (probe_parse_u64(optarg, 0, 3600, &wait_s))
				return bad_usage("--wait: 0..3600 seconds");
			break;
		case 'm': lock = true; break;
		case 'h': usage(stdout); return 0;
		default: return bad_usage("unknown option or missing value");
		}
	}
	if (optind != argc)
		return bad_usage("unexpected argument");
	if (!pid || !port || !spin_us)
		return bad_usage("--pid, --port and --spin-us are required");

	pidfd = (int)syscall(SYS_pidfd_open, (int)pid, 0);
	if (pidfd < 0) {
		fprintf(stderr, "sched_hog: pid %llu: %s\n", (unsigned long long)pid, strerror(errno));
		return 1;
	}
	deadline = now_ns() + wait_s * 1000000000u;
	for (;;) {
		n = scan((int)pid, pidfd, (uint16_t)port, &f, &other);
		if (n != 0 || now_ns() >= deadline)
			break;
		usleep(HOG_RESCAN_MS * 1000);
	}
	if (n < 0) {
		fprintf(stderr, "sched_hog: pid %llu's descriptors: %s\n", (unsigned long long)pid,
			strerror(-n));
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "sched_hog: pid %llu has no established TCP socket with port %llu\n",
			(unsigned long long)pid, (unsigned long long)port);
		return 1;
	}
	if (n > 1) {
		fprintf(stderr, "sched_hog: pid %llu has %d established TCP sockets with port %llu "
			"(fds %d, %d, ...): which one to delay is not clear\n", (unsigned long long)pid,
			n, (unsigned long long)port, f.their_fd, other);
		return 1;
	}

	if (!have_cpu)
		cpu = (uint64_t)default_cpu((int)pid);
	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0) {
		fprintf(stderr, "sched_hog: cpu %llu: %s\n", (unsigned long long)cpu, strerror(errno));
		return 1;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
		fprintf(stderr, "sched_hog: SCHED_FIFO: %s\n", strerror(errno));
		return 1;
	}
	if (lock && mlockall(MCL_CURRENT | MCL_FUTURE) < 0) {
		fprintf(stderr, "sched_hog: mlockall: %s\n", strerror(errno));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		fprintf(stderr, "sched_hog: epoll_create1: %s\n", strerror(errno));
		return 1;
	}
	/* edge-triggered: one wake-up per arrival although nothing is ever read. Data only, not
	 * the write-space wake-ups of ACKs (EPOLLOUT is not asked for, so they do not wake us) */
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.fd = f.fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, f.fd, &ev) < 0) {
		fprintf(stderr, "sched_hog: epoll_ctl: %s\n", strerror(errno));
		return 1;
	}
	/* a pidfd is readable once the process has exited */
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = pidfd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
		fprintf(stderr, "sched_hog: epoll_ctl (pidfd): %s\n", strerror(errno));
		return 1;
	}

	ss_text(&f.local, la, sizeof(la));
	ss_text(&f.remote, ra, sizeof(ra));
	setvbuf(stdout, NULL, _IOLBF, 0);   /* a test waits for this line in a file */
	printf("sched_hog: pid %llu fd %d port %llu (%s - %s) cpu %llu spin %llu us\n",
	       (unsigned long long)pid, f.their_fd, (unsigned long long)port, la, ra,
	       (unsigned long long)cpu, (unsigned long long)spin_us);

	next_check = now_ns() + HOG_CHECK_MS * 1000000u;
	while (!why) {
		struct epoll_event evs[2];
		uint64_t now;
		int k = epoll_wait(ep, evs, 2, HOG_CHECK_MS);

		if (k < 0 && errno != EINTR) {
			fprintf(stderr, "sched_hog: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		if (stop_flag) {
			why = "signal";
			break;
		}
		for (int i = 0; i < k; i++) {
			if (evs[i].data.fd == pidfd) {
				why = "exited";
			} else if (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
				why = "socket closed";
			} else if (evs[i].events & EPOLLIN) {
				uint64_t end = now_ns() + spin_us * 1000u;

				while (now_ns() < end)
					;
				spins++;
			}
		}
		/* After the spin, not before: the check (a walk of /proc/PID/fd) must not delay
		 * the thread more than D. Our duplicate keeps the socket open: without this, a
		 * PID that closed it would never send its FIN, and its peer might wait for it. */
		now = now_ns();
		if (!why && now >= next_check) {
			int held = still_held((int)pid, f.ino);

			next_check = now + HOG_CHECK_MS * 1000000u;
			if (held < 0)
				why = "exited";
			else if (!held)
				why = "closed the socket";
		}
	}
	if (!strcmp(why, "exited") || !strcmp(why, "closed the socket"))
		printf("sched_hog: %llu spins of %llu us on cpu %llu (pid %llu %s)\n",
		       (unsigned long long)spins, (unsigned long long)spin_us,
		       (unsigned long long)cpu, (unsigned long long)pid, why);
	else
		printf("sched_hog: %llu spins of %llu us on cpu %llu (%s)\n",
		       (unsigned long long)spins, (unsigned long long)spin_us,
		       (unsigned long long)cpu, why);
	close(f.fd);
	close(ep);
	close(pidfd);
	return 0;
}
