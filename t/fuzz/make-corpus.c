// SPDX-License-Identifier: MIT
/* Writes the seed corpora of the fuzz targets (t/fuzz/<target>/corpus/) from real encodings: the
 * control frames, hellos and event-log lines come from the project's own encoders and writer,
 * the packets are the frames a capture of a ping-pong holds, the correlator inputs a clean run.
 *   make fuzz-corpus      (rebuilds this and rewrites every corpus; commit the result) */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/eventlog.h"
#include "ping/handshake.h"
#include "collect/packet.h"
#include "model/proto.h"

static const char *top = "t/fuzz";

static void put_file(const char *target, const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/corpus/%s", top, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "make-corpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void put_text(const char *target, const char *name, const char *text)
{
	put_file(target, name, text, strlen(text));
}

/* ---- events: one exchange of a ping-pong, as both hosts see it ---- */

static struct pp_event event(int point, uint64_t ts, bool to_server, bool v6, uint32_t seq, uint32_t len)
{
	struct pp_event ev = { 0 };
	const uint8_t c4[4] = { 198, 18, 0, 1 }, s4[4] = { 198, 18, 0, 2 };
	const uint8_t c6[16] = { 0xfd, 0, [15] = 1 }, s6[16] = { 0xfd, 0, [15] = 2 };

	ev.point = (uint8_t)point;
	ev.ts_ns = ts;
	ev.seq = seq;
	ev.len = len;
	ev.family = v6 ? PP_AF_INET6 : PP_AF_INET;
	memcpy(to_server ? ev.saddr : ev.daddr, v6 ? c6 : c4, v6 ? 16 : 4);
	memcpy(to_server ? ev.daddr : ev.saddr, v6 ? s6 : s4, v6 ? 16 : 4);
	ev.sport = to_server ? 40000 : 12345;
	ev.dport = to_server ? 12345 : 40000;
	if (point == PP_SEND || point == PP_RECV) {
		ev.ts_other_ns = ts + 900;
		ev.tgid = 4242;
	} else {
		ev.ack = to_server ? 3000000001u : 1001;
		ev.tcp_flags = 0x18;
	}
	return ev;
}

/* ---- proto ---- */

static void proto_corpus(void)
{
	static uint8_t buf[PP_PROTO_MAX_FRAME], stream[4096];
	struct pp_event ev[4];
	struct pp_fetch_req req = { .flags = PP_FETCH_HAVE_ISN, .isn = 1000 };
	struct pp_end_counts end = { .events_sent = 4, .lost_samples = 2, .pcap_drops = 1, .dropped = 3 };
	size_t at = 0;
	ssize_t n;

	pp_flow_key_set(&req.flow, "198.18.0.1", 40000, "198.18.0.2", 12345);
	n = pp_proto_encode_fetch(buf, sizeof(buf), &req);
	put_file("proto", "fetch_v4_isn", buf, (size_t)n);
	memcpy(stream + at, buf, (size_t)n), at += (size_t)n;
	req.flags = 0, req.isn = 0;
	pp_flow_key_set(&req.flow, "fd00::1", 40000, "fd00::2", 12345);
	n = pp_proto_encode_fetch(buf, sizeof(buf), &req);
	put_file("proto", "fetch_v6", buf, (size_t)n);

	ev[0] = event(PP_RX, 5000012000, true, false, 1001, 1024);
	ev[1] = event(PP_RECV, 5000015000, true, false, 1001, 1024);
	ev[2] = event(PP_SEND, 5000018000, false, false, 3000000001u, 1024);
	ev[3] = event(PP_XMIT, 5000020000, false, false, 3000000001u, 1024);
	n = pp_proto_encode_events(buf, sizeof(buf), ev, 4);
	put_file("proto", "events_4", buf, (size_t)n);
	memcpy(stream + at, buf, (size_t)n), at += (size_t)n;
	n = pp_proto_encode_events(buf, sizeof(buf), ev, 0);
	put_file("proto", "events_0", buf, (size_t)n);
	ev[0] = event(PP_WIRE_RX, 5000011000, true, true, 1001, 1024);
	n = pp_proto_encode_events(buf, sizeof(buf), ev, 1);
	put_file("proto", "events_1_v6", buf, (size_t)n);

	n = pp_proto_encode_end(buf, sizeof(buf), &end);
	put_file("proto", "end", buf, (size_t)n);
	memcpy(stream + at, buf, (size_t)n), at += (size_t)n;
	put_file("proto", "conversation", stream, at);
	/* the probe's cost in END: known, unknown, and an older agent's short END */
	end.bpf_known = true, end.bpf_run_ns = 18595177, end.bpf_runs = 247827;
	n = pp_proto_encode_end(buf, sizeof(buf), &end);
	put_file("proto", "end_cost", buf, (size_t)n);
	n = pp_proto_encode_end_len(buf, sizeof(buf), &end, PP_PROTO_END_LEN_SHORT);
	put_file("proto", "end_short", buf, (size_t)n);
	n = pp_proto_encode_stop(buf, sizeof(buf));
	put_file("proto", "stop", buf, (size_t)n);
	req.flags = PP_FETCH_FOLLOW;
	n = pp_proto_encode_fetch(buf, sizeof(buf), &req);
	put_file("proto", "fetch_follow", buf, (size_t)n);
	req.flags = PP_FETCH_FOLLOW | PP_FETCH_COST;
	n = pp_proto_encode_fetch(buf, sizeof(buf), &req);
	put_file("proto", "fetch_follow_cost", buf, (size_t)n);

	n = pp_proto_encode_error(buf, sizeof(buf), PP_ERR_BAD_REQUEST, "no such connection");
	put_file("proto", "error", buf, (size_t)n);
	buf[5] = 1; /* an earlier version's header */
	put_file("proto", "error_version_1", buf, (size_t)n);
	buf[5] = 3; /* a later version's */
	put_file("proto", "error_version_3", buf, (size_t)n);
}

/* ---- handshake ---- */

static void handshake_corpus(void)
{
	uint8_t buf[PP_HS_REPLY_MAX > PP_HS_HELLO_MAX ? PP_HS_REPLY_MAX : PP_HS_HELLO_MAX];
	struct pp_hello h;
	int n;

	pp_hello_init(&h, 1024, 10100, 0);
	n = pp_hello_encode(&h, buf, sizeof(buf));
	put_file("handshake", "hello", buf, (size_t)n);
	h.length = 40; /* a later version's longer hello */
	n = pp_hello_encode(&h, buf, sizeof(buf));
	put_file("handshake", "hello_longer", buf, (size_t)n);
	pp_hello_init(&h, PP_MSG_SIZE_MAX + 1, 0, 0);
	n = pp_hello_encode(&h, buf, sizeof(buf));
	put_file("handshake", "hello_size_too_big", buf, (size_t)n);
	n = pp_hs_reply_encode(PP_HS_OK, NULL, buf, sizeof(buf));
	put_file("handshake", "reply_ok", buf, (size_t)n);
	n = pp_hs_reply_encode(PP_HS_BUSY, "server busy: 64 connections", buf, sizeof(buf));
	put_file("handshake", "reply_busy", buf, (size_t)n);
}

/* ---- eventlog ---- */

static void log_file(const char *name, bool v6, bool header)
{
	char text[4096];
	FILE *f = fmemopen(text, sizeof(text), "w");
	uint64_t t = 7000000000;

	if (header)
		pp_eventlog_write_header(f);
	for (uint32_t i = 0; i < 2; i++, t += 60000) {
		uint32_t ping = 1001 + i * 1024, pong = 3000000001u + i * 1024;
		struct pp_event ev[] = {
			event(PP_SEND, t, true, v6, ping, 1024),
			event(PP_XMIT, t + 6000, true, v6, ping, 1024),
			event(PP_WIRE_TX, t + 7500, true, v6, ping, 1024),
			event(PP_WIRE_RX, t + 45000, false, v6, pong, 1024),
			event(PP_RX, t + 46800, false, v6, pong, 1024),
			event(PP_TCP, t + 47500, false, v6, pong, 1024),
			event(PP_WAKE, t + 48000, false, v6, pong, 1024),
			event(PP_IDLE, t + 48600, false, v6, pong, 1024),
			event(PP_ONCPU, t + 50000, false, v6, pong, 1024),
			event(PP_RECV, t + 52000, false, v6, pong, 1024),
		};

		for (size_t k = 0; k < sizeof(ev) / sizeof(ev[0]); k++)
			pp_eventlog_write(f, &ev[k]);
	}
	fputc('\0', f);
	fclose(f);
	text[sizeof(text) - 1] = '\0';
	put_text("eventlog", name, text);
}

static void eventlog_corpus(void)
{
	struct pp_event syn = event(PP_XMIT, 6999000000, true, false, 1000, 0);
	char line[256];
	FILE *f = fmemopen(line, sizeof(line), "w");

	log_file("client_v4.csv", false, true);
	log_file("client_v6.csv", true, true);
	log_file("no_header.csv", false, false);
	syn.tcp_flags = PP_TCP_SYN;
	pp_eventlog_write(f, &syn);
	fputc('\0', f);
	fclose(f);
	line[sizeof(line) - 1] = '\0';
	put_text("eventlog", "syn_line", line);
	put_text("eventlog", "crlf.csv", "point,ts_ns,ts_other_ns,family,saddr,sport,daddr,dport,seq,len,ack,flags,tgid\r\n"
		 "recv,7000052000,7000052900,4,198.18.0.2,12345,198.18.0.1,40000,3000000001,1024,0,0x00,4242\r\n\r\n");
}

/* ---- csvread: results.csv as pingpong-client writes it, and the odd ones ---- */

static void csvread_corpus(void)
{
	/* an older client's file (no --sched columns), then one with them */
	put_text("csvread", "results_sched.csv",
		 "seq,rtt_us,client_stack_us,network_us,server_stack_us,server_app_us,client_dev_us,wire_us,"
		 "server_dev_us,client_proc_us,client_wakeup_us,client_idle_us,client_return_us,"
		 "server_proc_us,server_wakeup_us,server_idle_us,server_return_us,rtt_app_us,retransmitted,"
		 "incomplete,ping_seq,pong_seq,c_send_ns,c_xmit_ns,c_wire_tx_ns,c_wire_rx_ns,c_rx_ns,c_tcp_ns,"
		 "c_wake_ns,c_idle_ns,c_oncpu_ns,c_recv_ns,s_wire_rx_ns,s_rx_ns,s_tcp_ns,s_wake_ns,s_idle_ns,"
		 "s_oncpu_ns,s_recv_ns,s_send_ns,s_xmit_ns,s_wire_tx_ns\n"
		 "1,44.500,7.500,26.000,3.000,8.000,,,,3.000,2.000,0.500,2.500,1.000,1.000,0.000,1.000,"
		 "46.000,0,0,0,4000000000,1000,3000,,,40000,,41000,41500,43000,45500,,10000,,,,11000,12000,"
		 "20000,21000,\n"
		 "2,41.002,8.100,,,,,,,8.100,0.000,0.000,0.000,,,,,41.900,1,1,3048,5002048,5000000120000,"
		 "5000000125100,,,5000000157900,,,,5000000100000,5000000161002,,,,,,,,,,\n");
	put_text("csvread", "results_full.csv",
		 "seq,rtt_us,client_stack_us,network_us,server_stack_us,server_app_us,client_dev_us,wire_us,"
		 "server_dev_us,rtt_app_us,retransmitted,incomplete,ping_seq,pong_seq,c_send_ns,c_xmit_ns,"
		 "c_wire_tx_ns,c_wire_rx_ns,c_rx_ns,c_tcp_ns,c_recv_ns,s_wire_rx_ns,s_rx_ns,s_tcp_ns,s_recv_ns,"
		 "s_send_ns,s_xmit_ns,s_wire_tx_ns\n"
		 "0,52.466,11.870,26.558,11.196,2.842,2.597,20.024,3.937,53.495,0,0,1000,5000000,5000000000000,"
		 "5000000006257,5000000007636,5000000045635,5000000046853,5000000047597,5000000052466,"
		 "5987654338642,5987654340647,5987654341429,5987654347216,5987654350058,5987654354685,5987654356617\n"
		 "1,39.125,7.824,21.151,8.969,1.181,4.021,14.429,2.701,40.043,0,0,2024,5001024,5000000060000,"
		 "5000000065295,5000000067028,5000000094308,5000000096596,5000000097472,5000000099125,"
		 "5987654395942,5987654397005,5987654398045,5987654402788,5987654403969,5987654407155,5987654408793\n"
		 "2,41.002,8.100,,,,,,,41.900,1,1,3048,5002048,5000000120000,5000000125100,,,5000000157900,,"
		 "5000000161002,,,,,,,\n");
	put_text("csvread", "tricky.csv",
		 "seq,rtt_us,client_stack_us,network_us,server_stack_us,server_app_us,retransmitted\n"
		 "0,50.125,10.5,25,12,2.625,0\n\n"
		 "1,5.e1,.5,+25.5,1.2e1,-0.000,0\n"
		 "2,49.999999999999999999,10.25,,,,1\n"
		 "3,1E2,0.0000000000000000001,60.000,30,9.9999,0\r\n"
		 "4,48,12,20.001,13,2.999,0");
	put_text("csvread", "rtt_only.csv", "rtt_us\n12.5\n13\n1e3\n\n");
	put_text("csvread", "bad_cell.csv", "rtt_us,network_us\n1,2\n3,x\n");
	put_text("csvread", "short_row.csv", "rtt_us,network_us\n1,2\n3\n");
}

/* ---- packets: selector byte (link type index), 2 bytes the snap length cut, the frame ---- */

struct frame {
	uint8_t b[256];
	size_t n;
};

static void add_bytes(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void add16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	add_bytes(f, b, 2);
}

static void add32(struct frame *f, uint32_t v)
{
	add16(f, (uint16_t)(v >> 16));
	add16(f, (uint16_t)v);
}

static void add_tcp(struct frame *f, uint32_t seq, uint32_t ack, uint8_t flags, int payload)
{
	add16(f, 40000), add16(f, 12345);
	add32(f, seq), add32(f, ack);
	add16(f, (uint16_t)(8 << 12 | flags)); /* 32-byte header: timestamps option */
	add16(f, 64240), add16(f, 0), add16(f, 0);
	add_bytes(f, "\x01\x01\x08\x0a\x00\x01\x02\x03\x00\x04\x05\x06", 12);
	for (int i = 0; i < payload; i++)
		f->b[f->n++] = (uint8_t)('a' + i % 26);
}

static void add_ipv4(struct frame *f, uint16_t total, int options)
{
	f->b[f->n++] = (uint8_t)(0x40 | (5 + options));
	f->b[f->n++] = 0;
	add16(f, total);
	add16(f, 0x1234), add16(f, 0x4000); /* DF */
	f->b[f->n++] = 64, f->b[f->n++] = 6;
	add16(f, 0);
	add_bytes(f, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	for (int i = 0; i < options; i++)
		add_bytes(f, "\x01\x01\x01\x00", 4); /* NOPs, EOL */
}

static void add_ipv6(struct frame *f, uint16_t payload_len)
{
	add32(f, 0x60000000);
	add16(f, payload_len);
	f->b[f->n++] = 6, f->b[f->n++] = 64;
	add_bytes(f, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	add_bytes(f, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
}

static void add_eth(struct frame *f, uint16_t ethertype)
{
	add_bytes(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	add16(f, ethertype);
}

/* The target's link type table: EN10MB RAW SLL IPV4 IPV6 SLL2. */
static void put_packet(const char *name, int link_index, uint16_t cut, const struct frame *f)
{
	uint8_t out[300];

	out[0] = (uint8_t)link_index;
	out[1] = (uint8_t)(cut >> 8), out[2] = (uint8_t)cut;
	memcpy(out + 3, f->b, f->n);
	put_file("packet", name, out, 3 + f->n);
}

static void packet_corpus(void)
{
	struct frame f;

	/* a 1024-byte ping, snap length 150: 1024 - 84 payload bytes not captured */
	f.n = 0, add_eth(&f, 0x0800), add_ipv4(&f, 20 + 32 + 1024, 0), add_tcp(&f, 1001, 3000000001u, 0x18, 84);
	put_packet("eth_ipv4_ping", 0, 1024 - 84, &f);
	f.n = 0, add_eth(&f, 0x0800), add_ipv4(&f, 20 + 32, 0), add_tcp(&f, 2025, 3000001025u, 0x10, 0);
	put_packet("eth_ipv4_ack", 0, 0, &f);
	f.n = 0, add_eth(&f, 0x0800), add_ipv4(&f, 20 + 32, 0), add_tcp(&f, 1000, 0, 0x02, 0);
	put_packet("eth_ipv4_syn", 0, 0, &f);
	f.n = 0, add_eth(&f, 0x86dd), add_ipv6(&f, 32 + 1024), add_tcp(&f, 1001, 3000000001u, 0x18, 64);
	put_packet("eth_ipv6_ping", 0, 1024 - 64, &f);
	f.n = 0, add_eth(&f, 0x8100), add16(&f, 0x0064), add16(&f, 0x88a8), add16(&f, 0x0065), add16(&f, 0x0800);
	add_ipv4(&f, 20 + 32 + 100, 0), add_tcp(&f, 1001, 1, 0x18, 100);
	put_packet("eth_vlan_qinq_ipv4", 0, 0, &f);
	f.n = 0, add_ipv4(&f, 24 + 32 + 10, 1), add_tcp(&f, 5000, 1, 0x18, 10);
	put_packet("raw_ipv4_options", 1, 0, &f);
	f.n = 0, add16(&f, 0), add16(&f, 1), add16(&f, 6), add_bytes(&f, "\x02\0\0\0\0\x01\0\0", 8), add16(&f, 0x0800);
	add_ipv4(&f, 20 + 32 + 16, 0), add_tcp(&f, 1001, 1, 0x18, 16);
	put_packet("sll_ipv4", 2, 0, &f);
	f.n = 0, add_ipv4(&f, 0, 0), add_tcp(&f, 1001, 1, 0x18, 40); /* BIG TCP: IP length 0 */
	put_packet("dlt_ipv4_big_tcp", 3, 60000, &f);
	f.n = 0, add_ipv6(&f, 32 + 8), add_tcp(&f, 1001, 1, 0x19, 8);
	put_packet("dlt_ipv6_fin", 4, 0, &f);
	f.n = 0, add16(&f, 0x86dd), add16(&f, 0), add32(&f, 2), add16(&f, 1), f.b[f.n++] = 0, f.b[f.n++] = 6;
	add_bytes(&f, "\x02\0\0\0\0\x01\0\0", 8), add_ipv6(&f, 32 + 12), add_tcp(&f, 1001, 1, 0x18, 12);
	put_packet("sll2_ipv6", 5, 0, &f);
}

/* ---- correlate: config bytes, then per event op, where, lens, dt (fuzz_correlate.c) ---- */

struct enc {
	uint8_t b[4096];
	size_t n;
};

static void ev_op(struct enc *e, int host, int point, int ex, int offsel, int lensel, uint8_t dt)
{
	/* point in bits 1-3, and bit 6 for the --sched points (fuzz_correlate.c) */
	uint8_t b[4] = { (uint8_t)(host | (point & 7) << 1 | (point & 8) << 3),
			 (uint8_t)(offsel << 6 | ex), (uint8_t)lensel, dt };

	memcpy(e->b + e->n, b, 4);
	e->n += 4;
}

/* n exchanges: each point of both hosts, in the time order the hosts see them; with sched,
 * the --sched points just before each recv (the server's oncpu a stale one, out of order). */
static void exchanges_sched(struct enc *e, int n, int lose_ex, int resend_ex, bool sched)
{
	for (int i = 0; i < n; i++) {
		ev_op(e, 0, PP_SEND, i, 0, 0, 5);
		ev_op(e, 0, PP_XMIT, i, 0, 0, 6);
		ev_op(e, 0, PP_WIRE_TX, i, 0, 0, 1);
		if (i == resend_ex)
			ev_op(e, 0, PP_XMIT, i, 0, 0, 120); /* the same bytes again, an RTO later */
		ev_op(e, 1, PP_WIRE_RX, i, 0, 0, 40);
		if (i != lose_ex)
			ev_op(e, 1, PP_RX, i, 0, 0, 2);
		ev_op(e, 1, PP_TCP, i, 0, 0, 1);
		if (sched) {
			ev_op(e, 1, PP_ONCPU, i, 0, 0, 0x80 | 90); /* 9 us back: before its rx */
			ev_op(e, 1, PP_RECV, i, 0, 0, 14);
		} else {
			ev_op(e, 1, PP_RECV, i, 0, 0, 5);
		}
		ev_op(e, 1, PP_SEND, i, 0, 0, 3);
		ev_op(e, 1, PP_XMIT, i, 0, 0, 5);
		ev_op(e, 1, PP_WIRE_TX, i, 0, 0, 1);
		ev_op(e, 0, PP_WIRE_RX, i, 0, 0, 35);
		ev_op(e, 0, PP_RX, i, 0, 0, 1);
		ev_op(e, 0, PP_TCP, i, 0, 0, 1);
		if (sched) {
			ev_op(e, 0, PP_WAKE, i, 0, 0, 1);
			ev_op(e, 0, PP_IDLE, i, 0, 0, 1);
			ev_op(e, 0, PP_ONCPU, i, 0, 0, 2);
			ev_op(e, 0, PP_RECV, i, 0, 0, 1);
		} else {
			ev_op(e, 0, PP_RECV, i, 0, 0, 5);
		}
	}
}

static void exchanges(struct enc *e, int n, int lose_ex, int resend_ex)
{
	exchanges_sched(e, n, lose_ex, resend_ex, false);
}

static void put_run(const char *name, const uint8_t cfg[7], int n, int lose_ex, int resend_ex)
{
	struct enc e = { .n = 7 };

	memcpy(e.b, cfg, 7);
	exchanges(&e, n, lose_ex, resend_ex);
	put_file("correlate", name, e.b, e.n);
}

static void correlate_corpus(void)
{
	/* size, count, flags, window, hold, reorder, skip (see decode_config) */
	const uint8_t known[7] = { 4, 4, 0x01 | 0x02 | 0x04, 0, 0, 0, 0 };
	const uint8_t derived[7] = { 3, 0x80, 0x20, 0x08 | 3, 0, 0, 0 };
	const uint8_t pushed_v6[7] = { 0x80 | 99, 6, 0x80 | 0x01 | 0x02 | 0x04 | 0x08, 0, 0, 0, 0 };
	const uint8_t wire_small_hold[7] = { 5, 5, 0x01 | 0x02 | 0x04 | 0x40 | 0x20, 0x10 | 0x08 | 2, 3, 0x85, 0 };
	struct enc e = { .n = 7 };

	put_run("known_bases_4", known, 4, -1, -1);
	put_run("derived_count0_3", derived, 3, -1, -1);
	put_run("push_v6_lost_rx", pushed_v6, 6, 2, -1);
	put_run("wire_small_hold_resend", wire_small_hold, 5, -1, 1);
	/* the client's SYN and the server's SYN+ACK give the bases; a warm-up exchange is skipped */
	memcpy(e.b, (const uint8_t[7]){ 4, 3, 0x20, 0, 0, 0, 0x05 }, 7);
	ev_op(&e, 0, PP_XMIT, 0, 0, 0x08, 1);
	ev_op(&e, 0, PP_RX, 0, 0, 0x08, 30);
	exchanges(&e, 4, -1, -1);
	put_file("correlate", "syn_and_skip", e.b, e.n);
	/* --sched points on both hosts */
	e.n = 7;
	memcpy(e.b, known, 7);
	exchanges_sched(&e, 4, -1, -1, true);
	put_file("correlate", "known_bases_sched", e.b, e.n);
}

/* Scripts for t/fuzz/control (see fuzz_control.c): a first byte of flags, then steps, each a
 * byte whose low 3 bits say what (0 open, 1 bytes, 2 FETCH (connections 8-15 with FOLLOW),
 * 3 read, 4 close, 5 half close (with bit 7: STOP), 6 with bit 7: offer 1 + (op >> 4 & 7) new
 * events (room: bit 3), else a server round; 7 a server round) and whose high bits say which
 * connection (op >> 3, of 16). */
#define C_OPEN(peer)   ((uint8_t)((peer) << 3))
#define C_BYTES(i)     ((uint8_t)(((i) << 3) | 1))
#define C_FETCH(i, f)  ((uint8_t)(((f) << 7) | ((i) << 3) | 2))
#define C_READ(i)      ((uint8_t)(((i) << 3) | 3))
#define C_CLOSE(i)     ((uint8_t)(((i) << 3) | 4))
#define C_HALF(i)      ((uint8_t)(((i) << 3) | 5))
#define C_ROUND        6
#define C_STOP(i)      ((uint8_t)(0x80 | ((i) << 3) | 5))
#define C_OFFER(n)     ((uint8_t)(0x80 | ((n) << 4) | 8 | 6))

static void control_corpus(void)
{
	static const uint8_t one[] = {
		0, C_OPEN(0), C_FETCH(0, 0), C_ROUND, C_READ(0), C_ROUND, C_READ(0), C_ROUND, C_READ(0),
		C_ROUND, C_READ(0), C_ROUND,
	};
	static const uint8_t mixed[] = {
		1, C_OPEN(0), C_OPEN(1), C_OPEN(2), C_BYTES(1), 5, 'H', 'E', 'L', 'L', 'O',
		C_FETCH(0, 0), C_FETCH(2, 1), C_ROUND, C_READ(0), C_ROUND, C_CLOSE(1), C_READ(2),
		C_ROUND, C_READ(0), C_READ(2), C_ROUND, C_HALF(0), C_ROUND,
	};
	static const uint8_t caps[] = {
		1, C_OPEN(0), C_OPEN(0), C_OPEN(0), C_OPEN(0), C_OPEN(1), C_OPEN(1), C_OPEN(1),
		C_OPEN(0), C_ROUND, C_FETCH(7, 1), C_ROUND, C_READ(7), C_ROUND, C_READ(7), C_ROUND,
	};
	static const uint8_t store_fails[] = {
		2 | (1 << 2), C_OPEN(0), C_FETCH(0, 0), C_ROUND, C_READ(0), C_ROUND, C_READ(0), C_ROUND,
	};

	static const uint8_t follow[] = {
		0, C_OPEN(0), C_OPEN(1), C_OPEN(0), C_OPEN(0), C_OPEN(0), C_OPEN(0), C_OPEN(0),
		C_OPEN(0), C_OPEN(2), C_FETCH(8, 0), C_ROUND, C_READ(8), C_OFFER(7), C_OFFER(3),
		C_ROUND, C_READ(8), C_FETCH(1, 1), C_ROUND, C_STOP(8), C_ROUND, C_READ(8), C_ROUND,
		C_READ(8), C_READ(1), C_ROUND,
	};

	put_file("control", "follow_then_stop", follow, sizeof(follow));
	put_file("control", "one_fetch", one, sizeof(one));
	put_file("control", "idle_garbage_and_two_fetches", mixed, sizeof(mixed));
	put_file("control", "over_the_caps", caps, sizeof(caps));
	put_file("control", "store_fails", store_fails, sizeof(store_fails));
}

int main(int argc, char **argv)
{
	if (argc > 1)
		top = argv[1];
	proto_corpus();
	handshake_corpus();
	eventlog_corpus();
	csvread_corpus();
	packet_corpus();
	correlate_corpus();
	control_corpus();
	return 0;
}
