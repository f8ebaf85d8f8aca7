// SPDX-License-Identifier: MIT
/* Wire capture with libpcap: the measured flow's frames on the interface toward the peer, as
 * PP_WIRE_TX / PP_WIRE_RX events on CLOCK_MONOTONIC, optionally saved for Wireshark. */
#ifndef PP_CAPTURE_H
#define PP_CAPTURE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collect/clockmap.h"
#include "common/err.h"
#include "pingpong.h"

struct pp_capture_opts {
	const char *iface;       /* NULL: the interface whose address routes to `peer` */
	const char *peer;        /* numeric IPv4/IPv6 address of the other host; NULL: any host */
	uint16_t port;           /* a port of the measured flow (the server's); 0: any TCP port */
	uint16_t local_port;     /* with peer and port: this host's end of the one connection
				  * measured (other clients of the same server stay out); 0: any */
	const char *tstamp_type; /* pcap name ("host", "adapter", ...); NULL: libpcap's default */
	const char *pcap_out;    /* save every captured frame here (pcap, ns); NULL: do not */
	bool keep_acks;          /* deliver segments without payload too */
	bool no_early_rx_stamp;  /* do not hold the SO_TIMESTAMPNS socket (see capture.c) */
	int buffer_bytes;        /* kernel ring; 0: 4 MiB */
	int batch_ms;            /* 0: immediate mode, a wake-up per frame; > 0: frames wait in the
				  * ring up to this long, far fewer wake-ups (less perturbation) */
};

struct pp_capture_stats {
	uint64_t frames;         /* frames the kernel filter passed to us */
	uint64_t delivered;      /* events handed to the callback */
	uint64_t acks;           /* pure ACKs not delivered (keep_acks off) */
	uint64_t skipped;        /* well-formed but not parsed: IPv6 extension headers, fragments */
	uint64_t malformed;      /* cut short or inconsistent headers */
	uint64_t pcap_recv;      /* pcap_stats: ps_recv */
	uint64_t pcap_drop;      /* ps_drop: the capture buffer was full */
	uint64_t pcap_ifdrop;    /* ps_ifdrop: the interface dropped (any traffic, not only ours) */
	uint64_t unread;         /* frames the kernel had queued for us that were never read (the
				  * capture ended first; set by finish): lost like a drop */
	uint64_t drain_ms;       /* how long the last pp_capture_drain took */
	uint32_t clock_steps;    /* wall clock stepped while capturing */
};

struct pp_capture;
typedef void (*pp_capture_cb)(void *ctx, const struct pp_event *ev);

/* Opens and activates the capture (root or CAP_NET_RAW). On error returns -errno with the
 * reason in e. */
int pp_capture_open(struct pp_capture **out, const struct pp_capture_opts *opts,
		    struct pp_err *e);

/* A descriptor to poll for POLLIN; the capture never blocks in dispatch. */
int pp_capture_fd(const struct pp_capture *c);

/* Handles every frame ready now: cb gets each data segment (and pure ACKs if asked) with
 * point PP_WIRE_TX if the frame's source is one of this host's addresses, else PP_WIRE_RX,
 * and ts_ns on CLOCK_MONOTONIC. Returns the number of events delivered, or -errno.
 * On loopback libpcap keeps one copy of each frame (the received one) and its source is
 * local, so every frame comes as PP_WIRE_TX: there is no wire to split there. On a capture
 * error: -EIO with the reason ("eth0: ...") in e. */
int pp_capture_dispatch(struct pp_capture *c, pp_capture_cb cb, void *ctx, struct pp_err *e);

/* Reads to the end, for when the traffic has stopped (a command exited): until every frame the
 * kernel has queued for us has been read and a whole batch time (batch_ms) has passed with no
 * new one queued, at most max_ms. In batched mode the ring's current block is handed over only
 * when it times out, so a plain dispatch at the end misses up to batch_ms of frames. What is
 * still queued at max_ms is counted by finish (stats.unread). Events delivered, or -errno
 * (dispatch's failure, reason in e). */
int pp_capture_drain(struct pp_capture *c, pp_capture_cb cb, void *ctx, int max_ms,
		     struct pp_err *e);

/* Ends the capture: reads the frames ready now (pp_capture_drain first, to read them all),
 * takes the closing clock sample and the final pcap_stats, counts the frames queued but never
 * read (stats.unread), and publishes pcap_out (rename of its temp file). Idempotent. 0, or the
 * first failure (of the last dispatch, or of writing pcap_out) with its reason in e. */
int pp_capture_finish(struct pp_capture *c, pp_capture_cb cb, void *ctx, struct pp_err *e);

/* Frees everything; an unfinished pcap_out temp file is removed. NULL is fine. */
void pp_capture_close(struct pp_capture *c);

void pp_capture_get_stats(const struct pp_capture *c, struct pp_capture_stats *st);
const char *pp_capture_iface(const struct pp_capture *c);
const char *pp_capture_filter(const struct pp_capture *c);

/* Start sample, end sample (after finish) and the run's drift, for the report. */
const struct pp_clockmap *pp_capture_clock(const struct pp_capture *c);

/* Maps a wall-clock ns timestamp to CLOCK_MONOTONIC the way dispatch does, for tests and for
 * callers that hold raw pcap times. */
uint64_t pp_capture_to_mono(const struct pp_capture *c, uint64_t realtime_ns);

/* The capture report: interface, timestamp source, drops, clock offsets, drift and the
 * conversion's uncertainty, into buf (a few lines, each starting with "capture: " and ending
 * in a newline; cut at len). Returns its length. The caller prints it (pp_log_lines). */
#define PP_CAPTURE_REPORT_MAX 1024
size_t pp_capture_report(const struct pp_capture *c, char *buf, size_t len);

/* Describes the timestamp types `iface` offers ("host, adapter_unsynced" or a sentence saying
 * the NIC offers no hardware time stamps). Returns 0 or -errno (e filled). */
int pp_capture_tstamp_types(const char *iface, char *buf, size_t len, struct pp_err *e);

/* The interface whose address a connected socket to `peer` uses (loopback too); 0 or -errno
 * (e filled). */
int pp_capture_route_iface(const char *peer, char *iface, size_t len, struct pp_err *e);

#endif
