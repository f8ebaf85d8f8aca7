// SPDX-License-Identifier: MIT
/* Pure parser of one captured frame (link header, VLAN tags, IPv4/IPv6, TCP) into the flow, seq and
 * payload length of a struct pp_event. No I/O, no allocation: it is fuzzed with any bytes. */
#ifndef PP_PACKET_H
#define PP_PACKET_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "pingpong.h"

/* Link types the parser accepts (pcap DLT_ values, as pcap_datalink() returns them). */
#define PP_DLT_EN10MB      1   /* Ethernet, also Linux loopback */
#define PP_DLT_RAW         12  /* raw IPv4/IPv6 (Linux value of DLT_RAW) */
#define PP_DLT_LINUX_SLL   113 /* "any" device, cooked v1 */
#define PP_DLT_IPV4        228
#define PP_DLT_IPV6        229
#define PP_DLT_LINUX_SLL2  276 /* "any" device, cooked v2 */

#define PP_MAX_VLAN_TAGS   4   /* 802.1Q / 802.1ad tags walked before giving up */

/* Bytes of headers a capture must keep to parse any frame: Ethernet + tags + IPv4 max (60) /
 * IPv6 (40) + TCP max (60). A snap length of at least this never cuts a header. */
#define PP_PACKET_SNAPLEN  (14 + 4 * PP_MAX_VLAN_TAGS + 60 + 60)

/*
 * Parses one frame of `caplen` captured bytes (the frame was `wirelen` bytes long before the snap
 * length cut it) and fills the flow part of *out: family, saddr, daddr, sport, dport (host order),
 * seq, ack, tcp_flags and len. Everything else in *out is zeroed (the caller sets point and ts_ns).
 *
 * len is the TCP payload size from the IP length field, not from caplen, because the snap length
 * cuts the payload; a GSO super-frame may say up to 64 KiB. Only when the IP length field is 0
 * (a BIG TCP frame past 64 KiB) is it taken from wirelen.
 *
 * Returns 0, or:
 *   -ENODATA          the headers are cut short (caplen too small for them)
 *   -EINVAL           malformed: bad IP version or header length, lengths that do not add up
 *   -EPROTONOSUPPORT  a well-formed frame this parser skips: not IP, not TCP, an IPv4 fragment,
 *                     an IPv6 packet with extension headers (also a fragment), too many VLAN tags,
 *                     an unknown link type
 * It never reads outside buf[0..caplen).
 */
int pp_packet_parse(const uint8_t *buf, size_t caplen, size_t wirelen, int linktype,
		    struct pp_event *out);

#endif
