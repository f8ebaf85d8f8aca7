// SPDX-License-Identifier: MIT
/* One server connection end to end over a socketpair: the handshake's refusals, the echo,
 * the reply delay, and a misbehaving client costing only its connection. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ping/server_conn.h"
#include "ping/handshake.h"
#include "common/net.h"
#include "ping/client_loop.h"
#include "check_main.h"

struct server {
	pthread_t thread;
	int fd;
	_Atomic uint64_t mem_used;
	struct pp_server_conn_cfg cfg;
	struct pp_watch watch;
	struct pp_server_conn_result res;
};

static volatile sig_atomic_t no_stop;

static void *server_main(void *arg)
{
	struct server *s = arg;

	pp_server_conn_serve(s->fd, &s->cfg, &s->watch, &s->res);
	shutdown(s->fd, SHUT_RDWR); /* what closing does in the server, minus fd reuse */
	return NULL;
}

/* Starts a server thread on one end of a socketpair; returns the client's end. */
static int start(struct server *s, uint64_t delay_ns)
{
	int sv[2];

	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s->fd = sv[1];
	s->cfg = (struct pp_server_conn_cfg){ .reply_delay_ns = delay_ns, .mem_budget = 1 << 30,
				       .mem_used = &s->mem_used, .send_timeout_ms = 200 };
	pp_watch_init(&s->watch);
	ck_assert_int_eq(pp_set_timeouts(sv[0], 3000, 3000), 0);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
	return sv[0];
}

static void finish(struct server *s, int cfd)
{
	if (cfd >= 0)
		close(cfd);
	pthread_join(s->thread, NULL);
	close(s->fd);
	ck_assert_uint_eq(s->mem_used, 0); /* every buffer given back */
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

START_TEST(test_echoes_every_message_then_ends_cleanly)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;
	struct pp_client_loop loop;
	struct pp_sample_ring rtt;
	uint64_t done, start;
	int64_t v;

	ck_assert_int_eq(pp_client_hello(cfd, 3000, 200, &reply), 0);
	ck_assert_uint_eq(reply.status, PP_HS_OK);
	ck_assert_int_eq(pp_client_loop_init(&loop, cfd, 3000), 0);
	loop.stop = &no_stop;
	ck_assert_int_eq(pp_sample_ring_init(&rtt, 256), 0);
	ck_assert_int_eq(pp_client_loop_run(&loop, 200, &rtt, &done), 0);
	ck_assert_uint_eq(done, 200);
	for (int i = 0; i < 200; i++) {
		ck_assert(pp_sample_ring_get(&rtt, (uint64_t)i, &start, &v));
		ck_assert_int_gt(v, 0);
		ck_assert_uint_gt(start, 0);
	}
	pp_sample_ring_free(&rtt);
	pp_client_loop_free(&loop);
	finish(&s, cfd);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_PEER_DONE);
	ck_assert_uint_eq(s.res.echoed, 200);
	ck_assert_uint_eq(s.res.msg_size, 3000);
}
END_TEST

/* n exchanges (interval_ns apart, both ends spinning or not), then silence: the server's
 * watchdog (200 ms) must end the connection as idle after echoing all n. */
static void exchanges_then_silence(uint32_t size, uint64_t n, uint64_t interval_ns, bool spin)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;
	struct pp_client_loop loop;
	struct pp_watchdog dog;
	uint64_t done;

	s.cfg.spin = spin;
	ck_assert_int_eq(pp_watchdog_start(&dog, &s.watch, s.fd, 200000000ULL), 0);
	ck_assert_int_eq(pp_client_hello(cfd, size, 0, &reply), 0);
	ck_assert_uint_eq(reply.status, PP_HS_OK);
	ck_assert_int_eq(pp_client_loop_init(&loop, cfd, size), 0);
	loop.stop = &no_stop;
	loop.interval_ns = interval_ns;
	loop.spin = spin;
	ck_assert_int_eq(pp_client_loop_run(&loop, n, NULL, &done), 0);
	ck_assert_uint_eq(done, n);
	pthread_join(s.thread, NULL); /* then silence */
	pp_watchdog_stop(&dog);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_IDLE);
	ck_assert_uint_eq(s.res.echoed, n);
	pp_client_loop_free(&loop);
	close(cfd);
	close(s.fd);
}

/* Both ends polling instead of sleeping: every message still echoed, and a server spinning
 * on a client that went silent is still dropped by its watchdog. */
START_TEST(test_spinning_ends_echo_and_the_watchdog_still_ends_a_silent_client)
{
	exchanges_then_silence(1000, 500, 0, true);
}
END_TEST

/* The spin ends at once when asked to stop, and does not spin at all on a ready socket. */
START_TEST(test_spin_stops_when_asked_and_returns_when_readable)
{
	static volatile sig_atomic_t stop_now = 1;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pp_spin_until_readable(sv[0], &stop_now), -EINTR);
	ck_assert_int_eq(write(sv[1], "0123456789", 10), 10);
	ck_assert_int_eq(pp_spin_until_readable(sv[0], &no_stop), 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static void expect_refusal(uint32_t size, uint16_t status, const char *reason)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;

	ck_assert_int_eq(pp_client_hello(cfd, size, 1, &reply), 0);
	ck_assert_uint_eq(reply.status, status);
	ck_assert_str_eq(reply.reason, reason);
	finish(&s, cfd);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_REFUSED);
}

START_TEST(test_size_out_of_bounds_is_refused_with_a_reason)
{
	expect_refusal(0, PP_HS_BAD_SIZE, "0 B is not in 1..16777216 B");
	expect_refusal(PP_MSG_SIZE_MAX + 1, PP_HS_BAD_SIZE, "16777217 B is not in 1..16777216 B");
}
END_TEST

START_TEST(test_garbage_gets_bad_magic)
{
	struct server s;
	int cfd = start(&s, 0);
	uint8_t buf[PP_HS_REPLY_MAX];
	struct pp_hs_reply reply;
	ssize_t n;

	ck_assert_int_eq(pp_sock_write_full(cfd, "GET / HTTP/1.0\r\n\r\n", 18), 0);
	n = recv(cfd, buf, sizeof(buf), MSG_WAITALL);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(pp_hs_reply_decode(buf, (size_t)n, &reply), 0);
	ck_assert_uint_eq(reply.status, PP_HS_BAD_MAGIC);
	finish(&s, cfd);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_REFUSED);
}
END_TEST

START_TEST(test_other_version_is_refused_naming_ours)
{
	struct server s;
	int cfd = start(&s, 0);
	uint8_t buf[PP_HS_REPLY_MAX];
	struct pp_hs_reply reply;
	struct pp_hello hello;
	int len;

	pp_hello_init(&hello, 64, 1, 0);
	hello.version = 2;
	len = pp_hello_encode(&hello, buf, sizeof(buf));
	ck_assert_int_eq(pp_sock_write_full(cfd, buf, (size_t)len), 0);
	len = (int)recv(cfd, buf, sizeof(buf), MSG_WAITALL);
	ck_assert_int_eq(pp_hs_reply_decode(buf, (size_t)len, &reply), 0);
	ck_assert_uint_eq(reply.status, PP_HS_BAD_VERSION);
	ck_assert_uint_eq(reply.version, 1);
	ck_assert_str_eq(reply.reason, "version 2 asked, this server speaks 1");
	finish(&s, cfd);
}
END_TEST

START_TEST(test_message_larger_than_budget_is_busy)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;

	s.cfg.mem_budget = 1000;
	ck_assert_int_eq(pp_client_hello(cfd, 1001, 1, &reply), 0);
	ck_assert_uint_eq(reply.status, PP_HS_BUSY);
	finish(&s, cfd);
}
END_TEST

START_TEST(test_silent_client_costs_its_connection_only)
{
	struct server s;
	int cfd = start(&s, 0);

	/* Gone before its hello: the connection ends at once, on the peer's close (-EPIPE), not
	 * after the hello timeout (-EAGAIN); told apart by the cause, not by a clock. */
	close(cfd);
	finish(&s, -1);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_NO_HELLO);
	ck_assert_int_eq(s.res.err, -EPIPE);
}
END_TEST

START_TEST(test_client_vanishing_mid_message)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;

	ck_assert_int_eq(pp_client_hello(cfd, 100, 5, &reply), 0);
	ck_assert_int_eq(pp_sock_write_full(cfd, "half", 4), 0);
	finish(&s, cfd);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_VANISHED);
}
END_TEST

START_TEST(test_client_stalling_mid_message_is_dropped_by_the_watchdog)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;
	struct pp_watchdog dog;
	uint64_t t0 = now_ns();

	ck_assert_int_eq(pp_watchdog_start(&dog, &s.watch, s.fd, 300000000ULL), 0);
	ck_assert_int_eq(pp_client_hello(cfd, 100, 5, &reply), 0);
	ck_assert_int_eq(pp_sock_write_full(cfd, "half", 4), 0);
	pthread_join(s.thread, NULL);
	pp_watchdog_stop(&dog);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_IDLE);
	/* not before its 300 ms (no upper bound: a watchdog that never fires hangs the join,
	 * which the tcase timeout catches) */
	ck_assert_uint_ge(now_ns() - t0, 300000000ULL);
	close(cfd);
	close(s.fd);
}
END_TEST

START_TEST(test_idle_client_is_dropped_by_the_watchdog_but_not_a_busy_one)
{
	/* 10 exchanges over 0.5 s: longer than the timeout, but never idle that long */
	exchanges_then_silence(100, 10, 50000000, false);
}
END_TEST

START_TEST(test_client_not_taking_pongs_is_dropped_after_send_timeout)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;
	static uint8_t msg[65536];

	ck_assert_int_eq(pp_client_hello(cfd, sizeof(msg), 0, &reply), 0);
	/* Pings, and never a read: the server's pongs fill both buffers, then its send waits. */
	for (int i = 0; i < 200 && s.res.end == PP_SERVER_CONN_PEER_DONE; i++)
		if (send(cfd, msg, sizeof(msg), MSG_DONTWAIT) < 0)
			usleep(20000);
	pthread_join(s.thread, NULL);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_STALLED);
	close(cfd);
	close(s.fd);
}
END_TEST

/* A fake server's opening: takes the hello, answers ok, takes the first 16-byte ping. */
static void take_hello_and_ping(int fd)
{
	uint8_t reply[PP_HS_REPLY_MAX], buf[PP_HS_HELLO_LEN];
	int len = pp_hs_reply_encode(PP_HS_OK, NULL, reply, sizeof(reply));

	pp_sock_read_full(fd, buf, PP_HS_HELLO_LEN, NULL);
	pp_sock_write_full(fd, reply, (size_t)len);
	pp_sock_read_full(fd, buf, 16, NULL);
}

/* A server that takes the hello and the first ping, then says nothing. */
static void *mute_server(void *arg)
{
	take_hello_and_ping(*(int *)arg);
	return NULL;
}

/* One exchange of 16-byte messages by a client against a fake server (peer, in a thread),
 * with a 300 ms watchdog if asked: the loop's result, *done its exchanges. */
static int client_against(void *(*peer)(void *), bool watchdog, uint64_t *done)
{
	struct pp_hs_reply reply;
	struct pp_client_loop loop;
	struct pp_watch watch;
	struct pp_watchdog dog;
	pthread_t thread;
	int sv[2], rc;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pthread_create(&thread, NULL, peer, &sv[1]);
	ck_assert_int_eq(pp_client_hello(sv[0], 16, 1, &reply), 0);
	ck_assert_int_eq(pp_client_loop_init(&loop, sv[0], 16), 0);
	loop.stop = &no_stop;
	if (watchdog) {
		pp_watch_init(&watch);
		ck_assert_int_eq(pp_watchdog_start(&dog, &watch, sv[0], 300000000ULL), 0);
		loop.watch = &watch;
	}
	rc = pp_client_loop_run(&loop, 1, NULL, done);
	if (watchdog)
		pp_watchdog_stop(&dog);
	pp_client_loop_free(&loop);
	pthread_join(thread, NULL);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

START_TEST(test_missing_pong_is_a_timeout_from_the_client_watchdog)
{
	uint64_t done;

	/* the watchdog's doing (no clock read: without it the recv would hang to the tcase timeout) */
	ck_assert_int_eq(client_against(mute_server, true, &done), -ETIMEDOUT);
}
END_TEST

START_TEST(test_more_messages_than_announced_ends_the_connection)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;
	struct pp_client_loop loop;
	uint64_t done;

	ck_assert_int_eq(pp_client_hello(cfd, 10, 2, &reply), 0);
	ck_assert_int_eq(pp_client_loop_init(&loop, cfd, 10), 0);
	loop.stop = &no_stop;
	ck_assert_int_eq(pp_client_loop_run(&loop, 3, NULL, &done), -EPIPE);
	ck_assert_uint_eq(done, 2);
	pp_client_loop_free(&loop);
	finish(&s, cfd);
	ck_assert_int_eq(s.res.end, PP_SERVER_CONN_TOO_MANY);
}
END_TEST

static void check_delay(uint64_t delay_ns)
{
	struct server s;
	int cfd = start(&s, delay_ns);
	struct pp_hs_reply reply;
	struct pp_client_loop loop;
	struct pp_sample_ring rtt;
	uint64_t done, start;
	int64_t v;

	ck_assert_int_eq(pp_client_hello(cfd, 64, 20, &reply), 0);
	ck_assert_int_eq(pp_client_loop_init(&loop, cfd, 64), 0);
	loop.stop = &no_stop;
	ck_assert_int_eq(pp_sample_ring_init(&rtt, 32), 0);
	ck_assert_int_eq(pp_client_loop_run(&loop, 20, &rtt, &done), 0);
	for (int i = 0; i < 20; i++) {
		ck_assert(pp_sample_ring_get(&rtt, (uint64_t)i, &start, &v));
		ck_assert_int_ge(v, (int64_t)delay_ns);
	}
	pp_sample_ring_free(&rtt);
	pp_client_loop_free(&loop);
	finish(&s, cfd);
}

START_TEST(test_reply_delay_spun_and_slept)
{
	check_delay(50000);   /* spin */
	check_delay(2000000); /* sleep */
}
END_TEST

/* A peer that answers the hello, then sends back bytes that are not the ping. */
static void *wrong_echo(void *arg)
{
	int fd = *(int *)arg;
	uint8_t pong[16];

	take_hello_and_ping(fd);
	memset(pong, 'z', sizeof(pong));
	pp_sock_write_full(fd, pong, sizeof(pong));
	return NULL;
}

START_TEST(test_pong_that_is_not_the_ping_is_an_error)
{
	uint64_t done;

	ck_assert_int_eq(client_against(wrong_echo, false, &done), -EBADMSG);
	ck_assert_uint_eq(done, 0);
}
END_TEST

START_TEST(test_hello_answered_by_something_else_is_eproto)
{
	struct pp_hs_reply reply;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pp_sock_write_full(sv[1], "HTTP/1.1 400 Bad Request\r\n", 26), 0);
	ck_assert_int_eq(pp_client_hello(sv[0], 16, 1, &reply), -EPROTO);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_interval_spaces_the_exchanges)
{
	struct server s;
	int cfd = start(&s, 0);
	struct pp_hs_reply reply;
	struct pp_client_loop loop;
	uint64_t done, t0;

	ck_assert_int_eq(pp_client_hello(cfd, 64, 11, &reply), 0);
	ck_assert_int_eq(pp_client_loop_init(&loop, cfd, 64), 0);
	loop.stop = &no_stop;
	loop.interval_ns = 20000000; /* 20 ms */
	t0 = now_ns();
	ck_assert_int_eq(pp_client_loop_run(&loop, 11, NULL, &done), 0);
	ck_assert_uint_ge(now_ns() - t0, 200000000ULL);
	pp_client_loop_free(&loop);
	finish(&s, cfd);
}
END_TEST

PP_CHECK_TESTS("echo", 20,
	       test_spinning_ends_echo_and_the_watchdog_still_ends_a_silent_client,
	       test_spin_stops_when_asked_and_returns_when_readable,
	       test_echoes_every_message_then_ends_cleanly,
	       test_size_out_of_bounds_is_refused_with_a_reason,
	       test_garbage_gets_bad_magic,
	       test_other_version_is_refused_naming_ours,
	       test_message_larger_than_budget_is_busy,
	       test_silent_client_costs_its_connection_only,
	       test_client_vanishing_mid_message,
	       test_client_stalling_mid_message_is_dropped_by_the_watchdog,
	       test_idle_client_is_dropped_by_the_watchdog_but_not_a_busy_one,
	       test_client_not_taking_pongs_is_dropped_after_send_timeout,
	       test_missing_pong_is_a_timeout_from_the_client_watchdog,
	       test_more_messages_than_announced_ends_the_connection,
	       test_reply_delay_spun_and_slept,
	       test_pong_that_is_not_the_ping_is_an_error,
	       test_hello_answered_by_something_else_is_eproto,
	       test_interval_spaces_the_exchanges)
