#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs of any length: pingpong-client correlates while the run goes, with the agent's events
# streamed to it (control channel, follow mode). The agent's store is held to 20,000 events
# (--max-events), far fewer than a 200,000-exchange run makes there (1.4 million), so only
# streaming can keep every point. (20,000 is a tenth of a second of the agent's events at full
# rate: the client's reader takes the agent's socket between correlating, and at 5,000 a
# pause of 30 ms on a loaded host filled the queue; test_follow, with a reader that does
# nothing else, holds 5,000.) every exchange must be matched and nothing dropped or
# lost on either host. Then the peers are killed mid-run: an agent killed (SIGKILL) leaves the
# client to finish with its own columns and one line saying so; a client killed leaves the
# agent serving the next one; Ctrl-C (SIGINT) still gets the server's events of what was done.
#   --quick  20,000 exchanges instead of 200,000 (for development)
. "$(dirname "$0")/lib.sh"

COUNT=200000
for arg in "$@"; do
	case $arg in
	--quick) COUNT=20000 ;;
	*) fail "unknown argument $arg" ;;
	esac
done
require_built pingpong-ebpf pingpong-server pingpong-client
PORT=12345 CPORT=12346

json_field() { # FILE PYTHON-EXPR over j
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}

tb_up
tb_bg server "$BUILD/pingpong-server" --port $PORT
wait_port server $PORT

# --- a long run through small stores -----------------------------------------------------------
start_agent() { # the agent attached to the running server (so killing it leaves the server)
	tb_bg server "$BUILD/pingpong-ebpf" --port $PORT --max-events 20000 2>"$TMP/agent$1.err"
	AGENT=$!
	wait_port server $CPORT
	[ "$(cat /proc/"$AGENT"/comm 2>/dev/null)" = pingpong-ebpf ] ||
		AGENT=$(pgrep -P "$AGENT" -x pingpong-ebpf | head -1)
	[ -n "$AGENT" ] || fail "cannot find pingpong-ebpf's pid"
}
stop_agent() {
	kill -TERM "$AGENT" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
}

start_agent 1
tb_client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 64 --count $COUNT \
	--output "$TMP/long.csv" --summary-json "$TMP/long.json" -v \
	>"$TMP/long.txt" 2>"$TMP/long.err"
rc=$?
stop_agent
check "the long run exits 0" test "$rc" -eq 0
counts=$(json_field "$TMP/long.json" 'j["exchanges"], j["matched"], j["incomplete"]')
check "$COUNT rows, every one matched (exchanges, matched, incomplete: $counts)" \
	test "$counts" = "$COUNT $COUNT 0"
complete=$(csv_col "$TMP/long.csv" incomplete | grep -c '^0$')
check "the CSV has $COUNT rows, none incomplete ($complete complete)" bash -c "
	[ $complete -eq $COUNT ] && [ \$(wc -l <'$TMP/long.csv') -eq $((COUNT + 1)) ]"
check "nothing lost on either host" grep -q '^lost: 0 events (client 0, server 0)' "$TMP/long.txt"
agent_counts_zero long "$TMP/agent1.err" server
echo "  note: client: $(grep -o 'peak RSS [0-9.]* MiB' "$TMP/long.err" | tail -1); agent: $(grep -o 'peak RSS [0-9.]* MiB' "$TMP/agent1.err" | tail -1)"
echo "  note: $(grep -o 'at most [0-9]* events held at once' "$TMP/long.err")"

# --- the agent killed mid-run: the client finishes, says so once, keeps what was measured ------
start_agent 2
tb_bg client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 64 --count 1000000 \
	--interval 20 --output "$TMP/akill.csv" --summary-json "$TMP/akill.json" \
	>"$TMP/akill.txt" 2>"$TMP/akill.err"
client=$!
sleep 2
kill -KILL "$AGENT"
sleep 1
kill -INT "$client"
wait "$client"; rc=$?
check "agent killed: the client ends as interrupted (1) with its summary" bash -c "
	[ $rc -eq 1 ] && grep -q '^measured: ' '$TMP/akill.txt'"
check "agent killed: one line says the agent went away" bash -c "
	[ \$(grep -c 'went away\|went silent' '$TMP/akill.err') -eq 1 ]"
complete=$(csv_col "$TMP/akill.csv" incomplete | grep -c '^0$')
incomplete=$(csv_col "$TMP/akill.csv" incomplete | grep -c '^1$')
check "agent killed: rows before it are complete ($complete), later ones lack server points ($incomplete)" \
	[ "$complete" -gt 0 -a "$incomplete" -gt 0 ]
check "agent killed: every row has the client's own points" \
	test "$(csv_col "$TMP/akill.csv" c_recv_ns | grep -c '^$')" -eq 0

# --- the client killed mid-run: the agent says so once and serves the next client --------------
start_agent 3
tb_bg client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 64 --count 1000000 \
	--output "$TMP/ckill.csv" >/dev/null 2>&1
client=$!
sleep 2
kill -KILL "$client"
wait "$client" 2>/dev/null
sleep 0.5
check "client killed: the agent runs on" kill -0 "$AGENT"
check "client killed: one agent line says the client went away" bash -c "
	[ \$(grep -c 'went away' '$TMP/agent3.err') -eq 1 ]"
check "client killed: no results file left" test ! -e "$TMP/ckill.csv"
# Ctrl-C: the exchanges done are all there, server points included
tb_bg client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --size 64 --count 1000000 \
	--output "$TMP/int.csv" --summary-json "$TMP/int.json" >"$TMP/int.txt" 2>"$TMP/int.err"
client=$!
sleep 2
kill -INT "$client"
wait "$client"; rc=$?
stop_agent
check "Ctrl-C: exit 1, PARTIAL summary" bash -c "[ $rc -eq 1 ] && grep -q PARTIAL '$TMP/int.txt'"
counts=$(json_field "$TMP/int.json" 'j["exchanges"], j["matched"]')
check "Ctrl-C: every exchange done is matched, server points included ($counts)" \
	bash -c "set -- $counts; [ \"\$1\" -gt 1000 ] && [ \"\$1\" = \"\$2\" ]"
agent_counts_zero ctrl-c "$TMP/agent3.err" server
finish
