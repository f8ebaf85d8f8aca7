#!/bin/bash
# SPDX-License-Identifier: MIT
# The userspace programs are clean under valgrind (memcheck, full leak check): pingpong-server
# and an untraced pingpong-client on a short run (200 exchanges) in the testbed, then
# pingpong-analyze (and --turns) on the event logs of a traced run and pingpong-plot on t/data. The traced
# client too, with valgrind-bpf.supp for valgrind's partial model of bpf(2) inside libbpf.
. "$(dirname "$0")/lib.sh"

PORT=7600
VG=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --vgdb=no)
command -v valgrind >/dev/null || fail "valgrind not found"
require_built pingpong-ebpf pingpong-server pingpong-client pingpong-analyze pingpong-plot
vg_clean() { # LOG: valgrind wrote no error or leak record
	! grep -q '^==[0-9]*== [A-Z0-9]' "$1"
}

tb_up
tb_bg server "${VG[@]}" --log-file="$TMP/vg-server.log" "$BUILD/pingpong-server" --port $PORT
server=$!
wait_port server $PORT 20
tb_client "${VG[@]}" --log-file="$TMP/vg-client.log" "$BUILD/pingpong-client" --addr "$SERVER_IP4" \
	--port $PORT --size 1000 --count 200 --warmup 10 --no-trace --output "$TMP/r.csv" \
	--summary-json "$TMP/s.json" >/dev/null 2>"$TMP/client.err"; rc=$?
check "client under valgrind: exit 0, no error, no leak" bash -c "[ $rc -eq 0 ] && ! grep -q '^==[0-9]*== [A-Z0-9]' '$TMP/vg-client.log'"
check "and its 200 rows" test "$(grep -c '^[0-9]' "$TMP/r.csv")" -eq 200
kill -TERM "$server"
for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
wait "$server"; rc=$?
check "server under valgrind: SIGTERM, exit 0, no error, no leak" bash -c "[ $rc -eq 0 ] && ! grep -q '^==[0-9]*== [A-Z0-9]' '$TMP/vg-server.log'"

# A traced run (client under valgrind, the agent not): its event logs feed the offline correlator.
tb_bg server "$BUILD/pingpong-ebpf" --output "$TMP/server-ev.csv" -- "$BUILD/pingpong-server" --port $PORT \
	2>/dev/null
agent=$!
wait_port server $((PORT + 1))
tb_client "${VG[@]}" --suppressions="$ROOT/t/integration/valgrind-bpf.supp" --log-file="$TMP/vg-traced.log" \
	"$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 1000 --count 200 --warmup 0 \
	--events-out "$TMP/client-ev.csv" --output "$TMP/traced.csv" >/dev/null 2>"$TMP/traced.err"; rc=$?
kill -TERM "$agent"; wait "$agent"
check "traced client under valgrind: exit 0, no error, no leak" bash -c "[ $rc -eq 0 ] && ! grep -q '^==[0-9]*== [A-Z0-9]' '$TMP/vg-traced.log'"
check "with its server columns (fetched)" \
	test "$(csv_col "$TMP/traced.csv" server_app_us | grep -c '[0-9]')" -ge 195
"${VG[@]}" --log-file="$TMP/vg-analyze.log" "$BUILD/pingpong-analyze" --size 1000 \
	-o "$TMP/analyzed.csv" -j "$TMP/analyzed.json" "$TMP/client-ev.csv" "$TMP/server-ev.csv" \
	>/dev/null 2>"$TMP/analyze.err"; rc=$?
check "pingpong-analyze under valgrind: exit 0, no error, no leak" bash -c "[ $rc -eq 0 ] && ! grep -q '^==[0-9]*== [A-Z0-9]' '$TMP/vg-analyze.log'"
check "and its rows" test "$(grep -c '^[0-9]' "$TMP/analyzed.csv")" -ge 200
# An event log is in arrival order, and a CPU's last partial batch may come at its very end
# (the flush at stop): a CI run once had exchange 0's recv there, and every row paired a ping
# with the next pong. The same log with that recv moved to the end gives the same rows.
awk -F, 'NR == 1 { print; next } $1 == "recv" && $10 == 1000 && (first == "" || $2 < ts) { ts = $2; first = NR }
	{ line[NR] = $0 } END { for (i = 2; i <= NR; i++) if (i != first) print line[i]; print line[first] }' \
	"$TMP/client-ev.csv" >"$TMP/client-moved.csv"
"$BUILD/pingpong-analyze" --size 1000 -o "$TMP/moved.csv" "$TMP/client-moved.csv" "$TMP/server-ev.csv" \
	>/dev/null 2>&1
check "a client log whose first pong's recv arrives last: the same rows" cmp -s "$TMP/analyzed.csv" "$TMP/moved.csv"
"${VG[@]}" --log-file="$TMP/vg-turns.log" "$BUILD/pingpong-analyze" --turns -v \
	-o "$TMP/turns.csv" -j "$TMP/turns.json" "$TMP/client-ev.csv" "$TMP/server-ev.csv" \
	>/dev/null 2>"$TMP/turns.err"; rc=$?
check "pingpong-analyze --turns under valgrind: exit 0, no error, no leak" bash -c "[ $rc -eq 0 ] && ! grep -q '^==[0-9]*== [A-Z0-9]' '$TMP/vg-turns.log'"
check "and its rows, the handshake's too" test "$(grep -c '^[0-9]' "$TMP/turns.csv")" -ge 201
"${VG[@]}" --log-file="$TMP/vg-plot.log" "$BUILD/pingpong-plot" -q -i "$ROOT/t/data/results-small.csv" \
	-o "$TMP/cdf.png" >/dev/null 2>"$TMP/plot.err"; rc=$?
check "pingpong-plot under valgrind: exit 0, no error, no leak" bash -c "[ $rc -eq 0 ] && ! grep -q '^==[0-9]*== [A-Z0-9]' '$TMP/vg-plot.log'"
check "and its PNG" test -s "$TMP/cdf.png"
"${VG[@]}" --log-file="$TMP/vg-plot2.log" "$BUILD/pingpong-plot" -q -i "$ROOT/t/data/results-tricky.csv" \
	-o "$TMP/cdf2.svg" >/dev/null 2>"$TMP/plot2.err"; rc=$?
check "pingpong-plot on tricky input under valgrind: no error, no leak (exit $rc)" vg_clean "$TMP/vg-plot2.log"
for log in "$TMP"/vg-*.log; do vg_clean "$log" || { echo "  --- $log"; head -30 "$log"; }; done
finish
