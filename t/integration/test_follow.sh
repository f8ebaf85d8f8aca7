#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs of any length: an agent with a store of only 5000 events (--max-events 5000) traces
# pingpong-server while a follower (t/follow_probe, the client end's follow mode) follows a
# 200,000-exchange ping-pong at full rate, about 12 events per exchange on the server host: the
# agent sends the events as they come and keeps none of them, so nothing is dropped, every
# ping's bytes reach the follower as server-side recv events, the agent's peak RSS stays small,
# and its --output log (written as events arrive) still holds every event.
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
finish
