// SPDX-License-Identifier: MIT
/* events.csv: the raw event log of one host (pingpong-ebpf --output, pingpong-analyze input).
 * One row per struct pp_event, header line first:
 *   point,ts_ns,ts_other_ns,family,saddr,sport,daddr,dport,seq,len,ack,flags,tgid
 * point is a name (send xmit wire_tx wire_rx rx tcp recv, and with --sched wake idle oncpu),
 * addresses are text (inet_ntop). */
#ifndef PP_EVENTLOG_H
#define PP_EVENTLOG_H

#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>

#include "pingpong.h"

const char *pp_point_name(int point);          /* "send" ... or "?" */
int pp_point_from_name(const char *name);      /* enum pp_point, or -EINVAL */

int pp_eventlog_write_header(FILE *f);
int pp_eventlog_write(FILE *f, const struct pp_event *ev);

/* Parses one data line (no trailing newline needed); 0 or -EINVAL. Never reads past line. */
int pp_eventlog_parse_line(const char *line, struct pp_event *ev);

struct pp_eventlog_reader;
int pp_eventlog_open(struct pp_eventlog_reader **out, const char *path);
/* 1 = an event, 0 = end of file, <0 = I/O error. Malformed rows are skipped and counted. */
int pp_eventlog_next(struct pp_eventlog_reader *r, struct pp_event *ev);
uint64_t pp_eventlog_bad_rows(const struct pp_eventlog_reader *r);
void pp_eventlog_close(struct pp_eventlog_reader *r);

#endif
