#!/bin/bash
# SPDX-License-Identifier: MIT
# pingpong-client's split end to end: the agent (pingpong-ebpf) runs pingpong-server in the
# server namespace, the traced client runs in the other and fetches the agent's events. For
# 64 B, 1448 B, 64 KiB and 1 MiB over IPv4 and IPv6: every point on every row but those the
# ftrace witness explains (the sandbox kernel's PID 1 exemption, witness.py), each us column
# exactly its README formula of the raw ns columns, the identities exact on the us columns
# as printed, causal order, rtt <= rtt_app. --reply-delay 200 shows in server_app only.
# Without an agent the client columns remain and the client says so; --no-trace is rtt_app,
# and so is a run without root, after one warning. The four sizes run with --tcp-point on the
# agent and the client (the opt-in tcp point: every one of the 14 points is then required);
# the 1024 B, --reply-delay and no-agent runs use the default, without it: the rows are
# complete and the identities exact all the same, and no tcp point is recorded on either host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pingpong_checks.sh"

# --reply-delay: only the timing comparison (test_reply_delay.sh), in rounds; the rest, losses
# and exactness, here.
MODE=split
[ "${1:-}" = --reply-delay ] && MODE=delay
AGENT=$BUILD/pingpong-ebpf
COUNT=${COUNT:-2000}
MIN_OK=$((COUNT * 99 / 100))
require_built "$AGENT" "$BUILD/pingpong-server" "$BUILD/pingpong-client"

# One line of counts for a results.csv: the checks below read it. Timestamps are integer ns
# below 2^53, exact in awk's doubles. tcp=0 (a run without --tcp-point): the tcp columns are
# not among every point (allpts, kernpts), and tcpany counts the rows that have one anyway.
cat >"$TMP/rows.awk" <<'EOF'
function has(n) { return $(col[n]) != "" }
function v(n) { return $(col[n]) + 0 }
function us_ok(name, ns) { d = v(name) - ns / 1000; return d <= 0.0005001 && d >= -0.0005001 }
# A us column as printed, in ns: results.c prints integer ns as us with exactly 3 decimals, so
# the printed parts must add up to the ns. A cell of any other shape spoils the row (pr_ok).
function pr_ns(name,  s) {
	s = $(col[name])
	if (s !~ /^-?[0-9]+\.[0-9][0-9][0-9]$/) { pr_ok = 0; return 0 }
	sub(/\./, "", s)
	return s + 0
}
# every point: each raw ns column but --sched's (not asked for here) and, without tcp, tcp's
NR == 1 {
	for (i = 1; i <= NF; i++) {
		col[$i] = i
		if ($i ~ /_ns$/ && $i !~ /^[cs]_(wake|idle|oncpu)_ns$/ && (tcp || $i !~ /^[cs]_tcp_ns$/))
			pts[++npts] = i
	}
	next
}
{
	rows++
	all = 1
	for (k = 1; k <= npts; k++)
		if ($(pts[k]) == "") all = 0
	allpts += all
	kern = has("c_send_ns") && has("c_xmit_ns") && has("c_rx_ns") && has("c_recv_ns") &&
	       has("s_rx_ns") && has("s_recv_ns") && has("s_send_ns") && has("s_xmit_ns") &&
	       (!tcp || (has("c_tcp_ns") && has("s_tcp_ns")))
	kernpts += kern
	tcpany += has("c_tcp_ns") || has("s_tcp_ns")
	clientpts += has("c_send_ns") && has("c_xmit_ns") && has("c_rx_ns") && has("c_recv_ns") &&
		     has("c_wire_tx_ns") && has("c_wire_rx_ns")
	serverany += has("s_rx_ns") || has("s_recv_ns") || has("s_send_ns") || has("s_xmit_ns") ||
		     has("s_wire_rx_ns") || has("s_wire_tx_ns") || $(col["server_app_us"]) != ""
	kernany += has("c_send_ns") || has("c_recv_ns") || $(col["rtt_us"]) != ""
	appok += $(col["rtt_app_us"]) > 0
	if (v("incomplete") != 0) next
	complete++
	rtt = v("c_recv_ns") - v("c_send_ns")
	cs = (v("c_xmit_ns") - v("c_send_ns")) + (v("c_recv_ns") - v("c_rx_ns"))
	if (!has("s_rx_ns")) {         # client-only rows (no agent): rtt and client_stack
		if (!us_ok("rtt_us", rtt) || !us_ok("client_stack_us", cs)) usbad++
		if (rtt / 1000 > v("rtt_app_us") + 0.0005) appbad++
		next
	}
	ss = (v("s_recv_ns") - v("s_rx_ns")) + (v("s_xmit_ns") - v("s_send_ns"))
	sa = v("s_send_ns") - v("s_recv_ns")
	net = (v("c_rx_ns") - v("c_xmit_ns")) - (v("s_xmit_ns") - v("s_rx_ns"))
	# On what was printed, not on cs + ss + sa + net above: those add up to rtt by algebra
	# whatever the columns hold. usbad ties each printed column to its raw formula.
	pr_ok = 1
	parts = pr_ns("client_stack_us") + pr_ns("server_stack_us") + pr_ns("server_app_us") + pr_ns("network_us")
	if (parts != pr_ns("rtt_us") || !pr_ok) idbad++
	if (!us_ok("rtt_us", rtt) || !us_ok("client_stack_us", cs) || !us_ok("server_stack_us", ss) ||
	    !us_ok("server_app_us", sa) || !us_ok("network_us", net)) usbad++
	if (rtt / 1000 > v("rtt_app_us") + 0.0005) appbad++
	if (has("c_wire_tx_ns") && has("c_wire_rx_ns") && has("s_wire_rx_ns") && has("s_wire_tx_ns")) {
		cd = (v("c_wire_tx_ns") - v("c_xmit_ns")) + (v("c_rx_ns") - v("c_wire_rx_ns"))
		sd = (v("s_rx_ns") - v("s_wire_rx_ns")) + (v("s_wire_tx_ns") - v("s_xmit_ns"))
		w = (v("c_wire_rx_ns") - v("c_wire_tx_ns")) - (v("s_wire_tx_ns") - v("s_wire_rx_ns"))
		wired++
		pr_ok = 1
		parts = pr_ns("client_dev_us") + pr_ns("wire_us") + pr_ns("server_dev_us")
		if (parts != pr_ns("network_us") || !pr_ok) wirebad++
		# the packet leaves the device queue before the tap sees it, on both hosts
		if (v("c_wire_tx_ns") < v("c_xmit_ns") || v("s_wire_tx_ns") < v("s_xmit_ns")) txbad++
		# On a direct veth pair the tap stamps received frames after netif_receive_skb
		# (capture.c), so wire_rx trails rx on most rows: counted and shown, not asserted.
		if (v("c_wire_rx_ns") > v("c_rx_ns") || v("s_wire_rx_ns") > v("s_rx_ns")) rxlate++
		if (!us_ok("client_dev_us", cd) || !us_ok("server_dev_us", sd) || !us_ok("wire_us", w)) usbad++
	}
	# one kernel, one clock: the whole exchange is in order across the namespaces
	n = split("c_send_ns c_xmit_ns s_rx_ns s_tcp_ns s_recv_ns s_send_ns s_xmit_ns c_rx_ns c_tcp_ns c_recv_ns", chain, " ")
	last = 0
	for (i = 1; i <= n; i++) {
		if (!has(chain[i])) continue
		if (v(chain[i]) < last) { orderbad++; break }
		last = v(chain[i])
	}
}
END {
	printf "rows=%d complete=%d allpts=%d kernpts=%d clientpts=%d serverany=%d kernany=%d appok=%d " \
	       "idbad=%d usbad=%d wired=%d wirebad=%d orderbad=%d appbad=%d txbad=%d rxlate=%d tcpany=%d\n", rows,
	       complete, allpts, kernpts, clientpts, serverany, kernany, appok, idbad, usbad, wired, wirebad,
	       orderbad, appbad, txbad, rxlate, tcpany
}
EOF

# TCP_OPT: what the agent and the client get, (--tcp-point) or () for the default
TCP_OPT=(--tcp-point)
counts() { awk -F, -v tcp="${#TCP_OPT[@]}" -f "$TMP/rows.awk" "$1"; }
p50() { csv_col "$1" "$2" | grep -v '^$' | percentile 50; }
summary_matched() { sed -n 's/^measured: [0-9]* exchanges, \([0-9]*\) matched.*/\1/p' "$1"; }

port=21000
# start_agent [SERVER_ARGS...]: agent + server on a new $port; waits for both ports.
start_agent() {
	port=$((port + 10))
	tb_bg server "$AGENT" "${TCP_OPT[@]}" --port "$port" -- "$BUILD/pingpong-server" --port "$port" "$@" \
		2>>"$TMP/agent.err"
	AGENT_PID=$!
	wait_port server "$port" 10
	wait_port server $((port + 1)) 10
}

# run_client NAME ADDR [CLIENT_ARGS...]: one run on $port; files $TMP/NAME.{csv,txt,json,err}.
run_client() {
	local name=$1 addr=$2 rc; shift 2
	tb_client "$BUILD/pingpong-client" --addr "$addr" --port "$port" --count "$COUNT" --warmup 50 \
		--output "$TMP/$name.csv" --summary-json "$TMP/$name.json" "${TCP_OPT[@]}" "$@" \
		>"$TMP/$name.txt" 2>"$TMP/$name.err"
	rc=$?
	check "$name: client exits 0 (got $rc: $(head -c 300 "$TMP/$name.err"))" [ "$rc" -eq 0 ]
	[ -f "$TMP/$name.csv" ] || fail "$name: no results.csv"
}

# traced_run NAME ADDR SIZE [CLIENT_ARGS...]: run_client with the ftrace witness recording
# ($TMP/NAME.witness), for check_split's account of incomplete rows.
traced_run() {
	local name=$1 addr=$2; SIZE=$3; shift 3
	FAMILY=4
	[[ $addr == *:* ]] && FAMILY=6
	witness_start $((SIZE > 100000 ? 196608 : 65536))
	run_client "$name" "$addr" --size "$SIZE" "$@"
	witness_stop "$TMP/$name.witness"
}

medians() { # name csv: one line of component medians, for the log and the report
	local c line="  $1 p50/us:"
	for c in rtt_app rtt client_stack network server_stack server_app client_dev wire server_dev; do
		line="$line $c $(p50 "$2" "${c}_us" 2>/dev/null || echo -)"
	done
	echo "$line"
}

# The full split: both hosts traced and captured, the agent reached.
check_split() { # name
	local name=$1 csv=$TMP/$1.csv c notcp=()
	[ ${#TCP_OPT[@]} -eq 0 ] && notcp=(notcp)
	c=$(counts "$csv")
	echo "  $name: $c"
	check "$name: $COUNT rows" [ "$(count_of "$c" rows)" -eq "$COUNT" ]
	# Silent when every row is complete; otherwise one line that says why rows are missing points.
	if [ "$(count_of "$c" complete)" -eq "$COUNT" ]; then
		check "$name: the client says nothing on stderr" [ ! -s "$TMP/$name.err" ]
	else
		check "$name: stderr only explains the incomplete rows" \
			bash -c "! grep -qv 'rows incomplete' '$TMP/$name.err'"
	fi
	# Every incomplete row must be explained: on the sandbox kernel only by a witnessed hit
	# of that packet on a PID 1 thread (witness.py), on any other kernel never.
	check "$name: every incomplete row explained by the witness ($(count_of "$c" complete)/$COUNT complete)" \
		python3 "$ROOT/t/integration/explain_rows.py" "$csv" "$TMP/$name.witness" \
		"$PP_TESTBED-c=client,$PP_TESTBED-s=server" "$port" "$FAMILY" "$SIZE" "$PID1_EXEMPT" "${notcp[@]}"
	# Excused rows are rare (a PID 1 thread current when a packet passes): a guard against a
	# kernel that would hide far more than this one does.
	check "$name: >= 99% matched" [ "$(count_of "$c" complete)" -ge "$MIN_OK" ]
	check "$name: every row with every kernel point is complete, wire points included" \
		[ "$(count_of "$c" allpts)" -eq "$(count_of "$c" complete)" -a \
		  "$(count_of "$c" kernpts)" -eq "$(count_of "$c" complete)" ]
	# events leave the kernel in per-CPU batches of 8; the last ones only through the flush
	check "$name: the last 8 exchanges complete (partial batches flushed on both hosts)" \
		[ "$(csv_col "$csv" incomplete | tail -n 8 | grep -c '^0$')" -eq 8 ]
	check "$name: rtt = client_stack + server_stack + server_app + network, printed columns, exact, every complete row" \
		[ "$(count_of "$c" idbad)" -eq 0 ]
	check "$name: network = client_dev + wire + server_dev, printed columns, exact, every row with wire points" \
		[ "$(count_of "$c" wirebad)" -eq 0 ]
	check "$name: each us column is its formula of the raw ns columns, every complete row" \
		[ "$(count_of "$c" usbad)" -eq 0 ]
	check "$name: kernel points in causal order across both hosts" [ "$(count_of "$c" orderbad)" -eq 0 ]
	check "$name: xmit <= wire_tx on both hosts, every row" [ "$(count_of "$c" txbad)" -eq 0 ]
	check "$name: rtt (kernel) <= rtt_app on every row" [ "$(count_of "$c" appbad)" -eq 0 ]
	check "$name: the summary's matched is the CSV's" \
		[ "$(summary_matched "$TMP/$name.txt")" = "$(count_of "$c" complete)" ]
	if [ ${#TCP_OPT[@]} -eq 0 ]; then
		check "$name: no --tcp-point: c_tcp_ns and s_tcp_ns empty on every row" \
			[ "$(count_of "$c" tcpany)" -eq 0 ]
		check "$name: no --tcp-point: the summary names no tcp point among what rows lack" \
			bash -c "! grep -q '^incomplete rows lack:.*[cs]_tcp' '$TMP/$name.txt'"
	fi
	medians "$name" "$csv"
}

tb_up

if [ "$MODE" = split ]; then
# ---- the full split, four sizes, both families ----
start_agent
for fam in IPv4 IPv6; do
	addr=$SERVER_IP4
	[ "$fam" = IPv6 ] && addr=$SERVER_IP6
	for size in 64 1448 65536 1048576; do
		traced_run "$fam-$size" "$addr" "$size"
		check_split "$fam-$size"
	done
done
fi

# ---- a server that waits 200 us before each reply: the wait is server_app's, nobody else's ----
# Client and server --spin (poll, never asleep in recv) for the baseline and the delayed run
# alike: otherwise the delayed run pays wake-ups from its longer sleeps (real stack time, but
# not what this compares), and a busy host makes them anything from 1 to 30 us. ROUNDS rounds
# of a base run then a delayed run, each with its own agent (the last one stopped first: every
# attached copy of the programs runs on every hit), and the medians pooled per side, so that one
# disturbed moment of the shared host does not decide.
if [ "$MODE" = delay ]; then
TCP_OPT=() # the default
ROUNDS=3
for r in $(seq 1 "$ROUNDS"); do
	start_agent --spin
	traced_run "base-$r" "$SERVER_IP4" 1024 --spin
	check_split "base-$r"
	stop_pid "$AGENT_PID"
	start_agent --reply-delay 200 --spin
	traced_run "delay-$r" "$SERVER_IP4" 1024 --spin
	check_split "delay-$r"
	stop_pid "$AGENT_PID"
done
for side in base delay; do # one CSV per side: the rounds' rows under one header
	{ head -1 "$TMP/$side-1.csv"; for r in $(seq 1 "$ROUNDS"); do tail -n +2 "$TMP/$side-$r.csv"; done; } \
		>"$TMP/$side.csv"
	medians "$side (pooled)" "$TMP/$side.csv"
done
app=$(p50 "$TMP/base.csv" rtt_app_us) rtt=$(p50 "$TMP/base.csv" rtt_us)
sapp=$(p50 "$TMP/base.csv" server_app_us)
check "base: kernel rtt p50 ($rtt) a little below rtt_app p50 ($app): 0..5 us" \
	awk -v a="$app" -v r="$rtt" 'BEGIN { exit !(a - r >= 0 && a - r < 5) }'
check "base: server_app p50 ($sapp us) is tiny for the plain server (< 10 us)" \
	awk -v s="$sapp" 'BEGIN { exit !(s > 0 && s < 10) }'
dapp=$(p50 "$TMP/delay.csv" server_app_us)
check "delay: server_app p50 rose by 200..300 us ($sapp -> $dapp)" \
	awk -v a="$sapp" -v b="$dapp" 'BEGIN { exit !(b - a >= 200 && b - a <= 300) }'
drtt=$(p50 "$TMP/delay.csv" rtt_us)
# The other parts move a little: the longer wait still costs the spinning ends a few us.
check "delay: the rtt rose as server_app did, within 30 us (rtt $rtt -> $drtt)" \
	awk -v r0="$rtt" -v r1="$drtt" -v a0="$sapp" -v a1="$dapp" \
	'BEGIN { d = (r1 - r0) - (a1 - a0); if (d < 0) d = -d; exit !(d < 30) }'
for c in client_stack server_stack network; do
	before=$(p50 "$TMP/base.csv" "${c}_us") after=$(p50 "$TMP/delay.csv" "${c}_us")
	check "delay: $c p50 moved < 15 us ($before -> $after)" \
		awk -v a="$before" -v b="$after" 'BEGIN { d = b - a; if (d < 0) d = -d; exit !(d < 15) }'
done
finish
fi

# ---- 1024 B, the default (no --tcp-point): the split is right without the tcp point; raw outputs ----
TCP_OPT=()
start_agent --spin
traced_run base "$SERVER_IP4" 1024 --spin --events-out "$TMP/events.csv" --pcap-out "$TMP/client.pcap"
check_split base
check "--events-out: a header and this connection's sends" \
	bash -c "head -1 '$TMP/events.csv' | grep -q '^point,ts_ns' && [ \$(grep -c '^send,' '$TMP/events.csv') -ge $COUNT ]"
check "--events-out without --tcp-point: rx events but not one tcp event" \
	bash -c "[ \$(grep -c '^rx,' '$TMP/events.csv') -ge $COUNT ] && ! grep -q '^tcp,' '$TMP/events.csv'"
check "--pcap-out: a pcap file with ns time stamps" \
	bash -c "[ \"\$(od -An -tx1 -N4 '$TMP/client.pcap' | tr -d ' ')\" = 4d3cb2a1 ] ||
		 [ \"\$(od -An -tx1 -N4 '$TMP/client.pcap' | tr -d ' ')\" = a1b23c4d ]"

# ---- no agent: the client's own columns, and one line saying the server's are empty ----
port=$((port + 10))
start_server_here() {
	tb_bg server "$BUILD/pingpong-server" --port "$port"
	wait_port server "$port"
}
start_server_here
traced_run noagent "$SERVER_IP4" 1024
c=$(counts "$TMP/noagent.csv")
echo "  noagent: $c"
check "noagent: every incomplete row explained by the witness ($(count_of "$c" complete)/$COUNT complete)" \
	python3 "$ROOT/t/integration/explain_rows.py" "$TMP/noagent.csv" "$TMP/noagent.witness" \
	"$PP_TESTBED-c=client,$PP_TESTBED-s=server" "$port" 4 1024 "$PID1_EXEMPT" client notcp
check "noagent: one line on stderr: server columns are empty" \
	bash -c "[ \$(wc -l < '$TMP/noagent.err') -eq 1 ] &&
		 grep -q '^pingpong-client: no agent at $SERVER_IP4:$((port + 1)) (.*): server columns are empty$' '$TMP/noagent.err'"
check "noagent: $COUNT rows" [ "$(count_of "$c" rows)" -eq "$COUNT" ]
check "noagent: client points (wire too) on >= 99% of the rows" [ "$(count_of "$c" clientpts)" -ge "$MIN_OK" ]
check "noagent: >= 99% matched on the client's points" [ "$(count_of "$c" complete)" -ge "$MIN_OK" ]
check "noagent: no server column has a value" [ "$(count_of "$c" serverany)" -eq 0 ]
check "noagent: rtt and client_stack are the raw ns differences; rtt <= rtt_app" \
	[ "$(count_of "$c" usbad)" -eq 0 -a "$(count_of "$c" appbad)" -eq 0 ]
check "noagent: the summary says server events are absent" grep -q "^server events: none" "$TMP/noagent.txt"
check "noagent: the summary's matched is the CSV's" \
	[ "$(summary_matched "$TMP/noagent.txt")" = "$(count_of "$c" complete)" ]
medians noagent "$TMP/noagent.csv"

# ---- --no-trace: rtt_app only, silently ----
run_client notrace "$SERVER_IP4" --no-trace
c=$(counts "$TMP/notrace.csv")
check "notrace: nothing on stderr" [ ! -s "$TMP/notrace.err" ]
check "notrace: rtt_app on every row" [ "$(count_of "$c" appok)" -eq "$COUNT" ]
check "notrace: no kernel column has a value" \
	[ "$(count_of "$c" kernany)" -eq 0 -a "$(count_of "$c" serverany)" -eq 0 ]
check "notrace: the summary says nothing was traced" grep -q "^kernel points: not traced" "$TMP/notrace.txt"

# ---- not root: one warning line, then the round trips as --no-trace would measure them ----
chmod 711 "$TMP"
mkdir -m 777 "$TMP/nobody"
tb_client setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/pingpong-client" \
	--addr "$SERVER_IP4" --port "$port" --count 200 --output "$TMP/nobody/r.csv" \
	>"$TMP/nobody.txt" 2>"$TMP/nobody.err"
rc=$?
check "nobody: exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "nobody: one line says kernel points need root, and that rtt_app is measured" \
	bash -c "[ \$(wc -l < '$TMP/nobody.err') -eq 1 ] &&
		 grep -q '^pingpong-client: tracing needs root.*measuring rtt_app only' '$TMP/nobody.err'"
check "nobody: 200 rows of rtt_app" [ "$(csv_col "$TMP/nobody/r.csv" rtt_app_us | grep -c .)" -eq 200 ]
tb_client setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/pingpong-client" \
	--addr "$SERVER_IP4" --port "$port" --count 10 --output "$TMP/nobody/r2.csv" \
	--events-out "$TMP/nobody/e.csv" >/dev/null 2>"$TMP/nobody2.err"
rc=$?
check "nobody with --events-out: exit 1, a reason, no file (got $rc: $(cat "$TMP/nobody2.err"))" \
	bash -c "[ $rc -eq 1 ] && grep -q 'needs root.*--events-out needs it' '$TMP/nobody2.err' &&
		 [ ! -e '$TMP/nobody/r2.csv' ] && [ ! -e '$TMP/nobody/e.csv' ]"
finish
