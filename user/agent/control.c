/* The control channel's two ends: the agent's one-request-at-a-time server over its event
 * store, and the client's fetch; every read and write waits at most the timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define MAX_SYNS 4096 /* SYNs remembered per request: one per connection of the 4-tuple */

/* ---- timed I/O on non-blocking sockets ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static volatile sig_atomic_t *abort_flag;

void pp_control_set_abort_flag(volatile sig_atomic_t *flag)
{
	abort_flag = flag;
}

static bool aborted(void)
{
	return abort_flag && *abort_flag;
}

/* Slices of a wait: a stop signal that lands just before poll is still seen within this. */
#define ABORT_CHECK_MS 100

/* deadline_ms < 0: wait timeout_ms; else wait until the deadline. -EINTR once the abort
 * flag is set (a stop signal must not wait out a stalled peer). */
static int wait_fd(int fd, short events, int timeout_ms, int64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t end = deadline_ms >= 0 ? deadline_ms : now_ms() + timeout_ms;
	int n;

	do {
		int64_t left = end - now_ms();
		int wait_ms = left <= 0 ? 0 : (int)left;

		if (aborted())
			return -EINTR;
		if (abort_flag && wait_ms > ABORT_CHECK_MS)
			wait_ms = ABORT_CHECK_MS;
		n = poll(&p, 1, wait_ms);
		if (n == 0 && now_ms() < end)
			n = -1, errno = EINTR; /* a slice ended: look at the flag, wait on */
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return 0;
}

static int read_full(int fd, void *buf, size_t len, int timeout_ms, int64_t deadline_ms)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		int err;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET; /* the peer hung up in the middle of a frame */
		if (errno == EINTR && aborted())
			return -EINTR;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if ((err = wait_fd(fd, POLLIN, timeout_ms, deadline_ms)) < 0)
			return err;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;

	while (len) {
		/* MSG_NOSIGNAL: a peer that went away must not kill the agent with SIGPIPE */
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		int err;

		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR && aborted())
			return -EINTR;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if ((err = wait_fd(fd, POLLOUT, timeout_ms, -1)) < 0)
			return err;
	}
	return 0;
}

/* ---- which stored events are the asked connection's ---- */

void pp_instance_init(struct pp_instance *in, const struct pp_flow_key *flow, bool have_isn, uint32_t isn)
{
	memset(in, 0, sizeof(*in));
	in->flow = *flow;
	in->have_isn = have_isn;
	in->isn = isn;
	in->end_ns = UINT64_MAX;
}

void pp_instance_scan(struct pp_instance *in, const struct pp_event *ev)
{
	/* the client's SYN (SYN without ACK, towards the server), at any point of either host */
	if ((ev->tcp_flags & (TCP_SYN | TCP_ACK)) != TCP_SYN ||
	    pp_flow_dir(&in->flow, ev) != PP_DIR_TO_SERVER || in->nsyn >= MAX_SYNS)
		return;
	if (in->nsyn == in->capsyn) {
		size_t cap = in->capsyn ? in->capsyn * 2 : 8;
		struct pp_instance_syn *syns = realloc(in->syns, cap * sizeof(*syns));

		if (!syns)
			return; /* fewer SYNs known: a wider range, never a wrong one */
		in->syns = syns;
		in->capsyn = cap;
	}
	in->syns[in->nsyn].ts = ev->ts_ns;
	in->syns[in->nsyn].seq = ev->seq;
	in->nsyn++;
}

static int cmp_syn(const void *a, const void *b)
{
	const struct pp_instance_syn *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

void pp_instance_decide(struct pp_instance *in)
{
	size_t first = in->nsyn, i;
	uint32_t seq;

	in->start_ns = 0;
	in->end_ns = UINT64_MAX;
	if (!in->nsyn)
		return;
	qsort(in->syns, in->nsyn, sizeof(*in->syns), cmp_syn);
	if (in->have_isn) {
		for (i = 0; i < in->nsyn && first == in->nsyn; i++)
			if (in->syns[i].seq == in->isn)
				first = i;
		if (first == in->nsyn)
			return; /* our SYN was not stored (agent started later): no time limit */
	} else {
		/* the latest connection: the first SYN of the last run of one seq (retransmits) */
		seq = in->syns[in->nsyn - 1].seq;
		for (first = in->nsyn; first > 0 && in->syns[first - 1].seq == seq; first--)
			;
	}
	seq = in->syns[first].seq;
	in->start_ns = in->syns[first].ts;
	for (i = first + 1; i < in->nsyn; i++)
		if (in->syns[i].seq != seq) {
			in->end_ns = in->syns[i].ts;
			break;
		}
}

bool pp_instance_has(const struct pp_instance *in, const struct pp_event *ev)
{
	return pp_flow_dir(&in->flow, ev) != PP_DIR_NONE && ev->ts_ns >= in->start_ns &&
	       ev->ts_ns < in->end_ns;
}

void pp_instance_free(struct pp_instance *in)
{
	free(in->syns);
	in->syns = NULL;
	in->nsyn = in->capsyn = 0;
}

/* ---- server ---- */

struct pp_control_server {
	int fd;
	uint16_t port;
	int timeout_ms;
	struct pp_control_source src;
	uint8_t *frame;               /* PP_PROTO_MAX_FRAME */
	struct pp_event *batch;       /* PP_PROTO_MAX_BATCH */
	struct pp_control_server_stats st;
	char err[192];
};

static int listen_on(const char *addr, uint16_t port, int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	int fd, one = 1, zero = 0;

	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (addr && inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
			return -EINVAL;
		if (!addr)
			a->sin6_addr = in6addr_any;
		sslen = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (addr && inet_pton(AF_INET, addr, &a->sin_addr) != 1)
			return -EINVAL;
		if (!addr)
			a->sin_addr.s_addr = htonl(INADDR_ANY);
		sslen = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6 && !addr)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 16) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int pp_control_server_open(struct pp_control_server **out, const struct pp_control_server_opts *opts)
{
	struct pp_control_server *s;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct in6_addr a6;
	int fd;

	*out = NULL;
	if (!opts->source.for_each_event || opts->timeout_ms < 0)
		return -EINVAL;
	if (opts->bind_addr)
		fd = listen_on(opts->bind_addr, opts->port,
			       inet_pton(AF_INET6, opts->bind_addr, &a6) == 1 ? AF_INET6 : AF_INET);
	else if ((fd = listen_on(NULL, opts->port, AF_INET6)) == -EAFNOSUPPORT)
		fd = listen_on(NULL, opts->port, AF_INET);
	if (fd < 0)
		return fd;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->frame = malloc(PP_PROTO_MAX_FRAME)) ||
	    !(s->batch = malloc(PP_PROTO_MAX_BATCH * sizeof(*s->batch)))) {
		if (s)
			free(s->frame);
		free(s);
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
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

const char *pp_control_server_error(const struct pp_control_server *s)
{
	return s->err;
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
	if ((err = write_full(v->fd, v->s->frame, (size_t)len, v->s->timeout_ms)) < 0)
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
		write_full(fd, s->frame, (size_t)len, s->timeout_ms);
}

/* Reads and checks the request; on failure answers ERROR and says why in s->err. */
static int read_request(struct pp_control_server *s, int fd, struct pp_fetch_req *req)
{
	int64_t deadline = now_ms() + s->timeout_ms; /* the whole request, so a trickle cannot hold us */
	uint8_t buf[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN];
	struct pp_frame_hdr hdr;
	int err;

	if ((err = read_full(fd, buf, PP_PROTO_HDR_LEN, s->timeout_ms, deadline)) < 0) {
		snprintf(s->err, sizeof(s->err), "request: %s", strerror(-err));
		if (err == -ETIMEDOUT)
			send_error(s, fd, PP_ERR_TIMEOUT, "no request within the timeout");
		return err;
	}
	err = pp_proto_decode_hdr(buf, PP_PROTO_HDR_LEN, &hdr);
	if (err == -EPROTONOSUPPORT) {
		snprintf(s->err, sizeof(s->err), "request: protocol version %u (this agent speaks %u)",
			 hdr.version, PP_PROTO_VERSION);
		send_error(s, fd, PP_ERR_VERSION, "this agent speaks pingpong control protocol version 1");
		return err;
	}
	if (err == 0 && hdr.type != PP_MSG_FETCH)
		err = -EBADMSG;
	if (err < 0) {
		snprintf(s->err, sizeof(s->err), "request: not a FETCH frame (%s)", strerror(-err));
		send_error(s, fd, PP_ERR_BAD_REQUEST, "expected a FETCH frame");
		return err;
	}
	if ((err = read_full(fd, buf + PP_PROTO_HDR_LEN, hdr.length, s->timeout_ms, deadline)) < 0) {
		snprintf(s->err, sizeof(s->err), "request: %s", strerror(-err));
		return err;
	}
	if ((err = pp_proto_decode_fetch(buf + PP_PROTO_HDR_LEN, hdr.length, req)) < 0) {
		snprintf(s->err, sizeof(s->err), "request: malformed FETCH");
		send_error(s, fd, PP_ERR_BAD_REQUEST, "malformed FETCH payload");
		return err;
	}
	return 0;
}

static int serve(struct pp_control_server *s, int fd)
{
	struct serving v = { .s = s, .fd = fd };
	struct pp_fetch_req req;
	struct pp_end_counts end = { 0 };
	ssize_t len;
	int err;

	if ((err = read_request(s, fd, &req)) < 0)
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
		snprintf(s->err, sizeof(s->err), "sending events: %s", strerror(-err));
		/* a broken connection cannot carry an ERROR; a failed store can */
		if (err != -ETIMEDOUT && err != -EPIPE && err != -ECONNRESET)
			send_error(s, fd, PP_ERR_INTERNAL, "the agent failed to read its event store");
		return err;
	}
	end.events_sent = v.sent;
	if (s->src.get_counts)
		s->src.get_counts(s->src.ctx, &end.lost_samples, &end.pcap_drops);
	len = pp_proto_encode_end(s->frame, PP_PROTO_MAX_FRAME, &end);
	if ((err = write_full(fd, s->frame, (size_t)len, s->timeout_ms)) < 0) {
		snprintf(s->err, sizeof(s->err), "sending END: %s", strerror(-err));
		return err;
	}
	return 0;
}

int pp_control_server_serve_one(struct pp_control_server *s)
{
	int fd, err;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
			return 0;
		snprintf(s->err, sizeof(s->err), "accept: %s", strerror(errno));
		return -errno;
	}
	s->st.requests++;
	s->err[0] = '\0';
	err = serve(s, fd);
	close(fd);
	if (err < 0) {
		s->st.failed++;
		return err;
	}
	s->st.served++;
	return 1;
}

void pp_control_server_close(struct pp_control_server *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->frame);
	free(s->batch);
	free(s);
}

/* ---- client ---- */

struct pp_fetch {
	int fd;
	int timeout_ms;
	struct pp_flow_key flow;
	uint8_t *payload;             /* PP_PROTO_MAX_PAYLOAD */
	struct pp_event *batch;
	uint32_t nbatch, at;
	bool done;
	struct pp_fetch_stats st;
};

static int connect_timed(const char *addr, uint16_t port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	char service[8];
	socklen_t errlen = sizeof(int);
	int fd, err = 0, one = 1;

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(addr, service, &hints, &ai) != 0)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto out;
		}
		if ((err = wait_fd(fd, POLLOUT, timeout_ms, -1)) < 0)
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
			err = errno;
		err = -err;
	}
out:
	freeaddrinfo(ai);
	if (err < 0) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int pp_control_fetch_open(struct pp_fetch **out, const char *addr, uint16_t port,
			  const struct pp_fetch_req *req, int timeout_ms)
{
	uint8_t frame[PP_PROTO_HDR_LEN + PP_PROTO_FETCH_LEN];
	struct pp_fetch *f;
	ssize_t len;
	int err;

	*out = NULL;
	if (timeout_ms < 0)
		return -EINVAL;
	len = pp_proto_encode_fetch(frame, sizeof(frame), req);
	if (len < 0)
		return (int)len;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->payload = malloc(PP_PROTO_MAX_PAYLOAD)) ||
	    !(f->batch = malloc(PP_PROTO_MAX_BATCH * sizeof(*f->batch)))) {
		if (f)
			free(f->payload);
		free(f);
		return -ENOMEM;
	}
	f->timeout_ms = timeout_ms ? timeout_ms : PP_CONTROL_DEFAULT_TIMEOUT_MS;
	f->flow = req->flow;
	f->fd = connect_timed(addr, port, f->timeout_ms);
	if (f->fd < 0) {
		err = f->fd;
		f->fd = -1;
		pp_control_fetch_close(f);
		return err;
	}
	if ((err = write_full(f->fd, frame, (size_t)len, f->timeout_ms)) < 0) {
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

	if ((err = read_full(f->fd, hdrbuf, sizeof(hdrbuf), f->timeout_ms, -1)) < 0)
		return err;
	err = pp_proto_decode_hdr(hdrbuf, sizeof(hdrbuf), &hdr);
	if (err == -EPROTONOSUPPORT)
		return err;
	if (err < 0)
		return -EPROTO;
	if ((err = read_full(f->fd, f->payload, hdr.length, f->timeout_ms, -1)) < 0)
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
