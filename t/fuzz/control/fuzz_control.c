// SPDX-License-Identifier: MIT
/* libFuzzer target for the agent's concurrent control server (user/agent/control.c): the input
 * is a script of steps over several connections at once (socketpairs handed to the server as if
 * accepted, from a few peer addresses): open one, send it bytes (or a valid FETCH), read from it,
 * close it, let the server run a round; follow a connection, offer the server new events (with
 * room or without), send STOP. The server must never crash, leak or hold more than its caps,
 * and its counts must add up: every connection taken in is open, served or refused. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/control.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define MAX_CONNS    6
#define MAX_PER_PEER 3
#define CLIENTS      16 /* connections one input may open */
#define EVENTS       40   /* of each flow: an answer spans several chunks of 16 */

static struct pp_event store[2 * EVENTS];
static bool from_api;      /* the source offers for_each_event_from */
static int fail_at = -1;   /* the store fails on this call, for the error path */
static int calls;

static struct pp_flow_key key_for(uint16_t cport)
{
	struct pp_flow_key k;

	CHECK(pp_flow_key_set(&k, "198.18.0.1", cport, "198.18.0.2", 12345) == 0);
	return k;
}

static void fill_store(void)
{
	static const uint8_t c[4] = { 198, 18, 0, 1 }, s[4] = { 198, 18, 0, 2 };

	for (int i = 0; i < 2 * EVENTS; i++) {
		struct pp_event *ev = &store[i];
		bool to_server = i & 2;

		memset(ev, 0, sizeof(*ev));
		ev->ts_ns = 1000 + (uint64_t)i;
		ev->seq = 100 + (uint32_t)i;
		ev->len = 10;
		ev->family = PP_AF_INET;
		ev->point = to_server ? PP_RX : PP_XMIT;
		memcpy(to_server ? ev->saddr : ev->daddr, c, 4);
		memcpy(to_server ? ev->daddr : ev->saddr, s, 4);
		ev->sport = to_server ? (uint16_t)(40000 + (i & 1)) : 12345;
		ev->dport = to_server ? 12345 : (uint16_t)(40000 + (i & 1));
	}
}

static int each_from(void *ctx, const struct pp_flow_key *flow, size_t start, pp_emit_fn emit, void *ectx)
{
	int rc = 0;

	(void)ctx;
	(void)flow;
	if (calls++ == fail_at)
		return -EIO;
	for (size_t i = start; i < 2 * EVENTS && !rc; i++)
		rc = emit(ectx, &store[i]);
	return rc;
}

static int each(void *ctx, const struct pp_flow_key *flow, pp_emit_fn emit, void *ectx)
{
	int rc;

	(void)ctx;
	(void)flow;
	if (calls++ == fail_at)
		return -EIO;
	/* as the unit test's store: goes on past a pause, stops only on an error */
	for (size_t i = 0; i < 2 * EVENTS; i++)
		if ((rc = emit(ectx, &store[i])) < 0)
			return rc;
	return 0;
}

static uint64_t taken, put_back;

static void take(void *ctx, const struct pp_flow_key *flow,
		 bool (*taken_fn)(void *tctx, const struct pp_event *ev), void *tctx)
{
	(void)ctx;
	(void)flow;
	for (size_t i = 0; i < 2 * EVENTS; i++)
		taken += taken_fn(tctx, &store[i]);
}

static void give_back(void *ctx, const struct pp_event *ev)
{
	(void)ctx;
	CHECK(ev->point >= PP_SEND && ev->point < PP_POINT_MAX);
	put_back++;
}

static void round_of(struct pp_control_server *srv)
{
	struct pollfd fds[PP_CONTROL_MAX_POLLFDS];
	int n = pp_control_server_pollfds(srv, fds, PP_CONTROL_MAX_POLLFDS);
	const struct pp_control_server_stats *st;
	uint64_t refused = 0;

	CHECK(n >= 1 && n <= 1 + MAX_CONNS);
	/* libFuzzer's SIGALRM (its -timeout watch) may cut a poll short: then nothing is ready */
	if (poll(fds, (nfds_t)n, 0) < 0) {
		CHECK(errno == EINTR);
		for (int i = 0; i < n; i++)
			fds[i].revents = 0;
	}
	CHECK(pp_control_server_handle(srv, fds, n, NULL) >= 0 || fail_at >= 0);
	st = pp_control_server_stats(srv);
	for (int k = 0; k < PP_REFUSED_KINDS; k++)
		refused += st->refused[k];
	CHECK(st->open_conns <= MAX_CONNS && st->max_open_conns <= MAX_CONNS);
	CHECK(refused == st->failed);
	CHECK(st->requests == st->open_conns + st->served + st->failed);
	CHECK(pp_control_server_followers(srv) >= 0 &&
	      (uint32_t)pp_control_server_followers(srv) <= st->open_conns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool filled;
	struct pp_control_server_opts opts = {
		.bind_addr = "127.0.0.1",
		.timeout_ms = 3, .first_frame_ms = 2, /* deadlines that do pass, now and then */
		.max_conns = MAX_CONNS, .max_per_peer = MAX_PER_PEER,
		.source = { .for_each_event = each, .take = take, .put_back = give_back },
	};
	struct pp_control_server *srv;
	int client[CLIENTS], nclients = 0;
	static uint8_t buf[1 << 16];
	size_t at = 0;
	char line[256];

	if (!filled) {
		fill_store();
		filled = true;
	}
	if (size < 1)
		return 0;
	from_api = data[0] & 1;
	fail_at = data[0] & 2 ? (data[0] >> 2) & 7 : -1;
	calls = 0;
	at = 1;
	if (from_api)
		opts.source.for_each_event_from = each_from;
	CHECK(pp_control_server_open(&srv, &opts) == 0);
	for (int i = 0; i < CLIENTS; i++)
		client[i] = -1;

	while (at < size) {
		uint8_t op = data[at++];
		int i = (op >> 3) % CLIENTS;

		switch (op & 7) {
		case 0: { /* a new connection, from one of three peers */
			int sv[2];
			uint8_t peer[16] = { 0 };

			if (nclients >= CLIENTS ||
			    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
				break;
			peer[10] = peer[11] = 0xff;
			peer[15] = (uint8_t)(op >> 3) % 3;
			client[nclients++] = sv[0];
			pp_control_server_adopt(srv, sv[1], peer);
			break;
		}
		case 1: { /* bytes from the input */
			size_t n = at < size ? data[at++] % 64 : 0;

			if (n > size - at)
				n = size - at;
			if (i < nclients && client[i] >= 0 && n &&
			    send(client[i], data + at, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* the server may have closed it */
			}
			at += n;
			break;
		}
		case 2: { /* a valid FETCH for one of the flows (or none); connections 8-15 follow;
			   * 12-15 asking for the second flow ask for every port instead (ALL_PORTS) */
			struct pp_fetch_req req = { .flow = key_for((uint16_t)(40000 + (op >> 7))),
						    .flags = (uint8_t)(op & 0x40 ? PP_FETCH_FOLLOW : 0) };

			if ((op & 0xe0) == 0xe0) {
				req.flow.client_port = 0;
				req.flags |= PP_FETCH_ALL_PORTS;
			}
			uint8_t frame[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN];
			ssize_t len = pp_proto_encode_fetch(frame, sizeof(frame), &req);

			CHECK(len > 0);
			if (i < nclients && client[i] >= 0 &&
			    send(client[i], frame, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			}
			break;
		}
		case 3: /* read what has come */
			if (i < nclients && client[i] >= 0 && recv(client[i], buf, sizeof(buf), MSG_DONTWAIT) < 0) {
			}
			break;
		case 4: /* hang up */
			if (i < nclients && client[i] >= 0) {
				close(client[i]);
				client[i] = -1;
			}
			break;
		case 5: /* STOP, or a half close: the request is all there is */
			if (i < nclients && client[i] >= 0 && (op & 0x80)) {
				uint8_t stop[PP_PROTO_HDR_LEN];

				CHECK(pp_proto_encode_stop(stop, sizeof(stop)) == PP_PROTO_HDR_LEN);
				if (send(client[i], stop, sizeof(stop), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				}
			} else if (i < nclients && client[i] >= 0) {
				shutdown(client[i], SHUT_WR);
			}
			break;
		case 6: /* new events of the run, offered as the agent does, with room or without */
			if (!(op & 0x80)) {
				round_of(srv);
				break;
			}
			for (int k = 0; k < 1 + ((op >> 4) & 7); k++)
				pp_control_server_offer(srv, &store[(op + k) % (2 * EVENTS)], op & 8);
			break;
		default: /* the server's turn */
			round_of(srv);
			break;
		}
	}
	/* the end: everyone reads all and hangs up; the server finishes its rounds */
	for (int r = 0; r < 4; r++) {
		for (int i = 0; i < nclients; i++)
			while (client[i] >= 0 && recv(client[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
		round_of(srv);
	}
	for (int i = 0; i < nclients; i++)
		if (client[i] >= 0)
			close(client[i]);
	round_of(srv);
	pp_control_server_summary(srv, true, line, sizeof(line));
	pp_control_server_close(srv);
	return 0;
}
