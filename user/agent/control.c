// SPDX-License-Identifier: MIT
/* The agent's end of the control channel (agent/control.h): one request at a time, over the
 * agent's event store; every read and write waits at most the timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/control.h"
#include "common/net.h"
#include "model/conn.h"

struct pp_control_server {
	int fd;
	uint16_t port;
	int timeout_ms;
	struct pp_control_source src;
	uint8_t *frame;               /* PP_PROTO_MAX_FRAME */
	struct pp_event *batch;       /* PP_PROTO_MAX_BATCH */
	struct pp_control_server_stats st;
};

int pp_control_server_open(struct pp_control_server **out, const struct pp_control_server_opts *opts)
{
	struct pp_control_server *s;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int fd;

	*out = NULL;
	if (!opts->source.for_each_event || opts->timeout_ms < 0)
		return -EINVAL;
	if ((fd = pp_listen_one(opts->bind_addr, opts->port)) < 0)
		return fd;
	if (!(s = calloc(1, sizeof(*s)))) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	s->frame = malloc(PP_PROTO_MAX_FRAME);
	s->batch = malloc(PP_PROTO_MAX_BATCH * sizeof(*s->batch));
	if (!s->frame || !s->batch) {
		pp_control_server_close(s);
		return -ENOMEM;
	}
	s->timeout_ms = opts->timeout_ms ? opts->timeout_ms : PP_CONTROL_DEFAULT_TIMEOUT_MS;
	s->src = opts->source;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	*out = s;
	return 0;
}

int pp_control_server_fd(const struct pp_control_server *s)
{
	return s->fd;
}

uint16_t pp_control_server_port(const struct pp_control_server *s)
{
	return s->port;
}

const struct pp_control_server_stats *pp_control_server_stats(const struct pp_control_server *s)
{
	return &s->st;
}

struct serving {
	struct pp_control_server *s;
	int fd;
	struct pp_instance inst;
	uint32_t nbatch;
	uint64_t sent;
};

static int flush_batch(struct serving *v)
{
	ssize_t len;
	int err;

	if (!v->nbatch)
		return 0;
	len = pp_proto_encode_events(v->s->frame, PP_PROTO_MAX_FRAME, v->s->batch, v->nbatch);
	if (len < 0)
		return (int)len;
	if ((err = pp_sock_write_timed(v->fd, v->s->frame, (size_t)len, v->s->timeout_ms)) < 0)
		return err;
	v->sent += v->nbatch;
	v->nbatch = 0;
	return 0;
}

static int scan_one(void *ctx, const struct pp_event *ev)
{
	pp_instance_scan(&((struct serving *)ctx)->inst, ev);
	return 0;
}

static int send_one(void *ctx, const struct pp_event *ev)
{
	struct serving *v = ctx;
	struct pp_event *out;

	/* the store may pass more than was asked; only this connection's events leave */
	if (!pp_instance_has(&v->inst, ev) || ev->point < PP_SEND || ev->point >= PP_POINT_MAX) {
		v->s->st.events_filtered++;
		return 0;
	}
	out = &v->s->batch[v->nbatch++];
	*out = *ev;
	if (out->family == PP_AF_INET) {
		memset(out->saddr + 4, 0, 12);
		memset(out->daddr + 4, 0, 12);
	}
	memset(out->pad, 0, sizeof(out->pad));
	return v->nbatch == PP_PROTO_MAX_BATCH ? flush_batch(v) : 0;
}

static void send_error(struct pp_control_server *s, int fd, uint16_t code, const char *text)
{
	ssize_t len = pp_proto_encode_error(s->frame, PP_PROTO_MAX_FRAME, code, text);

	if (len > 0)
		pp_sock_write_timed(fd, s->frame, (size_t)len, s->timeout_ms);
}

/* Reads and checks the request; on failure answers ERROR and says why in e. */
static int read_request(struct pp_control_server *s, int fd, struct pp_fetch_req *req,
			struct pp_err *e)
{
	int64_t deadline = pp_net_deadline_ms(s->timeout_ms); /* the whole request, so a trickle cannot hold us */
	uint8_t buf[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN];
	struct pp_frame_hdr hdr;
	int err;

	if ((err = pp_sock_read_timed(fd, buf, PP_PROTO_HDR_LEN, s->timeout_ms, deadline)) < 0) {
		pp_err_set(e, err, "request: %s", strerror(-err));
		if (err == -ETIMEDOUT)
			send_error(s, fd, PP_ERR_TIMEOUT, "no request within the timeout");
		return err;
	}
	err = pp_proto_decode_hdr(buf, PP_PROTO_HDR_LEN, &hdr);
	if (err == -EPROTONOSUPPORT) {
		pp_err_set(e, err, "request: protocol version %u (this agent speaks %u)",
			 hdr.version, PP_PROTO_VERSION);
		send_error(s, fd, PP_ERR_VERSION, "this agent speaks pingpong control protocol version 1");
		return err;
	}
	if (err == 0 && hdr.type != PP_MSG_FETCH)
		err = -EBADMSG;
	if (err < 0) {
		pp_err_set(e, err, "request: not a FETCH frame (%s)", strerror(-err));
		send_error(s, fd, PP_ERR_BAD_REQUEST, "expected a FETCH frame");
		return err;
	}
	if ((err = pp_sock_read_timed(fd, buf + PP_PROTO_HDR_LEN, hdr.length, s->timeout_ms, deadline)) < 0) {
		pp_err_set(e, err, "request: %s", strerror(-err));
		return err;
	}
	if ((err = pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, hdr.length, req)) < 0) {
		pp_err_set(e, err, "request: malformed FETCH");
		send_error(s, fd, PP_ERR_BAD_REQUEST, "malformed FETCH payload");
		return err;
	}
	return 0;
}

static int serve(struct pp_control_server *s, int fd, struct pp_err *e)
{
	struct serving v = { .s = s, .fd = fd };
	struct pp_fetch_req req;
	struct pp_end_counts end = { 0 };
	ssize_t len;
	int err;

	if ((err = read_request(s, fd, &req, e)) < 0)
		return err;
	pp_instance_init(&v.inst, &req.flow, req.flags & PP_FETCH_HAVE_ISN, req.isn);
	err = s->src.for_each_event(s->src.ctx, &req.flow, scan_one, &v);
	if (err >= 0) {
		pp_instance_decide(&v.inst);
		err = s->src.for_each_event(s->src.ctx, &req.flow, send_one, &v);
	}
	if (err >= 0)
		err = flush_batch(&v);
	pp_instance_free(&v.inst);
	s->st.events_sent += v.sent;
	if (err < 0) {
		pp_err_set(e, err, "sending events: %s", strerror(-err));
		/* a broken connection cannot carry an ERROR; a failed store can */
		if (err != -ETIMEDOUT && err != -EPIPE && err != -ECONNRESET)
			send_error(s, fd, PP_ERR_INTERNAL, "the agent failed to read its event store");
		return err;
	}
	end.events_sent = v.sent;
	if (s->src.get_counts)
		s->src.get_counts(s->src.ctx, &end.lost_samples, &end.pcap_drops);
	len = pp_proto_encode_end(s->frame, PP_PROTO_MAX_FRAME, &end);
	if ((err = pp_sock_write_timed(fd, s->frame, (size_t)len, s->timeout_ms)) < 0) {
		pp_err_set(e, err, "sending END: %s", strerror(-err));
		return err;
	}
	return 0;
}

int pp_control_server_serve_one(struct pp_control_server *s, struct pp_err *e)
{
	int fd, err;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
			return 0;
		return pp_err_set(e, -errno, "accept: %s", strerror(errno));
	}
	s->st.requests++;
	err = serve(s, fd, e);
	close(fd);
	if (err < 0) {
		s->st.failed++;
		return err;
	}
	s->st.served++;
	return 1;
}

/* Also frees a server that pp_control_server_open could not finish. */
void pp_control_server_close(struct pp_control_server *s)
{
	if (s) {
		close(s->fd);
		free(s->frame);
		free(s->batch);
	}
	free(s);
}

