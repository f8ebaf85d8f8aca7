#!/bin/bash
# SPDX-License-Identifier: MIT
# Lost samples: at full back-to-back rate (64 B exchanges, no interval) both agents lose no
# sample with the default perf buffer; and when a reader stalls (SIGSTOP) the kernel's losses
# are counted and reported, not hidden. The full-rate agents record every point, the opt-in
# tcp one too (--tcp-point): the most events a host can give.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf
COUNT=${COUNT:-100000}
require_built pingpong-ebpf pingpong-server pingpong-client
# the agent's closing line (its capture report lines count events too)
lost_in() { grep '^pingpong-ebpf: [0-9]* events, ' "$1" | grep -o '[0-9]* lost samples' | cut -d' ' -f1; }
events_in() { grep '^pingpong-ebpf: [0-9]* events, ' "$1" | grep -o '^pingpong-ebpf: [0-9]* events' | grep -o '[0-9]*'; }

tb_up
tb_bg server "$AGENT" --tcp-point -- "$BUILD/pingpong-server" --port 7100 2>"$TMP/server.err"
server_agent=$!
wait_port server 7100
tb_client "$AGENT" --tcp-point --port 7100 -- "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port 7100 \
	--size 64 --count "$COUNT" --output "$TMP/r.csv" >"$TMP/summary.txt" 2>"$TMP/client.err"
kill -TERM "$server_agent"
for _ in $(seq 1 50); do kill -0 "$server_agent" 2>/dev/null || break; sleep 0.1; done
sed 's/^/  /' "$TMP/client.err" "$TMP/server.err"
agent_counts_zero "full rate" "$TMP/client.err" client
agent_counts_zero "full rate" "$TMP/server.err" server
# send, xmit, rx, tcp, recv for each of COUNT messages each way: 5 events per exchange per host
check "client side: at least 5 events per exchange" test "$(events_in "$TMP/client.err")" -ge $((COUNT * 5))
check "server side: at least 5 events per exchange" test "$(events_in "$TMP/server.err")" -ge $((COUNT * 5))

# A stalled reader with the smallest buffer: the kernel drops, the agent must say how many.
tb_bg server "$BUILD/pingpong-server" --port 7101
wait_port server 7101
tb_bg server "$AGENT" --perf-pages 1 --port 7101 2>"$TMP/stalled.err"
stalled=$!
sleep 1
kill -STOP "$stalled"
tb_client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port 7101 --size 64 --count 5000 \
	--output "$TMP/r2.csv" >/dev/null 2>&1
kill -CONT "$stalled"
sleep 0.5
kill -TERM "$stalled"
for _ in $(seq 1 50); do kill -0 "$stalled" 2>/dev/null || break; sleep 0.1; done
sed 's/^/  /' "$TMP/stalled.err"
check "a stalled reader's losses are counted" test "$(lost_in "$TMP/stalled.err")" -gt 1000
finish
