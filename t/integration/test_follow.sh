#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs of any length: an agent with a store of only 5000 events (--max-events 5000) traces
# pingpong-server while a follower (t/follow_probe, the client end's follow mode) follows a
# 200,000-exchange ping-pong at full rate, about 12 events per exchange on the server host: the
# agent sends the events as they come and keeps none of them, so nothing is dropped, every
# ping's bytes reach the follower as server-side recv events, the agent's peak RSS stays small,
# and its --output log (written as events arrive) still holds every event.
# Then every connection of one client host (PP_FETCH_ALL_PORTS): a second agent, a follower of
# all ports of the client's address, 3 concurrent clients and 4 short ones after them, and one
# client from another address (the server host itself): the follower gets every server event of
# the client host's 7 connections, as the agent's --output log counts them point by point, and
# none of the other address's.
. "$(dirname "$0")/lib.sh"

PORT=7700
COUNT=200000
WARMUP=100
SIZE=64
MAX_EVENTS=5000
PROBE=$BUILD/t/follow_probe
require_built pingpong-ebpf pingpong-server pingpong-client "$PROBE"

tb_up
tb_bg server "$BUILD/pingpong-ebpf" --max-events $MAX_EVENTS --output "$TMP/events.csv" \
	-- "$BUILD/pingpong-server" --port $PORT 2>"$TMP/agent.err"
AGENT=$!
wait_port server $((PORT + 1))
[ "$(cat /proc/"$AGENT"/comm 2>/dev/null)" = pingpong-ebpf ] ||
	AGENT=$(pgrep -P "$AGENT" -x pingpong-ebpf | head -1)
[ -n "$AGENT" ] || fail "cannot find pingpong-ebpf's pid"

# The follower follows 198.18.0.1:$CPORT -> server before the connection exists (the agent then
# routes every event of that 4-tuple to it from the first SYN on), so that no event of the run
# ever waits in the small store; the client gets that port as the only ephemeral one left.
CPORT=40000
tb_bg client "$PROBE" --agent "$SERVER_IP4" --control-port $((PORT + 1)) --client "$CLIENT_IP4:$CPORT" \
	--server "$SERVER_IP4:$PORT" --ready "$TMP/following" >"$TMP/follow.out" 2>"$TMP/follow.err"
probe=$!
for _ in $(seq 1 50); do [ -e "$TMP/following" ] && break; sleep 0.1; done
[ -e "$TMP/following" ] || fail "the follower did not start: $(cat "$TMP/follow.err")"
tb_client sysctl -qw net.ipv4.ip_local_port_range="$CPORT $CPORT" || fail "cannot pin the client's port"

# the client: no tracing of its own, no agent fetch; only the server host's events matter here
tb_bg client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT --no-trace --size $SIZE \
	--count $COUNT --warmup $WARMUP --output "$TMP/results.csv" >"$TMP/client.out" 2>"$TMP/client.err"
client=$!

for _ in $(seq 1 1200); do
	kill -0 "$client" 2>/dev/null || break
	sleep 0.1
done
wait "$client"; crc=$?
hwm_kb=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$AGENT"/status)
kill -TERM "$probe"
for _ in $(seq 1 100); do kill -0 "$probe" 2>/dev/null || break; sleep 0.1; done
wait "$probe"; prc=$?
kill -INT "$AGENT"
for _ in $(seq 1 100); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done

echo "  client: $(grep -c '^[0-9]' "$TMP/results.csv" 2>/dev/null) rows; $(grep -i 'exchanges\|rtt_app' "$TMP/client.out" | head -2 | tr '\n' ' ')"
sed 's/^/  follower: /' "$TMP/follow.out"
sed 's/^/  follower stderr: /' "$TMP/follow.err"
sed 's/^/  agent: /' "$TMP/agent.err" | tail -8
echo "  note: agent peak RSS (VmHWM) at the end of the run: ${hwm_kb} kB"

end=$(grep '^end ' "$TMP/follow.out")
val() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$end"; }
recv_bytes=$(sed -n 's/^point=recv events=[0-9]* bytes_to_server=\([0-9]*\).*/\1/p' "$TMP/follow.out")
send_bytes=$(sed -n 's/^point=send events=[0-9]* bytes_to_server=[0-9]* bytes_to_client=\([0-9]*\).*/\1/p' "$TMP/follow.out")
# every message both ways, and the handshake: the 24-byte hello in, the 12-byte ok reply out
want=$(((COUNT + WARMUP) * SIZE))

check "the client ran its $COUNT exchanges (rc $crc)" test "$crc" -eq 0
check "the follower got END (rc $prc)" test "$prc" -eq 0
check "0 dropped with --max-events $MAX_EVENTS (dropped '$(val dropped)')" test "$(val dropped)" = 0
check "0 lost samples (lost '$(val lost)')" test "$(val lost)" = 0
check "every ping's bytes in the server's recv events ($recv_bytes of $want + 24)" \
	test "${recv_bytes:-0}" -eq $((want + 24))
check "every pong's bytes in the server's send events ($send_bytes of $want + 12)" \
	test "${send_bytes:-0}" -eq $((want + 12))
check "heartbeats or events: never silent for 2 s (max gap $(val max_gap_ms) ms)" test "$(val max_gap_ms)" -lt 2000
peak=$(sed -n 's/.*queues peaked at \([0-9]*\) events.*/\1/p' "$TMP/agent.err")
check "the follower queue never came near the bound (peak ${peak:-?} events < $MAX_EVENTS)" \
	test "${peak:-99999999}" -lt $MAX_EVENTS
check "the agent's peak RSS stays small (VmHWM ${hwm_kb} kB < 64 MiB)" test "${hwm_kb:-999999}" -lt 65536
agent_counts_zero follow "$TMP/agent.err" server
rows=$(($(wc -l <"$TMP/events.csv") - 1))
events=$(val events)
check "--output holds every followed event, written as they came ($rows rows >= $events)" \
	test "$rows" -ge "${events:-1}" -a "${events:-0}" -gt $((COUNT * 4))
# ---- every connection of the client host to the service, any port (PP_FETCH_ALL_PORTS) ----
PORT2=7710
SHORT=4
tb_client sysctl -qw net.ipv4.ip_local_port_range="32768 60999" || fail "cannot free the client's ports"
tb_bg server "$BUILD/pingpong-ebpf" --output "$TMP/events2.csv" \
	-- "$BUILD/pingpong-server" --port $PORT2 2>"$TMP/agent2.err"
AGENT2=$!
wait_port server $((PORT2 + 1))
[ "$(cat /proc/"$AGENT2"/comm 2>/dev/null)" = pingpong-ebpf ] ||
	AGENT2=$(pgrep -P "$AGENT2" -x pingpong-ebpf | head -1)
[ -n "$AGENT2" ] || fail "cannot find the second pingpong-ebpf's pid"
tb_bg client "$PROBE" --all-ports --agent "$SERVER_IP4" --control-port $((PORT2 + 1)) \
	--client "$CLIENT_IP4" --server "$SERVER_IP4:$PORT2" --ready "$TMP/following2" \
	>"$TMP/follow2.out" 2>"$TMP/follow2.err"
probe2=$!
for _ in $(seq 1 50); do [ -e "$TMP/following2" ] && break; sleep 0.1; done
[ -e "$TMP/following2" ] || fail "the all-ports follower did not start: $(cat "$TMP/follow2.err")"

run_client() { # host name count: a pingpong-client to the second server, untraced
	"$TESTBED" exec "$1" "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port $PORT2 --no-trace \
		--size $SIZE --count "$3" --warmup 10 --output "$TMP/$2.csv" >"$TMP/$2.out" 2>&1
}
pids=()
for i in 1 2 3; do run_client client "long$i" 3000 & pids+=("$!"); done
run_client server other 3000 & pids+=("$!") # another client address: the server host's own
crcs=0
for pid in "${pids[@]}"; do wait "$pid" || crcs=$((crcs + 1)); done
for i in $(seq 1 $SHORT); do run_client client "short$i" 20 || crcs=$((crcs + 1)); done
sleep 1 # the last connections' FIN exchanges reach the follower (flushed every 50 ms)
kill -TERM "$probe2"
for _ in $(seq 1 100); do kill -0 "$probe2" 2>/dev/null || break; sleep 0.1; done
wait "$probe2"; prc2=$?
kill -INT "$AGENT2"
for _ in $(seq 1 100); do kill -0 "$AGENT2" 2>/dev/null || break; sleep 0.1; done

sed 's/^/  all-ports follower: /' "$TMP/follow2.out"
sed 's/^/  all-ports follower stderr: /' "$TMP/follow2.err"
sed 's/^/  agent 2: /' "$TMP/agent2.err" | tail -4
# the log's view, point by point: events between the client host (any port) and the service
log_points() {
	awk -F, -v c="$CLIENT_IP4" -v s="$SERVER_IP4" -v p="$PORT2" -v want="$1" 'NR > 1 {
		mine = ($5 == c && $7 == s && $8 == p) || ($5 == s && $6 == p && $7 == c)
		other = ($5 == s && $8 == p && $7 == s) || ($5 == s && $6 == p && $7 == s)
		if (want == "other") { n += other; next }
		if (!mine) next
		ev[$1]++; port = $5 == c ? $6 : $8; if (!(port in seen)) { seen[port] = 1; ports++ }
	} END {
		if (want == "other") { print n + 0; exit }
		for (k in ev) printf "point=%s events=%d\n", k, ev[k]
		printf "ports=%d\n", ports
	}' "$TMP/events2.csv" | sort
}
probe_points() {
	awk '/^point=/ && $2 != "events=0" { print $1, $2 } /^end / {
		for (i = 2; i <= NF; i++) if ($i ~ /^ports=/) print $i }' "$TMP/follow2.out" | sort
}
end2=$(grep '^end ' "$TMP/follow2.out")
val2() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$end2"; }
want_log=$(log_points mine)
got=$(probe_points)
echo "  agent 2's log, the client host's connections: $(tr '\n' ' ' <<<"$want_log")"
check "the $((3 + SHORT)) client runs and the other address's ran ($crcs failed)" test "$crcs" -eq 0
check "the all-ports follower got END (rc $prc2)" test "$prc2" -eq 0
check "the follower saw every one of the $((3 + SHORT)) client ports ($(val2 ports))" \
	test "$(val2 ports)" = $((3 + SHORT))
check "the follower's events equal the log's, point by point and port count" \
	test "$got" = "$want_log" -a -n "$got"
check "the follower got events of the client host only (foreign '$(val2 foreign)')" test "$(val2 foreign)" = 0
other=$(log_points other)
check "the other address's connection is in the log ($other events) and not in the follower" \
	test "${other:-0}" -gt 0
check "0 dropped, 0 lost for the all-ports follower" test "$(val2 dropped)" = 0 -a "$(val2 lost)" = 0
finish
