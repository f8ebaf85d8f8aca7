// SPDX-License-Identifier: MIT
/* Parses captured frames into pp_event flow fields. Every read is preceded by a length check
 * against caplen; lengths from the packet are only trusted after they are checked. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "collect/packet.h"

#define ETH_P_IPV4   0x0800
#define ETH_P_IPV6   0x86dd
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1  0x9100 /* pre-standard QinQ, still seen on switches */
#define IPPROTO_TCP_ 6

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Raw IP link types carry no protocol field: the version nibble says which it is. */
static int ethertype_from_version(const uint8_t *buf, size_t caplen, uint16_t *ethertype)
{
	if (caplen < 1)
		return -ENODATA;
	switch (buf[0] >> 4) {
	case 4: *ethertype = ETH_P_IPV4; return 0;
	case 6: *ethertype = ETH_P_IPV6; return 0;
	default: return -EINVAL;
	}
}

/* Sets *off to the first byte after the link header and *ethertype to what follows. */
static int link_header(const uint8_t *buf, size_t caplen, int linktype, size_t *off,
		       uint16_t *ethertype)
{
	switch (linktype) {
	case PP_DLT_EN10MB:
		if (caplen < 14)
			return -ENODATA;
		*ethertype = be16(buf + 12);
		*off = 14;
		return 0;
	case PP_DLT_LINUX_SLL: /* packet type, hatype, halen, 8 address bytes, protocol */
		if (caplen < 16)
			return -ENODATA;
		*ethertype = be16(buf + 14);
		*off = 16;
		return 0;
	case PP_DLT_LINUX_SLL2: /* protocol first, then reserved, ifindex, hatype, ... (20 bytes) */
		if (caplen < 20)
			return -ENODATA;
		*ethertype = be16(buf);
		*off = 20;
		return 0;
	case PP_DLT_RAW:
		*off = 0;
		return ethertype_from_version(buf, caplen, ethertype);
	case PP_DLT_IPV4:
		*off = 0;
		*ethertype = ETH_P_IPV4;
		return 0;
	case PP_DLT_IPV6:
		*off = 0;
		*ethertype = ETH_P_IPV6;
		return 0;
	default:
		return -EPROTONOSUPPORT;
	}
}

static bool is_vlan(uint16_t ethertype)
{
	return ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD || ethertype == ETH_P_QINQ1;
}

/* Each tag is TCI (2 bytes) then the next ethertype. */
static int skip_vlan_tags(const uint8_t *buf, size_t caplen, size_t *off, uint16_t *ethertype)
{
	int tags = 0;

	while (is_vlan(*ethertype)) {
		if (++tags > PP_MAX_VLAN_TAGS)
			return -EPROTONOSUPPORT;
		if (caplen < *off + 4)
			return -ENODATA;
		*ethertype = be16(buf + *off + 2);
		*off += 4;
	}
	return 0;
}

/* Both versions: the fixed header is captured and says this version. 0, -ENODATA, -EINVAL. */
static int ip_fixed_header(const uint8_t *ip, size_t avail, size_t fixed, unsigned version)
{
	if (avail < fixed)
		return -ENODATA;
	return ip[0] >> 4 == version ? 0 : -EINVAL;
}

/* Both versions, once the lengths checked out: a TCP packet's family and addresses (source
 * at addrs, destination right after it). */
static int ip_tcp_addresses(uint8_t protocol, uint8_t family, const uint8_t *addrs, size_t addr_len,
			    struct pp_event *out)
{
	if (protocol != IPPROTO_TCP_)
		return -EPROTONOSUPPORT;
	out->family = family;
	memcpy(out->saddr, addrs, addr_len);
	memcpy(out->daddr, addrs + addr_len, addr_len);
	return 0;
}

/* On return *ip_len is the IP header plus payload in bytes, *hdr_len the IP header alone.
 * A length field of 0 is what BIG TCP (over 64 KiB) writes; only then is wirelen used. */
static int parse_ipv4(const uint8_t *ip, size_t avail, size_t wire_avail, struct pp_event *out,
		      size_t *hdr_len, size_t *ip_len)
{
	int err = ip_fixed_header(ip, avail, 20, 4);

	if (err)
		return err;
	*hdr_len = (size_t)(ip[0] & 0x0f) * 4;
	if (*hdr_len < 20)
		return -EINVAL;
	*ip_len = be16(ip + 2);
	if (*ip_len == 0)
		*ip_len = wire_avail;
	if (*ip_len < *hdr_len || *ip_len > wire_avail)
		return -EINVAL;
	if (be16(ip + 6) & 0x3fff) /* MF set or a fragment offset: seq and len would be wrong */
		return -EPROTONOSUPPORT;
	return ip_tcp_addresses(ip[9], PP_AF_INET, ip + 12, 4, out);
}

/* Extension headers (hop-by-hop, routing, fragment, ...) are not walked: such packets are
 * skipped (-EPROTONOSUPPORT). TCP over IPv6 from Linux carries none. */
static int parse_ipv6(const uint8_t *ip, size_t avail, size_t wire_avail, struct pp_event *out,
		      size_t *hdr_len, size_t *ip_len)
{
	int err = ip_fixed_header(ip, avail, 40, 6);

	if (err)
		return err;
	*hdr_len = 40;
	*ip_len = be16(ip + 4) ? 40 + (size_t)be16(ip + 4) : wire_avail;
	if (*ip_len < 40 || *ip_len > wire_avail)
		return -EINVAL;
	return ip_tcp_addresses(ip[6], PP_AF_INET6, ip + 8, 16, out);
}

/* Only the fixed 20 bytes are read; options need not be captured. */
static int parse_tcp(const uint8_t *tcp, size_t avail, size_t seg_len, struct pp_event *out)
{
	size_t doff;

	if (avail < 20)
		return -ENODATA;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > seg_len)
		return -EINVAL;
	out->sport = be16(tcp);
	out->dport = be16(tcp + 2);
	out->seq = be32(tcp + 4);
	out->ack = be32(tcp + 8);
	out->tcp_flags = tcp[13];
	out->len = (uint32_t)(seg_len - doff);
	return 0;
}

int pp_packet_parse(const uint8_t *buf, size_t caplen, size_t wirelen, int linktype,
		    struct pp_event *out)
{
	size_t off = 0, hdr_len = 0, ip_len = 0;
	uint16_t ethertype = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -ENODATA;
	if (wirelen < caplen) /* a broken record; the captured bytes are at least this long */
		wirelen = caplen;
	err = link_header(buf, caplen, linktype, &off, &ethertype);
	if (!err)
		err = skip_vlan_tags(buf, caplen, &off, &ethertype);
	if (err)
		return err;
	if (ethertype == ETH_P_IPV4)
		err = parse_ipv4(buf + off, caplen - off, wirelen - off, out, &hdr_len, &ip_len);
	else if (ethertype == ETH_P_IPV6)
		err = parse_ipv6(buf + off, caplen - off, wirelen - off, out, &hdr_len, &ip_len);
	else
		err = -EPROTONOSUPPORT;
	if (!err && caplen - off < hdr_len) /* IPv4 options cut: the TCP header is not there */
		err = -ENODATA;
	if (!err)
		err = parse_tcp(buf + off + hdr_len, caplen - off - hdr_len, ip_len - hdr_len, out);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}
