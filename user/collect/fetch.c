// SPDX-License-Identifier: MIT
/* The control channel's client end (collect/fetch.h): one FETCH, then EVENTS frames until END,
 * each checked by the codec of model/proto.h; in follow mode read without blocking, a frame
 * gathered across calls. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect/fetch.h"
#include "common/net.h"

/* Tries within the overall deadline: a connection reset or shed by a busy agent is tried again
 * after a pause that doubles from RETRY_FIRST_MS; a refused one only REFUSED_TRIES times
 * (nobody listening is the usual reason, and the user should hear of it soon). */
#define RETRY_FIRST_MS  50
#define RETRY_MAX_MS    800
#define REFUSED_TRIES   3

struct pp_fetch {
	int fd;
	int timeout_ms;
	int64_t deadline;             /* of the whole fetch's retries */
	char addr[PP_ADDRSTRLEN];
	uint16_t port;
	uint8_t frame[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN];
	size_t frame_len;
	int tries, refused;
	bool answered;                /* a frame came: too late to try again */
	struct pp_flow_key flow;
	struct pp_fetch_req req;      /* as sent: PP_FETCH_COST until an older agent refuses it */
	uint64_t frames;              /* taken from this connection */
	uint8_t *payload;             /* PP_PROTO_MAX_PAYLOAD */
	struct pp_event *batch;
	uint32_t nbatch, at;
	bool done;
	struct pp_fetch_stats st;
	/* follow mode: the frame being gathered (header, then payload into payload) */
	bool follow;
	uint8_t rhdr[PP_PROTO_HDR_LEN];
	struct pp_frame_hdr hdr;
	size_t rgot;                  /* bytes of the current frame so far */
	uint64_t last_frame_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* -EPROTONOSUPPORT, with the reason the user needs: the same version on both hosts. */
static int version_mismatch(struct pp_fetch *f, unsigned theirs)
{
	if (theirs)
		snprintf(f->st.reason, sizeof(f->st.reason), "the agent speaks control protocol %u, "
			 "this client %u: use the same pingpong version on both hosts", theirs,
			 PP_PROTO_VERSION);
	else
		snprintf(f->st.reason, sizeof(f->st.reason), "the agent does not speak control "
			 "protocol %u (\"%.60s\"): use the same pingpong version on both hosts",
			 PP_PROTO_VERSION, f->st.error_text);
	return -EPROTONOSUPPORT;
}

/* take_frame's word for an agent older than PP_FETCH_COST: ask again without it */
#define OLDER_AGENT (-ENOTSUP)

/* Checks a header: 0, or the error for the caller. */
static int check_hdr(struct pp_fetch *f, const uint8_t *buf, struct pp_frame_hdr *hdr)
{
	int err = pp_proto_decode_hdr(buf, PP_PROTO_HDR_LEN, hdr);

	if (err == -EPROTONOSUPPORT)
		return version_mismatch(f, hdr->version ? hdr->version : 1);
	return err < 0 ? -EPROTO : 0;
}

/* A whole frame's payload (in f->payload): 1 = a batch is ready, 0 = END (count checked),
 * <0 error. */
static int take_frame(struct pp_fetch *f, const struct pp_frame_hdr *hdr)
{
	f->frames++;
	switch (hdr->type) {
	case PP_MSG_EVENTS:
		if (pp_proto_decode_events(f->payload, hdr->length, f->batch, PP_PROTO_MAX_BATCH, &f->nbatch) < 0)
			return -EPROTO;
		f->at = 0;
		return 1;
	case PP_MSG_END:
		if (pp_proto_decode_end(f->payload, hdr->length, &f->st.agent) < 0)
			return -EPROTO;
		/* the count guards against frames lost or doubled on the way */
		if (f->st.agent.events_sent != f->st.events + f->st.foreign) {
			snprintf(f->st.reason, sizeof(f->st.reason), "the agent sent %llu events, %llu "
				 "arrived", (unsigned long long)f->st.agent.events_sent,
				 (unsigned long long)(f->st.events + f->st.foreign));
			return -EPROTO;
		}
		f->st.complete = true;
		return 0;
	case PP_MSG_ERROR:
		if (pp_proto_decode_error(f->payload, hdr->length, &f->st.error_code, f->st.error_text) < 0)
			return -EPROTO;
		if (f->st.error_code == PP_ERR_VERSION)
			return version_mismatch(f, 0);
		/* an agent older than PP_FETCH_COST refuses the flag, before anything else */
		if (f->st.error_code == PP_ERR_BAD_REQUEST && f->frames == 1 &&
		    (f->req.flags & PP_FETCH_COST))
			return OLDER_AGENT;
		return -EREMOTEIO;
	}
	return -EPROTO; /* a FETCH or STOP from the agent */
}

/* Whether err is worth another try, after a pause, within the deadline. */
static bool try_again(struct pp_fetch *f, int err)
{
	int pause = RETRY_FIRST_MS << (f->tries < 5 ? f->tries : 5);
	struct timespec ts;

	if (err == -ECONNREFUSED && ++f->refused >= REFUSED_TRIES)
		return false;
	if (err != -ECONNREFUSED && err != -ECONNRESET && err != -EPIPE && err != -ETIMEDOUT)
		return false;
	if (pause > RETRY_MAX_MS)
		pause = RETRY_MAX_MS;
	/* the next try must still have time for a connect and an answer */
	if (pp_net_deadline_ms(pause + 100) > f->deadline)
		return false;
	f->tries++;
	ts.tv_sec = pause / 1000;
	ts.tv_nsec = (long)(pause % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	return true;
}

/* Connects and sends FETCH, trying again (try_again) until the deadline. */
static int connect_and_ask(struct pp_fetch *f)
{
	int err;

	for (;;) {
		int64_t left = f->deadline - pp_net_deadline_ms(0);
		int wait = left < f->timeout_ms ? (int)(left > 0 ? left : 1) : f->timeout_ms;

		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		if ((err = pp_connect_numeric(f->addr, f->port, wait)) >= 0) {
			f->fd = err;
			err = pp_sock_write_timed(f->fd, f->frame, f->frame_len, f->timeout_ms);
		}
		if (err >= 0)
			return 0;
		if (err == -EINVAL || !try_again(f, err))
			return err;
	}
}

/* An agent older than PP_FETCH_COST refused it (ERROR 1 as its first frame): the same request
 * without it, once, on a new connection and with a new deadline; its END then comes short and
 * its probe cost is unknown. 0 or -errno. */
static int ask_without_cost(struct pp_fetch *f)
{
	ssize_t len;

	f->req.flags &= (uint8_t)~PP_FETCH_COST;
	if ((len = pp_proto_encode_fetch(f->frame, sizeof(f->frame), &f->req)) < 0)
		return (int)len;
	f->frame_len = (size_t)len;
	f->frames = 0;
	f->answered = false;
	f->rgot = 0;
	f->st.error_code = 0;
	f->st.error_text[0] = '\0';
	f->deadline = pp_net_deadline_ms(f->timeout_ms);
	return connect_and_ask(f);
}

int pp_fetch_req_all_ports(struct pp_fetch_req *req, uint8_t family, const uint8_t *client_addr,
			   const uint8_t *server_addr, uint16_t server_port)
{
	struct pp_fetch_req r = { .flow = { .family = family, .server_port = server_port },
				  .flags = PP_FETCH_ALL_PORTS }; /* client_port 0: any */
	size_t n = family == PP_AF_INET6 ? 16 : 4;

	/* built apart and copied at the end: the addresses may point into *req itself */
	memcpy(r.flow.client_addr, client_addr, n); /* an IPv4 tail stays zero */
	memcpy(r.flow.server_addr, server_addr, n);
	memset(req, 0, sizeof(*req));
	if ((family != PP_AF_INET && family != PP_AF_INET6) || !pp_fetch_req_valid(&r))
		return -EINVAL;
	*req = r;
	return 0;
}

int pp_control_fetch_open(struct pp_fetch **out, const char *addr, uint16_t port,
			  const struct pp_fetch_req *req, int timeout_ms)
{
	struct pp_fetch *f;
	ssize_t len;
	int err;

	*out = NULL;
	if (timeout_ms < 0 || !addr || strlen(addr) >= PP_ADDRSTRLEN)
		return -EINVAL;
	if (!(f = calloc(1, sizeof(*f))))
		return -ENOMEM;
	f->fd = -1;
	f->req = *req;
	f->req.flags |= PP_FETCH_COST; /* this client reads the long END */
	len = pp_proto_encode_fetch(f->frame, sizeof(f->frame), &f->req);
	if (len < 0) {
		free(f);
		return (int)len;
	}
	f->frame_len = (size_t)len;
	strcpy(f->addr, addr);
	f->port = port;
	f->payload = malloc(PP_PROTO_MAX_PAYLOAD);
	f->batch = malloc(PP_PROTO_MAX_BATCH * sizeof(*f->batch));
	f->timeout_ms = timeout_ms ? timeout_ms : PP_CONTROL_DEFAULT_TIMEOUT_MS;
	f->deadline = pp_net_deadline_ms(f->timeout_ms);
	f->flow = req->flow;
	err = !f->payload || !f->batch ? -ENOMEM : connect_and_ask(f);
	if (err < 0) {
		pp_control_fetch_close(f);
		return err;
	}
	*out = f;
	return 0;
}

/* Reads the next frame: 1 = a batch is ready, 0 = END, <0 error. */
static int read_frame(struct pp_fetch *f)
{
	uint8_t hdrbuf[PP_PROTO_HDR_LEN];
	struct pp_frame_hdr hdr;
	int err;

	if ((err = pp_sock_read_timed(f->fd, hdrbuf, sizeof(hdrbuf), f->timeout_ms, -1)) < 0)
		return err;
	f->answered = true;
	if ((err = check_hdr(f, hdrbuf, &hdr)) < 0)
		return err;
	if ((err = pp_sock_read_timed(f->fd, f->payload, hdr.length, f->timeout_ms, -1)) < 0)
		return err;
	return take_frame(f, &hdr);
}

int pp_control_fetch_next(struct pp_fetch *f, struct pp_event *ev)
{
	int r;

	for (;;) {
		if (f->done)
			return 0;
		while (f->at < f->nbatch) {
			const struct pp_event *e = &f->batch[f->at++];

			if (pp_flow_dir(&f->flow, e) == PP_DIR_NONE) {
				f->st.foreign++;
				continue;
			}
			*ev = *e;
			f->st.events++;
			return 1;
		}
		r = read_frame(f);
		/* hung up on before any answer (a busy agent sheds idle connections): ask again */
		while (r < 0 && !f->answered && (r == -ECONNRESET || r == -EPIPE) && try_again(f, r) &&
		       (r = connect_and_ask(f)) == 0)
			r = read_frame(f);
		if (r == OLDER_AGENT && (r = ask_without_cost(f)) == 0)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			f->done = true;
	}
}

const struct pp_fetch_stats *pp_control_fetch_stats(const struct pp_fetch *f)
{
	return &f->st;
}

void pp_control_fetch_close(struct pp_fetch *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->payload);
	free(f->batch);
	free(f);
}

int pp_control_follow_open(struct pp_fetch **out, const char *addr, uint16_t port,
			   const struct pp_fetch_req *req, int timeout_ms)
{
	struct pp_fetch_req follow = *req;
	int err;

	follow.flags |= PP_FETCH_FOLLOW;
	if ((err = pp_control_fetch_open(out, addr, port, &follow, timeout_ms)) < 0)
		return err;
	(*out)->follow = true;
	(*out)->last_frame_ns = mono_ns();
	return 0;
}

int pp_control_follow_fd(const struct pp_fetch *f)
{
	return f->fd;
}

uint64_t pp_control_follow_last_frame_ns(const struct pp_fetch *f)
{
	return f->last_frame_ns;
}

/* The events of the batch just taken, to cb (those of another connection only counted). */
static int deliver(struct pp_fetch *f, pp_emit_fn cb, void *ctx)
{
	while (f->at < f->nbatch) {
		const struct pp_event *e = &f->batch[f->at++];
		int err;

		if (pp_flow_dir(&f->flow, e) == PP_DIR_NONE) {
			f->st.foreign++;
			continue;
		}
		f->st.events++;
		if ((err = cb(ctx, e)) < 0)
			return err;
	}
	return 0;
}

/* Gathers bytes of the current frame without waiting: 1 = the frame is whole, 0 = nothing more
 * now, <0 error. */
static int gather(struct pp_fetch *f)
{
	for (;;) {
		bool in_hdr = f->rgot < PP_PROTO_HDR_LEN;
		size_t need = in_hdr ? PP_PROTO_HDR_LEN : PP_PROTO_HDR_LEN + f->hdr.length;
		uint8_t *to = in_hdr ? f->rhdr + f->rgot : f->payload + (f->rgot - PP_PROTO_HDR_LEN);
		ssize_t r;
		int err;

		if (f->rgot == need)
			return 1;
		r = recv(f->fd, to, need - f->rgot, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return r == 0 ? -ECONNRESET : -errno;
		f->answered = true;
		f->rgot += (size_t)r;
		if (in_hdr && f->rgot == PP_PROTO_HDR_LEN && (err = check_hdr(f, f->rhdr, &f->hdr)) < 0)
			return err;
	}
}

int pp_control_follow_read(struct pp_fetch *f, pp_emit_fn cb, void *ctx)
{
	int r;

	if (!f->follow)
		return -EINVAL;
	for (;;) {
		if (f->done)
			return 1;
		if ((r = deliver(f, cb, ctx)) < 0)
			return r;
		r = gather(f);
		/* hung up on before its first frame (a busy agent sheds idle connections): ask again,
		 * blocking for that moment as pp_control_fetch_next does */
		while (r < 0 && !f->answered && (r == -ECONNRESET || r == -EPIPE) && try_again(f, r) &&
		       (r = connect_and_ask(f)) == 0) {
			f->rgot = 0;
			r = gather(f);
		}
		if (r == -ECONNRESET)
			snprintf(f->st.reason, sizeof(f->st.reason),
				 "the agent closed the connection before END");
		if (r <= 0)
			return r;
		f->last_frame_ns = mono_ns();
		f->rgot = 0;
		r = take_frame(f, &f->hdr);
		if (r == OLDER_AGENT) {
			if ((r = ask_without_cost(f)) < 0)
				return r;
			f->last_frame_ns = mono_ns();
			continue;
		}
		if (r < 0)
			return r;
		if (r == 0)
			f->done = true;
	}
}

int pp_control_follow_stop(struct pp_fetch *f)
{
	uint8_t frame[PP_PROTO_HDR_LEN];
	ssize_t len = pp_proto_encode_stop(frame, sizeof(frame));

	if (!f->follow || f->fd < 0)
		return -EINVAL;
	if (len < 0)
		return (int)len;
	return pp_sock_write_timed(f->fd, frame, (size_t)len, f->timeout_ms);
}

int pp_control_fetch(const char *addr, uint16_t port, const struct pp_flow_key *flow, int timeout_ms,
		     pp_emit_fn cb, void *ctx, struct pp_fetch_stats *stats)
{
	struct pp_fetch_req req = { .flow = *flow };
	struct pp_fetch *f;
	struct pp_event ev;
	int r;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if ((r = pp_control_fetch_open(&f, addr, port, &req, timeout_ms)) < 0)
		return r;
	while ((r = pp_control_fetch_next(f, &ev)) > 0)
		if ((r = cb(ctx, &ev)) < 0)
			break;
	if (stats)
		*stats = f->st;
	pp_control_fetch_close(f);
	return r;
}

int pp_control_follow_finish(struct pp_fetch *f, pp_emit_fn cb, void *ctx, int timeout_ms,
			     int silence_ms, volatile sig_atomic_t *abort)
{
	uint64_t stop_ns, deadline;
	int rc;

	if ((rc = pp_control_follow_stop(f)) < 0)
		return rc;
	stop_ns = mono_ns();
	deadline = stop_ns + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
		uint64_t now = mono_ns(), last = f->last_frame_ns > stop_ns ? f->last_frame_ns : stop_ns;
		int wait_ms = (int)((deadline - now) / 1000000u) + 1;

		if (now >= deadline || now - last >= (uint64_t)silence_ms * 1000000u)
			return -ETIMEDOUT;
		if (abort && *abort)
			return -EINTR;
		if (poll(&pfd, 1, wait_ms < 100 ? wait_ms : 100) < 0 && errno != EINTR)
			return -errno;
		if ((rc = pp_control_follow_read(f, cb, ctx)) != 0)
			return rc == 1 ? 0 : rc;
	}
}

int pp_control_follow_read_live(struct pp_fetch *f, pp_emit_fn cb, void *ctx, int silence_ms)
{
	int rc = pp_control_follow_read(f, cb, ctx);

	if (rc == 0 && mono_ns() - f->last_frame_ns > (uint64_t)silence_ms * 1000000u)
		return -ETIMEDOUT;
	return rc;
}
