// SPDX-License-Identifier: MIT
/* results.csv: one row per exchange, written atomically (temp file beside the target, then
 * rename), so a failed run never leaves a half-written file.
 *
 * Columns, in this order (header line names them):
 *   seq                                  exchange number (0 = first recorded, after warm-up)
 *   rtt_us client_stack_us network_us server_stack_us server_app_us
 *   client_dev_us wire_us server_dev_us
 *   client_proc_us client_wakeup_us client_idle_us client_return_us
 *   server_proc_us server_wakeup_us server_idle_us server_return_us   (--sched: each host's
 *                                        stack = proc + wakeup + return; idle is part of wakeup)
 *   rtt_app_us                           components, microseconds, 3 decimals
 *   retransmitted incomplete             0/1 flags
 *   ping_seq pong_seq                    TCP seq of the first byte of ping and pong
 *   c_send_ns c_xmit_ns c_wire_tx_ns c_wire_rx_ns c_rx_ns c_tcp_ns c_wake_ns c_idle_ns
 *   c_oncpu_ns c_recv_ns
 *   s_wire_rx_ns s_rx_ns s_tcp_ns s_wake_ns s_idle_ns s_oncpu_ns s_recv_ns s_send_ns
 *   s_xmit_ns s_wire_tx_ns
 *                                        raw CLOCK_MONOTONIC ns, per host
 * An empty cell means "not measured", never 0. */
#ifndef PP_RESULTS_H
#define PP_RESULTS_H

#include "model/split.h"

struct pp_results;

/* All return 0 or a negative errno. */
int pp_results_open(struct pp_results **out, const char *path);
int pp_results_write(struct pp_results *r, const struct pp_row *row);
/* The file of pingpong-analyze --turns: columns conn,index,req_bytes,resp_bytes (the
 * connection's number, the exchange's number within it, the request's and the response's
 * bytes), then the columns above (seq repeats index). Write with pp_results_write_turn. */
int pp_results_open_turns(struct pp_results **out, const char *path);
int pp_results_write_turn(struct pp_results *r, uint64_t conn, uint64_t req_bytes,
			  uint64_t resp_bytes, const struct pp_row *row);
/* Every byte written from now on (the header included if no row was written yet) also goes
 * to fd, which stays the caller's: a copy a process without access to the target's directory
 * can read (pingpong-ebpf --plot, after its privilege drop). */
void pp_results_tee(struct pp_results *r, int fd);
/* Flushes, fsyncs and renames into place; frees r whatever the outcome. */
int pp_results_commit(struct pp_results *r);
/* Removes the temp file; frees r. */
void pp_results_abort(struct pp_results *r);

#endif
