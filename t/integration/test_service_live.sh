#!/bin/bash
# SPDX-License-Identifier: MIT
# One command per host on a service we did not write: `pingpong-ebpf --port 6379 --
# redis-server` on the server host, `pingpong-ebpf --peer SERVER --port 6379 --output ... --
# redis-benchmark ...` on the client host, which follows the agent during the run and writes
# results.csv, the summary, its JSON and the plots at CMD's exit. Rows equal the commands the
# server says it ran (its own INFO commandstats), every one complete but a rare witness-less
# loss, the identities exact, IPv4 and IPv6, replies larger than the MSS; sockperf's every
# message a row. Without an agent: one line, and the client's own points. Bad usage: exit 2.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf
require_built pingpong-ebpf pingpong-plot
for p in redis-server redis-benchmark redis-cli sockperf; do
	command -v "$p" >/dev/null || fail "$p not found (tools/install-deps)"
done

# identities FILE: on every complete row, rtt = client_stack + network + server_stack +
# server_app and network = client_dev + wire + server_dev, in integer ns (the CSV's microseconds
# have exactly three decimals). Prints "rows complete bad no_wire" (no_wire: complete rows
# without the wire columns, a capture point missing).
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
			if ($c["wire_us"] == "") nowire++
		}
		END { print rows + 0, ok + 0, bad + 0, nowire + 0 }' "$1"
}

# commands ADDR: the GET and SET commands the server ran so far (its own count, not ours).
# redis-benchmark also asks for its CONFIG first, two commands written at once on a connection
# of their own: one turn, one row (the tests count it apart).
commands() {
	tb_client redis-cli -h "$1" -p 6379 info commandstats |
		awk -F'[:=,]' '$1 == "cmdstat_get" || $1 == "cmdstat_set" { s += $3 } END { print s + 0 }'
}

# --- usage: one line, exit 2, before anything starts -------------------------------------------
usage() { # what expected-text args...
	local what=$1 want=$2; shift 2
	"$AGENT" "$@" >/dev/null 2>"$TMP/usage.err"; rc=$?
	check "usage: $what exits 2 with one line naming it" bash -c "[ $rc -eq 2 ] &&
		[ \$(wc -l <'$TMP/usage.err') -eq 1 ] && grep -q -- '$want' '$TMP/usage.err'"
}
usage "--peer without --output" "needs --output" --peer 198.18.0.2 --port 6379 -- true
usage "--plot without --peer" "go with --peer" --plot /tmp --port 6379 -- true
usage "--peer with a bad control port" "control port must be" --peer 198.18.0.2:99999 --port 6379 \
	--output "$TMP/x.csv" -- true
usage "--peer with two ports" "one --port" --peer 198.18.0.2 --port 1 --port 2 --output "$TMP/x.csv" -- true

tb_up

# --- redis: the agent starts it on the server host ------------------------------------------
# protected mode would refuse the client: no password, and it is not on loopback. The agent
# takes --sched (the stack's parts), which the client asks for only in the "sched" run: the
# other runs show turns with the scheduler's points on one host only.
tb_bg server "$AGENT" --sched --port 6379 -- redis-server --save '' --appendonly no --port 6379 \
	--bind "$SERVER_IP4" "$SERVER_IP6" --daemonize no --protected-mode no \
	>"$TMP/redis.out" 2>"$TMP/redis-agent.err"
wait_port server 6379 10
wait_port server 6380 10

# live NAME ADDR PEER ARGS...: redis-benchmark ARGS under pingpong-ebpf --peer PEER
live() {
	local name=$1 addr=$2 peer=$3; shift 3
	local before after
	before=$(commands "$addr")
	mkdir -p "$TMP/$name"
	tb_client "$AGENT" ${LIVE_SCHED:+--sched} --peer "$peer" --port 6379 \
		--output "$TMP/$name/results.csv" -v \
		--summary-json "$TMP/$name/summary.json" --plot "$TMP/$name" -- \
		redis-benchmark -h "$addr" -p 6379 "$@" >"$TMP/$name/out" 2>"$TMP/$name/err"
	LIVE_RC=$?
	after=$(commands "$addr")
	SERVED=$((after - before))
	read -r ROWS OK BAD NOWIRE < <(identities "$TMP/$name/results.csv")
	# connections of one request: redis-benchmark's CONFIG GETs
	SHORT=$(grep -c '^connection [0-9]* .*: 1 requests, 1 rows' "$TMP/$name/out")
	echo "  $name: the server ran $SERVED GET/SET; $ROWS rows ($SHORT of CONFIG), $OK complete," \
		"$BAD identity errors, $NOWIRE without wire points; $(grep -m1 '^connections:' "$TMP/$name/out")"
}

live c16 "$SERVER_IP4" "$SERVER_IP4" -c 16 -n 4000 -t get,set -d 1000
check "c16: exit 0" test "$LIVE_RC" -eq 0
check "c16: a row per GET/SET the server ran ($SERVED), one for the CONFIG" \
	bash -c "[ $ROWS -eq $((SERVED + 1)) ] && [ $SHORT -eq 1 ]"
check "c16: >= 99.9% complete" test $((OK * 1000)) -ge $((ROWS * 999))
check "c16: identities exact on every complete row" test "$BAD" -eq 0
check "c16: wire points on every complete row, the last ones too" test "$NOWIRE" -eq 0
# 16 connections per test (GET, then SET) and the short ones redis-benchmark opens first
check "c16: 32 connections carry the 8000 requests, none pipelined" bash -c "
	sed -n 's/^connection [0-9]* .*: \([0-9]*\) requests, \([0-9]*\) rows, .*/\1 \2/p' '$TMP/c16/out' |
		awk '\$1 != \$2 { bad = 1 } \$1 > 1 { n++; s += \$2 } END { exit bad || n != 32 || s != $SERVED }' &&
	grep -q ' 0 pipelined, not split' '$TMP/c16/out'"
check "c16: the agent's events came, none dropped" \
	grep -Eq '^server: agent at 198\.18\.0\.2:6380, [1-9][0-9]* events \(0 more of other connections left out\); it dropped 0 ' "$TMP/c16/out"
check "c16: summary JSON with the connections" python3 -c "
import json, sys
j = json.load(open('$TMP/c16/summary.json'))
c = j['connections']
assert j['exchanges'] == $ROWS and c['pipelined'] == 0 and c['total'] >= 32, c
assert sum(x['rows'] for x in c['split']) == $ROWS
assert j['components']['network']['samples'] == $OK"
check "c16: both pictures drawn" bash -c "[ -s '$TMP/c16/latency_cdf.png' ] && [ -s '$TMP/c16/latency_split.png' ]"

# the stack's parts on both hosts (--sched), for a service's turns: redis-benchmark's 4 clients
# and redis share two CPUs, so its threads wait for CPUs as well as being woken
LIVE_SCHED=1 live sched "$SERVER_IP4" "$SERVER_IP4" -c 4 -n 4000 -t get,set -d 100
check "sched: exit 0" test "$LIVE_RC" -eq 0
check "sched: a row per GET/SET the server ran ($SERVED), one for the CONFIG" \
	bash -c "[ $ROWS -eq $((SERVED + 1)) ] && [ $SHORT -eq 1 ]"
check "sched: identities exact on every complete row" test "$BAD" -eq 0
# every complete row has both hosts' parts but a thread's first (its slot comes with its
# first traced recv): redis's one thread's, and redis-benchmark's
check "sched: parts exact on every row, on both hosts of all but a few complete rows" python3 -c "
import csv, sys
sys.path.insert(0, '$(dirname "$0")')
import formulas
bad = parts = complete = 0
for row in csv.DictReader(open('$TMP/sched/results.csv')):
    raw, p = formulas.raw(row), formulas.printed(row)
    p.update({c: formulas.printed_ns(row[c + '_us']) for c in formulas.SCHED_COMPONENTS})
    bad += sum(got != want for _, got, want in formulas.checked_sched(raw, p))
    for h in ('client', 'server'):
        bad += not formulas.adds_up(p, h + '_stack', formulas.STACK_PARTS[h])
        bad += not formulas.idle_within_wakeup(p, h)
    if row['incomplete'] == '0':
        complete += 1
        parts += p['client_proc'] is not None and p['server_proc'] is not None
print('  sched: %d complete rows, %d with both hosts\' parts, %d mismatches' % (complete, parts, bad))
sys.exit(bad != 0 or complete - parts > 5)"
check "sched: the summary shows each host's stack in parts" bash -c "
	grep -q '^client stack, mean of [0-9]* rows: .* = proc .* + wakeup .* (of it CPU idle .*) + return ' '$TMP/sched/out' &&
	grep -q '^server stack, mean of [0-9]* rows: .* = proc .* + wakeup .* (of it CPU idle .*) + return ' '$TMP/sched/out'"

# IPv6, replies of 100 kB (far beyond the MSS), one connection
live v6 "$SERVER_IP6" "[$SERVER_IP6]:6380" -c 1 -n 300 -t set,get -d 100000
check "v6 100 kB: exit 0" test "$LIVE_RC" -eq 0
check "v6 100 kB: a row per GET/SET the server ran ($SERVED), one for the CONFIG" \
	bash -c "[ $ROWS -eq $((SERVED + 1)) ] && [ $SHORT -eq 1 ]"
check "v6 100 kB: >= 99.9% complete" test $((OK * 1000)) -ge $((ROWS * 999))
check "v6 100 kB: identities exact on every complete row" test "$BAD" -eq 0
check "v6 100 kB: wire points on every complete row, the last ones too" test "$NOWIRE" -eq 0
check "v6 100 kB: GET replies of 100,000 bytes and more" bash -c "
	awk -F, 'NR > 1 && \$4 >= 100000 { n++ } END { exit n != 300 }' '$TMP/v6/results.csv'"

# no agent there (nothing on that control port): one line, and the client's own points
live noagent "$SERVER_IP4" "$SERVER_IP4:9" -c 2 -n 1000 -t get -d 10
check "no agent: exit 0" test "$LIVE_RC" -eq 0
check "no agent: one line says so" bash -c "[ \$(grep -c 'no agent at 198.18.0.2:9' '$TMP/noagent/err') -eq 1 ]"
with_rtt=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["rtt_us"] != "" && $c["client_stack_us"] != "" && $c["server_stack_us"] == "" { n++ }
	END { print n + 0 }' "$TMP/noagent/results.csv")
check "no agent: a row per command ($SERVED), each with rtt and client_stack ($with_rtt)" \
	bash -c "[ $ROWS -eq $((SERVED + 1)) ] && [ $with_rtt -eq $ROWS ]"
check "no agent: the summary says the server's parts are empty" \
	grep -q '^server: no agent at 198.18.0.2:9; rows hold this host' "$TMP/noagent/out"

# --- sockperf: every message it sent a row ----------------------------------------------------
tb_bg server "$AGENT" --port 11111 -- sockperf server --tcp -i "$SERVER_IP4" -p 11111 \
	>/dev/null 2>"$TMP/sockperf-agent.err"
wait_port server 11111 10
wait_port server 11112 10
tb_client "$AGENT" --peer "$SERVER_IP4" --port 11111 --output "$TMP/sp.csv" -- \
	sockperf ping-pong --tcp -i "$SERVER_IP4" -p 11111 -m 200 -t 1 --mps 2000 \
	>"$TMP/sp.out" 2>"$TMP/sp.err"
sent=$(sed -n 's/.*\[Total Run\].*SentMessages=\([0-9]*\);.*/\1/p' "$TMP/sp.out")
got=$(sed -n 's/.*\[Total Run\].*ReceivedMessages=\([0-9]*\).*/\1/p' "$TMP/sp.out")
read -r rows ok bad nowire < <(identities "$TMP/sp.csv")
echo "  sockperf: sent $sent, received $got; $rows rows, $ok complete, $bad identity errors, $nowire without wire points"
check "sockperf: a row per message sent" test "$rows" -eq "${sent:--1}"
# sockperf may stop before reading its last reply: that request is a row without response
check "sockperf: a complete row per reply it read" test "$ok" -eq "${got:--1}"
check "sockperf: identities exact on every row" test "$bad" -eq 0
check "sockperf: wire points on every complete row" test "$nowire" -eq 0
finish
