// SPDX-License-Identifier: MIT
/* Stall detection off the measured path: see watchdog.h for why not SO_RCVTIMEO. */
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include "ping/watchdog.h"

uint64_t pp_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void pp_watch_init(struct pp_watch *w)
{
	atomic_init(&w->progress, 0);
	atomic_init(&w->fired, false);
	w->seen = 0;
	w->quiet_since_ns = pp_monotonic_ns();
}

bool pp_watch_check(struct pp_watch *w, int fd, uint64_t now_ns, uint64_t timeout_ns)
{
	uint64_t progress = atomic_load_explicit(&w->progress, memory_order_relaxed);

	if (atomic_load(&w->fired))
		return true;
	if (progress != w->seen) {
		w->seen = progress;
		w->quiet_since_ns = now_ns;
		return false;
	}
	if (now_ns - w->quiet_since_ns < timeout_ns)
		return false;
	atomic_store(&w->fired, true);
	shutdown(fd, SHUT_RDWR);
	return true;
}

static void *watchdog_main(void *arg)
{
	struct pp_watchdog *d = arg;
	uint64_t period_ns = d->timeout_ns / 2 ? d->timeout_ns / 2 : 1;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		uint64_t until = pp_monotonic_ns() + period_ns;
		struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ULL),
				       .tv_nsec = (long)(until % 1000000000ULL) };

		while (!d->stop && pthread_cond_timedwait(&d->wake, &d->lock, &ts) != ETIMEDOUT)
			;
		if (!d->stop && pp_watch_check(d->watch, d->fd, pp_monotonic_ns(), d->timeout_ns))
			break;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int pp_watchdog_start(struct pp_watchdog *d, struct pp_watch *w, int fd, uint64_t timeout_ns)
{
	pthread_condattr_t attr;
	int rc;

	*d = (struct pp_watchdog){ .watch = w, .fd = fd, .timeout_ns = timeout_ns };
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);
	rc = pthread_create(&d->thread, NULL, watchdog_main, d);
	if (rc) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		return -rc;
	}
	return 0;
}

void pp_watchdog_stop(struct pp_watchdog *d)
{
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
}
