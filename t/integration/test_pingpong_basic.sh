#!/bin/bash
# SPDX-License-Identifier: MIT
# pingpong-server in one namespace, pingpong-client in the other over IPv4: every exchange
# recorded, RTTs sane, the summary's p50 the CSV's; the server serves two clients at once and
# outlives them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pingpong_checks.sh"

tb_up
start_server
tb_client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port "$PORT" --count 2000 --warmup 50 \
	--output "$TMP/results.csv" --summary-json "$TMP/summary.json" >"$TMP/summary.txt" 2>"$TMP/err"
rc=$?
check "client exits 0 (got $rc: $(head -c 200 "$TMP/err"))" [ "$rc" -eq 0 ]
check "client is silent on stderr when it is not a terminal" [ ! -s "$TMP/err" ]
[ -f "$TMP/results.csv" ] || fail "no results.csv"
check_run "$TMP/results.csv" "$TMP/summary.txt" "$TMP/summary.json" 2000 100000
check "the summary names both ends" grep -q "$CLIENT_IP4:[0-9]* -> $SERVER_IP4:$PORT" "$TMP/summary.txt"
check "no temp file left" bash -c "! ls '$TMP' | grep -q tmp"

# Two clients at once, one of them spaced by --interval.
start_ns=$(date +%s%N)
tb_bg client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port "$PORT" --count 300 \
	--warmup 0 --interval 1000 --output "$TMP/a.csv" >/dev/null
a=$!
tb_client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port "$PORT" --count 1000 \
	--output "$TMP/b.csv" >/dev/null
check "second client at the same time exits 0" [ $? -eq 0 ]
wait "$a"
rc=$?
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
check "first client (--interval 1000) exits 0" [ "$rc" -eq 0 ]
check "first client recorded 300 rows" [ "$(wc -l < "$TMP/a.csv")" -eq 301 ]
check "--interval 1000 spaced 300 exchanges over >= 299 ms (took $elapsed_ms ms)" \
	[ "$elapsed_ms" -ge 299 ]
check "server still running" kill -0 "$SERVER_PID"
finish
