#!/bin/bash
# SPDX-License-Identifier: MIT
# One command per host on a service of our own with random sizes (t/rr_probe.c: 4 connections
# x 50 requests, each request 8 B..1 MiB asking for a response of 1 B..1 MiB, log-uniform):
# the agent around rr_probe server, pingpong-ebpf --peer around rr_probe client, IPv4 and IPv6
# (the offline path, pingpong-analyze --turns on two logs, is test_turns.sh's and
# test_service_delay.sh's):
#  - a row per request rr_probe logged, no more: rows = requests, and every row's req_bytes and
#    resp_bytes are those rr_probe put on the wire for that request (joined on the client's
#    port, from the -v listing of connections, and the index within the connection);
#  - >= 99.9% of the rows complete (on the sandbox kernel, whose PID 1 exemption hides a
#    packet from BPF, a row also counts if every point it lacks is a packet point that the
#    ftrace witness saw run on a PID 1 thread in its window; witness.py, explain_rows.py, as
#    test_client_split.sh; at most 2 such rows): every point present, the 14 *_ns cells of both hosts (the
#    split's 8, so incomplete = 0, and the tcp and wire points); retransmitted rows (TCP sent
#    some bytes twice) are counted and may be complete; the identities rtt = client_stack +
#    network + server_stack + server_app and network = client_dev + wire + server_dev exact,
#    in integer ns, on every row with incomplete = 0 (the second where wire is measured); the
#    agent and --peer get --tcp-point (the tcp point is opt-in), so the tcp cells are required;
#    the run itself: every response whole and of its size (rr_probe's exit status), no event
#    lost or dropped by either agent;
#  - with --pipeline (request k+1 written while response k is still being read), every
#    connection is named "pipelined, not split" and there are no rows.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf PROBE=$BUILD/t/rr_probe
require_built pingpong-ebpf "$PROBE"
PY=/usr/bin/python3
CONNS=4 REQUESTS=50

# measure NAME PORT ADDR CLIENT_ARGS...: the agent around rr_probe server (server host), and
# pingpong-ebpf --peer -v around rr_probe client (client host). Leaves $TMP/NAME.log (rr_probe's
# log), NAME.results.csv, NAME.summary (the summary, with every connection), NAME.client.err,
# and returns the client side's exit status (rr_probe's).
measure() {
	local name=$1 port=$2 addr=$3 agent rc peer
	shift 3
	tb_bg server "$AGENT" --tcp-point --port "$port" -- "$PROBE" server --port "$port" --lifetime 60 \
		>"$TMP/$name.server.out" 2>"$TMP/$name.server.err"
	agent=$!
	wait_port server "$port" 10
	wait_port server $((port + 1)) 10
	case $addr in *:*) peer="[$addr]" ;; *) peer=$addr ;; esac
	# one command on the client host: it follows the agent and writes the rows at the end
	timeout 60 "$TESTBED" exec client "$AGENT" --tcp-point --peer "$peer" --port "$port" -v \
		--output "$TMP/$name.results.csv" -- \
		"$PROBE" client --connect "$addr" --port "$port" --log "$TMP/$name.log" "$@" \
		>"$TMP/$name.summary" 2>"$TMP/$name.client.err"
	rc=$?
	stop_pid "$agent"
	return "$rc"
}

# compare NAME: rr_probe's log against the rows; prints "logged rows complete split_complete
# retransmitted bad_bytes missing extra identity_errors pipelined", then up to 10 lines naming
# what differs.
compare() {
	$PY - "$TMP/$1" <<'EOF'
import csv, re, sys
base = sys.argv[1]
logged = {(int(r["port"]), int(r["index"])): (int(r["req_bytes"]), int(r["resp_bytes"]))
          for r in csv.DictReader(open(base + ".log"))}
summary = open(base + ".summary").read()
# -v: "connection N ADDR:PORT -> ADDR:PORT: ..." (IPv6 addresses in brackets)
port_of = {int(m.group(1)): int(m.group(2))
           for m in re.finditer(r"^connection (\d+) \S*:(\d+) -> \S+", summary, re.M)}
def ns(v):
    return int(v.replace(".", "")) if v != "" else None
SCHED_POINTS = {h + "_" + p + "_ns" for h in "cs" for p in ("wake", "idle", "oncpu")}
rows = complete = split_ok = retrans = bad = ident = 0
seen, notes, lacking, first_lacking, last_recv = set(), [], {}, None, 0
for r in csv.DictReader(open(base + ".results.csv")):
    rows += 1
    key = (port_of.get(int(r["conn"]), -1), int(r["index"]))
    got = (int(r["req_bytes"]), int(r["resp_bytes"]))
    if key in seen:
        notes.append("conn %s index %s: a second row" % (r["conn"], r["index"]))
    seen.add(key)
    if key not in logged:
        notes.append("conn %s (port %d) index %s: a row rr_probe did not log" % (r["conn"], key[0], r["index"]))
    elif logged[key] != got:
        bad += 1
        notes.append("port %d index %d: req,resp %s, rr_probe sent %s" % (key + (got, logged[key])))
    # complete: every point, the 14 *_ns cells of both hosts (send, xmit, wire_tx, wire_rx,
    # rx, tcp, recv; --sched's are not asked for here), not only those of the split
    # (incomplete = 0). A retransmitted row (TCP
    # sent some of its bytes twice: veth drops under 1 MiB bursts) may be complete too.
    retrans += r["retransmitted"] == "1"
    if r["incomplete"] == "0":
        split_ok += 1
    lacks = " ".join(k for k in r if k.endswith("_ns") and r[k] == "" and k not in SCHED_POINTS)
    if not lacks:
        complete += 1
    else:
        lacking[lacks] = lacking.get(lacks, 0) + 1
        if r["c_send_ns"]:
            first_lacking = min(first_lacking or 1 << 64, int(r["c_send_ns"]))
    if r["c_recv_ns"]:
        last_recv = max(last_recv, int(r["c_recv_ns"]))
    if r["incomplete"] == "0":
        s = sum(ns(r[k + "_us"]) for k in ("client_stack", "network", "server_stack", "server_app"))
        if ns(r["rtt_us"]) != s:
            ident += 1
            notes.append("seq %s: rtt %s != the sum of its parts" % (r["seq"], r["rtt_us"]))
        if r["wire_us"] != "" and ns(r["network_us"]) != sum(ns(r[k + "_us"]) for k in ("client_dev", "wire", "server_dev")):
            ident += 1
            notes.append("seq %s: network %s != client_dev + wire + server_dev" % (r["seq"], r["network_us"]))
missing = [k for k in logged if k not in seen]
extra = [k for k in seen if k not in logged]
if lacking:
    notes.append("rows lacking points: %s; the first such row was sent %.1f ms before the "
                 "client's last recv" % ("; ".join("%s x%d" % kv for kv in lacking.items()),
                                          (last_recv - (first_lacking or last_recv)) / 1e6))
for k in sorted(missing)[:5]:
    notes.append("port %d index %d: logged by rr_probe, no row" % k)
pipelined = len(re.findall(r"^connection .*: pipelined, not split", summary, re.M))
print(len(logged), rows, complete, split_ok, retrans, bad, len(missing), len(extra), ident, pipelined)
for n in notes[:10]:
    print("  " + n)
EOF
}

tb_up
port=23000
for family in 4 6; do
	[ "$family" = 4 ] && addr=$SERVER_IP4 || addr=$SERVER_IP6
	port=$((port + 10))
	witness_start 196608
	measure "v$family" "$port" "$addr" --conns "$CONNS" --requests "$REQUESTS" --seed "$port"
	rc=$?
	witness_stop "$TMP/v$family.witness"
	grep '^rr_probe' "$TMP/v$family.client.err" | head -5 | sed 's/^/  /'
	check "IPv$family: rr_probe client got every response whole, of its size (exit $rc)" \
		test "$rc" -eq 0
	agent_counts_zero "IPv$family" "$TMP/v$family.client.err" client
	agent_counts_zero "IPv$family" "$TMP/v$family.server.err" server
	check "IPv$family: the agent's stream whole, nothing refused by the correlation" bash -c "
		grep -Eq '^server: agent at .*, [1-9][0-9]* events \([0-9]+ more of other connections left out\); it dropped 0 ' '$TMP/v$family.summary' &&
		grep -Eq '^correlation: [0-9]+ events waited at most, 0 refused' '$TMP/v$family.summary'"
	{ read -r logged rows complete split_ok retrans bad missing extra ident pipelined; notes=$(cat); } < <(compare "v$family")
	sed -n '/^measured:/p; /^connections:/p' "$TMP/v$family.summary" | sed "s/^/  IPv$family: /"
	echo "  IPv$family: rr_probe logged $logged requests; $rows rows, $complete complete (every point)," \
		"$split_ok with the split's points (incomplete = 0), $retrans retransmitted," \
		"$bad with other bytes, $missing missing, $extra extra, $ident identity errors"
	[ -z "$notes" ] || echo "$notes"
	check "IPv$family: rr_probe logged $CONNS x $REQUESTS requests ($logged)" \
		test "$logged" -eq $((CONNS * REQUESTS))
	check "IPv$family: a row per logged request, no more ($rows rows, $missing missing, $extra extra)" \
		test "$rows" -eq "$logged" -a "$missing" -eq 0 -a "$extra" -eq 0
	check "IPv$family: every row's req_bytes and resp_bytes are rr_probe's ($bad differ)" test "$bad" -eq 0
	# incomplete rows whose every missing point the witness excuses (none on another kernel);
	# the responses' sizes vary, so the excuse goes by point and time window, not by payload
	excused=0
	if [ "$split_ok" -lt "$rows" ] && python3 "$ROOT/t/integration/explain_rows.py" \
		"$TMP/v$family.results.csv" "$TMP/v$family.witness" \
		"$PP_TESTBED-c=client,$PP_TESTBED-s=server" "$port" "$family" 2000000 "$PID1_EXEMPT"; then
		excused=$((rows - split_ok))
	fi
	check "IPv$family: >= 99.9% of the rows complete, every point ($complete of $rows, $excused excused by the witness)" \
		test $(((complete + excused) * 1000)) -ge $((rows * 999)) -a "$rows" -gt 0
	check "IPv$family: >= 99.9% of the rows have the split's points, incomplete = 0 ($split_ok of $rows, $excused excused)" \
		test $(((split_ok + excused) * 1000)) -ge $((rows * 999)) -a "$rows" -gt 0
	check "IPv$family: rows excused by the witness are rare ($excused <= 2)" test "$excused" -le 2
	check "IPv$family: identities exact on every complete row ($ident errors)" test "$ident" -eq 0
	check "IPv$family: no connection pipelined ($pipelined)" test "$pipelined" -eq 0
done

# --pipeline: the client writes request k+1 once response k has begun, before it is read whole
port=$((port + 10))
measure pipe "$port" "$SERVER_IP4" --conns "$CONNS" --requests "$REQUESTS" --seed "$port" --pipeline
rc=$?
grep '^rr_probe' "$TMP/pipe.client.err" | head -5 | sed 's/^/  /'
check "pipeline: rr_probe client got every response whole (exit $rc)" test "$rc" -eq 0
{ read -r logged rows complete split_ok retrans bad missing extra ident pipelined; notes=$(cat); } < <(compare pipe)
sed -n '/^measured:/p; /^connections:/p' "$TMP/pipe.summary" | sed 's/^/  pipeline: /'
check "pipeline: each of the $CONNS connections named pipelined, not split ($pipelined)" \
	test "$pipelined" -eq "$CONNS"
check "pipeline: the summary counts $CONNS pipelined" \
	grep -q "^connections: .* $CONNS pipelined, not split" "$TMP/pipe.summary"
check "pipeline: no rows ($rows)" test "$rows" -eq 0
finish
