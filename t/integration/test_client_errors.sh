#!/bin/bash
# SPDX-License-Identifier: MIT
# pingpong-client's failures: bad usage -> exit 2, a runtime failure (unknown host, nothing
# listening, no route, not a pingpong-server) -> exit 1; one line on stderr and no output file
# either way. A server killed mid-run -> exit 1 with the completed exchanges written, marked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pingpong_checks.sh"

CLIENT=$BUILD/pingpong-client

# expect STATUS GREP-PATTERN ARGS...: runs the client in the client namespace writing into an
# empty directory; checks exit status, exactly one stderr line matching, and no file left.
expect() {
	local want=$1 pattern=$2 rc lines; shift 2
	rm -rf "$TMP/out"; mkdir "$TMP/out"
	(cd "$TMP/out" && timeout 30 "$TESTBED" exec client "$CLIENT" "$@" >"$TMP/stdout" 2>"$TMP/stderr")
	rc=$?
	lines=$(wc -l < "$TMP/stderr")
	check "$* -> exit $want (got $rc)" [ "$rc" -eq "$want" ]
	check "   one line on stderr (got $lines: $(head -c 160 "$TMP/stderr"))" [ "$lines" -eq 1 ]
	check "   says '$pattern'" grep -q -- "$pattern" "$TMP/stderr"
	check "   leaves no file" [ -z "$(ls -A "$TMP/out")" ]
}

tb_up
A=(--addr "$SERVER_IP4" --port "$PORT")
expect 2 "^pingpong-client: --size must be 1..16777216 bytes (got 0)$" "${A[@]}" --size 0
expect 2 "--size must be 1..16777216 bytes (got 16777217)" "${A[@]}" --size 16777217
expect 2 "--count must be 1..100000000 exchanges (got 0)" "${A[@]}" --count 0
expect 2 "--count must be" "${A[@]}" --count -5
expect 2 "--port must be 1..65535 (got 65536)" --addr "$SERVER_IP4" --port 65536
expect 2 "--port must be 1..65535 (got 0)" --addr "$SERVER_IP4" --port 0
expect 2 "--addr is required" --port "$PORT"
expect 2 "--port is required" --addr "$SERVER_IP4"
expect 2 "unknown option '--colour'" "${A[@]}" --colour
expect 2 "--interval must be 0..10000000 microseconds (got 1.5)" "${A[@]}" --interval 1.5
expect 2 "--warmup must be" "${A[@]}" --warmup x

expect 1 "cannot resolve 'no-such-host.invalid'\|unknown host 'no-such-host.invalid'" \
	--addr no-such-host.invalid --port "$PORT"
expect 1 "cannot connect to $SERVER_IP4:$PORT: Connection refused" "${A[@]}"
expect 1 "cannot connect to \[$SERVER_IP6\]:$PORT: Connection refused" --addr "$SERVER_IP6" --port "$PORT"
expect 1 "cannot connect to 198.19.0.9:$PORT: Network is unreachable" --addr 198.19.0.9 --port "$PORT"
expect 1 "cannot create nodir/r.csv: No such file or directory" "${A[@]}" --output nodir/r.csv

# Not a pingpong-server: one that answers with something else, one that never answers.
tb_bg server python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4); s.settimeout(60)
c, _ = s.accept(); c.recv(64); c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"); time.sleep(0.5); c.close()
c, _ = s.accept(); time.sleep(8); c.close()' "$PORT"
fake=$!
wait_port server "$PORT"
expect 1 "answered the handshake with something else (is it a pingpong-server?)" "${A[@]}"
start=$(date +%s%N)
expect 1 "did not answer the handshake within 5 s" "${A[@]}"
ms=$((($(date +%s%N) - start) / 1000000))
# not before its 5 s (noise only adds), and not much after
check "   gave up after about 5 s (4.9..7 s, took $ms ms)" [ "$ms" -ge 4900 -a "$ms" -le 7000 ]
kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null

# The server dies mid-run: the completed exchanges are kept, marked PARTIAL, exit 1.
start_server
rm -rf "$TMP/out"; mkdir "$TMP/out"
tb_bg client "$CLIENT" "${A[@]}" --no-trace --count 100000 --interval 200 --output "$TMP/out/r.csv" \
	--summary-json "$TMP/out/s.json" >"$TMP/stdout" 2>"$TMP/stderr"
client=$!
sleep 1
{ kill -KILL "$SERVER_PID"; wait "$SERVER_PID"; } 2>/dev/null
wait "$client"
rc=$?
rows=$(($(wc -l < "$TMP/out/r.csv" 2>/dev/null || echo 1) - 1))
check "server killed mid-run -> client exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "   one line on stderr ($(head -c 200 "$TMP/stderr"))" [ "$(wc -l < "$TMP/stderr")" -eq 1 ]
check "   says the server closed the connection after N of 100000" \
	grep -q "the server closed the connection after $rows of 100000 exchanges; .*r.csv holds the $rows completed" "$TMP/stderr"
check "   results.csv holds the completed exchanges ($rows, some but not all)" \
	[ "$rows" -gt 100 -a "$rows" -lt 100000 ]
check "   summary marks them PARTIAL" grep -q "PARTIAL: $rows of 100000 completed" "$TMP/stdout"
check "   summary.json too" grep -q "PARTIAL: $rows of 100000 completed" "$TMP/out/s.json"
check "   the summary counts what was recorded" grep -q "^measured: $rows exchanges" "$TMP/stdout"
check "   no temp file left" [ "$(ls "$TMP/out" | wc -l)" -eq 2 ]

# The server hangs (stopped, its socket open): the client's watchdog ends the run.
start_server
rm -rf "$TMP/out"; mkdir "$TMP/out"
tb_bg client "$CLIENT" "${A[@]}" --no-trace --count 100000 --interval 100 --output "$TMP/out/r.csv" \
	>"$TMP/stdout" 2>"$TMP/stderr"
client=$!
sleep 1
kill -STOP "$SERVER_PID"
start=$(date +%s%N)
wait "$client"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$SERVER_PID"
check "hung server -> client exit 1 (got $rc)" [ "$rc" -eq 1 ]
# the watchdog counts from the last pong, a moment before the STOP: 10 s, less a little
check "   after about 10 s (9.9..16 s, took $ms ms)" [ "$ms" -ge 9900 -a "$ms" -le 16000 ]
check "   says no pong for 10 s ($(head -c 200 "$TMP/stderr"))" grep -q "no pong for 10 s after" "$TMP/stderr"
check "   keeps the completed exchanges" [ "$(wc -l < "$TMP/out/r.csv")" -gt 100 ]
finish
