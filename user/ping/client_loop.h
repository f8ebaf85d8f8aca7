// SPDX-License-Identifier: MIT
/* The client's side of a connection: the hello, then the timed exchanges. The loop does per
 * exchange only clock_gettime (vDSO), one send and one recv: no allocation, no printing. */
#ifndef PP_CLIENT_LOOP_H
#define PP_CLIENT_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/sample_ring.h"
#include "ping/handshake.h"
#include "ping/watchdog.h"

#define PP_CLIENT_HELLO_TIMEOUT_MS 5000   /* connect, and the server's reply to the hello */
#define PP_CLIENT_PONG_TIMEOUT_MS  10000  /* a pong that takes longer means the server is gone */

/* Sends the hello and reads the reply (socket timeouts set by the caller). 0 with *reply
 * filled (check reply->status), or -errno: -EPROTO if the answer is not a pingpong reply,
 * -EAGAIN if none came in time, -EPIPE/-ECONNRESET if the server closed. */
int pp_client_hello(int fd, uint32_t msg_size, uint64_t count, struct pp_hs_reply *reply);

struct pp_client_loop {
	int fd;
	uint32_t size;
	uint64_t interval_ns;          /* start-to-start; 0 = back to back */
	uint8_t *ping, *pong;          /* size bytes each, see pp_client_loop_init */
	volatile sig_atomic_t *stop;   /* set from a signal handler: end after this exchange */
	struct pp_watch *watch;        /* bumped per exchange; NULL = none (watchdog.h) */
	bool spin;                     /* wait for each pong by polling, not asleep in recv */
	/* Called twice a second and at the end with the exchanges done and due (both counting
	 * progress_done); NULL = none. The caller shows it (this module prints nothing). */
	void (*progress)(uint64_t done, uint64_t total);
	uint64_t progress_total;
	uint64_t progress_done;        /* exchanges before this run, for the progress line */
};

/* Allocates and touches the two buffers (no page fault inside the loop). 0 or -ENOMEM. */
int pp_client_loop_init(struct pp_client_loop *l, int fd, uint32_t size);
void pp_client_loop_free(struct pp_client_loop *l);

/* Runs up to n exchanges; sample i of rtt (if not NULL) gets CLOCK_MONOTONIC before the send
 * and the time from there to after the pong's last byte (another thread reads them). *done = exchanges completed. Returns 0, -EINTR (stopped),
 * -EPIPE / -ECONNRESET (server gone), -ETIMEDOUT (the watchdog saw no pong in time), -EBADMSG
 * (a pong that is not the echo of its ping), or another -errno. */
int pp_client_loop_run(struct pp_client_loop *l, uint64_t n, struct pp_sample_ring *rtt, uint64_t *done);

#endif
