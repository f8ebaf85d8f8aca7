// SPDX-License-Identifier: MIT
/* The control channel over loopback in one process: the agent's server in a thread, the
 * client's fetch in the test; who gets which events, and every wait bounded. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"
#include "collect/fetch.h"
#include "check_main.h"

#define TIMEOUT_MS 300

/* ---- a store: an array of events, handed out whole (the server must do the filtering) ---- */

struct store {
	struct pp_event *ev;
	size_t n, cap;
	int fail_with;        /* for_each_event returns this after the first pass */
	int passes;
	uint64_t counted;     /* store_counts calls: the probe's cost grows by 1000 ns, 10 runs each */
};

static void store_add(struct store *s, const struct pp_event *ev)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
		ck_assert_ptr_nonnull(s->ev);
	}
	s->ev[s->n++] = *ev;
}

static int store_each(void *ctx, const struct pp_flow_key *flow, pp_emit_fn emit, void *emit_ctx)
{
	struct store *s = ctx;
	int err;

	(void)flow;
	if (s->passes++ && s->fail_with)
		return s->fail_with;
	for (size_t i = 0; i < s->n; i++)
		if ((err = emit(emit_ctx, &s->ev[i])) < 0)
			return err;
	return 0;
}

static void store_counts(void *ctx, struct pp_end_counts *c)
{
	struct store *s = ctx;

	c->lost_samples = 17;
	c->pcap_drops = 3;
	c->dropped = 2;
	s->counted++;
	c->bpf_known = true;
	c->bpf_run_ns = 1000 * s->counted;
	c->bpf_runs = 10 * s->counted;
}

/* Follow mode: the events a follower took leave the store, a vanished one's come back. */
static void store_take(void *ctx, const struct pp_flow_key *flow,
		       bool (*taken)(void *tctx, const struct pp_event *ev), void *tctx)
{
	struct store *s = ctx;
	size_t kept = 0;

	for (size_t i = 0; i < s->n; i++)
		if (pp_flow_dir(flow, &s->ev[i]) == PP_DIR_NONE || !taken(tctx, &s->ev[i]))
			s->ev[kept++] = s->ev[i];
	s->n = kept;
}

static void store_put_back(void *ctx, const struct pp_event *ev)
{
	store_add(ctx, ev);
}

/* An event of the connection client:cport -> 198.18.0.2:12345, either way. */
static struct pp_event conn_event(uint16_t cport, bool to_server, uint64_t ts, uint32_t seq, uint32_t len)
{
	struct pp_event ev = { 0 };
	uint8_t c[4] = { 198, 18, 0, 1 }, s[4] = { 198, 18, 0, 2 };

	ev.ts_ns = ts;
	ev.seq = seq;
	ev.len = len;
	ev.family = PP_AF_INET;
	ev.point = to_server ? PP_RX : PP_XMIT;
	memcpy(to_server ? ev.saddr : ev.daddr, c, 4);
	memcpy(to_server ? ev.daddr : ev.saddr, s, 4);
	ev.sport = to_server ? cport : 12345;
	ev.dport = to_server ? 12345 : cport;
	return ev;
}

static struct pp_flow_key key_for(uint16_t cport)
{
	struct pp_flow_key k;

	ck_assert_int_eq(pp_flow_key_set(&k, "198.18.0.1", cport, "198.18.0.2", 12345), 0);
	return k;
}

/* ---- the agent in a thread ---- */

struct agent {
	struct pp_control_server *srv;
	pthread_t thread;
	atomic_bool stop;
	atomic_int last_result;
	atomic_int results;
	char last_error[PP_ERR_MSG_MAX]; /* written before results counts it */
	struct store store;
};

static void *agent_loop(void *arg)
{
	struct agent *a = arg;

	/* bounded: the test stops it, and 20 s is far beyond any test here */
	for (int i = 0; i < 400 && !atomic_load(&a->stop); i++) {
		struct pollfd p = { .fd = pp_control_server_fd(a->srv), .events = POLLIN };

		if (poll(&p, 1, 50) > 0) {
			struct pp_err err = { 0 };
			int r = pp_control_server_serve_one(a->srv, &err);

			if (r != 0) {
				snprintf(a->last_error, sizeof(a->last_error), "%s", err.msg);
				atomic_store(&a->last_result, r);
				atomic_fetch_add(&a->results, 1);
			}
		}
	}
	return NULL;
}

static void agent_start(struct agent *a)
{
	struct pp_control_server_opts opts = {
		.bind_addr = "127.0.0.1",
		.port = 0,
		.timeout_ms = TIMEOUT_MS,
		.source = { store_each, store_counts, &a->store },
	};

	ck_assert_int_eq(pp_control_server_open(&a->srv, &opts), 0);
	ck_assert_uint_gt(pp_control_server_port(a->srv), 0);
	atomic_store(&a->stop, false);
	atomic_store(&a->results, 0);
	ck_assert_int_eq(pthread_create(&a->thread, NULL, agent_loop, a), 0);
}

static void agent_stop(struct agent *a)
{
	atomic_store(&a->stop, true);
	pthread_join(a->thread, NULL);
	pp_control_server_close(a->srv);
	free(a->store.ev);
}

static void wait_results(struct agent *a, int n)
{
	for (int i = 0; i < 200 && atomic_load(&a->results) < n; i++)
		usleep(10000);
	ck_assert_int_ge(atomic_load(&a->results), n);
}

struct got {
	struct pp_event ev[20000];
	size_t n;
};

static int collect(void *ctx, const struct pp_event *ev)
{
	struct got *g = ctx;

	ck_assert_uint_lt(g->n, 20000);
	g->ev[g->n++] = *ev;
	return 0;
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Two connections from ports 40000 and 40001 interleaved, 40000 in both directions. */
static void fill_two_connections(struct store *s, int n)
{
	for (int i = 0; i < n; i++) {
		struct pp_event a = conn_event(40000, i & 1, 1000 + i, 100 + i, 10);
		struct pp_event b = conn_event(40001, true, 1000 + i, 5000 + i, 10);

		store_add(s, &a);
		store_add(s, &b);
	}
}

/* A fetch of k from the control port port on this host, into g. */
static int fetch(uint16_t port, struct pp_flow_key k, struct got *g, struct pp_fetch_stats *st)
{
	return pp_control_fetch("127.0.0.1", port, &k, TIMEOUT_MS, collect, g, st);
}

/* A TCP socket on 127.0.0.1 and a free port (listening if asked): the fd, *port set. */
static int loopback_socket(bool listening, uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		ck_assert_int_eq(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* An agent in a thread over two connections' events, n each. */
static void agent_start_with(struct agent *a, int n)
{
	fill_two_connections(&a->store, n);
	agent_start(a);
}

/* A fetch of k from that agent. */
static int fetch_agent(const struct agent *a, struct pp_flow_key k, struct got *g,
		       struct pp_fetch_stats *st)
{
	return fetch(pp_control_server_port(a->srv), k, g, st);
}

START_TEST(test_fetch_gets_only_its_connection)
{
	static struct agent a;
	static struct got g;
	struct pp_flow_key k = key_for(40000);
	struct pp_fetch_stats st;

	agent_start_with(&a, 100);
	ck_assert_int_eq(fetch_agent(&a, k, &g, &st), 0);
	ck_assert_uint_eq(g.n, 100);
	for (size_t i = 0; i < g.n; i++) {
		ck_assert_int_ne(pp_flow_dir(&k, &g.ev[i]), PP_DIR_NONE);
		ck_assert_uint_eq(g.ev[i].seq, 100 + i);     /* in the store's order, unchanged */
		ck_assert_mem_eq(&g.ev[i], &a.store.ev[2 * i], sizeof(g.ev[i]));
	}
	ck_assert(st.complete);
	ck_assert_uint_eq(st.events, 100);
	ck_assert_uint_eq(st.foreign, 0);
	ck_assert_uint_eq(st.agent.events_sent, 100);
	ck_assert_uint_eq(st.agent.lost_samples, 17);
	ck_assert_uint_eq(st.agent.pcap_drops, 3);
	ck_assert_uint_eq(st.agent.dropped, 2);
	wait_results(&a, 1);
	ck_assert_uint_eq(pp_control_server_stats(a.srv)->events_filtered, 100);
	agent_stop(&a);
}
END_TEST

START_TEST(test_wrong_tuple_gets_nothing)
{
	static struct agent a;
	static struct got g;
	struct pp_flow_key k = key_for(40002);
	struct pp_fetch_stats st;

	agent_start_with(&a, 50);
	ck_assert_int_eq(fetch_agent(&a, k, &g, &st), 0);
	ck_assert_uint_eq(g.n, 0);
	ck_assert(st.complete);
	ck_assert_uint_eq(st.agent.events_sent, 0);
	/* the same addresses with the server's port as the client's: still not a match */
	ck_assert_int_eq(pp_flow_key_set(&k, "198.18.0.2", 40000, "198.18.0.1", 12345), 0);
	ck_assert_int_eq(fetch_agent(&a, k, &g, &st), 0);
	ck_assert_uint_eq(g.n, 0);
	agent_stop(&a);
}
END_TEST

/* The 4-tuple was used by an older connection (another SYN seq): only ours is served. */
START_TEST(test_earlier_connection_on_same_tuple_is_not_served)
{
	static struct agent a;
	static struct got g;
	struct pp_fetch_req req = { .flow = key_for(40000), .flags = PP_FETCH_HAVE_ISN, .isn = 777 };
	struct pp_event syn_old = conn_event(40000, true, 10, 111, 0);
	struct pp_event syn_new = conn_event(40000, true, 5000, 777, 0);
	struct pp_fetch *f;
	struct pp_event ev;
	int r;

	syn_old.tcp_flags = syn_new.tcp_flags = PP_TCP_SYN;
	store_add(&a.store, &syn_old);
	for (int i = 0; i < 10; i++) {
		struct pp_event e = conn_event(40000, true, 100 + i, 112 + i, 1);

		store_add(&a.store, &e);
	}
	store_add(&a.store, &syn_new);
	for (int i = 0; i < 5; i++) {
		struct pp_event e = conn_event(40000, false, 6000 + i, 9000 + i, 1);

		store_add(&a.store, &e);
	}
	agent_start(&a);
	/* by ISN */
	ck_assert_int_eq(pp_control_fetch_open(&f, "127.0.0.1", pp_control_server_port(a.srv), &req, TIMEOUT_MS), 0);
	while ((r = pp_control_fetch_next(f, &ev)) == 1)
		collect(&g, &ev);
	ck_assert_int_eq(r, 0);
	pp_control_fetch_close(f);
	ck_assert_uint_eq(g.n, 6);                      /* our SYN and our 5 events */
	ck_assert_uint_ge(g.ev[0].ts_ns, 5000);
	/* without ISN: the latest connection */
	g.n = 0;
	ck_assert_int_eq(fetch_agent(&a, req.flow, &g, NULL), 0);
	ck_assert_uint_eq(g.n, 6);
	/* asking for the old one by its ISN: the old one only, up to the new SYN */
	g.n = 0;
	req.isn = 111;
	ck_assert_int_eq(pp_control_fetch_open(&f, "127.0.0.1", pp_control_server_port(a.srv), &req, TIMEOUT_MS), 0);
	while ((r = pp_control_fetch_next(f, &ev)) == 1)
		collect(&g, &ev);
	ck_assert_int_eq(r, 0);
	pp_control_fetch_close(f);
	ck_assert_uint_eq(g.n, 11);
	agent_stop(&a);
}
END_TEST

START_TEST(test_many_events_span_batches)
{
	static struct agent a;
	static struct got g;
	struct pp_flow_key k = key_for(40000);
	struct pp_fetch_stats st;

	agent_start_with(&a, 3 * PP_PROTO_MAX_BATCH + 5);
	ck_assert_int_eq(fetch_agent(&a, k, &g, &st), 0);
	ck_assert_uint_eq(g.n, 3 * PP_PROTO_MAX_BATCH + 5);
	ck_assert_uint_eq(g.ev[g.n - 1].seq, 100 + g.n - 1);
	ck_assert_uint_eq(st.agent.events_sent, g.n);
	agent_stop(&a);
}
END_TEST

static int raw_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A client that connects and says nothing costs the agent one timeout, then it serves on. */
START_TEST(test_silent_client_times_out_on_the_agent)
{
	static struct agent a;
	static struct got g;
	struct pp_flow_key k = key_for(40000);
	uint8_t buf[64];
	struct pp_frame_hdr hdr;
	int64_t t0;
	int fd;

	agent_start_with(&a, 10);
	t0 = ms_now();
	fd = raw_connect(pp_control_server_port(a.srv));
	wait_results(&a, 1);
	ck_assert_int_eq(atomic_load(&a.last_result), -ETIMEDOUT);
	ck_assert_str_eq(a.last_error, "request: Connection timed out");
	/* not before the timeout; no upper bound (a wait that never ends hits the tcase timeout) */
	ck_assert_int_ge(ms_now() - t0, TIMEOUT_MS - 20);
	/* it was told why */
	ck_assert_int_eq(recv(fd, buf, PP_PROTO_HDR_LEN, MSG_WAITALL), PP_PROTO_HDR_LEN);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, PP_PROTO_HDR_LEN, &hdr), 0);
	ck_assert_uint_eq(hdr.type, PP_MSG_ERROR);
	ck_assert_int_eq(recv(fd, buf, hdr.length, MSG_WAITALL), (ssize_t)hdr.length);
	ck_assert_uint_eq(buf[1], PP_ERR_TIMEOUT);
	close(fd);
	ck_assert_int_eq(fetch_agent(&a, k, &g, NULL), 0);
	ck_assert_uint_eq(g.n, 10);
	agent_stop(&a);
}
END_TEST

/* A client that sends half a request, a byte at a time, is cut off after one timeout in all:
 * while it still trickles (a byte every sixth of the timeout, 30 bytes of a longer frame), not
 * only once it stops, as a timeout restarted by every byte would. A slow machine only makes
 * fewer bytes go out before the cut, so no clock is read. */
START_TEST(test_trickling_client_is_cut_off)
{
	static struct agent a;
	struct pp_fetch_req req = { .flow = key_for(40000) };
	uint8_t frame[64];
	int fd, sent = 0;

	agent_start(&a);
	ck_assert_int_gt(pp_proto_encode_fetch(frame, sizeof(frame), &req), 30);
	fd = raw_connect(pp_control_server_port(a.srv));
	for (; sent < 30 && atomic_load(&a.results) == 0; sent++) {
		if (send(fd, frame + sent, 1, MSG_NOSIGNAL) != 1)
			break; /* the agent hung up already */
		usleep(TIMEOUT_MS * 1000 / 6);
	}
	wait_results(&a, 1);
	ck_assert_int_eq(atomic_load(&a.last_result), -ETIMEDOUT);
	ck_assert_int_lt(sent, 30);
	close(fd);
	agent_stop(&a);
}
END_TEST

/* An agent that accepts (the kernel does, into the backlog) but never answers. */
START_TEST(test_silent_agent_times_out_the_fetch)
{
	static struct got g;
	uint16_t port;
	int lfd = loopback_socket(true, &port);
	int64_t t0 = ms_now();

	ck_assert_int_eq(fetch(port, key_for(40000), &g, NULL), -ETIMEDOUT);
	ck_assert_int_ge(ms_now() - t0, TIMEOUT_MS - 20); /* not before the timeout */
	close(lfd);
}
END_TEST

START_TEST(test_no_agent_is_refused)
{
	struct pp_flow_key k = key_for(40000);
	static struct got g;
	uint16_t port;

	close(loopback_socket(false, &port)); /* a port that was just free: bound, noted, closed */
	ck_assert_int_eq(fetch(port, k, &g, NULL), -ECONNREFUSED);
	ck_assert_int_eq(pp_control_fetch("not-an-address", port, &k, TIMEOUT_MS, collect, &g, NULL), -EINVAL);
}
END_TEST

static void expect_error_reply(uint16_t port, const uint8_t *req, size_t len, uint16_t code)
{
	uint8_t buf[512];
	struct pp_frame_hdr hdr;
	char text[PP_PROTO_ERROR_TEXT_MAX + 1];
	uint16_t got_code;
	ssize_t n;
	int fd = raw_connect(port);

	ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	n = recv(fd, buf, PP_PROTO_HDR_LEN, MSG_WAITALL);
	ck_assert_int_eq(n, PP_PROTO_HDR_LEN);
	ck_assert_int_eq(pp_proto_decode_hdr(buf, PP_PROTO_HDR_LEN, &hdr), 0);
	ck_assert_uint_eq(hdr.type, PP_MSG_ERROR);
	ck_assert_int_eq(recv(fd, buf, hdr.length, MSG_WAITALL), (ssize_t)hdr.length);
	ck_assert_int_eq(pp_proto_decode_error(buf, hdr.length, &got_code, text), 0);
	ck_assert_uint_eq(got_code, code);
	ck_assert_uint_gt(strlen(text), 0);
	close(fd);
}

START_TEST(test_bad_requests_get_an_error)
{
	static struct agent a;
	struct pp_fetch_req req = { .flow = key_for(40000) };
	struct pp_end_counts end = { 0 };
	uint8_t frame[64];
	uint16_t port;

	agent_start(&a);
	port = pp_control_server_port(a.srv);
	pp_proto_encode_fetch(frame, sizeof(frame), &req);
	frame[0] = 'G';                                 /* e.g. an HTTP client */
	expect_error_reply(port, frame, 56, PP_ERR_BAD_REQUEST);
	pp_proto_encode_fetch(frame, sizeof(frame), &req);
	frame[5] = 9;                                   /* a future version */
	expect_error_reply(port, frame, 56, PP_ERR_VERSION);
	pp_proto_encode_fetch(frame, sizeof(frame), &req);
	frame[PP_PROTO_HDR_LEN] = 77;                   /* family */
	expect_error_reply(port, frame, 56, PP_ERR_BAD_REQUEST);
	pp_proto_encode_end(frame, sizeof(frame), &end); /* not a request */
	expect_error_reply(port, frame, PP_PROTO_HDR_LEN + PP_PROTO_END_LEN, PP_ERR_BAD_REQUEST);
	wait_results(&a, 4);
	ck_assert_uint_eq(pp_control_server_stats(a.srv)->failed, 4);
	ck_assert_str_eq(a.last_error, "request: not a FETCH frame (Bad message)");
	agent_stop(&a);
}
END_TEST

START_TEST(test_store_failure_reaches_the_client)
{
	static struct agent a;
	static struct got g;
	struct pp_flow_key k = key_for(40000);
	struct pp_fetch_stats st;

	fill_two_connections(&a.store, 10);
	a.store.fail_with = -EIO;
	agent_start(&a);
	ck_assert_int_eq(fetch_agent(&a, k, &g, &st), -EREMOTEIO);
	ck_assert_uint_eq(st.error_code, PP_ERR_INTERNAL);
	ck_assert(!st.complete);
	agent_stop(&a);
}
END_TEST

/* A fake agent that announces two events and hangs up after one: the fetch says so. */
static void *half_agent(void *arg)
{
	int lfd = *(int *)arg, fd;
	struct pp_event ev[2] = { conn_event(40000, true, 1, 1, 1), conn_event(40000, true, 2, 2, 1) };
	uint8_t frame[512], req[64];
	ssize_t len = pp_proto_encode_events(frame, sizeof(frame), ev, 2);

	fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		if (recv(fd, req, PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN, MSG_WAITALL) > 0 &&
		    send(fd, frame, (size_t)len - PP_PROTO_EVENT_LEN, MSG_NOSIGNAL) > 0)
			usleep(10000);
		close(fd);
	}
	return NULL;
}

START_TEST(test_agent_hanging_up_mid_frame_is_reported)
{
	static struct got g;
	uint16_t port;
	int lfd = loopback_socket(true, &port);
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, half_agent, &lfd), 0);
	ck_assert_int_eq(fetch(port, key_for(40000), &g, NULL), -ECONNRESET);
	ck_assert_uint_eq(g.n, 0);
	pthread_join(t, NULL);
	close(lfd);
}
END_TEST

/* A fake agent that resets the first connection after its FETCH (a busy agent shedding it),
 * then answers the second with END: the fetch tries again within its deadline. */
static void *reset_then_answer(void *arg)
{
	int lfd = *(int *)arg, fd;
	uint8_t req[64], frame[64];
	struct pp_end_counts end = { 0 };
	ssize_t len = pp_proto_encode_end(frame, sizeof(frame), &end);

	fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		recv(fd, req, PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN, MSG_WAITALL);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(fd);
	}
	fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		if (recv(fd, req, PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN, MSG_WAITALL) > 0 && len > 0 &&
		    send(fd, frame, (size_t)len, MSG_NOSIGNAL) > 0)
			usleep(10000);
		close(fd);
	}
	return NULL;
}

START_TEST(test_fetch_tries_again_after_a_reset)
{
	static struct got g;
	struct pp_fetch_stats st;
	uint16_t port;
	int lfd = loopback_socket(true, &port);
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, reset_then_answer, &lfd), 0);
	ck_assert_int_eq(fetch(port, key_for(40000), &g, &st), 0);
	ck_assert(st.complete);
	ck_assert_uint_eq(g.n, 0);
	pthread_join(t, NULL);
	close(lfd);
}
END_TEST

START_TEST(test_server_options_are_checked)
{
	struct pp_control_server *s;
	struct pp_control_server_opts opts = { .bind_addr = "999.1.1.1", .source = { store_each } };

	ck_assert_int_eq(pp_control_server_open(&s, &opts), -EINVAL);
	opts.bind_addr = "127.0.0.1";
	opts.source.for_each_event = NULL;
	ck_assert_int_eq(pp_control_server_open(&s, &opts), -EINVAL);
	opts.source.for_each_event = store_each;
	opts.bind_addr = NULL;                          /* any address */
	ck_assert_int_eq(pp_control_server_open(&s, &opts), 0);
	ck_assert_int_eq(pp_control_server_serve_one(s, NULL), 0); /* nobody waiting: returns at once */
	pp_control_server_close(s);
}
END_TEST

/* ---- many connections at once: the agent's loop (pollfds + handle) in a thread ---- */

struct loop_agent {
	struct pp_control_server *srv;
	pthread_t thread;
	atomic_bool stop;
	atomic_int rounds;
	struct store store;
};

static void *loop_agent_run(void *arg)
{
	struct loop_agent *a = arg;

	/* bounded: the test stops it, and 30 s is far beyond any test here */
	for (int i = 0; i < 3000 && !atomic_load(&a->stop); i++) {
		struct pollfd fds[PP_CONTROL_MAX_POLLFDS];
		int n = pp_control_server_pollfds(a->srv, fds, PP_CONTROL_MAX_POLLFDS);

		if (poll(fds, (nfds_t)n, 10) < 0)
			break;
		ck_assert_int_ge(pp_control_server_handle(a->srv, fds, n, NULL), 0);
		atomic_fetch_add(&a->rounds, 1);
	}
	return NULL;
}

static void loop_agent_start(struct loop_agent *a, int max_conns, int max_per_peer)
{
	struct pp_control_server_opts opts = {
		.bind_addr = "127.0.0.1",
		.timeout_ms = 1000,
		.first_frame_ms = 400,
		.max_conns = max_conns,
		.max_per_peer = max_per_peer,
		.source = { store_each, store_counts, &a->store },
	};

	ck_assert_int_eq(pp_control_server_open(&a->srv, &opts), 0);
	atomic_store(&a->stop, false);
	ck_assert_int_eq(pthread_create(&a->thread, NULL, loop_agent_run, a), 0);
}

static void send_all(int fd, const void *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static size_t fetch_frame(uint8_t *buf, size_t size, uint16_t cport)
{
	struct pp_fetch_req req = { .flow = key_for(cport) };
	ssize_t len = pp_proto_encode_fetch(buf, size, &req);

	ck_assert_int_gt(len, 0);
	return (size_t)len;
}

/* Reads until the peer closes or ms pass; the bytes read. */
static size_t drain(int fd, int ms)
{
	static uint8_t buf[1 << 16];
	int64_t end = ms_now() + ms;
	size_t total = 0;

	while (ms_now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((r = recv(fd, buf, sizeof(buf), 0)) <= 0)
			break;
		total += (size_t)r;
	}
	return total;
}

static void reset_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Idle, garbage, reset and a slow reader of a large answer, all at once with a good request:
 * the good one is served in full and at once, the others are counted, not logged. */
START_TEST(test_concurrent_abuse_does_not_starve_a_client)
{
	static struct loop_agent a;
	static struct got g;
	struct pp_fetch_stats st;
	int idle[6], junk[6], slow, rcvbuf = 4096;
	uint8_t req[64];
	size_t len, slow_got;
	char line[256];
	struct pp_flow_key k;
	int64_t t0;

	/* 15000 events each of 40000 (a large answer: 15 chunks) and 40001 */
	fill_two_connections(&a.store, 15000);
	loop_agent_start(&a, 64, 32);
	uint16_t port = pp_control_server_port(a.srv);

	for (int i = 0; i < 6; i++) {
		idle[i] = raw_connect(port);
		if (i & 1)
			send_all(idle[i], "\x01", 1); /* one byte of a header, then nothing */
	}
	/* the slow reader: asks for the large answer and reads nothing for a while */
	slow = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	{
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		ck_assert_int_eq(connect(slow, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	len = fetch_frame(req, sizeof(req), 40000);
	send_all(slow, req, len);
	for (int i = 0; i < 6; i++) {
		junk[i] = raw_connect(port);
		send_all(junk[i], "GET / HTTP/1.0\r\n\r\n", 18);
	}
	for (int i = 0; i < 4; i++)
		reset_close(raw_connect(port));
	usleep(50000);

	/* the good one, while all of that is held: served in full, well within its timeout */
	t0 = ms_now();
	k = key_for(40001);
	ck_assert_int_eq(pp_control_fetch("127.0.0.1", port, &k, 1000, collect, &g, &st), 0);
	ck_assert_int_lt(ms_now() - t0, 500);
	ck_assert(st.complete);
	ck_assert_uint_eq(g.n, 15000);

	/* the slow reader still gets its whole answer once it reads */
	slow_got = drain(slow, 3000);
	ck_assert_uint_gt(slow_got, 15000u * PP_PROTO_EVENT_LEN);
	close(slow);
	for (int i = 0; i < 6; i++) {
		drain(junk[i], 500); /* ERROR, then closed */
		close(junk[i]);
	}
	usleep(500000); /* past the first-frame deadline of the idle ones */
	for (int i = 0; i < 6; i++)
		close(idle[i]);
	usleep(50000);
	atomic_store(&a.stop, true);
	pthread_join(a.thread, NULL);
	atomic_store(&a.stop, false);
	{
		const struct pp_control_server_stats *ss = pp_control_server_stats(a.srv);

		ck_assert_uint_eq(ss->served, 2);
		ck_assert_uint_eq(ss->refused[PP_REFUSED_BAD_FRAME], 6);
		ck_assert_uint_eq(ss->refused[PP_REFUSED_RESET], 4);
		ck_assert_uint_eq(ss->refused[PP_REFUSED_TIMEOUT], 6);
		ck_assert_uint_eq(ss->open_conns, 0);
		ck_assert_uint_le(ss->max_open_conns, 64);
	}
	ck_assert_uint_gt(pp_control_server_summary(a.srv, true, line, sizeof(line)), 0);
	ck_assert_ptr_nonnull(strstr(line, "refused 16 connections"));
	ck_assert_ptr_nonnull(strstr(line, "6 bad frame, 4 reset, 6 timed out"));
	/* nothing new: no line, forced or not */
	ck_assert_uint_eq(pp_control_server_summary(a.srv, true, line, sizeof(line)), 0);
	pp_control_server_close(a.srv);
	free(a.store.ev);
}
END_TEST

/* At the caps (4 in all, 3 per peer), the oldest idle connection makes room for a newcomer,
 * which is served. */
START_TEST(test_caps_shed_the_idle_first)
{
	static struct loop_agent a;
	static struct got g;
	struct pp_fetch_stats st;
	struct pp_flow_key k;
	int idle[4];

	fill_two_connections(&a.store, 10);
	loop_agent_start(&a, 4, 3);
	uint16_t port = pp_control_server_port(a.srv);

	for (int i = 0; i < 4; i++)
		idle[i] = raw_connect(port);
	usleep(50000);
	k = key_for(40000);
	ck_assert_int_eq(pp_control_fetch("127.0.0.1", port, &k, 1000, collect, &g, &st), 0);
	ck_assert_uint_eq(g.n, 10);
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	usleep(50000);
	atomic_store(&a.stop, true);
	pthread_join(a.thread, NULL);
	ck_assert_uint_eq(pp_control_server_stats(a.srv)->served, 1);
	/* the 4th idle one: the 3 before it shed one, or (all in one round: none is idle yet)
	 * it is refused; the good one then sheds one */
	ck_assert_uint_ge(pp_control_server_stats(a.srv)->refused[PP_REFUSED_SHED], 1);
	ck_assert_uint_eq(pp_control_server_stats(a.srv)->refused[PP_REFUSED_SHED] +
			  pp_control_server_stats(a.srv)->refused[PP_REFUSED_OVER_CAP], 2);
	ck_assert_uint_le(pp_control_server_stats(a.srv)->max_open_conns, 4);
	pp_control_server_close(a.srv);
	free(a.store.ev);
}
END_TEST

/* ---- follow mode: the server driven by the test itself, one thread (offer must come from
 * the server's thread), the client's non-blocking reads in between ---- */

static struct pp_control_server *follow_server(struct store *st, int max_conns, int timeout_ms)
{
	struct pp_control_server_opts opts = {
		.bind_addr = "127.0.0.1",
		.timeout_ms = timeout_ms,
		.max_conns = max_conns,
		.source = { .for_each_event = store_each, .get_counts = store_counts, .ctx = st,
			    .take = store_take, .put_back = store_put_back },
	};
	struct pp_control_server *srv;

	ck_assert_int_eq(pp_control_server_open(&srv, &opts), 0);
	return srv;
}

/* Rounds of the agent's loop for ms. */
static void pump(struct pp_control_server *srv, int ms)
{
	int64_t end = ms_now() + ms;

	do {
		struct pollfd fds[PP_CONTROL_MAX_POLLFDS];
		int n = pp_control_server_pollfds(srv, fds, PP_CONTROL_MAX_POLLFDS);

		poll(fds, (nfds_t)n, 5);
		ck_assert_int_ge(pp_control_server_handle(srv, fds, n, NULL), 0);
	} while (ms_now() < end);
}

/* Pumps the server and reads the follower until END or ms pass: the last read's result. */
static int follow_until(struct pp_control_server *srv, struct pp_fetch *f, struct got *g, int ms)
{
	int64_t end = ms_now() + ms;
	int r;

	do {
		pump(srv, 5);
		r = pp_control_follow_read(f, collect, g);
	} while (r == 0 && ms_now() < end);
	return r;
}

static struct pp_fetch *follow(struct pp_control_server *srv, uint16_t cport)
{
	struct pp_fetch_req req = { .flow = key_for(cport) };
	struct pp_fetch *f;

	ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", pp_control_server_port(srv), &req, 1000), 0);
	ck_assert_int_ge(pp_control_follow_fd(f), 0);
	return f;
}

START_TEST(test_follow_stored_then_live_then_stop)
{
	static struct store st;
	static struct got g;
	struct pp_control_server *srv;
	struct pp_fetch *f;
	const struct pp_fetch_stats *fs;

	st = (struct store){ 0 };
	fill_two_connections(&st, 10);
	srv = follow_server(&st, 0, 1000);
	f = follow(srv, 40000);
	ck_assert_int_eq(follow_until(srv, f, &g, 200), 0);
	/* the stored events first, in the store's order, and gone from the store */
	ck_assert_uint_eq(g.n, 10);
	for (size_t i = 0; i < g.n; i++)
		ck_assert_uint_eq(g.ev[i].seq, 100 + i);
	ck_assert_uint_eq(st.n, 10);
	for (size_t i = 0; i < st.n; i++)
		ck_assert_uint_eq(st.ev[i].sport, 40001);
	ck_assert_int_eq(pp_control_server_followers(srv), 1);
	/* live ones go to the follower, not to the store; another connection's do not */
	for (int i = 0; i < 2500; i++) {
		struct pp_event ev = conn_event(40000, i & 1, 5000 + i, 200 + i, 10);

		ck_assert_int_eq(pp_control_server_offer(srv, &ev, true), 1);
	}
	{
		struct pp_event other = conn_event(40001, true, 9000, 1, 10);

		ck_assert_int_eq(pp_control_server_offer(srv, &other, true), 0);
	}
	ck_assert_int_eq(follow_until(srv, f, &g, 200), 0);
	ck_assert_uint_eq(g.n, 2510);
	ck_assert_uint_eq(g.ev[2509].seq, 200 + 2499);
	ck_assert_uint_eq(pp_control_server_queued(srv), 0);
	ck_assert_int_eq(pp_control_follow_stop(f), 0);
	ck_assert_int_eq(follow_until(srv, f, &g, 500), 1);
	fs = pp_control_fetch_stats(f);
	ck_assert(fs->complete);
	ck_assert_uint_eq(fs->agent.events_sent, 2510);
	ck_assert_uint_eq(fs->agent.lost_samples, 17);
	ck_assert_uint_eq(fs->agent.dropped, 2);
	/* the probe's cost of the conversation: counts at END less those at FETCH (one step) */
	ck_assert_uint_eq(st.counted, 2);
	ck_assert(fs->agent.bpf_known);
	ck_assert_uint_eq(fs->agent.bpf_run_ns, 1000);
	ck_assert_uint_eq(fs->agent.bpf_runs, 10);
	ck_assert_int_eq(pp_control_follow_read(f, collect, &g), 1); /* and stays there */
	pp_control_fetch_close(f);
	pump(srv, 20);
	ck_assert_uint_eq(pp_control_server_stats(srv)->served, 1);
	ck_assert_int_eq(pp_control_server_followers(srv), 0);
	/* the follower is gone: later events of the connection are nobody's (the store's) */
	{
		struct pp_event ev = conn_event(40000, true, 99999, 1, 10);

		ck_assert_int_eq(pp_control_server_offer(srv, &ev, true), 0);
	}
	pp_control_server_close(srv);
	free(st.ev);
}
END_TEST

START_TEST(test_follow_heartbeat)
{
	static struct store st;
	static struct got g;
	struct pp_control_server *srv;
	struct pp_fetch *f;
	uint64_t first;

	st = (struct store){ 0 };
	g.n = 0;
	srv = follow_server(&st, 0, 1000);
	f = follow(srv, 40000);
	ck_assert_int_eq(follow_until(srv, f, &g, 100), 0);
	first = pp_control_follow_last_frame_ns(f); /* the first (empty) frame */
	ck_assert_int_eq(follow_until(srv, f, &g, 700), 0);
	ck_assert_uint_eq(pp_control_follow_last_frame_ns(f), first); /* nothing to say yet */
	ck_assert_int_eq(follow_until(srv, f, &g, 600), 0);
	ck_assert_uint_gt(pp_control_follow_last_frame_ns(f), first + 900000000ull);
	ck_assert_uint_eq(g.n, 0);
	pp_control_fetch_close(f);
	pp_control_server_close(srv);
}
END_TEST

/* A follower that hangs up: one line, and its connection's later events go to the store. */
START_TEST(test_follower_reset_gives_events_back_to_the_store)
{
	static struct store st;
	static struct got g;
	struct pp_control_server *srv;
	struct pp_fetch *f;
	char line[256];

	st = (struct store){ 0 };
	g.n = 0;
	fill_two_connections(&st, 5);
	srv = follow_server(&st, 0, 1000);
	f = follow(srv, 40000);
	ck_assert_int_eq(follow_until(srv, f, &g, 100), 0);
	ck_assert_uint_eq(g.n, 5);
	shutdown(pp_control_follow_fd(f), SHUT_RDWR);
	pump(srv, 50);
	ck_assert_int_eq(pp_control_server_followers(srv), 0);
	ck_assert_uint_eq(pp_control_server_stats(srv)->followers_lost, 1);
	ck_assert_uint_gt(pp_control_server_notice(srv, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "control: follower 198.18.0.1:40000 went away after 5 events; "
			       "its later events go to the store");
	ck_assert_uint_eq(pp_control_server_notice(srv, line, sizeof(line)), 0);
	{
		struct pp_event ev = conn_event(40000, true, 99999, 1, 10);

		ck_assert_int_eq(pp_control_server_offer(srv, &ev, true), 0);
	}
	pp_control_fetch_close(f);
	pp_control_server_close(srv);
	free(st.ev);
}
END_TEST

/* No room (the agent's bound reached): a follower's events are counted as dropped, in END. A
 * follower that takes nothing for a timeout is cut off, and what it never got goes back. */
START_TEST(test_follow_drops_when_full_and_cuts_off_a_stalled_follower)
{
	static struct store st;
	static struct got g;
	struct pp_control_server *srv;
	struct pp_fetch *f;
	char line[256];
	int rcvbuf = 4096;

	st = (struct store){ 0 };
	g.n = 0;
	srv = follow_server(&st, 0, 300);
	f = follow(srv, 40000);
	ck_assert_int_eq(follow_until(srv, f, &g, 100), 0);
	for (int i = 0; i < 7; i++) {
		struct pp_event ev = conn_event(40000, true, 100 + i, 1, 10);

		ck_assert_int_eq(pp_control_server_offer(srv, &ev, false), 1);
	}
	ck_assert_uint_eq(pp_control_server_stats(srv)->events_dropped, 7);
	ck_assert_int_eq(pp_control_follow_stop(f), 0);
	ck_assert_int_eq(follow_until(srv, f, &g, 500), 1);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.dropped, 2 + 7);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.events_sent, 0);
	pp_control_fetch_close(f);

	/* a follower that reads nothing */
	f = follow(srv, 40000);
	setsockopt(pp_control_follow_fd(f), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	pump(srv, 20);
	/* more than the sockets' buffers on both ends hold */
	for (int i = 0; i < 200000; i++) {
		struct pp_event ev = conn_event(40000, true, 1000 + i, 1, 10);

		ck_assert_int_eq(pp_control_server_offer(srv, &ev, true), 1);
	}
	ck_assert_uint_gt(pp_control_server_queued(srv), 0);
	pump(srv, 600);
	ck_assert_int_eq(pp_control_server_followers(srv), 0);
	ck_assert_uint_eq(pp_control_server_queued(srv), 0);
	ck_assert_uint_gt(pp_control_server_notice(srv, line, sizeof(line)), 0);
	ck_assert_ptr_nonnull(strstr(line, "took nothing for 300 ms"));
	/* what never left came back to the store; what went into the socket did not */
	ck_assert_uint_gt(st.n, 0);
	ck_assert_uint_lt(st.n, 200000);
	pp_control_fetch_close(f);
	pp_control_server_close(srv);
	free(st.ev);
}
END_TEST

/* Followers are never idle, so never shed, but they count against the caps. */
START_TEST(test_followers_count_against_the_caps)
{
	static struct store st;
	static struct got g;
	struct pp_control_server *srv;
	struct pp_fetch *f1, *f2;
	uint8_t req[64];
	int fd;

	st = (struct store){ 0 };
	g.n = 0;
	srv = follow_server(&st, 2, 1000);
	f1 = follow(srv, 40000);
	f2 = follow(srv, 40001);
	pump(srv, 50);
	ck_assert_int_eq(pp_control_server_followers(srv), 2);
	fd = raw_connect(pp_control_server_port(srv));
	send_all(fd, req, fetch_frame(req, sizeof(req), 40002));
	pump(srv, 50);
	ck_assert_int_eq(pp_control_server_followers(srv), 2);
	ck_assert_uint_eq(pp_control_server_stats(srv)->refused[PP_REFUSED_OVER_CAP], 1);
	ck_assert_uint_eq(pp_control_server_stats(srv)->refused[PP_REFUSED_SHED], 0);
	ck_assert_int_eq(follow_until(srv, f1, &g, 50), 0);
	close(fd);
	pp_control_fetch_close(f1);
	pp_control_fetch_close(f2);
	pp_control_server_close(srv);
}
END_TEST

/* A v1 client hears, in version 1, that this agent speaks 2; a v2 client of a v1 agent (an
 * ERROR in version 1) fails with the reason. */
START_TEST(test_version_refusals)
{
	static struct agent a;
	static struct got g;
	struct pp_fetch_req req = { .flow = key_for(40000) };
	struct pp_frame_hdr hdr;
	uint8_t frame[512];
	char text[PP_PROTO_ERROR_TEXT_MAX + 1];
	uint16_t code;
	int fd;

	agent_start(&a);
	pp_proto_encode_fetch(frame, sizeof(frame), &req);
	frame[5] = 1;
	fd = raw_connect(pp_control_server_port(a.srv));
	send_all(fd, frame, 56);
	ck_assert_int_eq(recv(fd, frame, PP_PROTO_HDR_LEN, MSG_WAITALL), PP_PROTO_HDR_LEN);
	ck_assert_int_eq(pp_proto_decode_hdr(frame, PP_PROTO_HDR_LEN, &hdr), -EPROTONOSUPPORT);
	ck_assert_uint_eq(hdr.version, 1);
	ck_assert_uint_eq(hdr.type, PP_MSG_ERROR);
	ck_assert_int_eq(recv(fd, frame, hdr.length, MSG_WAITALL), (ssize_t)hdr.length);
	ck_assert_int_eq(pp_proto_decode_error(frame, hdr.length, &code, text), 0);
	ck_assert_uint_eq(code, PP_ERR_VERSION);
	ck_assert_ptr_nonnull(strstr(text, "protocol version 2"));
	close(fd);
	agent_stop(&a);
	{
		/* a fake v1 agent: answers every FETCH with a v1 ERROR */
		uint16_t port;
		int lfd = loopback_socket(true, &port), cfd;
		struct pp_fetch *f;
		ssize_t len = pp_proto_encode_error_in(frame, sizeof(frame), 1, PP_ERR_VERSION,
						       "this agent speaks version 1");

		ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", port, &req, 1000), 0);
		cfd = accept(lfd, NULL, NULL);
		send_all(cfd, frame, (size_t)len);
		for (int i = 0; i < 100; i++) {
			int r = pp_control_follow_read(f, collect, &g);

			if (r) {
				ck_assert_int_eq(r, -EPROTONOSUPPORT);
				break;
			}
			usleep(5000);
		}
		ck_assert_str_eq(pp_control_fetch_stats(f)->reason, "the agent speaks control protocol 1, "
				 "this client 2: use the same pingpong version on both hosts");
		pp_control_fetch_close(f);
		close(cfd);
		close(lfd);
	}
}
END_TEST

/* serve_one (one client at a time) serves a follower too: its stored events, then END at STOP. */
START_TEST(test_follow_through_serve_one)
{
	static struct agent a;
	static struct got g;
	struct pp_fetch_req req = { .flow = key_for(40001) };
	struct pp_fetch *f;
	int r = 0;

	g.n = 0;
	agent_start_with(&a, 30);
	ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", pp_control_server_port(a.srv), &req, 1000), 0);
	for (int i = 0; i < 100 && g.n < 30 && r == 0; i++) {
		usleep(10000);
		r = pp_control_follow_read(f, collect, &g);
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(g.n, 30);
	ck_assert_int_eq(pp_control_follow_stop(f), 0);
	for (int i = 0; i < 100 && r == 0; i++) {
		usleep(10000);
		r = pp_control_follow_read(f, collect, &g);
	}
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.events_sent, 30);
	pp_control_fetch_close(f);
	wait_results(&a, 1);
	ck_assert_int_eq(atomic_load(&a.last_result), 1);
	agent_stop(&a);
}
END_TEST

/* ---- PP_FETCH_ALL_PORTS: every connection of one client host to the service ---- */

/* An event of another host's connection to the service (198.18.0.3:cport <-> :12345), or of
 * the client host to another port of the server (sport/dport given). */
static struct pp_event host_event(uint8_t client_last, uint16_t cport, uint16_t sport, bool to_server,
				  uint64_t ts, uint32_t seq)
{
	struct pp_event ev = conn_event(cport, to_server, ts, seq, 10);

	(to_server ? ev.saddr : ev.daddr)[3] = client_last;
	if (to_server)
		ev.dport = sport;
	else
		ev.sport = sport;
	return ev;
}

static struct pp_fetch_req all_ports_req(void)
{
	static const uint8_t c[16] = { 198, 18, 0, 1 }, s[16] = { 198, 18, 0, 2 };
	struct pp_fetch_req req;

	ck_assert_int_eq(pp_fetch_req_all_ports(&req, PP_AF_INET, c, s, 12345), 0);
	return req;
}

/* The stored events of three ports of 198.18.0.1, two instances of one of them (two SYNs),
 * mixed with another host's and another server port's: ours seq < 1000, the others >= 1000. */
static void fill_host(struct store *st)
{
	for (int i = 0; i < 30; i++) {
		struct pp_event ours = conn_event((uint16_t)(40000 + i % 3), i & 1, 100 + (uint64_t)i, (uint32_t)i, 10);
		struct pp_event other = host_event(3, 40000, 12345, i & 1, 100 + (uint64_t)i, 1000 + (uint32_t)i);
		struct pp_event ctl = host_event(1, 40000, 12346, i & 1, 100 + (uint64_t)i, 2000 + (uint32_t)i);

		if (i == 0 || i == 15) /* port 40000 opened twice: both instances are ours */
			ours = conn_event(40000, true, 100 + (uint64_t)i, (uint32_t)i, 0), ours.tcp_flags = PP_TCP_SYN;
		store_add(st, &ours);
		store_add(st, &other);
		store_add(st, &ctl);
	}
}

START_TEST(test_fetch_req_all_ports_helper)
{
	static const uint8_t c6[16] = { 0xfd, [15] = 1 }, s6[16] = { 0xfd, [15] = 2 };
	struct pp_fetch_req req = all_ports_req();
	uint8_t junk[16];

	ck_assert_uint_eq(req.flags, PP_FETCH_ALL_PORTS);
	ck_assert_uint_eq(req.flow.client_port, 0);
	ck_assert_uint_eq(req.flow.server_port, 12345);
	ck_assert_uint_eq(req.isn, 0);
	ck_assert(pp_fetch_req_valid(&req));
	memset(junk, 0xee, sizeof(junk)); /* an IPv4 address: only 4 bytes are read */
	junk[0] = 10;
	ck_assert_int_eq(pp_fetch_req_all_ports(&req, PP_AF_INET, junk, junk, 1), 0);
	ck_assert_uint_eq(req.flow.client_addr[4], 0);
	ck_assert_int_eq(pp_fetch_req_all_ports(&req, PP_AF_INET6, c6, s6, 6379), 0);
	ck_assert_mem_eq(req.flow.client_addr, c6, 16);
	/* from the key's own addresses, as a caller that parsed them there does */
	ck_assert_int_eq(pp_flow_key_set(&req.flow, "198.18.0.7", 1, "198.18.0.8", 80), 0);
	ck_assert_int_eq(pp_fetch_req_all_ports(&req, req.flow.family, req.flow.client_addr,
						req.flow.server_addr, 80), 0);
	ck_assert_uint_eq(req.flow.client_addr[3], 7);
	ck_assert_uint_eq(req.flow.server_addr[3], 8);
	ck_assert_uint_eq(req.flow.client_port, 0);
	ck_assert_int_eq(pp_fetch_req_all_ports(&req, PP_AF_INET, c6, s6, 0), -EINVAL);
	ck_assert_int_eq(pp_fetch_req_all_ports(&req, 7, c6, s6, 6379), -EINVAL);
}
END_TEST

/* One-shot: the events of every port and every instance, none of another host or port. */
START_TEST(test_fetch_all_ports_one_shot)
{
	static struct agent a;
	static struct got g;
	struct pp_fetch_req req = all_ports_req();
	struct pp_fetch *f;
	struct pp_event ev;
	int r;

	g.n = 0;
	fill_host(&a.store);
	agent_start(&a);
	ck_assert_int_eq(pp_control_fetch_open(&f, "127.0.0.1", pp_control_server_port(a.srv), &req, TIMEOUT_MS), 0);
	while ((r = pp_control_fetch_next(f, &ev)) == 1)
		collect(&g, &ev);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(g.n, 30);
	for (size_t i = 0; i < g.n; i++)
		ck_assert_uint_eq(g.ev[i].seq, i);       /* in the store's order, all 3 ports */
	ck_assert(pp_control_fetch_stats(f)->complete);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->foreign, 0);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.events_sent, 30);
	pp_control_fetch_close(f);
	wait_results(&a, 1);
	ck_assert_uint_eq(pp_control_server_stats(a.srv)->events_filtered, 60);
	agent_stop(&a);
}
END_TEST

/* Follow: no stored event (an all-ports follower measures from its FETCH on: the store's are
 * earlier clients', and stay there); then every new one of any port
 * (a connection that opens after the FETCH too) goes to the follower, another host's and
 * another server port's do not; a follower of one of those connections gets its own as well;
 * STOP and END as for one connection. */
START_TEST(test_follow_all_ports)
{
	static struct store st;
	static struct got g, g1;
	struct pp_fetch_req req = all_ports_req();
	struct pp_control_server *srv;
	struct pp_fetch *f, *f1;
	char line[256];
	size_t want = 0;

	st = (struct store){ 0 };
	g.n = g1.n = 0;
	fill_host(&st);
	srv = follow_server(&st, 0, 1000);
	ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", pp_control_server_port(srv), &req, 1000), 0);
	ck_assert_int_eq(follow_until(srv, f, &g, 200), 0);
	ck_assert_uint_eq(g.n, 0);
	ck_assert_uint_eq(st.n, 90);                    /* the store keeps them all */
	/* a follower of one connection of that host, alongside */
	f1 = follow(srv, 40005);
	ck_assert_int_eq(follow_until(srv, f1, &g1, 100), 0);
	ck_assert_int_eq(pp_control_server_followers(srv), 2);
	for (int i = 0; i < 3000; i++) {
		uint16_t port = (uint16_t)(40003 + i % 5); /* new connections, 40005 among them */
		struct pp_event ev = conn_event(port, i & 1, 5000 + (uint64_t)i, 100 + (uint32_t)i, 10);
		struct pp_event other = host_event(3, port, 12345, i & 1, 5000 + (uint64_t)i, 1);
		struct pp_event ctl = host_event(1, port, 12346, i & 1, 5000 + (uint64_t)i, 1);

		if (i < 5)
			ev.tcp_flags = PP_TCP_SYN;
		ck_assert_int_eq(pp_control_server_offer(srv, &ev, true), 1);
		ck_assert_int_eq(pp_control_server_offer(srv, &other, true), 0);
		ck_assert_int_eq(pp_control_server_offer(srv, &ctl, true), 0);
		want++;
	}
	ck_assert_int_eq(follow_until(srv, f, &g, 300), 0);
	ck_assert_int_eq(follow_until(srv, f1, &g1, 100), 0);
	ck_assert_uint_eq(g.n, want);
	ck_assert_uint_eq(g1.n, 600);
	for (size_t i = 0; i < g.n; i++)
		ck_assert_uint_eq(g.ev[i].seq, 100 + i); /* arrival order, nothing doubled */
	for (size_t i = 0; i < g1.n; i++)
		ck_assert(g1.ev[i].sport == 40005 || g1.ev[i].dport == 40005);
	ck_assert_uint_eq(st.n, 90);                    /* none of the live ones stored */
	ck_assert_uint_eq(pp_control_server_queued(srv), 0);
	ck_assert_int_eq(pp_control_follow_stop(f), 0);
	ck_assert_int_eq(follow_until(srv, f, &g, 500), 1);
	ck_assert(pp_control_fetch_stats(f)->complete);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.events_sent, want);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->foreign, 0);
	pp_control_fetch_close(f);
	/* the one-connection follower goes away: its line, and the wildcard's line shape */
	shutdown(pp_control_follow_fd(f1), SHUT_RDWR);
	pump(srv, 50);
	ck_assert_uint_gt(pp_control_server_notice(srv, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "control: follower 198.18.0.1:40005 went away after 600 events; "
			       "its later events go to the store");
	pp_control_fetch_close(f1);
	ck_assert_int_eq(pp_control_server_followers(srv), 0);
	ck_assert_uint_eq(pp_control_server_stats(srv)->served, 1);
	pp_control_server_close(srv);
	free(st.ev);
}
END_TEST

/* An all-ports follower that vanishes: one line naming the host ("198.18.0.1:*"), and what it
 * never got goes back to the store. */
START_TEST(test_all_ports_follower_gone)
{
	static struct store st;
	static struct got g;
	struct pp_fetch_req req = all_ports_req();
	struct pp_control_server *srv;
	struct pp_fetch *f;
	char line[256];

	st = (struct store){ 0 };
	g.n = 0;
	srv = follow_server(&st, 0, 1000);
	ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", pp_control_server_port(srv), &req, 1000), 0);
	ck_assert_int_eq(follow_until(srv, f, &g, 100), 0);
	shutdown(pp_control_follow_fd(f), SHUT_RDWR);
	{
		struct pp_event ev = conn_event(41000, true, 7, 7, 10);

		ck_assert_int_eq(pp_control_server_offer(srv, &ev, true), 1); /* queued, never sent */
	}
	pump(srv, 50);
	ck_assert_uint_gt(pp_control_server_notice(srv, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "control: follower 198.18.0.1:* went away after 0 events; "
			       "its later events go to the store");
	pp_control_fetch_close(f);
	pp_control_server_close(srv);
	free(st.ev);
}
END_TEST

/* The flag's rules on the agent's side: a port with it, an ISN with it, an unknown bit: each
 * a FETCH this agent refuses with ERROR bad request (as an agent older than the flag refuses
 * the flag itself). */
START_TEST(test_all_ports_bad_requests_get_an_error)
{
	static struct agent a;
	struct pp_fetch_req req = all_ports_req();
	uint8_t frame[64], *p = frame + PP_PROTO_HDR_LEN;
	uint16_t port;

	agent_start(&a);
	port = pp_control_server_port(a.srv);
	ck_assert_int_eq(pp_proto_encode_fetch(frame, sizeof(frame), &req), 56);
	p[5] = 1;                                       /* client port 1 */
	expect_error_reply(port, frame, 56, PP_ERR_BAD_REQUEST);
	ck_assert_int_eq(pp_proto_encode_fetch(frame, sizeof(frame), &req), 56);
	p[1] |= PP_FETCH_HAVE_ISN;
	p[43] = 9;                                      /* an ISN */
	expect_error_reply(port, frame, 56, PP_ERR_BAD_REQUEST);
	ck_assert_int_eq(pp_proto_encode_fetch(frame, sizeof(frame), &req), 56);
	p[1] |= 0x10;                                   /* a flag this agent does not know */
	expect_error_reply(port, frame, 56, PP_ERR_BAD_REQUEST);
	wait_results(&a, 3);
	ck_assert_uint_eq(pp_control_server_stats(a.srv)->failed, 3);
	ck_assert_str_eq(a.last_error, "request: malformed FETCH");
	agent_stop(&a);
}
END_TEST

/* An agent older than ALL_PORTS, as it answers the flag (an unknown bit): it checks the FETCH
 * the way protocol 2's decoder did before the flag (known bits 0x3) and answers ERROR 1. */
static void *agent_before_all_ports(void *arg)
{
	int lfd = *(int *)arg;

	/* twice: this client asks with PP_FETCH_COST first, then again without it */
	for (int i = 0; i < 2; i++) {
		uint8_t req[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN], frame[PP_PROTO_HDR_LEN + 4 + PP_PROTO_ERROR_TEXT_MAX];
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			return NULL;
		if (recv(fd, req, sizeof(req), MSG_WAITALL) == (ssize_t)sizeof(req) &&
		    (req[PP_PROTO_HDR_LEN + 1] & ~0x3)) {
			ssize_t len = pp_proto_encode_error(frame, sizeof(frame), PP_ERR_BAD_REQUEST,
							    "malformed FETCH payload");

			if (len > 0 && send(fd, frame, (size_t)len, MSG_NOSIGNAL) > 0)
				usleep(10000);
		}
		close(fd);
	}
	return NULL;
}

/* The client asking an older agent: the agent's own ERROR, bad request, in one line. */
START_TEST(test_older_agent_refuses_all_ports)
{
	static struct got g;
	struct pp_fetch_req req = all_ports_req();
	struct pp_fetch *f;
	uint16_t port;
	int lfd = loopback_socket(true, &port), r = 0;
	pthread_t t;

	g.n = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, agent_before_all_ports, &lfd), 0);
	ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", port, &req, 1000), 0);
	for (int i = 0; i < 100 && r == 0; i++) {
		struct pollfd p = { .fd = pp_control_follow_fd(f), .events = POLLIN };

		poll(&p, 1, 10);
		r = pp_control_follow_read(f, collect, &g);
	}
	ck_assert_int_eq(r, -EREMOTEIO);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->error_code, PP_ERR_BAD_REQUEST);
	ck_assert_str_eq(pp_control_fetch_stats(f)->error_text, "malformed FETCH payload");
	ck_assert_uint_eq(g.n, 0);
	pp_control_fetch_close(f);
	pthread_join(t, NULL);
	close(lfd);
}
END_TEST

/* An agent older than PP_FETCH_COST: it knows bits 0x7, answers others with ERROR 1, and ends
 * with the short END. It serves `conns` connections. */
struct old_agent {
	int lfd, conns;
	uint8_t flags[4];     /* the flags of each FETCH it got */
};

static void *agent_before_cost(void *arg)
{
	struct old_agent *o = arg;

	for (int i = 0; i < o->conns; i++) {
		uint8_t req[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN], frame[256];
		struct pp_end_counts end = { .lost_samples = 5 };
		int fd = accept(o->lfd, NULL, NULL);
		ssize_t len;

		if (fd < 0)
			return NULL;
		if (recv(fd, req, sizeof(req), MSG_WAITALL) != (ssize_t)sizeof(req)) {
			close(fd);
			continue;
		}
		o->flags[i] = req[PP_PROTO_HDR_LEN + 1];
		if (o->flags[i] & ~0x7) {
			len = pp_proto_encode_error(frame, sizeof(frame), PP_ERR_BAD_REQUEST,
						    "malformed FETCH payload");
		} else {
			char stop[PP_PROTO_HDR_LEN];

			len = pp_proto_encode_events(frame, sizeof(frame), NULL, 0);
			if (o->flags[i] & PP_FETCH_FOLLOW) /* the first frame, then STOP, then END */
				ck_assert_int_eq(send(fd, frame, (size_t)len, MSG_NOSIGNAL), len);
			if (o->flags[i] & PP_FETCH_FOLLOW) {
				ck_assert_int_eq(recv(fd, stop, sizeof(stop), MSG_WAITALL), sizeof(stop));
				len = 0;
			}
			len += pp_proto_encode_end_len(frame + len, sizeof(frame) - (size_t)len, &end,
						       PP_PROTO_END_LEN_SHORT);
		}
		if (len > 0 && send(fd, frame, (size_t)len, MSG_NOSIGNAL) > 0)
			usleep(10000);
		close(fd);
	}
	return NULL;
}

/* A client of this version and an older agent: it asks with PP_FETCH_COST, is refused, asks
 * again without, and reads the short END: everything but the agent's cost, which is unknown. */
START_TEST(test_older_agent_without_probe_cost)
{
	static struct got g;
	struct old_agent o = { .conns = 4 };
	struct pp_flow_key k = key_for(40000);
	struct pp_fetch_req req = { .flow = k };
	struct pp_fetch_stats st;
	struct pp_fetch *f;
	uint16_t port;
	pthread_t t;
	int r = 0;

	o.lfd = loopback_socket(true, &port);
	ck_assert_int_eq(pthread_create(&t, NULL, agent_before_cost, &o), 0);
	/* one-shot */
	ck_assert_int_eq(pp_control_fetch("127.0.0.1", port, &k, 1000, collect, &g, &st), 0);
	ck_assert(st.complete);
	ck_assert_uint_eq(st.agent.lost_samples, 5);
	ck_assert(!st.agent.bpf_known);
	ck_assert_uint_eq(o.flags[0], PP_FETCH_COST);
	ck_assert_uint_eq(o.flags[1], 0);
	/* follow */
	ck_assert_int_eq(pp_control_follow_open(&f, "127.0.0.1", port, &req, 1000), 0);
	for (int i = 0; i < 100 && r == 0; i++) {
		struct pollfd p = { .fd = pp_control_follow_fd(f), .events = POLLIN };

		poll(&p, 1, 10);
		r = pp_control_follow_read(f, collect, &g);
		if (i == 20)
			ck_assert_int_eq(pp_control_follow_stop(f), 0);
	}
	ck_assert_int_eq(r, 1);
	ck_assert(pp_control_fetch_stats(f)->complete);
	ck_assert(!pp_control_fetch_stats(f)->agent.bpf_known);
	ck_assert_uint_eq(pp_control_fetch_stats(f)->agent.lost_samples, 5);
	pp_control_fetch_close(f);
	pthread_join(t, NULL);
	ck_assert_uint_eq(o.flags[2], PP_FETCH_COST | PP_FETCH_FOLLOW);
	ck_assert_uint_eq(o.flags[3], PP_FETCH_FOLLOW);
	ck_assert_uint_eq(g.n, 0);
	close(o.lfd);
}
END_TEST

/* An agent of this version and an older client (no PP_FETCH_COST): the short END it reads, and
 * with the flag the long one, whose cost is the agent's since it started (one-shot). */
START_TEST(test_end_length_follows_the_client)
{
	static struct agent a;
	struct pp_fetch_req req = { .flow = key_for(40000) };
	uint8_t frame[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN], buf[4096];
	struct pp_fetch_stats st;
	static struct got g;

	agent_start_with(&a, 3);
	for (int cost = 0; cost < 2; cost++) {
		struct pp_frame_hdr hdr;
		const uint8_t *payload;
		struct pp_end_counts end;
		size_t got = 0, at = 0;
		int fd = raw_connect(pp_control_server_port(a.srv));
		ssize_t n, flen;
		bool ended = false;

		req.flags = cost ? PP_FETCH_COST : 0;
		ck_assert_int_eq(pp_proto_encode_fetch(frame, sizeof(frame), &req), sizeof(frame));
		ck_assert_int_eq(send(fd, frame, sizeof(frame), MSG_NOSIGNAL), sizeof(frame));
		while ((n = recv(fd, buf + got, sizeof(buf) - got, 0)) > 0)
			got += (size_t)n;
		close(fd);
		while ((flen = pp_proto_decode_frame(buf + at, got - at, &hdr, &payload)) > 0) {
			at += (size_t)flen;
			if (hdr.type != PP_MSG_END)
				continue;
			ended = true;
			ck_assert_uint_eq(hdr.length, cost ? PP_PROTO_END_LEN : PP_PROTO_END_LEN_SHORT);
			ck_assert_int_eq(pp_proto_decode_end(payload, hdr.length, &end), 0);
			ck_assert_uint_eq(end.events_sent, 3);
			ck_assert(end.bpf_known == (cost == 1));
		}
		ck_assert(ended);
		ck_assert_uint_eq(at, got);
	}
	/* this version's client asks for it by itself; one-shot: since the agent started */
	g.n = 0;
	ck_assert_int_eq(fetch_agent(&a, key_for(40000), &g, &st), 0);
	ck_assert(st.agent.bpf_known);
	ck_assert_uint_eq(st.agent.bpf_run_ns % 1000, 0);
	ck_assert_uint_eq(st.agent.bpf_runs, st.agent.bpf_run_ns / 100);
	ck_assert_uint_ge(st.agent.bpf_runs, 30);   /* the store's third count, at least */
	agent_stop(&a);
}
END_TEST

PP_CHECK_TESTS("control", 30,
	       test_older_agent_without_probe_cost,
	       test_end_length_follows_the_client,
	       test_follow_through_serve_one,
	       test_follow_stored_then_live_then_stop,
	       test_follow_heartbeat,
	       test_follower_reset_gives_events_back_to_the_store,
	       test_follow_drops_when_full_and_cuts_off_a_stalled_follower,
	       test_followers_count_against_the_caps,
	       test_version_refusals,
	       test_fetch_gets_only_its_connection,
	       test_wrong_tuple_gets_nothing,
	       test_earlier_connection_on_same_tuple_is_not_served,
	       test_many_events_span_batches,
	       test_silent_client_times_out_on_the_agent,
	       test_trickling_client_is_cut_off,
	       test_silent_agent_times_out_the_fetch,
	       test_no_agent_is_refused,
	       test_bad_requests_get_an_error,
	       test_store_failure_reaches_the_client,
	       test_agent_hanging_up_mid_frame_is_reported,
	       test_fetch_tries_again_after_a_reset,
	       test_server_options_are_checked,
	       test_concurrent_abuse_does_not_starve_a_client,
	       test_caps_shed_the_idle_first,
	       test_fetch_req_all_ports_helper,
	       test_fetch_all_ports_one_shot,
	       test_follow_all_ports,
	       test_all_ports_follower_gone,
	       test_all_ports_bad_requests_get_an_error,
	       test_older_agent_refuses_all_ports)
