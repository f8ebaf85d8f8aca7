#!/bin/bash
# SPDX-License-Identifier: MIT
# Server and agent under abuse: 1000 connections reset mid-message, malformed and oversized
# hellos and a stalled client cost pingpong-server nothing a real traced run would notice, and
# its memory stays bounded; the agent gives no events of another connection to a FETCH that
# names it, and refuses garbage on its control port without harming the next real fetch.
. "$(dirname "$0")/lib.sh"

PYTHON=${PYTHON:-python3}
ABUSE=$ROOT/t/integration/abuse.py
PORT=7500
require_built pingpong-ebpf pingpong-server pingpong-client

tb_up
agent_with_server $PORT
agent=$AGENT server_pid=$SERVER

# A real traced run (3000 exchanges, 2 ms apart) while the abuse goes on.
tb_bg client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 200 --count 3000 \
	--warmup 10 --interval 2000 --output "$TMP/real.csv" >"$TMP/real.txt" 2>"$TMP/real.err"
real=$!
sleep 0.5
tb_bg client "$PYTHON" "$ABUSE" stall "$SERVER_IP4" $PORT 12 >"$TMP/stall.out"
tb_client timeout 40 "$PYTHON" "$ABUSE" rst "$SERVER_IP4" $PORT 1000 >"$TMP/rst.out" 2>&1
# abuse.py counts a refused hello (or one cut before the half message) apart from a reset
check "1000 connections accepted, then reset mid-message ($(cat "$TMP/rst.out"))" \
	grep -qx "reset 1000 refused 0 cut 0" "$TMP/rst.out"
tb_client timeout 20 "$PYTHON" "$ABUSE" bad "$SERVER_IP4" $PORT >"$TMP/bad.out" 2>&1
check "every malformed or oversized hello refused ($(tail -1 "$TMP/bad.out"))" grep -qx "refused 10 of 10" "$TMP/bad.out"
for _ in $(seq 1 200); do kill -0 "$real" 2>/dev/null || break; sleep 0.1; done
wait "$real"; rc=$?
check "the real run meanwhile succeeds" test "$rc" -eq 0
check "with all 3000 exchanges" test "$(grep -c '^[0-9]' "$TMP/real.csv")" -eq 3000
p50=$(csv_col "$TMP/real.csv" rtt_app_us | sort -n | awk '{ v[NR] = $1 } END { print v[int(NR / 2)] }')
check "and plausible RTTs (p50 rtt_app $p50 us < 2000)" awk -v p="$p50" 'BEGIN { exit !(p > 1 && p < 2000) }'
check "and its server columns (fetch after the abuse)" \
	test "$(csv_col "$TMP/real.csv" server_app_us | grep -c '[0-9]')" -ge 2900
hwm_kb=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$server_pid"/status)
check "the server lives on" kill -0 "$server_pid"
check "its peak RSS stays bounded (VmHWM ${hwm_kb} kB < 64 MiB)" test "${hwm_kb:-999999}" -lt 65536

# --- the control port --------------------------------------------------------------------------
tb_client timeout 20 "$PYTHON" "$ABUSE" fetch "$SERVER_IP4" $PORT $((PORT + 1)) >"$TMP/fetch.out" 2>&1
echo "  fetch: $(cat "$TMP/fetch.out")"
check "a FETCH for one's own connection gets its events" grep -q 'own=[1-9][0-9]*/END' "$TMP/fetch.out"
check "a FETCH naming another connection gets none of its events" bash -c "
	grep -q 'port+1=0/END' '$TMP/fetch.out' && grep -q 'other_client=0/END' '$TMP/fetch.out' &&
	grep -q 'other_server_port=0/END' '$TMP/fetch.out'"
tb_client timeout 40 "$PYTHON" "$ABUSE" garbage "$SERVER_IP4" $((PORT + 1)) >"$TMP/garbage.out" 2>&1
check "garbage on the control port is refused ($(cat "$TMP/garbage.out"))" grep -qx "refused 6 of 6" "$TMP/garbage.out"
check "the agent lives on" kill -0 "$agent"
tb_client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 200 --count 200 \
	--warmup 10 --output "$TMP/after.csv" >/dev/null 2>"$TMP/after.err"; rc=$?
check "the next real fetch works (server columns filled)" bash -c "[ $rc -eq 0 ] &&
	[ \$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if (\$i == \"server_app_us\") c = i; next }
		\$c != \"\" { n++ } END { print n + 0 }' '$TMP/after.csv') -ge 195 ]"
finish
