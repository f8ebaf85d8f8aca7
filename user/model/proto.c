// SPDX-License-Identifier: MIT
/* The control channel's frame codec: field-by-field big-endian encoding (never a struct memcpy,
 * so both ends agree whatever their compiler or byte order), bounds checked on every read. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/proto.h"

/* ---- the 4-tuple ---- */

static size_t addr_len(uint8_t family)
{
	return family == PP_AF_INET6 ? 16 : 4;
}

/* Constant sizes, so the compiler inlines the compares: this runs for every event. any_port:
 * the key's end is the all-ports wildcard (its port 0), so only the address must agree. */
static bool same_end(const uint8_t *a, uint16_t a_port, const uint8_t *b, uint16_t b_port, size_t n,
		     bool any_port)
{
	if (a_port != b_port && !any_port)
		return false;
	return n == 4 ? memcmp(a, b, 4) == 0 : memcmp(a, b, 16) == 0;
}

enum pp_flow_dir pp_flow_dir(const struct pp_flow_key *key, const struct pp_event *ev)
{
	size_t n = addr_len(key->family);
	bool any = pp_flow_key_any_port(key);

	if (ev->family != key->family)
		return PP_DIR_NONE;
	if (same_end(ev->saddr, ev->sport, key->client_addr, key->client_port, n, any) &&
	    same_end(ev->daddr, ev->dport, key->server_addr, key->server_port, n, false))
		return PP_DIR_TO_SERVER;
	if (same_end(ev->saddr, ev->sport, key->server_addr, key->server_port, n, false) &&
	    same_end(ev->daddr, ev->dport, key->client_addr, key->client_port, n, any))
		return PP_DIR_TO_CLIENT;
	return PP_DIR_NONE;
}

bool pp_flow_key_valid(const struct pp_flow_key *key)
{
	static const uint8_t zero[16];

	if (key->family != PP_AF_INET && key->family != PP_AF_INET6)
		return false;
	if (!key->client_port || !key->server_port)
		return false;
	/* IPv4 keeps the tail zero, so two keys of one connection compare equal byte for byte */
	if (key->family == PP_AF_INET &&
	    (memcmp(key->client_addr + 4, zero, 12) || memcmp(key->server_addr + 4, zero, 12)))
		return false;
	return true;
}

bool pp_fetch_req_valid(const struct pp_fetch_req *req)
{
	struct pp_flow_key one;

	if (req->flags & ~PP_FETCH_FLAGS)
		return false;
	if (!(req->flags & PP_FETCH_HAVE_ISN) && req->isn)
		return false;
	if (!(req->flags & PP_FETCH_ALL_PORTS))
		return pp_flow_key_valid(&req->flow);
	/* every instance of every port: an ISN would pick one, a port would name one */
	if (req->flow.client_port || (req->flags & PP_FETCH_HAVE_ISN))
		return false;
	one = req->flow;
	one.client_port = 1; /* the rest of the key as for one connection */
	return pp_flow_key_valid(&one);
}

void pp_flow_key_from_event(struct pp_flow_key *key, const struct pp_event *ev, bool to_server)
{
	memset(key, 0, sizeof(*key));
	key->family = ev->family;
	if (to_server) {
		memcpy(key->client_addr, ev->saddr, 16);
		memcpy(key->server_addr, ev->daddr, 16);
		key->client_port = ev->sport;
		key->server_port = ev->dport;
	} else {
		memcpy(key->client_addr, ev->daddr, 16);
		memcpy(key->server_addr, ev->saddr, 16);
		key->client_port = ev->dport;
		key->server_port = ev->sport;
	}
	if (key->family == PP_AF_INET) {
		memset(key->client_addr + 4, 0, 12);
		memset(key->server_addr + 4, 0, 12);
	}
}

static int parse_addr(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, text, out) == 1)
		return PP_AF_INET;
	if (inet_pton(AF_INET6, text, out) == 1)
		return PP_AF_INET6;
	return -EINVAL;
}

int pp_flow_key_set(struct pp_flow_key *key, const char *client_addr, uint16_t client_port,
		    const char *server_addr, uint16_t server_port)
{
	int cf, sf;

	memset(key, 0, sizeof(*key));
	cf = parse_addr(client_addr, key->client_addr);
	sf = parse_addr(server_addr, key->server_addr);
	if (cf < 0 || sf < 0 || cf != sf)
		return -EINVAL;
	key->family = (uint8_t)cf;
	key->client_port = client_port;
	key->server_port = server_port;
	return pp_flow_key_valid(key) ? 0 : -EINVAL;
}

/* any_port: the all-ports wildcard's end, "198.18.0.1:*" */
static void end_str(char *buf, size_t size, uint8_t family, const uint8_t *addr, uint16_t port,
		    bool any_port)
{
	char a[INET6_ADDRSTRLEN], p[8] = "*";

	if (!inet_ntop(family == PP_AF_INET6 ? AF_INET6 : AF_INET, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (!any_port)
		snprintf(p, sizeof(p), "%u", port);
	snprintf(buf, size, family == PP_AF_INET6 ? "[%s]:%s" : "%s:%s", a, p);
}

const char *pp_flow_key_str(const struct pp_flow_key *key, char *buf, size_t size)
{
	char c[INET6_ADDRSTRLEN + 10], s[INET6_ADDRSTRLEN + 10]; /* "[", "]:", 7 of p */

	end_str(c, sizeof(c), key->family, key->client_addr, key->client_port, pp_flow_key_any_port(key));
	end_str(s, sizeof(s), key->family, key->server_addr, key->server_port, false);
	snprintf(buf, size, "%s -> %s", c, s);
	return buf;
}

/* ---- byte cursors: a failed bounds check sets ok = false and every later access is a no-op ---- */

struct wcur {
	uint8_t *p;
	size_t cap, pos;
	bool ok;
};

struct rcur {
	const uint8_t *p;
	size_t len, pos;
	bool ok;
};

/* Both cursors: n more bytes from *pos of size bytes: their offset, or SIZE_MAX (and *ok false
 * from then on) when they do not fit. */
static size_t take(bool *ok, size_t *pos, size_t size, size_t n)
{
	size_t at = *pos;

	if (!*ok || size - at < n) {
		*ok = false;
		return SIZE_MAX;
	}
	*pos += n;
	return at;
}

static uint8_t *wtake(struct wcur *w, size_t n)
{
	size_t at = take(&w->ok, &w->pos, w->cap, n);

	return at == SIZE_MAX ? NULL : w->p + at;
}

static void put_u8(struct wcur *w, uint8_t v)
{
	uint8_t *at = wtake(w, 1);

	if (at)
		at[0] = v;
}

static void put_u16(struct wcur *w, uint16_t v)
{
	uint8_t *at = wtake(w, 2);

	if (at) {
		at[0] = (uint8_t)(v >> 8);
		at[1] = (uint8_t)v;
	}
}

static void put_u32(struct wcur *w, uint32_t v)
{
	put_u16(w, (uint16_t)(v >> 16));
	put_u16(w, (uint16_t)v);
}

static void put_u64(struct wcur *w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

static void put_bytes(struct wcur *w, const void *src, size_t n)
{
	uint8_t *at = wtake(w, n);

	if (at)
		memcpy(at, src, n);
}

static const uint8_t *rtake(struct rcur *r, size_t n)
{
	size_t at = take(&r->ok, &r->pos, r->len, n);

	return at == SIZE_MAX ? NULL : r->p + at;
}

static uint8_t get_u8(struct rcur *r)
{
	const uint8_t *at = rtake(r, 1);

	return at ? at[0] : 0;
}

static uint16_t get_u16(struct rcur *r)
{
	const uint8_t *at = rtake(r, 2);

	return at ? (uint16_t)(at[0] << 8 | at[1]) : 0;
}

static uint32_t get_u32(struct rcur *r)
{
	uint32_t hi = get_u16(r);

	return hi << 16 | get_u16(r);
}

static uint64_t get_u64(struct rcur *r)
{
	uint64_t hi = get_u32(r);

	return hi << 32 | get_u32(r);
}

static void get_bytes(struct rcur *r, void *dst, size_t n)
{
	const uint8_t *at = rtake(r, n);

	if (at)
		memcpy(dst, at, n);
	else
		memset(dst, 0, n);
}

/* ---- header ---- */

static bool length_fits(uint16_t type, uint32_t length)
{
	switch (type) {
	case PP_MSG_FETCH:
		return length == PP_PROTO_FETCH_LEN;
	case PP_MSG_EVENTS:
		return length >= 4 && length <= PP_PROTO_MAX_PAYLOAD && (length - 4) % PP_PROTO_EVENT_LEN == 0;
	case PP_MSG_END:
		return length == PP_PROTO_END_LEN || length == PP_PROTO_END_LEN_SHORT;
	case PP_MSG_ERROR:
		return length >= 4 && length <= 4 + PP_PROTO_ERROR_TEXT_MAX;
	case PP_MSG_STOP:
		return length == 0;
	}
	return false;
}

int pp_proto_decode_hdr(const uint8_t *buf, size_t len, struct pp_frame_hdr *hdr)
{
	struct rcur r = { buf, len, 0, true };

	if (len < PP_PROTO_HDR_LEN)
		return -EAGAIN;
	hdr->magic = get_u32(&r);
	hdr->version = get_u16(&r);
	hdr->type = get_u16(&r);
	hdr->length = get_u32(&r);
	if (hdr->magic != PP_PROTO_MAGIC)
		return -EPROTO;
	if (hdr->version != PP_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (hdr->type < PP_MSG_FETCH || hdr->type > PP_MSG_STOP)
		return -EBADMSG;
	if (!length_fits(hdr->type, hdr->length))
		return -EMSGSIZE;
	return 0;
}

ssize_t pp_proto_decode_frame(const uint8_t *buf, size_t len, struct pp_frame_hdr *hdr,
			      const uint8_t **payload)
{
	int err = pp_proto_decode_hdr(buf, len, hdr);

	if (err)
		return err;
	if (len - PP_PROTO_HDR_LEN < hdr->length)
		return -EAGAIN;
	*payload = buf + PP_PROTO_HDR_LEN;
	return (ssize_t)(PP_PROTO_HDR_LEN + hdr->length);
}

static void put_hdr_in(struct wcur *w, uint16_t version, uint16_t type, uint32_t length)
{
	put_u32(w, PP_PROTO_MAGIC);
	put_u16(w, version);
	put_u16(w, type);
	put_u32(w, length);
}

static void put_hdr(struct wcur *w, uint16_t type, uint32_t length)
{
	put_hdr_in(w, PP_PROTO_VERSION, type, length);
}

static ssize_t finish(const struct wcur *w)
{
	return w->ok ? (ssize_t)w->pos : -ENOSPC;
}

/* ---- FETCH ---- */

ssize_t pp_proto_encode_fetch(uint8_t *buf, size_t cap, const struct pp_fetch_req *req)
{
	struct wcur w = { buf, cap, 0, true };

	/* the ISN goes out as 0 without its flag, whatever req->isn holds */
	struct pp_fetch_req checked = *req;

	if (!(checked.flags & PP_FETCH_HAVE_ISN))
		checked.isn = 0;
	if (!pp_fetch_req_valid(&checked))
		return -EINVAL;
	put_hdr(&w, PP_MSG_FETCH, PP_PROTO_FETCH_LEN);
	put_u8(&w, req->flow.family);
	put_u8(&w, req->flags);
	put_u16(&w, 0);
	put_u16(&w, req->flow.client_port);
	put_u16(&w, req->flow.server_port);
	put_bytes(&w, req->flow.client_addr, 16);
	put_bytes(&w, req->flow.server_addr, 16);
	put_u32(&w, (req->flags & PP_FETCH_HAVE_ISN) ? req->isn : 0);
	return finish(&w);
}

int pp_proto_decode_fetch(const uint8_t *p, size_t len, struct pp_fetch_req *req)
{
	struct rcur r = { p, len, 0, true };
	uint16_t reserved;

	if (len != PP_PROTO_FETCH_LEN)
		return -EBADMSG;
	memset(req, 0, sizeof(*req));
	req->flow.family = get_u8(&r);
	req->flags = get_u8(&r);
	reserved = get_u16(&r);
	req->flow.client_port = get_u16(&r);
	req->flow.server_port = get_u16(&r);
	get_bytes(&r, req->flow.client_addr, 16);
	get_bytes(&r, req->flow.server_addr, 16);
	req->isn = get_u32(&r);
	if (!r.ok || reserved || !pp_fetch_req_valid(req))
		return -EBADMSG;
	return 0;
}

/* ---- EVENTS ---- */

static void put_event(struct wcur *w, const struct pp_event *ev)
{
	put_u64(w, ev->ts_ns);
	put_u64(w, ev->ts_other_ns);
	put_u32(w, ev->seq);
	put_u32(w, ev->len);
	put_u32(w, ev->ack);
	put_u32(w, ev->tgid);
	put_u16(w, ev->sport);
	put_u16(w, ev->dport);
	put_bytes(w, ev->saddr, 16);
	put_bytes(w, ev->daddr, 16);
	put_u8(w, ev->point);
	put_u8(w, ev->family);
	put_u8(w, ev->tcp_flags);
	put_u8(w, 0);
}

static bool event_valid(const struct pp_event *ev)
{
	static const uint8_t zero[12];

	if (ev->point < PP_SEND || ev->point >= PP_POINT_MAX)
		return false;
	if (ev->family == PP_AF_INET)
		return !memcmp(ev->saddr + 4, zero, 12) && !memcmp(ev->daddr + 4, zero, 12);
	return ev->family == PP_AF_INET6;
}

ssize_t pp_proto_encode_events(uint8_t *buf, size_t cap, const struct pp_event *ev, uint32_t n)
{
	struct wcur w = { buf, cap, 0, true };

	if (n > PP_PROTO_MAX_BATCH)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		if (!event_valid(&ev[i]))
			return -EINVAL;
	put_hdr(&w, PP_MSG_EVENTS, 4 + n * PP_PROTO_EVENT_LEN);
	put_u32(&w, n);
	for (uint32_t i = 0; i < n && w.ok; i++)
		put_event(&w, &ev[i]);
	return finish(&w);
}

ssize_t pp_proto_encode_events_head(uint8_t *buf, size_t cap, uint32_t n)
{
	struct wcur w = { buf, cap, 0, true };

	if (n > PP_PROTO_MAX_BATCH)
		return -EINVAL;
	put_hdr(&w, PP_MSG_EVENTS, 4 + n * PP_PROTO_EVENT_LEN);
	put_u32(&w, n);
	return finish(&w);
}

ssize_t pp_proto_encode_event(uint8_t *buf, size_t cap, const struct pp_event *ev)
{
	struct wcur w = { buf, cap, 0, true };

	if (!event_valid(ev))
		return -EINVAL;
	put_event(&w, ev);
	return finish(&w);
}

int pp_proto_decode_events(const uint8_t *p, size_t len, struct pp_event *out, uint32_t cap,
			   uint32_t *n)
{
	struct rcur r = { p, len, 0, true };
	uint32_t count = get_u32(&r);

	*n = 0;
	if (!r.ok || count > PP_PROTO_MAX_BATCH || len != 4 + (size_t)count * PP_PROTO_EVENT_LEN)
		return -EBADMSG;
	if (count > cap)
		return -EMSGSIZE;
	for (uint32_t i = 0; i < count; i++) {
		struct pp_event *ev = &out[i];

		memset(ev, 0, sizeof(*ev));
		ev->ts_ns = get_u64(&r);
		ev->ts_other_ns = get_u64(&r);
		ev->seq = get_u32(&r);
		ev->len = get_u32(&r);
		ev->ack = get_u32(&r);
		ev->tgid = get_u32(&r);
		ev->sport = get_u16(&r);
		ev->dport = get_u16(&r);
		get_bytes(&r, ev->saddr, 16);
		get_bytes(&r, ev->daddr, 16);
		ev->point = get_u8(&r);
		ev->family = get_u8(&r);
		ev->tcp_flags = get_u8(&r);
		if (get_u8(&r) != 0 || !r.ok || !event_valid(ev))
			return -EBADMSG;
	}
	*n = count;
	return 0;
}

/* ---- END ---- */

ssize_t pp_proto_encode_end_len(uint8_t *buf, size_t cap, const struct pp_end_counts *counts,
				uint32_t len)
{
	struct wcur w = { buf, cap, 0, true };
	/* all ones both, or neither: a known count that happens to be all ones is not sayable */
	bool known = counts->bpf_known && counts->bpf_run_ns != PP_END_UNKNOWN &&
		     counts->bpf_runs != PP_END_UNKNOWN;

	if (len != PP_PROTO_END_LEN && len != PP_PROTO_END_LEN_SHORT)
		return -EINVAL;
	put_hdr(&w, PP_MSG_END, len);
	put_u64(&w, counts->events_sent);
	put_u64(&w, counts->lost_samples);
	put_u64(&w, counts->pcap_drops);
	put_u64(&w, counts->dropped);
	if (len == PP_PROTO_END_LEN) {
		put_u64(&w, known ? counts->bpf_run_ns : PP_END_UNKNOWN);
		put_u64(&w, known ? counts->bpf_runs : PP_END_UNKNOWN);
	}
	return finish(&w);
}

ssize_t pp_proto_encode_end(uint8_t *buf, size_t cap, const struct pp_end_counts *counts)
{
	return pp_proto_encode_end_len(buf, cap, counts, PP_PROTO_END_LEN);
}

int pp_proto_decode_end(const uint8_t *p, size_t len, struct pp_end_counts *counts)
{
	struct rcur r = { p, len, 0, true };

	if (len != PP_PROTO_END_LEN && len != PP_PROTO_END_LEN_SHORT)
		return -EBADMSG;
	counts->events_sent = get_u64(&r);
	counts->lost_samples = get_u64(&r);
	counts->pcap_drops = get_u64(&r);
	counts->dropped = get_u64(&r);
	counts->bpf_known = false;
	counts->bpf_run_ns = counts->bpf_runs = 0;
	if (len == PP_PROTO_END_LEN) {
		uint64_t ns = get_u64(&r), runs = get_u64(&r);

		if ((ns == PP_END_UNKNOWN) != (runs == PP_END_UNKNOWN))
			return -EBADMSG;
		if (ns != PP_END_UNKNOWN) {
			counts->bpf_known = true;
			counts->bpf_run_ns = ns;
			counts->bpf_runs = runs;
		}
	}
	return r.ok ? 0 : -EBADMSG;
}

/* ---- ERROR ---- */

ssize_t pp_proto_encode_error_in(uint8_t *buf, size_t cap, uint16_t version, uint16_t code,
				 const char *text)
{
	struct wcur w = { buf, cap, 0, true };
	size_t n = text ? strnlen(text, PP_PROTO_ERROR_TEXT_MAX) : 0;

	put_hdr_in(&w, version, PP_MSG_ERROR, (uint32_t)(4 + n));
	put_u16(&w, code);
	put_u16(&w, (uint16_t)n);
	put_bytes(&w, text, n);
	return finish(&w);
}

ssize_t pp_proto_encode_error(uint8_t *buf, size_t cap, uint16_t code, const char *text)
{
	return pp_proto_encode_error_in(buf, cap, PP_PROTO_VERSION, code, text);
}

ssize_t pp_proto_encode_stop(uint8_t *buf, size_t cap)
{
	struct wcur w = { buf, cap, 0, true };

	put_hdr(&w, PP_MSG_STOP, 0);
	return finish(&w);
}

int pp_proto_decode_error(const uint8_t *p, size_t len, uint16_t *code,
			  char text[PP_PROTO_ERROR_TEXT_MAX + 1])
{
	struct rcur r = { p, len, 0, true };
	uint16_t n;

	text[0] = '\0';
	*code = get_u16(&r);
	n = get_u16(&r);
	if (!r.ok || n > PP_PROTO_ERROR_TEXT_MAX || len != 4 + (size_t)n)
		return -EBADMSG;
	get_bytes(&r, text, n);
	text[n] = '\0';
	/* the text ends up on a terminal: nothing that could move the cursor or ring a bell */
	for (uint16_t i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	return r.ok ? 0 : -EBADMSG;
}
