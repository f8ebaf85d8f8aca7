#!/bin/bash
# SPDX-License-Identifier: MIT
# io_uring traffic is traced (issue 15): the send and recv points taken at the socket
# (tcp:tcp_sendmsg_locked, sock:sock_recv_length) see sends and receives that no system call
# tracepoint sees. t/uring_echo.c's server does every receive and send of its data sockets
# through io_uring (IORING_OP_RECV/SEND; no recv/send/read/write system call on them):
#  - the agent around it (pingpong-ebpf --output -- uring_echo server), pingpong-client on the
#    other host following the agent: 64 B, 1 KiB and 64 KiB, IPv4 and IPv6, 3000 exchanges each;
#    every row has the server's points: incomplete = 0, server_stack and server_app present,
#    server_app = s_send - s_recv and rtt = client_stack + network + server_stack + server_app
#    exact in ns; the client's run whole (every pong checked) and nothing lost by either host;
#  - the server's send and recv events of the connection in the agent's log: exactly as many as
#    uring_echo's receives and sends that moved data (its --log: completions with a result > 0,
#    the handshake's included), and their bytes;
#  - the client side too, once: uring_echo client (io_uring) under the tracer against
#    pingpong-server, its send and recv events counted the same way.
# With the system call tracepoints (what the tracer used before issue 15) the server's events are
# missing and this test fails. A tracer that says (-v, "send/recv points: ...") it takes them
# from system call tracepoints on this kernel (one without the socket tracepoints) cannot see
# io_uring: the test says SKIP and checks nothing.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf ECHO=$BUILD/t/uring_echo
require_built pingpong-ebpf pingpong-client pingpong-server "$ECHO"
PY=/usr/bin/python3
COUNT=3000 WARMUP=10
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null)" = 2 ]; then
	echo "  SKIP: io_uring is disabled on this host (kernel.io_uring_disabled = 2); nothing checked"
	exit 0
fi

stop_pid() { # pid: SIGTERM (the agent stops its CMD and writes its log), bounded wait
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# up PID HOST PORT ERRFILE: waits (10 s at most) until PORT listens on HOST; fails at once,
# with the agent's last line, if PID (the agent) is gone.
up() {
	for _ in $(seq 1 100); do
		"$TESTBED" exec "$2" ss -Htln "sport = :$3" | grep -q . && return 0
		kill -0 "$1" 2>/dev/null || fail "the agent exited before port $3 listened: $(tail -1 "$4")"
		sleep 0.1
	done
	fail "nothing listens on port $3 in $2 after 10 s"
}

# points_in_use ERRFILE: from the agent's -v line "send/recv points: ...", sets SOCK_SEND and
# SOCK_RECV (1 when it names tcp:tcp_sendmsg_locked, sock:sock_recv_length) and POINTS_LINE.
# No such line: a tracer from before issue 15 (system call tracepoints, which do not say so):
# both stay 1, the checks run, and they fail, since such a tracer cannot see io_uring.
points_in_use() {
	POINTS_LINE=$(grep -m1 'send/recv points:' "$1")
	SOCK_SEND=1 SOCK_RECV=1
	if [ -z "$POINTS_LINE" ]; then
		echo "  note: the tracer does not say which send/recv points it uses (no 'send/recv points:'" \
			"line with -v): a tracer from before issue 15, checked as any other"
		return
	fi
	echo "  tracer: ${POINTS_LINE#*pingpong-ebpf: }"
	[[ ${POINTS_LINE#*send/recv points:} == *tcp_sendmsg_locked* ]] || SOCK_SEND=0
	[[ ${POINTS_LINE#*send/recv points:} == *sock_recv_length* ]] || SOCK_RECV=0
}

# Checks results.csv: COUNT rows, each with the server's points; prints one line of counts and
# up to 5 lines naming rows that fail; exit 1 if any does.
cat >"$TMP/rows.py" <<'EOF'
import csv, sys
path, count = sys.argv[1], int(sys.argv[2])
def ns(v):  # "12.345" us -> 12345 ns (results.csv prints exactly three decimals)
    return int(v.replace(".", ""))
rows = incomplete = no_server = ident = 0
notes = []
for r in csv.DictReader(open(path)):
    rows += 1
    bad = []
    if r["incomplete"] != "0":
        incomplete += 1
        bad.append("incomplete=%s" % r["incomplete"])
    empty = [k for k in ("server_stack_us", "server_app_us", "s_recv_ns", "s_send_ns", "s_rx_ns", "s_xmit_ns") if r[k] == ""]
    if empty:
        no_server += 1
        bad.append("empty " + " ".join(empty))
    else:
        s_app = int(r["s_send_ns"]) - int(r["s_recv_ns"])
        parts = sum(ns(r[k]) for k in ("client_stack_us", "network_us", "server_stack_us", "server_app_us")) \
            if all(r[k] != "" for k in ("rtt_us", "client_stack_us", "network_us")) else None
        if ns(r["server_app_us"]) != s_app or s_app < 0 or parts is None or parts != ns(r["rtt_us"]):
            ident += 1
            bad.append("server_app %s us, s_send - s_recv %d ns; rtt %s us, its parts %s ns"
                       % (r["server_app_us"], s_app, r["rtt_us"], parts))
    if bad and len(notes) < 5:
        notes.append("row %s: %s" % (r["seq"], "; ".join(bad)))
print("  %d rows (wanted %d), %d incomplete, %d without the server's points, %d identity errors"
      % (rows, count, incomplete, no_server, ident))
for n in notes:
    print("  " + n)
sys.exit(0 if rows == count and not (incomplete or no_server or ident) else 1)
EOF

# Compares a host's send and recv events of one connection (events.csv) with what the io_uring
# side logged (uring_echo --log): events = its receives and sends that moved data, bytes = theirs.
# uring_echo LOG ROLE(server|client) SERVER_PORT POINTS(send,recv|send|recv)
cat >"$TMP/events.py" <<'EOF'
import csv, sys
events, log, role, port, points = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].split(",")
lines = list(csv.DictReader(open(log)))
if len(lines) != 1:
    sys.exit("  %s: %d connections logged by uring_echo, wanted 1" % (log, len(lines)))
conn = lines[0]
cport = int(conn["port"])
# the flow is written in the direction the data travels: the server sends from its port, and
# receives what the client sent from the client's port; the client the other way round
flows = {("server", "send"): (port, cport), ("server", "recv"): (cport, port),
         ("client", "send"): (cport, port), ("client", "recv"): (port, cport)}
got = {p: [0, 0] for p in ("send", "recv")}
for e in csv.DictReader(open(events)):
    if e["point"] in got and (int(e["sport"]), int(e["dport"])) == flows[(role, e["point"])]:
        got[e["point"]][0] += 1
        got[e["point"]][1] += int(e["len"])
ok = True
for p in ("send", "recv"):
    want = (int(conn[p + "_calls"]), int(conn[p + "_bytes"]))
    checked = p in points
    ok &= not checked or tuple(got[p]) == want
    print("  %s %s events: %d (%d B); uring_echo's %ss with data: %d (%d B)%s"
          % (role, p, got[p][0], got[p][1], p, want[0], want[1], "" if checked else " (not checked)"))
sys.exit(0 if ok else 1)
EOF

tb_up
port=24000 first=1

# server_case NAME ADDR SIZE: the agent around uring_echo server, pingpong-client against it.
server_case() {
	local name=$1 addr=$2 size=$3 agent rc f
	f=$TMP/${name// /_}
	port=$((port + 10))
	tb_bg server "$AGENT" -v --no-capture --port "$port" --output "$f.server.csv" -- \
		"$ECHO" server --port "$port" --log "$f.echo.log" --lifetime 60 \
		>"$f.echo.out" 2>"$f.server.err"
	agent=$!
	up "$agent" server "$port" "$f.server.err"
	up "$agent" server $((port + 1)) "$f.server.err"
	if [ "$first" = 1 ]; then
		first=0
		points_in_use "$f.server.err"
		if [ "$SOCK_SEND" = 0 ] && [ "$SOCK_RECV" = 0 ]; then
			stop_pid "$agent"
			echo "  SKIP: the tracer takes its send/recv points from system call tracepoints on" \
				"this kernel ($(uname -r)): io_uring sends and receives cannot be seen here; nothing checked"
			exit 0
		fi
		[ "$SOCK_SEND" = 1 ] && [ "$SOCK_RECV" = 1 ] ||
			echo "  note: only the $([ "$SOCK_SEND" = 1 ] && echo send || echo recv) point is taken at" \
				"the socket here: its events are counted, rows (which need both) are not checked"
	fi
	timeout 60 "$TESTBED" exec client "$BUILD/pingpong-client" --no-capture --addr "$addr" --port "$port" \
		--size "$size" --count "$COUNT" --warmup "$WARMUP" --output "$f.results.csv" \
		>"$f.summary" 2>"$f.client.err"
	rc=$?
	stop_pid "$agent"
	sed -n '/^measured:/p; /^lost:/p' "$f.summary" | sed "s/^/  $name: /"
	[ "$rc" -eq 0 ] || head -5 "$f.client.err" | sed "s/^/  $name: /"
	check "$name: pingpong-client ran against the io_uring server (exit $rc)" test "$rc" -eq 0
	check "$name: uring_echo echoed $((COUNT + WARMUP)) messages on one connection, whole" \
		grep -Eq "^[0-9]+,$((COUNT + WARMUP)),[0-9]+,[0-9]+,[0-9]+,[0-9]+,ok\$" "$f.echo.log"
	agent_counts_zero "$name" "$f.server.err" server
	check "$name: the client lost nothing either" grep -q '^lost: 0 events (client 0, server 0)' "$f.summary"
	if [ "$SOCK_SEND" = 1 ] && [ "$SOCK_RECV" = 1 ]; then
		check "$name: every row has the server's send and recv points, incomplete = 0" \
			$PY "$TMP/rows.py" "$f.results.csv" "$COUNT"
	fi
	local points=
	[ "$SOCK_SEND" = 1 ] && points=send
	[ "$SOCK_RECV" = 1 ] && points=${points:+$points,}recv
	check "$name: the server's $points events are uring_echo's own, one per receive or send, same bytes" \
		$PY "$TMP/events.py" "$f.server.csv" "$f.echo.log" server "$port" "$points"
}

# client_case NAME ADDR SIZE: uring_echo client traced, against pingpong-server (untraced).
client_case() {
	local name=$1 addr=$2 size=$3 server rc points='' f
	f=$TMP/${name// /_}
	port=$((port + 10))
	tb_bg server "$BUILD/pingpong-server" --port "$port"
	server=$!
	wait_port server "$port" 10
	timeout 60 "$TESTBED" exec client "$AGENT" --no-capture --port "$port" --control-port 0 \
		--output "$f.client.csv" -- "$ECHO" client --addr "$addr" --port "$port" \
		--size "$size" --count "$COUNT" --warmup "$WARMUP" --log "$f.echo.log" \
		>"$f.echo.out" 2>"$f.client.err"
	rc=$?
	stop_pid "$server"
	[ "$rc" -eq 0 ] || grep '^uring_echo' "$f.client.err" | head -5 | sed "s/^/  $name: /"
	check "$name: uring_echo client: every pong whole and right (exit $rc)" test "$rc" -eq 0
	agent_counts_zero "$name" "$f.client.err" client
	[ "$SOCK_SEND" = 1 ] && points=send
	[ "$SOCK_RECV" = 1 ] && points=${points:+$points,}recv
	check "$name: the client's $points events are uring_echo's own, one per receive or send, same bytes" \
		$PY "$TMP/events.py" "$f.client.csv" "$f.echo.log" client "$port" "$points"
}

#           name            address        size
server_case "IPv4 64 B"     "$SERVER_IP4"  64
server_case "IPv6 64 B"     "$SERVER_IP6"  64
server_case "IPv4 1 KiB"    "$SERVER_IP4"  1024
server_case "IPv6 1 KiB"    "$SERVER_IP6"  1024
server_case "IPv4 64 KiB"   "$SERVER_IP4"  65536
server_case "IPv6 64 KiB"   "$SERVER_IP6"  65536
client_case "client IPv4 1 KiB" "$SERVER_IP4" 1024
finish
