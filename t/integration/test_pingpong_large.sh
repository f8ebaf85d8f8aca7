#!/bin/bash
# SPDX-License-Identifier: MIT
# Messages larger than the MSS (64 KiB: several segments per message) and 1 MiB: every
# exchange completes and the echo stays framed (the client checks each pong's number).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pingpong_checks.sh"

tb_up
start_server
for spec in 65536:500 1048576:100 16777216:3; do
	size=${spec%:*} count=${spec#*:}
	tb_client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port "$PORT" --size "$size" \
		--count "$count" --warmup 2 --output "$TMP/r$size.csv" --summary-json "$TMP/s$size.json" \
		>"$TMP/s$size.txt" 2>"$TMP/err"
	rc=$?
	check "$size B x $count exits 0 (got $rc: $(head -c 200 "$TMP/err"))" [ "$rc" -eq 0 ]
	[ -f "$TMP/r$size.csv" ] || fail "no results for $size B"
	check_run "$TMP/r$size.csv" "$TMP/s$size.txt" "$TMP/s$size.json" "$count" 2000000
	check "summary names the size" grep -q "^pingpong: $size B x $count exchanges" "$TMP/s$size.txt"
done
check "server still running" kill -0 "$SERVER_PID"
finish
