#!/bin/bash
# SPDX-License-Identifier: MIT
# The same ping-pong over IPv6: the server bound to its IPv6 address only (--bind), the client
# given the literal address; the IPv4 address then refuses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pingpong_checks.sh"

tb_up
start_server --bind "$SERVER_IP6"
tb_client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP6" --port "$PORT" --count 1000 \
	--output "$TMP/results.csv" --summary-json "$TMP/summary.json" >"$TMP/summary.txt" 2>"$TMP/err"
rc=$?
check "client over IPv6 exits 0 (got $rc: $(head -c 200 "$TMP/err"))" [ "$rc" -eq 0 ]
[ -f "$TMP/results.csv" ] || fail "no results.csv"
check_run "$TMP/results.csv" "$TMP/summary.txt" "$TMP/summary.json" 1000 100000
check "the summary shows IPv6 endpoints" grep -q "\[$CLIENT_IP6\]:[0-9]* -> \[$SERVER_IP6\]:$PORT" \
	"$TMP/summary.txt"

tb_client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port "$PORT" --count 10 \
	--output "$TMP/v4.csv" >/dev/null 2>"$TMP/err4"
rc=$?
check "IPv4 is refused when bound to IPv6 only (exit $rc)" [ "$rc" -eq 1 ]
check "... with a reason" grep -q "cannot connect to $SERVER_IP4:$PORT: Connection refused" "$TMP/err4"
finish
