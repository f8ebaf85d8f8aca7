// SPDX-License-Identifier: MIT
/* The client's exchanges. Everything that could cost time inside the timed window (page
 * faults, allocation, formatting) is done before it or after it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/net.h"
#include "ping/client_loop.h"

#define PROGRESS_EVERY_NS 500000000ULL

int pp_client_hello(int fd, uint32_t msg_size, uint64_t count, struct pp_hs_reply *reply)
{
	uint8_t buf[PP_HS_REPLY_MAX];
	struct pp_hello hello;
	int len, rc;

	pp_hello_init(&hello, msg_size, count, 0);
	len = pp_hello_encode(&hello, buf, sizeof(buf));
	if (len < 0)
		return len;
	rc = pp_sock_write_full(fd, buf, (size_t)len);
	if (rc)
		return rc;
	rc = pp_sock_read_full(fd, buf, PP_HS_REPLY_HDR, NULL);
	if (rc)
		return rc;
	len = pp_hs_reply_peek(buf, PP_HS_REPLY_HDR);
	if (len < 0)
		return len;
	rc = pp_sock_read_full(fd, buf + PP_HS_REPLY_HDR, (size_t)len - PP_HS_REPLY_HDR, NULL);
	if (rc)
		return rc;
	return pp_hs_reply_decode(buf, (size_t)len, reply);
}

int pp_client_loop_init(struct pp_client_loop *l, int fd, uint32_t size)
{
	*l = (struct pp_client_loop){ .fd = fd, .size = size };
	l->ping = malloc(size);
	l->pong = malloc(size);
	if (!l->ping || !l->pong) {
		pp_client_loop_free(l);
		return -ENOMEM;
	}
	/* A recognisable pattern, and every page touched now rather than in the first exchange. */
	for (uint32_t i = 0; i < size; i++)
		l->ping[i] = (uint8_t)('a' + i % 26);
	memset(l->pong, 0, size);
	return 0;
}

void pp_client_loop_free(struct pp_client_loop *l)
{
	free(l->ping);
	free(l->pong);
	l->ping = l->pong = NULL;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

static struct timespec ns_ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ULL),
				  .tv_nsec = (long)(ns % 1000000000ULL) };
}

/* The exchange's number in the ping's first bytes: a pong that carries another number means
 * the stream lost its framing, which must not pass as a measurement. */
static size_t stamp(uint8_t *msg, uint32_t size, uint64_t number)
{
	size_t n = size < sizeof(number) ? size : sizeof(number);

	memcpy(msg, &number, n);
	return n;
}

static void show_progress(const struct pp_client_loop *l, uint64_t done)
{
	l->progress(l->progress_done + done, l->progress_total);
}

int pp_client_loop_run(struct pp_client_loop *l, uint64_t n, struct pp_sample_ring *rtt, uint64_t *done)
{
	struct timespec t0, t1;
	uint64_t next_start = 0, next_progress = 0;
	int rc = 0;

	*done = 0;
	for (uint64_t i = 0; i < n; i++) {
		size_t stamped = stamp(l->ping, l->size, l->progress_done + i);

		if (*l->stop) {
			rc = -EINTR;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = pp_sock_write_full(l->fd, l->ping, l->size);
		if (!rc && l->spin)
			rc = pp_spin_until_readable(l->fd, l->stop);
		if (!rc)
			rc = pp_sock_read_full(l->fd, l->pong, l->size, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (rc) {
			if (pp_watch_fired(l->watch))
				rc = -ETIMEDOUT;
			break;
		}
		if (memcmp(l->ping, l->pong, stamped)) {
			rc = -EBADMSG;
			break;
		}
		if (rtt)
			pp_sample_ring_put(rtt, i, ts_ns(&t0), (int64_t)(ts_ns(&t1) - ts_ns(&t0)));
		(*done)++;
		if (l->watch)
			pp_watch_bump(l->watch);
		if (l->progress && ts_ns(&t1) >= next_progress) {
			show_progress(l, *done);
			next_progress = ts_ns(&t1) + PROGRESS_EVERY_NS;
		}
		if (l->interval_ns) {
			struct timespec until;

			next_start = (next_start ? next_start : ts_ns(&t0)) + l->interval_ns;
			/* Behind schedule (a slow pong): start now, do not burst to catch up. */
			if (next_start <= ts_ns(&t1)) {
				next_start = ts_ns(&t1);
				continue;
			}
			until = ns_ts(next_start);
			while (!*l->stop &&
			       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
				;
		}
	}
	if (l->progress)
		show_progress(l, *done);
	return rc;
}
