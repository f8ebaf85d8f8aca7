// SPDX-License-Identifier: MIT
/* events.csv: writes and parses the raw event log, one struct pp_event per row (eventlog.h).
 * Parsing is strict (every field, every range) because the file may come from another host. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "collect/eventlog.h"

#define EVENTLOG_HEADER "point,ts_ns,ts_other_ns,family,saddr,sport,daddr,dport,seq,len,ack,flags,tgid"
#define EVENTLOG_FIELDS 13
#define EVENTLOG_MAX_LINE 512 /* a real row is under 200 bytes */

static const char *const point_names[PP_POINT_MAX] = {
	[PP_SEND] = "send", [PP_XMIT] = "xmit", [PP_WIRE_TX] = "wire_tx", [PP_WIRE_RX] = "wire_rx",
	[PP_RX] = "rx", [PP_TCP] = "tcp", [PP_RECV] = "recv",
	[PP_WAKE] = "wake", [PP_IDLE] = "idle", [PP_ONCPU] = "oncpu",
};

struct pp_eventlog_reader {
	FILE *f;
	char *line;
	size_t cap;
	uint64_t rows;
	uint64_t bad_rows;
};

const char *pp_point_name(int point)
{
	if (point <= 0 || point >= PP_POINT_MAX || !point_names[point])
		return "?";
	return point_names[point];
}

int pp_point_from_name(const char *name)
{
	int p;

	for (p = 1; p < PP_POINT_MAX; p++)
		if (point_names[p] && strcmp(point_names[p], name) == 0)
			return p;
	return -EINVAL;
}

int pp_eventlog_write_header(FILE *f)
{
	return fputs(EVENTLOG_HEADER "\n", f) < 0 ? -EIO : 0;
}

static int af_of(__u8 family)
{
	return family == PP_AF_INET ? AF_INET : family == PP_AF_INET6 ? AF_INET6 : -1;
}

int pp_eventlog_write(FILE *f, const struct pp_event *ev)
{
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN];
	int af = af_of(ev->family);

	if (af < 0 || !inet_ntop(af, ev->saddr, saddr, sizeof(saddr)) ||
	    !inet_ntop(af, ev->daddr, daddr, sizeof(daddr)))
		return -EINVAL;
	if (fprintf(f, "%s,%llu,%llu,%d,%s,%u,%s,%u,%u,%u,%u,0x%02x,%u\n", pp_point_name(ev->point),
		    (unsigned long long)ev->ts_ns, (unsigned long long)ev->ts_other_ns,
		    af == AF_INET ? 4 : 6, saddr, ev->sport, daddr, ev->dport, ev->seq, ev->len, ev->ack,
		    ev->tcp_flags, ev->tgid) < 0)
		return -EIO;
	return 0;
}

/* Digits only (base 10, or 0x-prefixed hex when allowed), no sign or blanks, value <= max. */
static int parse_uint(const char *s, bool allow_hex, uint64_t max, uint64_t *out)
{
	const char *digits = "0123456789";
	int base = 10;
	char *end;

	if (allow_hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		digits = "0123456789abcdefABCDEF";
		s += 2;
	}
	if (!*s || s[strspn(s, digits)] != '\0')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, base);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static int parse_fields(char **field, struct pp_event *ev)
{
	uint64_t v[EVENTLOG_FIELDS];
	int point, af, i;

	point = pp_point_from_name(field[0]);
	if (point < 0)
		return -EINVAL;
	if (parse_uint(field[1], false, UINT64_MAX, &v[1]) || parse_uint(field[2], false, UINT64_MAX, &v[2]) ||
	    parse_uint(field[3], false, 6, &v[3]) || (v[3] != 4 && v[3] != 6))
		return -EINVAL;
	af = v[3] == 4 ? AF_INET : AF_INET6;
	memset(ev, 0, sizeof(*ev));
	if (inet_pton(af, field[4], ev->saddr) != 1 || inet_pton(af, field[6], ev->daddr) != 1)
		return -EINVAL;
	for (i = 5; i < EVENTLOG_FIELDS; i++) {
		uint64_t max = (i == 5 || i == 7) ? UINT16_MAX : i == 11 ? UINT8_MAX : UINT32_MAX;

		if (i != 6 && parse_uint(field[i], i == 11, max, &v[i]))
			return -EINVAL;
	}
	ev->point = (__u8)point;
	ev->ts_ns = v[1];
	ev->ts_other_ns = v[2];
	ev->family = af == AF_INET ? PP_AF_INET : PP_AF_INET6;
	ev->sport = (__u16)v[5];
	ev->dport = (__u16)v[7];
	ev->seq = (__u32)v[8];
	ev->len = (__u32)v[9];
	ev->ack = (__u32)v[10];
	ev->tcp_flags = (__u8)v[11];
	ev->tgid = (__u32)v[12];
	return 0;
}

int pp_eventlog_parse_line(const char *line, struct pp_event *ev)
{
	char buf[EVENTLOG_MAX_LINE], *field[EVENTLOG_FIELDS], *p;
	size_t n = strnlen(line, sizeof(buf));
	int i;

	if (n == sizeof(buf))
		return -EINVAL;
	memcpy(buf, line, n + 1);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	p = buf;
	for (i = 0; i < EVENTLOG_FIELDS; i++) {
		field[i] = p;
		p = strchr(p, ',');
		if (i < EVENTLOG_FIELDS - 1) {
			if (!p)
				return -EINVAL;
			*p++ = '\0';
		} else if (p) {
			return -EINVAL; /* too many fields */
		}
	}
	return parse_fields(field, ev);
}

int pp_eventlog_open(struct pp_eventlog_reader **out, const char *path)
{
	struct pp_eventlog_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->f = fopen(path, "r");
	if (!r->f) {
		int err = -errno;

		free(r);
		return err;
	}
	*out = r;
	return 0;
}

static bool is_blank(const char *s)
{
	return s[strspn(s, "\r\n")] == '\0';
}

int pp_eventlog_next(struct pp_eventlog_reader *r, struct pp_event *ev)
{
	ssize_t n;

	while ((n = getline(&r->line, &r->cap, r->f)) >= 0) {
		if (r->rows++ == 0 && strncmp(r->line, "point,", 6) == 0)
			continue; /* the header */
		if (is_blank(r->line))
			continue;
		if (pp_eventlog_parse_line(r->line, ev) == 0)
			return 1;
		r->bad_rows++;
	}
	return ferror(r->f) ? -EIO : 0;
}

uint64_t pp_eventlog_bad_rows(const struct pp_eventlog_reader *r)
{
	return r->bad_rows;
}

void pp_eventlog_close(struct pp_eventlog_reader *r)
{
	if (r) {
		fclose(r->f);
		free(r->line);
	}
	free(r);
}
