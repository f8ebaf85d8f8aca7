// SPDX-License-Identifier: MIT
/* Stall detection that costs the watched loop one plain store per unit of work: a watcher
 * (a thread of its own, or the server's accept loop) shuts the socket down when the progress
 * counter has not moved for a while. A socket receive timeout would instead arm and cancel a
 * kernel timer on every blocking recv, which the round trip pays for (~0.3 us measured). */
#ifndef PP_WATCHDOG_H
#define PP_WATCHDOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct pp_watch {
	_Atomic uint64_t progress;    /* bumped by the watched loop only */
	atomic_bool fired;            /* set before the socket is shut down */
	uint64_t seen;                /* the watcher's own state */
	uint64_t quiet_since_ns;
};

void pp_watch_init(struct pp_watch *w);

/* One writer: a relaxed load and store, not a locked read-modify-write. */
static inline void pp_watch_bump(struct pp_watch *w)
{
	atomic_store_explicit(&w->progress,
			      atomic_load_explicit(&w->progress, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline bool pp_watch_fired(struct pp_watch *w)
{
	return w && atomic_load(&w->fired);
}

/* For the watcher, called now and then: when progress has not moved for timeout_ns, marks
 * the watch fired and shuts fd down (both ways), which ends any recv or send blocked on it.
 * Returns whether it fired (now or before). */
bool pp_watch_check(struct pp_watch *w, int fd, uint64_t now_ns, uint64_t timeout_ns);

uint64_t pp_monotonic_ns(void);

/* A thread that runs pp_watch_check every timeout/2 until stopped. */
struct pp_watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct pp_watch *watch;
	int fd;
	uint64_t timeout_ns;
};

int pp_watchdog_start(struct pp_watchdog *d, struct pp_watch *w, int fd, uint64_t timeout_ns);
void pp_watchdog_stop(struct pp_watchdog *d);

#endif
