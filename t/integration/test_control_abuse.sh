#!/bin/bash
# SPDX-License-Identifier: MIT
# The agent's control port (server port + 1) under a held flood, while three real clients run
# at once against the same agent: 200 idle connections (one byte, then nothing; opened again
# when closed) and 2000 garbage or reset ones, from the clients' own address, for the whole run.
# Every client gets its server columns (>= 99.9% of rows complete, no "no agent"), the agent's
# log stays short (refusals are counted and summed up, never logged one by one) and its peak
# RSS is reported and bounded. Then the same flood at the server port (pingpong-server).
. "$(dirname "$0")/lib.sh"

PYTHON=${PYTHON:-python3}
ABUSE=$ROOT/t/integration/abuse.py
PORT=7600
COUNT=1000
HOLD_S=14
require_built pingpong-ebpf pingpong-server pingpong-client

tb_up
agent_with_server $PORT
agent=$AGENT

# complete_rows CSV: rows with every server column (server_stack_us, server_app_us) filled
complete_rows() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "server_stack_us") a = i;
		if ($i == "server_app_us") b = i }; next }
		$a != "" && $b != "" { n++ } END { print n + 0 }' "$1"
}

# flood NAME PORT: the held flood at PORT while three clients run; checks every client
flood() {
	local name=$1 target=$2 pids=() i rc abuser
	tb_bg client timeout $((HOLD_S + 20)) "$PYTHON" "$ABUSE" hold "$SERVER_IP4" "$target" 200 2000 $HOLD_S \
		>"$TMP/$name.abuse" 2>&1
	abuser=$!
	sleep 2 # the flood is on before the clients start, and goes on after they end
	for i in 1 2 3; do
		tb_bg client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 200 \
			--count $COUNT --warmup 10 --interval 3000 --output "$TMP/$name.$i.csv" \
			>"$TMP/$name.$i.out" 2>"$TMP/$name.$i.err"
		pids+=("$!")
	done
	for i in 1 2 3; do
		for _ in $(seq 1 400); do kill -0 "${pids[$((i - 1))]}" 2>/dev/null || break; sleep 0.1; done
		wait "${pids[$((i - 1))]}"; rc=$?
		local rows complete
		rows=$(grep -c '^[0-9]' "$TMP/$name.$i.csv" 2>/dev/null)
		complete=$(complete_rows "$TMP/$name.$i.csv" 2>/dev/null)
		echo "  $name: client $i: rc $rc, $rows rows, $complete with every server column"
		check "$name: client $i succeeds with all $COUNT rows" test "$rc" -eq 0 -a "${rows:-0}" -eq $COUNT
		check "$name: client $i: >= 99.9% rows complete ($complete of $COUNT)" \
			test "${complete:-0}" -ge $((COUNT * 999 / 1000))
		check "$name: client $i: no 'no agent' on stderr" bash -c "! grep -q 'no agent' '$TMP/$name.$i.err'"
	done
	check "$name: the flood was held during the whole run ($(cat "$TMP/$name.abuse"))" \
		bash -c "kill -0 $abuser 2>/dev/null"
	for _ in $(seq 1 $(((HOLD_S + 25) * 10))); do kill -0 "$abuser" 2>/dev/null || break; sleep 0.1; done
	wait "$abuser"
	echo "  $name: abuser: $(cat "$TMP/$name.abuse")"
	check "$name: the abuser ran its 2000 garbage/reset connections" \
		awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
			END { exit !(v["garbage"] + v["reset"] + v["refused"] >= 2000 && v["idle_opened"] >= 200) }' \
		"$TMP/$name.abuse"
	check "$name: the agent lives on" kill -0 "$agent"
}

flood control $((PORT + 1))
hwm_kb=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$agent"/status)
echo "  note: agent peak RSS after the control-port flood: VmHWM ${hwm_kb} kB"
check "the agent's peak RSS stays bounded (VmHWM ${hwm_kb} kB < 256 MiB)" test "${hwm_kb:-999999}" -lt 262144
flood server $PORT
hwm2_kb=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$agent"/status)
server_pid=$SERVER
shwm_kb=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$server_pid"/status 2>/dev/null)
echo "  note: after the server-port flood: agent VmHWM ${hwm2_kb} kB, pingpong-server VmHWM ${shwm_kb} kB"
check "the agent's peak RSS stays bounded (VmHWM ${hwm2_kb} kB < 256 MiB)" test "${hwm2_kb:-999999}" -lt 262144

kill -INT "$agent"
for _ in $(seq 1 100); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
lines=$(wc -l <"$TMP/agent.err")
echo "  agent log ($lines lines):"; sed 's/^/    /' "$TMP/agent.err" | head -60
check "the agent's log stays short ($lines lines < 50)" test "$lines" -lt 50
check "with a summary of the refused connections" grep -q 'control port: refused [0-9]* connections' "$TMP/agent.err"
check "and no line per refused connection" bash -c "! grep -q 'control request' '$TMP/agent.err'"
finish
