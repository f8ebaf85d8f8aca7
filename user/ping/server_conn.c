// SPDX-License-Identifier: MIT
/* One server connection. The echo loop is what the client measures, so it does the least a
 * server can: recv(MSG_WAITALL) returns once the whole ping is in (one syscall, one wakeup
 * when it has arrived), then one blocking send hands the whole pong over; the buffer is
 * allocated and touched before the first message, and no receive timer is armed per message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "ping/server_conn.h"
#include "ping/handshake.h"
#include "common/net.h"

/* Below this a sleep overshoots by more than the delay itself; spin instead. */
#define SPIN_BELOW_NS (200 * 1000ULL)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void wait_until(uint64_t deadline_ns, uint64_t delay_ns)
{
	if (delay_ns >= SPIN_BELOW_NS) {
		struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000ULL),
				       .tv_nsec = (long)(deadline_ns % 1000000000ULL) };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		return;
	}
	while (now_ns() < deadline_ns)
		;
}

static void send_reply(int fd, uint16_t status, const char *reason)
{
	uint8_t reply[PP_HS_REPLY_MAX];
	int len = pp_hs_reply_encode(status, reason, reply, sizeof(reply));

	if (len > 0)
		pp_sock_write_full(fd, reply, (size_t)len);
}

void pp_server_conn_refuse_busy(int fd, const char *reason)
{
	uint8_t scratch[PP_HS_HELLO_MAX];

	/* Take in the hello if it is there, so that closing does not turn into a reset that
	 * could race the reply. */
	while (recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0)
		;
	send_reply(fd, PP_HS_BUSY, reason);
	shutdown(fd, SHUT_WR);
}

/* Reads the hello: first its fixed 8 bytes, then the length they announce (bounded). */
static enum pp_hs_status read_hello(int fd, struct pp_hello *h, struct pp_server_conn_result *res)
{
	uint8_t buf[PP_HS_HELLO_MAX];
	uint16_t status = PP_HS_OK;
	int total, rc;

	rc = pp_sock_read_full(fd, buf, 8, NULL);
	if (rc) {
		res->err = rc;
		return PP_HS_INTERNAL;
	}
	total = pp_hello_peek(buf, 8, &status);
	if (total < 0)
		return status;
	rc = pp_sock_read_full(fd, buf + 8, (size_t)total - 8, NULL);
	if (rc) {
		res->err = rc;
		return PP_HS_INTERNAL;
	}
	return pp_hello_decode(buf, (size_t)total, h);
}

/* The detail the status name lacks: what was received against what is accepted. */
static void refusal_reason(enum pp_hs_status status, const struct pp_hello *h, char *out,
			   size_t len)
{
	switch (status) {
	case PP_HS_BAD_SIZE:
		snprintf(out, len, "%u B is not in %u..%u B", h->msg_size, PP_MSG_SIZE_MIN,
			 PP_MSG_SIZE_MAX);
		break;
	case PP_HS_BAD_VERSION:
		snprintf(out, len, "version %u asked, this server speaks %u", h->version,
			 PP_HS_VERSION);
		break;
	case PP_HS_BAD_FLAGS:
		snprintf(out, len, "flags 0x%x not known", h->flags & ~PP_HS_FLAGS_KNOWN);
		break;
	case PP_HS_BAD_LENGTH:
		snprintf(out, len, "hello length must be %u..%u B", PP_HS_HELLO_LEN,
			 PP_HS_HELLO_MAX);
		break;
	default:
		out[0] = '\0';
	}
}

static bool reserve(const struct pp_server_conn_cfg *cfg, uint64_t bytes)
{
	uint64_t used = atomic_load(cfg->mem_used);

	do {
		if (used + bytes > cfg->mem_budget)
			return false;
	} while (!atomic_compare_exchange_weak(cfg->mem_used, &used, used + bytes));
	return true;
}

static void echo_loop(int fd, const struct pp_server_conn_cfg *cfg, struct pp_watch *watch,
		      uint8_t *buf, struct pp_server_conn_result *res)
{
	size_t size = res->msg_size;

	for (;;) {
		size_t got = 0;
		int rc = cfg->spin ? pp_spin_until_readable(fd, NULL) : 0;

		if (!rc)
			rc = pp_sock_read_full(fd, buf, size, &got);

		if (rc) {
			if (pp_watch_fired(watch))
				res->end = PP_SERVER_CONN_IDLE;
			else if ((rc == -EPIPE || rc == -ECONNRESET) && !got)
				res->end = PP_SERVER_CONN_PEER_DONE;
			else if (rc == -EPIPE || rc == -ECONNRESET)
				res->end = PP_SERVER_CONN_VANISHED;
			else
				res->end = PP_SERVER_CONN_ERROR;
			if (res->end != PP_SERVER_CONN_PEER_DONE)
				res->err = rc;
			return;
		}
		if (res->count && res->echoed == res->count) {
			res->end = PP_SERVER_CONN_TOO_MANY;
			return;
		}
		if (cfg->reply_delay_ns)
			wait_until(now_ns() + cfg->reply_delay_ns, cfg->reply_delay_ns);
		rc = pp_sock_write_full(fd, buf, size);
		if (rc) {
			res->end = pp_watch_fired(watch) ? PP_SERVER_CONN_IDLE :
				   rc == -EAGAIN ? PP_SERVER_CONN_STALLED : PP_SERVER_CONN_VANISHED;
			res->err = rc;
			return;
		}
		res->echoed++;
		if (watch)
			pp_watch_bump(watch);
	}
}

void pp_server_conn_serve(int fd, const struct pp_server_conn_cfg *cfg, struct pp_watch *watch,
		   struct pp_server_conn_result *res)
{
	int send_ms = cfg->send_timeout_ms ? cfg->send_timeout_ms : PP_SERVER_CONN_SEND_TIMEOUT_MS;
	struct pp_hello hello = { 0 };
	uint8_t *buf;
	enum pp_hs_status status;

	memset(res, 0, sizeof(*res));
	pp_set_nodelay(fd);
	if (cfg->reply_delay_ns)
		prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* sleeps end on time, not 50 us late */
	pp_set_timeouts(fd, PP_SERVER_CONN_HELLO_TIMEOUT_MS, send_ms);
	status = read_hello(fd, &hello, res);
	res->msg_size = hello.msg_size;
	res->count = hello.count;
	if (status == PP_HS_INTERNAL) {
		res->end = res->err == -EAGAIN || res->err == -EPIPE || res->err == -ECONNRESET ?
			PP_SERVER_CONN_NO_HELLO : PP_SERVER_CONN_ERROR;
		return;
	}
	res->status = status;
	/* a complete hello is progress: the accept loop sheds only connections without one */
	if (watch)
		pp_watch_bump(watch);
	if (status != PP_HS_OK) {
		char reason[PP_HS_REASON_MAX + 1];

		refusal_reason(status, &hello, reason, sizeof(reason));
		send_reply(fd, status, reason);
		res->end = PP_SERVER_CONN_REFUSED;
		return;
	}
	if (!reserve(cfg, hello.msg_size)) {
		res->status = PP_HS_BUSY;
		send_reply(fd, PP_HS_BUSY, "out of message buffer memory, try later or smaller");
		res->end = PP_SERVER_CONN_REFUSED;
		return;
	}
	buf = malloc(hello.msg_size);
	if (!buf) {
		atomic_fetch_sub(cfg->mem_used, hello.msg_size);
		res->status = PP_HS_INTERNAL;
		send_reply(fd, PP_HS_INTERNAL, "out of memory");
		res->end = PP_SERVER_CONN_REFUSED;
		return;
	}
	/* Fault the pages in now: a first touch inside the echo would be measured. */
	memset(buf, 0, hello.msg_size);
	/* No receive timeout from here on (see watchdog.h); a send blocks only when the
	 * client stops reading, so its timeout costs nothing otherwise. */
	pp_set_timeouts(fd, 0, send_ms);
	send_reply(fd, PP_HS_OK, NULL);
	echo_loop(fd, cfg, watch, buf, res);
	free(buf);
	atomic_fetch_sub(cfg->mem_used, hello.msg_size);
}

const char *pp_server_conn_end_name(enum pp_server_conn_end end)
{
	switch (end) {
	case PP_SERVER_CONN_PEER_DONE: return "peer closed";
	case PP_SERVER_CONN_REFUSED: return "hello refused";
	case PP_SERVER_CONN_NO_HELLO: return "no hello";
	case PP_SERVER_CONN_VANISHED: return "peer vanished mid-message";
	case PP_SERVER_CONN_STALLED: return "peer stopped taking pongs";
	case PP_SERVER_CONN_IDLE: return "no message within the idle timeout";
	case PP_SERVER_CONN_TOO_MANY: return "more messages than announced";
	case PP_SERVER_CONN_ERROR: return "socket error";
	}
	return "?";
}
