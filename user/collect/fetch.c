// SPDX-License-Identifier: MIT
/* The control channel's client end (collect/fetch.h): one FETCH, then EVENTS frames until END,
 * each checked by the codec of model/proto.h. */
#include <errno.h>
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
	uint8_t *payload;             /* PP_PROTO_MAX_PAYLOAD */
	struct pp_event *batch;
	uint32_t nbatch, at;
	bool done;
	struct pp_fetch_stats st;
};

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
	len = pp_proto_encode_fetch(f->frame, sizeof(f->frame), req);
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
	err = pp_proto_decode_hdr(hdrbuf, sizeof(hdrbuf), &hdr);
	if (err == -EPROTONOSUPPORT)
		return err;
	if (err < 0)
		return -EPROTO;
	if ((err = pp_sock_read_timed(f->fd, f->payload, hdr.length, f->timeout_ms, -1)) < 0)
		return err;
	switch (hdr.type) {
	case PP_MSG_EVENTS:
		if (pp_proto_decode_events(f->payload, hdr.length, f->batch, PP_PROTO_MAX_BATCH, &f->nbatch) < 0)
			return -EPROTO;
		f->at = 0;
		return 1;
	case PP_MSG_END:
		if (pp_proto_decode_end(f->payload, hdr.length, &f->st.agent) < 0)
			return -EPROTO;
		/* the count guards against frames lost or doubled on the way */
		if (f->st.agent.events_sent != f->st.events + f->st.foreign)
			return -EPROTO;
		f->st.complete = true;
		return 0;
	case PP_MSG_ERROR:
		if (pp_proto_decode_error(f->payload, hdr.length, &f->st.error_code, f->st.error_text) < 0)
			return -EPROTO;
		return -EREMOTEIO;
	}
	return -EPROTO; /* a FETCH from the agent */
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
