// SPDX-License-Identifier: MIT
/* pingpong-server: the echo peer. The main thread accepts; each client gets its own thread
 * that blocks in recv and send (user/ping/server_conn.c), so a pong costs two syscalls and one wakeup, and a
 * client that misbehaves costs only its own thread. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ping/server_conn.h"
#include "common/net.h"
#include "ping/server_opts.h"
#include "ping/watchdog.h"
#include "common/log.h"

#define PROG "pingpong-server"
#define MAX_LISTEN 8
#define MEM_BUDGET_MAX (1ULL << 30)          /* message buffers, all clients together */
#define THREAD_STACK   (256 * 1024)

struct conn {
	pthread_t thread;
	int fd;                        /* closed by the main thread, after the join */
	bool used;
	atomic_bool done;
	uint64_t accepted_ns;
	struct pp_watch watch;         /* checked by the main thread's tick; bumped by the hello too */
	struct pp_addr peer;
	const struct pp_server_conn_cfg *cfg;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct pp_server_conn_result res;
	char peer[PP_ADDRSTRLEN];

	pp_server_conn_serve(c->fd, c->cfg, &c->watch, &res);
	if (pp_log_enabled(PP_LOG_DEBUG)) {
		pp_addr_format(&c->peer, peer, sizeof(peer));
		/* EPIPE is the peer's EOF here, which the end's name already says. */
		bool why = res.err && res.err != -EPIPE;

		pp_log_debug("%s: %u B x %llu announced, %llu echoed, %s%s%s", peer,
			res.msg_size, (unsigned long long)res.count, (unsigned long long)res.echoed,
			pp_server_conn_end_name(res.end), why ? ": " : "", why ? strerror(-res.err) : "");
	}
	atomic_store(&c->done, true);
	return NULL;
}

static void reap(struct conn *conns, unsigned n, bool all)
{
	for (unsigned i = 0; i < n; i++) {
		if (!conns[i].used || (!all && !atomic_load(&conns[i].done)))
			continue;
		pthread_join(conns[i].thread, NULL);
		close(conns[i].fd);
		conns[i].used = false;
	}
}

/* Shuts down the connections that completed no message within the idle timeout; their
 * threads then end on their own and are reaped. */
static void watch_all(struct conn *conns, unsigned n, uint64_t idle_ns)
{
	uint64_t now = pp_monotonic_ns();

	for (unsigned i = 0; i < n; i++)
		if (conns[i].used && !atomic_load(&conns[i].done))
			pp_watch_check(&conns[i].watch, conns[i].fd, now, idle_ns);
}

/* When every slot is taken: the oldest connection that has not sent a complete hello (idle, or
 * a port scanner) is shut down and reaped, and its slot given to the newcomer. A real client's
 * hello follows its connect at once (it is usually there before the accept), so it is shed only
 * if it is the oldest of them all; SHED_AFTER_NS keeps a burst of newcomers from shedding each
 * other before their threads could read a hello. NULL when none is idle. */
#define SHED_AFTER_NS 1000000ull

static struct conn *shed_idle(struct conn *conns, unsigned n)
{
	uint64_t now = pp_monotonic_ns();
	struct conn *best = NULL;

	for (unsigned i = 0; i < n; i++) {
		struct conn *c = &conns[i];

		if (c->used && !atomic_load(&c->done) && !atomic_load(&c->watch.progress) &&
		    now - c->accepted_ns >= SHED_AFTER_NS && (!best || c->accepted_ns < best->accepted_ns))
			best = c;
	}
	if (!best)
		return NULL;
	shutdown(best->fd, SHUT_RDWR); /* its recv of the hello returns at once */
	pthread_join(best->thread, NULL);
	close(best->fd);
	best->used = false;
	return best;
}

static struct conn *free_slot(struct conn *conns, unsigned n)
{
	reap(conns, n, false);
	for (unsigned i = 0; i < n; i++)
		if (!conns[i].used)
			return &conns[i];
	return NULL;
}

static void accept_one(int lfd, struct conn *conns, const struct pp_server_opts *o,
		       const struct pp_server_conn_cfg *cfg, const pthread_attr_t *attr)
{
	struct pp_addr peer = { .len = sizeof(peer.ss) };
	struct conn *c;
	int fd, rc;

	fd = accept4(lfd, (struct sockaddr *)&peer.ss, &peer.len, SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors or memory, the pending connection stays and poll would
		 * report it again at once: pause instead of spinning. Others (EAGAIN,
		 * ECONNABORTED) just wait for the next poll. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			struct timespec pause = { .tv_nsec = 100000000 };

			nanosleep(&pause, NULL);
		}
		return;
	}
	c = free_slot(conns, o->max_clients);
	if (!c)
		c = shed_idle(conns, o->max_clients);
	if (!c) {
		pp_server_conn_refuse_busy(fd, "too many clients, try later");
		close(fd);
		return;
	}
	*c = (struct conn){ .fd = fd, .used = true, .peer = peer, .cfg = cfg,
			    .accepted_ns = pp_monotonic_ns() };
	pp_watch_init(&c->watch);
	rc = pthread_create(&c->thread, attr, conn_main, c);
	if (rc) {
		pp_server_conn_refuse_busy(fd, "cannot start a thread, try later");
		close(fd);
		c->used = false;
	}
}

/* Signals reach the main thread only inside ppoll, so the connection threads never see
 * EINTR from them and the stop flag is checked exactly when it can change. */
static int setup_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &block, wait_mask))
		return -EINVAL;
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

static uint64_t mem_budget(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t quarter = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4 : 0;

	return quarter && quarter < MEM_BUDGET_MAX ? quarter : MEM_BUDGET_MAX;
}

static int serve(const int *lfds, int n_lfds, const struct pp_server_opts *o)
{
	_Atomic uint64_t mem_used = 0;
	struct pp_server_conn_cfg cfg = {
		.reply_delay_ns = o->reply_delay_us * 1000,
		.spin = o->spin,
		.mem_budget = mem_budget(),
		.mem_used = &mem_used,
	};
	struct pollfd pfds[MAX_LISTEN];
	struct timespec tick = { .tv_sec = 1 };
	uint64_t idle_ns = (uint64_t)o->idle_timeout_s * 1000000000ULL, next_tick = 0;
	pthread_attr_t attr;
	sigset_t wait_mask;
	struct conn *conns;

	conns = calloc(o->max_clients, sizeof(*conns));
	if (!conns)
		return -ENOMEM;
	if (setup_signals(&wait_mask)) {
		free(conns);
		return -EINVAL;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	for (int i = 0; i < n_lfds; i++)
		pfds[i] = (struct pollfd){ .fd = lfds[i], .events = POLLIN };
	while (!stop_signal) {
		int rc = ppoll(pfds, (nfds_t)n_lfds, &tick, &wait_mask);

		for (int i = 0; rc > 0 && i < n_lfds; i++)
			if (pfds[i].revents & POLLIN)
				accept_one(pfds[i].fd, conns, o, &cfg, &attr);
		/* Once a second, whether or not clients arrive: reap and watch. */
		if (pp_monotonic_ns() >= next_tick) {
			reap(conns, o->max_clients, false);
			watch_all(conns, o->max_clients, idle_ns);
			next_tick = pp_monotonic_ns() + 1000000000ULL;
		}
	}
	/* Wake every connection thread out of its recv/send, then wait for all of them. */
	for (unsigned i = 0; i < o->max_clients; i++)
		if (conns[i].used)
			shutdown(conns[i].fd, SHUT_RDWR);
	reap(conns, o->max_clients, true);
	pthread_attr_destroy(&attr);
	free(conns);
	return 0;
}

int main(int argc, char **argv)
{
	struct pp_server_opts opts;
	int lfds[MAX_LISTEN], n_lfds, rc;
	struct pp_err err = { 0 };

	pp_log_init(PROG);
	if ((rc = pp_server_opts_parse(argc, argv, &opts, &err)) != PP_OPTS_OK)
		return rc == PP_OPTS_HELP ? (pp_opts_usage(&pp_server_opts_spec, stdout), 0)
		                          : pp_log_fail(&err, 2);
	pp_log_more(opts.verbose);
	n_lfds = pp_listen(opts.bind, opts.port, lfds, MAX_LISTEN);
	if (n_lfds < 0) {
		if (n_lfds == -ENOENT || n_lfds == -EAGAIN)
			pp_log_error("cannot resolve --bind '%s'", opts.bind);
		else
			pp_log_error("cannot listen on %s port %u: %s",
				opts.bind ? opts.bind : "all addresses", opts.port,
				strerror(-n_lfds));
		return 1;
	}
	pp_log_debug("listening on port %u (%d socket%s), up to %u clients",
		    opts.port, n_lfds, n_lfds == 1 ? "" : "s", opts.max_clients);
	rc = serve(lfds, n_lfds, &opts);
	for (int i = 0; i < n_lfds; i++)
		close(lfds[i]);
	if (rc) {
		pp_log_error("%s", strerror(-rc));
		return 1;
	}
	return 0;
}
