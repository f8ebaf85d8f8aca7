// SPDX-License-Identifier: MIT
/* The frame parser: every link type and header layout we accept, what we skip, and that no
 * input (cut at any length, or garbage) makes it read outside the captured bytes. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/packet.h"
#include "check_main.h"

/* What a test frame holds; build() lays it out in wire order. */
struct frame_spec {
	int linktype;
	int vlan_tags;          /* 802.1Q tags; with qinq the outer one is 802.1ad */
	bool qinq;
	int family;             /* PP_AF_INET / PP_AF_INET6 */
	int ip_opt_bytes;       /* IPv4 options (multiple of 4) */
	int tcp_opt_bytes;      /* TCP options (multiple of 4) */
	uint32_t payload;       /* TCP payload bytes the IP length announces */
	uint32_t written;       /* payload bytes actually present in the frame */
	int ip_len_override;    /* >= 0: write this IP length field instead */
	uint8_t protocol;       /* 0: TCP */
	uint16_t frag;          /* IPv4 flags+offset field */
	uint8_t tcp_flags;
};

#define SEQ   0x01020304u
#define ACK   0xa0b0c0d0u
#define SPORT 40000
#define DPORT 12345

static const uint8_t v4_src[4] = { 198, 18, 0, 1 }, v4_dst[4] = { 198, 18, 0, 2 };
static const uint8_t v6_src[16] = { 0x20, 0x01, 0, 2, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0, 2, [15] = 2 };

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static struct frame_spec spec(int family, uint32_t payload)
{
	return (struct frame_spec){ .linktype = PP_DLT_EN10MB, .family = family, .payload = payload,
				    .written = payload, .ip_len_override = -1, .tcp_flags = 0x18 };
}

/* Returns the frame length; *buf is malloc'd. */
static size_t build(const struct frame_spec *s, uint8_t **buf)
{
	size_t cap = 64 + 16 + 60 + 60 + s->written;
	uint8_t *b = calloc(1, cap), *ip, *tcp;
	size_t off = 0, ip_hdr, tcp_hdr = 20 + (size_t)s->tcp_opt_bytes;
	uint16_t ethertype = s->family == PP_AF_INET ? 0x0800 : 0x86dd;

	ck_assert_ptr_nonnull(b);
	switch (s->linktype) {
	case PP_DLT_EN10MB:
		memset(b, 0x11, 12);
		off = 12;
		for (int i = 0; i < s->vlan_tags; i++, off += 4) {
			put16(b + off, s->qinq && i == 0 ? 0x88a8 : 0x8100);
			put16(b + off + 2, 100 + i);
		}
		put16(b + off, ethertype);
		off += 2;
		break;
	case PP_DLT_LINUX_SLL:
		put16(b, 0);      /* to us */
		put16(b + 2, 1);  /* ARPHRD_ETHER */
		put16(b + 4, 6);
		put16(b + 14, ethertype);
		off = 16;
		break;
	case PP_DLT_LINUX_SLL2:
		put16(b, ethertype);
		put32(b + 4, 2);  /* ifindex */
		put16(b + 8, 1);
		b[11] = 6;
		off = 20;
		break;
	default:           /* raw IP */
		break;
	}
	ip = b + off;
	if (s->family == PP_AF_INET) {
		ip_hdr = 20 + (size_t)s->ip_opt_bytes;
		ip[0] = 0x40 | (uint8_t)(ip_hdr / 4);
		put16(ip + 2, s->ip_len_override >= 0 ? (uint16_t)s->ip_len_override
						      : (uint16_t)(ip_hdr + tcp_hdr + s->payload));
		put16(ip + 6, s->frag);
		ip[8] = 64;
		ip[9] = s->protocol ? s->protocol : 6;
		memcpy(ip + 12, v4_src, 4);
		memcpy(ip + 16, v4_dst, 4);
	} else {
		ip_hdr = 40;
		ip[0] = 0x60;
		put16(ip + 4, s->ip_len_override >= 0 ? (uint16_t)s->ip_len_override
						      : (uint16_t)(tcp_hdr + s->payload));
		ip[6] = s->protocol ? s->protocol : 6;
		ip[7] = 64;
		memcpy(ip + 8, v6_src, 16);
		memcpy(ip + 24, v6_dst, 16);
	}
	tcp = ip + ip_hdr;
	put16(tcp, SPORT);
	put16(tcp + 2, DPORT);
	put32(tcp + 4, SEQ);
	put32(tcp + 8, ACK);
	tcp[12] = (uint8_t)(tcp_hdr / 4) << 4;
	tcp[13] = s->tcp_flags;
	memset(tcp + tcp_hdr, 0xab, s->written);
	*buf = b;
	return off + ip_hdr + tcp_hdr + s->written;
}

/* Parses the first caplen bytes from an exact-size copy, so ASan sees any overread. */
static int parse_cut(const uint8_t *frame, size_t caplen, size_t wirelen, int linktype,
		     struct pp_event *ev)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	int ret;

	memcpy(copy, frame, caplen);
	ret = pp_packet_parse(copy, caplen, wirelen, linktype, ev);
	free(copy);
	return ret;
}

static int parse_spec(const struct frame_spec *s, struct pp_event *ev)
{
	uint8_t *b;
	size_t n = build(s, &b);
	int ret = parse_cut(b, n, n, s->linktype, ev);

	free(b);
	return ret;
}

static void assert_flow(const struct pp_event *ev, int family, uint32_t len)
{
	ck_assert_int_eq(ev->family, family);
	ck_assert_uint_eq(ev->sport, SPORT);
	ck_assert_uint_eq(ev->dport, DPORT);
	ck_assert_uint_eq(ev->seq, SEQ);
	ck_assert_uint_eq(ev->ack, ACK);
	ck_assert_uint_eq(ev->len, len);
	if (family == PP_AF_INET) {
		ck_assert_mem_eq(ev->saddr, v4_src, 4);
		ck_assert_mem_eq(ev->daddr, v4_dst, 4);
		for (int i = 4; i < 16; i++)
			ck_assert_uint_eq(ev->saddr[i] | ev->daddr[i], 0);
	} else {
		ck_assert_mem_eq(ev->saddr, v6_src, 16);
		ck_assert_mem_eq(ev->daddr, v6_dst, 16);
	}
	ck_assert_uint_eq(ev->point, 0);
	ck_assert_uint_eq(ev->ts_ns, 0);
}

/* Frames the parser takes whole: each gives back the flow, seq, length and flags it was built
 * with, whatever the link type, tags and options around them. */
static const struct parse_case {
	const char *name;
	int family;
	uint32_t payload;
	int linktype;           /* 0: Ethernet */
	int vlan_tags;
	bool qinq;
	int ip_opt_bytes, tcp_opt_bytes;
	uint8_t tcp_flags;      /* 0: PSH|ACK */
} parse_cases[] = {
	{ "IPv4 segment", PP_AF_INET, 100 },
	{ "IPv6 segment", PP_AF_INET6, 1000 },
	{ "IP and TCP options stepped over", PP_AF_INET, 64, .ip_opt_bytes = 40, .tcp_opt_bytes = 40 },
	{ "VLAN tag skipped", PP_AF_INET, 10, .vlan_tags = 1 },
	{ "QinQ tags skipped", PP_AF_INET6, 10, .vlan_tags = 2, .qinq = true },
	{ "Linux cooked, IPv4", PP_AF_INET, 33, PP_DLT_LINUX_SLL },
	{ "Linux cooked, IPv6", PP_AF_INET6, 33, PP_DLT_LINUX_SLL },
	{ "Linux cooked v2, IPv4", PP_AF_INET, 33, PP_DLT_LINUX_SLL2 },
	{ "Linux cooked v2, IPv6", PP_AF_INET6, 33, PP_DLT_LINUX_SLL2 },
	{ "raw IP, IPv4", PP_AF_INET, 33, PP_DLT_RAW },
	{ "raw IP, IPv6", PP_AF_INET6, 33, PP_DLT_RAW },
	{ "IPv4 link type", PP_AF_INET, 5, PP_DLT_IPV4 },
	{ "IPv6 link type", PP_AF_INET6, 5, PP_DLT_IPV6 },
	/* timestamps, as Linux sends */
	{ "pure ACK has zero length", PP_AF_INET, 0, .tcp_opt_bytes = 12, .tcp_flags = PP_TCP_ACK },
};

START_TEST(test_frame_parses_whole)
{
	const struct parse_case *c = &parse_cases[_i];
	struct frame_spec s = spec(c->family, c->payload);
	struct pp_event ev;

	s.linktype = c->linktype ? c->linktype : s.linktype;
	s.vlan_tags = c->vlan_tags;
	s.qinq = c->qinq;
	s.ip_opt_bytes = c->ip_opt_bytes;
	s.tcp_opt_bytes = c->tcp_opt_bytes;
	s.tcp_flags = c->tcp_flags ? c->tcp_flags : s.tcp_flags;
	ck_assert_msg(parse_spec(&s, &ev) == 0, "%s: refused", c->name);
	assert_flow(&ev, c->family, c->payload);
	ck_assert_msg(ev.tcp_flags == s.tcp_flags, "%s: flags 0x%x", c->name, ev.tcp_flags);
}
END_TEST

START_TEST(test_too_many_vlan_tags_are_refused)
{
	struct frame_spec s = spec(PP_AF_INET, 10);
	struct pp_event ev;

	s.vlan_tags = PP_MAX_VLAN_TAGS + 1;
	ck_assert_int_eq(parse_spec(&s, &ev), -EPROTONOSUPPORT);
	s.vlan_tags = PP_MAX_VLAN_TAGS;
	ck_assert_int_eq(parse_spec(&s, &ev), 0);
}
END_TEST

START_TEST(test_unknown_link_type_is_refused)
{
	struct frame_spec s = spec(PP_AF_INET, 5);
	uint8_t *b;
	size_t n = build(&s, &b);
	struct pp_event ev;

	ck_assert_int_eq(pp_packet_parse(b, n, n, 147, &ev), -EPROTONOSUPPORT);
	free(b);
}
END_TEST

START_TEST(test_ethernet_padding_is_not_payload)
{
	struct frame_spec s = spec(PP_AF_INET, 0);
	uint8_t *b, padded[60] = { 0 };
	size_t n = build(&s, &b);
	struct pp_event ev;

	ck_assert_uint_lt(n, sizeof(padded));
	memcpy(padded, b, n);
	ck_assert_int_eq(pp_packet_parse(padded, sizeof(padded), sizeof(padded), PP_DLT_EN10MB, &ev), 0);
	ck_assert_uint_eq(ev.len, 0);
	free(b);
}
END_TEST

/* The snap length cuts the payload: len must come from the IP header, up to a GSO frame. */
START_TEST(test_gso_frame_len_comes_from_ip_length)
{
	struct frame_spec s = spec(PP_AF_INET, 65535 - 20 - 32);
	uint8_t *b;
	size_t n;
	struct pp_event ev;

	s.tcp_opt_bytes = 12;
	s.written = 0;
	n = build(&s, &b);
	ck_assert_int_eq(parse_cut(b, n, n + s.payload, PP_DLT_EN10MB, &ev), 0);
	ck_assert_uint_eq(ev.len, 65535 - 20 - 32);
	free(b);

	s = spec(PP_AF_INET6, 65535 - 32);
	s.tcp_opt_bytes = 12;
	s.written = 0;
	n = build(&s, &b);
	ck_assert_int_eq(parse_cut(b, n, n + s.payload, PP_DLT_EN10MB, &ev), 0);
	ck_assert_uint_eq(ev.len, 65535 - 32);
	free(b);
}
END_TEST

START_TEST(test_big_tcp_zero_ip_length_uses_wire_length)
{
	const int families[] = { PP_AF_INET, PP_AF_INET6 };

	for (int i = 0; i < 2; i++) {
		struct frame_spec s = spec(families[i], 0);
		uint8_t *b;
		size_t n;
		struct pp_event ev;

		s.ip_len_override = 0;
		n = build(&s, &b);
		ck_assert_int_eq(parse_cut(b, n, n + 150000, PP_DLT_EN10MB, &ev), 0);
		ck_assert_uint_eq(ev.len, 150000);
		free(b);
	}
}
END_TEST

START_TEST(test_ip_length_beyond_frame_is_malformed)
{
	struct frame_spec s = spec(PP_AF_INET, 100);
	uint8_t *b;
	size_t n = build(&s, &b);
	struct pp_event ev;

	/* wirelen < caplen: a broken record, caplen wins */
	ck_assert_int_eq(parse_cut(b, n, n - 1, PP_DLT_EN10MB, &ev), 0);
	ck_assert_int_eq(parse_cut(b, n - 1, n - 1, PP_DLT_EN10MB, &ev), -EINVAL);
	free(b);
}
END_TEST

START_TEST(test_inconsistent_lengths_are_malformed)
{
	struct frame_spec s = spec(PP_AF_INET, 0);
	struct pp_event ev;
	uint8_t *b;
	size_t n;

	s.ip_len_override = 19; /* shorter than the IP header */
	ck_assert_int_eq(parse_spec(&s, &ev), -EINVAL);
	s.ip_len_override = 30; /* no room for the TCP header */
	ck_assert_int_eq(parse_spec(&s, &ev), -EINVAL);

	s = spec(PP_AF_INET, 8);
	n = build(&s, &b);
	b[14] = 0x44; /* IHL 16 bytes */
	ck_assert_int_eq(parse_cut(b, n, n, PP_DLT_EN10MB, &ev), -EINVAL);
	b[14] = 0x55;
	b[14 + 20 + 12] = 0x40; /* TCP data offset 16 bytes */
	ck_assert_int_eq(parse_cut(b, n, n, PP_DLT_EN10MB, &ev), -EINVAL);
	b[14 + 20 + 12] = 0x50;
	b[14] = 0x65; /* version 6 behind an IPv4 ethertype */
	ck_assert_int_eq(parse_cut(b, n, n, PP_DLT_EN10MB, &ev), -EINVAL);
	for (size_t i = 0; i < sizeof(ev); i++)
		ck_assert_uint_eq(((uint8_t *)&ev)[i], 0);
	free(b);
}
END_TEST

START_TEST(test_ipv4_fragments_are_refused)
{
	struct frame_spec s = spec(PP_AF_INET, 100);
	struct pp_event ev;

	s.frag = 0x2000; /* more fragments */
	ck_assert_int_eq(parse_spec(&s, &ev), -EPROTONOSUPPORT);
	s.frag = 0x0010; /* an offset */
	ck_assert_int_eq(parse_spec(&s, &ev), -EPROTONOSUPPORT);
	s.frag = 0x4000; /* don't fragment: a whole packet */
	ck_assert_int_eq(parse_spec(&s, &ev), 0);
}
END_TEST

START_TEST(test_ipv6_extension_headers_are_skipped)
{
	const uint8_t ext[] = { 43, 44, 60, 59 }; /* routing, fragment, dest options, no next */
	struct frame_spec s = spec(PP_AF_INET6, 10);
	struct pp_event ev;
	uint8_t *b;
	size_t n;

	for (size_t i = 0; i < sizeof(ext); i++) {
		s.protocol = ext[i];
		ck_assert_int_eq(parse_spec(&s, &ev), -EPROTONOSUPPORT);
	}
	s = spec(PP_AF_INET6, 10);
	n = build(&s, &b);
	b[14 + 6] = 0; /* hop-by-hop (0 means TCP to build()) */
	ck_assert_int_eq(parse_cut(b, n, n, PP_DLT_EN10MB, &ev), -EPROTONOSUPPORT);
	free(b);
}
END_TEST

START_TEST(test_not_tcp_is_skipped)
{
	struct frame_spec s = spec(PP_AF_INET, 10);
	uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
	struct pp_event ev;

	s.protocol = 17;
	ck_assert_int_eq(parse_spec(&s, &ev), -EPROTONOSUPPORT);
	ck_assert_int_eq(pp_packet_parse(arp, sizeof(arp), sizeof(arp), PP_DLT_EN10MB, &ev),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(pp_packet_parse(NULL, 0, 0, PP_DLT_EN10MB, &ev), -ENODATA);
}
END_TEST

/* Cut at every length: either "cut short" or exactly the full frame's answer. */
START_TEST(test_truncated_at_every_length)
{
	struct variant {
		int linktype, family, vlan_tags, ip_opt, tcp_opt;
	} variants[] = {
		{ PP_DLT_EN10MB, PP_AF_INET, 0, 0, 12 },
		{ PP_DLT_EN10MB, PP_AF_INET, 0, 40, 40 },
		{ PP_DLT_EN10MB, PP_AF_INET6, 0, 0, 12 },
		{ PP_DLT_EN10MB, PP_AF_INET, 1, 0, 0 },
		{ PP_DLT_EN10MB, PP_AF_INET6, 2, 0, 0 },
		{ PP_DLT_LINUX_SLL, PP_AF_INET, 0, 0, 0 },
		{ PP_DLT_LINUX_SLL2, PP_AF_INET6, 0, 0, 0 },
		{ PP_DLT_RAW, PP_AF_INET, 0, 0, 0 },
		{ PP_DLT_RAW, PP_AF_INET6, 0, 0, 0 },
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		struct frame_spec s = spec(variants[v].family, 50);
		struct pp_event full, ev;
		uint8_t *b;
		size_t n, headers;

		s.linktype = variants[v].linktype;
		s.vlan_tags = variants[v].vlan_tags;
		s.ip_opt_bytes = variants[v].ip_opt;
		s.tcp_opt_bytes = variants[v].tcp_opt;
		n = build(&s, &b);
		ck_assert_int_eq(parse_cut(b, n, n, s.linktype, &full), 0);
		headers = n - 50 - (size_t)s.tcp_opt_bytes; /* TCP options need not be captured */
		for (size_t caplen = 0; caplen < n; caplen++) {
			int ret = parse_cut(b, caplen, n, s.linktype, &ev);

			if (caplen < headers) {
				ck_assert_msg(ret == -ENODATA, "variant %zu caplen %zu: %d", v, caplen, ret);
			} else {
				ck_assert_msg(ret == 0, "variant %zu caplen %zu: %d", v, caplen, ret);
				ck_assert_mem_eq(&ev, &full, sizeof(ev));
			}
		}
		free(b);
	}
}
END_TEST

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

START_TEST(test_garbage_is_refused_without_overread)
{
	const int types[] = { PP_DLT_EN10MB, PP_DLT_LINUX_SLL, PP_DLT_LINUX_SLL2, PP_DLT_RAW,
			      PP_DLT_IPV4, PP_DLT_IPV6, 0, -1 };
	uint8_t garbage[200];
	struct pp_event ev;

	for (int i = 0; i < 20000; i++) {
		size_t n = rnd() % sizeof(garbage);

		for (size_t j = 0; j < n; j++)
			garbage[j] = (uint8_t)rnd();
		parse_cut(garbage, n, rnd() % 70000, types[rnd() % 8], &ev);
	}
}
END_TEST

/* Valid frames with a few bytes flipped reach deep into the parser. */
START_TEST(test_mutated_frames_are_handled_without_overread)
{
	struct pp_event ev;

	for (int i = 0; i < 20000; i++) {
		struct frame_spec s = spec(i & 1 ? PP_AF_INET6 : PP_AF_INET, rnd() % 40);
		uint8_t *b;
		size_t n, cut;
		int ret;

		s.vlan_tags = (int)(rnd() % 3);
		s.ip_opt_bytes = (int)(rnd() % 11) * 4;
		s.tcp_opt_bytes = (int)(rnd() % 11) * 4;
		n = build(&s, &b);
		for (int k = 0; k < 3; k++)
			b[rnd() % n] = (uint8_t)rnd();
		cut = rnd() % (n + 1);
		ret = parse_cut(b, cut, n, PP_DLT_EN10MB, &ev);
		ck_assert(ret == 0 || ret == -ENODATA || ret == -EINVAL || ret == -EPROTONOSUPPORT);
		if (ret == 0)
			ck_assert_uint_le(ev.len, n);
		free(b);
	}
}
END_TEST

/* Round trip through a pcap file, as a capture saved with --pcap-out would be read back. */
static void write_and_read_pcap(int linktype, int family)
{
	char path[] = "/tmp/pp-test-packet-XXXXXX";
	int fd = mkstemp(path);
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(linktype, 65535, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *dumper;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *in;
	int count = 0;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_ptr_nonnull(dead);
	dumper = pcap_dump_open(dead, path);
	ck_assert_ptr_nonnull(dumper);
	for (uint32_t i = 0; i < 5; i++) {
		struct frame_spec s = spec(family, 1000 * i);
		struct pcap_pkthdr h = { .ts = { .tv_sec = 1700000000, .tv_usec = 123456789 + i } };
		uint8_t *b;
		size_t n;

		s.linktype = linktype;
		s.tcp_opt_bytes = 12;
		n = build(&s, &b);
		h.len = (bpf_u_int32)n;
		h.caplen = (bpf_u_int32)(n < 160 ? n : 160); /* snap length */
		pcap_dump((u_char *)dumper, &h, b);
		free(b);
	}
	pcap_dump_close(dumper);
	pcap_close(dead);

	in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	ck_assert_msg(in != NULL, "%s", errbuf);
	ck_assert_int_eq(pcap_datalink(in), linktype);
	while (pcap_next_ex(in, &hdr, &data) == 1) {
		struct pp_event ev;

		ck_assert_int_eq(pp_packet_parse(data, hdr->caplen, hdr->len, pcap_datalink(in), &ev), 0);
		assert_flow(&ev, family, 1000u * (uint32_t)count);
		ck_assert_int_eq(hdr->ts.tv_usec, 123456789 + count);
		count++;
	}
	ck_assert_int_eq(count, 5);
	pcap_close(in);
	unlink(path);
}

START_TEST(test_pcap_file_round_trip)
{
	write_and_read_pcap(DLT_EN10MB, PP_AF_INET);
	write_and_read_pcap(DLT_EN10MB, PP_AF_INET6);
	write_and_read_pcap(DLT_LINUX_SLL2, PP_AF_INET);
	write_and_read_pcap(DLT_LINUX_SLL, PP_AF_INET6);
	write_and_read_pcap(DLT_RAW, PP_AF_INET);
}
END_TEST

START_TEST(test_pcap_file_with_vlan_frames)
{
	char path[] = "/tmp/pp-test-packet-XXXXXX";
	int fd = mkstemp(path);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *dumper = pcap_dump_open(dead, path);
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *in;
	int count = 0;

	close(fd);
	for (int tags = 0; tags <= 2; tags++) {
		struct frame_spec s = spec(PP_AF_INET, 7);
		struct pcap_pkthdr h = { 0 };
		uint8_t *b;

		s.vlan_tags = tags;
		s.qinq = tags == 2;
		h.len = h.caplen = (bpf_u_int32)build(&s, &b);
		pcap_dump((u_char *)dumper, &h, b);
		free(b);
	}
	pcap_dump_close(dumper);
	pcap_close(dead);
	in = pcap_open_offline(path, errbuf);
	ck_assert_msg(in != NULL, "%s", errbuf);
	while (pcap_next_ex(in, &hdr, &data) == 1) {
		struct pp_event ev;

		ck_assert_int_eq(pp_packet_parse(data, hdr->caplen, hdr->len, pcap_datalink(in), &ev), 0);
		assert_flow(&ev, PP_AF_INET, 7);
		count++;
	}
	ck_assert_int_eq(count, 3);
	pcap_close(in);
	unlink(path);
}
END_TEST

PP_CHECK_TESTS_AND_TABLE("packet", 60, test_frame_parses_whole, parse_cases,
			 test_too_many_vlan_tags_are_refused,
			 test_unknown_link_type_is_refused,
			 test_ethernet_padding_is_not_payload,
			 test_gso_frame_len_comes_from_ip_length,
			 test_big_tcp_zero_ip_length_uses_wire_length,
			 test_ip_length_beyond_frame_is_malformed,
			 test_inconsistent_lengths_are_malformed,
			 test_ipv4_fragments_are_refused,
			 test_ipv6_extension_headers_are_skipped,
			 test_not_tcp_is_skipped,
			 test_truncated_at_every_length,
			 test_garbage_is_refused_without_overread,
			 test_mutated_frames_are_handled_without_overread,
			 test_pcap_file_round_trip,
			 test_pcap_file_with_vlan_frames)
