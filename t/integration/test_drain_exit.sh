#!/bin/bash
# SPDX-License-Identifier: MIT
# The agent reads its capture to the end when CMD exits: a client that quits right after its
# last request (redis-benchmark, sockperf ping-pong) must leave every request through the last
# one with all 14 points on both hosts, wire_tx / wire_rx included. The capture batches frames
# in the kernel ring for 50 ms (PP_AGENT_CAPTURE_BATCH_MS); an agent that stopped it at CMD's
# exit without draining lost the wire points of the last ~50 ms of requests and said nothing.
# The agents get --tcp-point (the tcp point is opt-in): all 14 points are then required.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf
ANALYZE=$BUILD/pingpong-analyze
require_built pingpong-ebpf pingpong-analyze
command -v sockperf >/dev/null || fail "sockperf not found (tools/install-deps)"
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
	fail "redis-server/redis-benchmark not found (tools/install-deps)"

# points CSV: the rows of a --turns results.csv with their 14 points. Prints "rows full tail
# last" (full: every c_*_ns and s_*_ns present but --sched's; tail: the rows among the last 200 of the run,
# by client send time, that lack one; last: 1 if the very last request is full).
points() {
	python3 - "$1" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
# every point but --sched's, which these runs do not ask for
sched = {h + "_" + p + "_ns" for h in "cs" for p in ("wake", "idle", "oncpu")}
cols = [c for c in (rows[0].keys() if rows else [])
        if c[:2] in ("c_", "s_") and c.endswith("_ns") and c not in sched]
full = lambda r: len(cols) == 14 and all(r[c] != "" for c in cols)
rows.sort(key=lambda r: int(r["c_send_ns"] or 0))
tail = sum(not full(r) for r in rows[-200:])
print(len(rows), sum(map(full, rows)), tail, int(bool(rows) and full(rows[-1])))
EOF
}

tb_up

# --- redis-benchmark -c 1: 5000 GETs on one connection, then it exits ---------------------------
tb_bg server "$AGENT" --tcp-point --output "$TMP/redis-server.csv" --port 6379 -- \
	redis-server --save '' --appendonly no --port 6379 --bind "$SERVER_IP4" --daemonize no \
	--protected-mode no >/dev/null 2>"$TMP/redis-agent.err"
redis_agent=$!
wait_port server 6379 10
tb_client "$AGENT" --tcp-point --output "$TMP/redis-client.csv" --port 6379 -- \
	redis-benchmark -h "$SERVER_IP4" -p 6379 -c 1 -n 5000 -t get -d 100 \
	>"$TMP/redis.out" 2>"$TMP/redis-client.err"
kill -TERM "$redis_agent"
wait "$redis_agent"
sed 's/^/    /' "$TMP/redis-client.err"
check "redis: no capture frame left unread on either host" \
	bash -c "! grep -q 'never read' '$TMP/redis-client.err' '$TMP/redis-agent.err'"
"$ANALYZE" --turns -o "$TMP/redis.results.csv" "$TMP/redis-client.csv" "$TMP/redis-server.csv" \
	>"$TMP/redis.summary" 2>&1
read -r rows full tail last < <(points "$TMP/redis.results.csv")
echo "  redis -c 1 -n 5000: $rows rows, $full with all 14 points; $tail of the last 200 lack one"
# 5000 GETs, and the one request of the short connection redis-benchmark opens first
check "redis: a row per request (5001)" test "$rows" -eq 5001
check "redis: the last request has all 14 points on both hosts" test "$last" -eq 1
check "redis: every one of the last 200 requests has all 14 points" test "$tail" -eq 0
check "redis: every request has all 14 points" test "$full" -eq "$rows"

# --- sockperf ping-pong for one second, then it exits ------------------------------------------
tb_bg server "$AGENT" --tcp-point --output "$TMP/sp-server.csv" --port 11111 -- \
	sockperf server --tcp -i "$SERVER_IP4" -p 11111 >/dev/null 2>"$TMP/sp-agent.err"
sp_agent=$!
wait_port server 11111 10
tb_client "$AGENT" --tcp-point --output "$TMP/sp-client.csv" --port 11111 -- \
	sockperf ping-pong --tcp -i "$SERVER_IP4" -p 11111 -m 100 -t 1 --mps 5000 \
	>"$TMP/sp.out" 2>"$TMP/sp-client.err"
kill -TERM "$sp_agent"
wait "$sp_agent"
check "sockperf: no capture frame left unread on either host" \
	bash -c "! grep -q 'never read' '$TMP/sp-client.err' '$TMP/sp-agent.err'"
sent=$(sed -n 's/.*\[Total Run\].*SentMessages=\([0-9]*\);.*/\1/p' "$TMP/sp.out")
got=$(sed -n 's/.*\[Total Run\].*ReceivedMessages=\([0-9]*\).*/\1/p' "$TMP/sp.out")
"$ANALYZE" --turns -o "$TMP/sp.results.csv" "$TMP/sp-client.csv" "$TMP/sp-server.csv" \
	>"$TMP/sp.summary" 2>&1
read -r rows full tail last < <(points "$TMP/sp.results.csv")
echo "  sockperf -m 100 -t 1: sent ${sent:-?}, received ${got:-?}; $rows rows, $full with all 14 points;" \
	"$tail of the last 200 lack one"
check "sockperf: it ran (sent > 1000)" test "${sent:-0}" -gt 1000
check "sockperf: a row per message sent" test "$rows" -eq "${sent:-0}"
# sockperf may stop before reading its last reply (a row without response), and counts its
# last reply as not received even when it read it
check "sockperf: all 14 points on a row per reply read, at least" test "$full" -ge "${got:-0}"
check "sockperf: every one of the last 200 requests but a reply never read has all 14 points" \
	test "$tail" -le $((sent - got))
finish
