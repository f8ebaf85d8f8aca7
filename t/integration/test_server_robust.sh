#!/bin/bash
# SPDX-License-Identifier: MIT
# pingpong-server: bad usage -> exit 2, cannot listen -> exit 1; clients that send garbage,
# stall, or vanish mid-message cost their own connection only; --max-clients answers "busy";
# --reply-delay shows in the RTT; SIGTERM stops it promptly with clients connected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pingpong_checks.sh"

SERVER=$BUILD/pingpong-server
CLIENT=$BUILD/pingpong-client

server_usage() { # STATUS PATTERN ARGS...
	local want=$1 pattern=$2 rc; shift 2
	timeout 10 "$TESTBED" exec server "$SERVER" "$@" >/dev/null 2>"$TMP/stderr"
	rc=$?
	check "server $* -> exit $want (got $rc)" [ "$rc" -eq "$want" ]
	check "   one line: '$pattern' ($(head -c 160 "$TMP/stderr"))" \
		bash -c "[ \$(wc -l < '$TMP/stderr') -eq 1 ] && grep -q -- \"\$1\" '$TMP/stderr'" _ "$pattern"
}

# run_client NAME ARGS...: a short run against the server; exit status in $rc.
run_client() {
	local name=$1; shift
	tb_client "$CLIENT" --addr "$SERVER_IP4" --port "$PORT" --output "$TMP/$name.csv" "$@" \
		>"$TMP/$name.txt" 2>"$TMP/$name.err"
	rc=$?
}

tb_up
server_usage 2 "--port is required" --bind "$SERVER_IP4"
server_usage 2 "--reply-delay must be 0..1000000 microseconds (got 2000000)" --port 1 --reply-delay 2000000
server_usage 2 "--port must be 1..65535 (got 99999)" --port 99999
server_usage 2 "unknown option '--daemon'" --port 1 --daemon
server_usage 1 "cannot resolve --bind 'no-such-host.invalid'" --port "$PORT" --bind no-such-host.invalid
server_usage 1 "cannot listen on 198.51.100.1 port $PORT" --port "$PORT" --bind 198.51.100.1
check "--help fits a screen and exits 0" \
	bash -c "set -o pipefail; '$SERVER' --help | wc -l | awk '{ exit !(\$1 <= 24) }'"

start_server --max-clients 3 -v 2>"$TMP/server.log"
server_usage 1 "cannot listen on all addresses port $PORT: Address already in use" --port "$PORT"

# Misbehaving clients, all at once: garbage, silence, a message cut short.
tb_bg client bash -c "exec 3<>/dev/tcp/$SERVER_IP4/$PORT; printf 'GET / HTTP/1.0\r\n\r\n' >&3; sleep 2"
tb_bg client bash -c "exec 3<>/dev/tcp/$SERVER_IP4/$PORT; sleep 3"
tb_bg client python3 -c '
import socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"PPNG" + struct.pack(">HHIIQ", 1, 24, 1000, 0, 5)); s.recv(64)
s.sendall(b"x" * 300); s.close()' "$SERVER_IP4" "$PORT"
sleep 0.5
run_client ok --count 500
check "a good client is served meanwhile (exit $rc: $(head -c 160 "$TMP/ok.err"))" [ "$rc" -eq 0 ]
check "... all 500 exchanges" [ "$(wc -l < "$TMP/ok.csv")" -eq 501 ]

# A full server sheds its oldest connection that has sent no hello: three silent clients
# cannot keep a real one out. Three that said hello and then wait do fill the 3 slots.
for _ in 1 2 3; do
	tb_bg client bash -c "exec 3<>/dev/tcp/$SERVER_IP4/$PORT; sleep 6"
done
sleep 0.3
run_client shed --count 10
check "a full server sheds a silent client for a real one (exit $rc: $(head -c 160 "$TMP/shed.err"))" \
	[ "$rc" -eq 0 ]
for _ in 1 2 3; do
	tb_bg client python3 -c '
import socket, struct, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"PPNG" + struct.pack(">HHIIQ", 1, 24, 1000, 0, 5)); s.recv(64)
open(sys.argv[3], "a").write("x\n"); time.sleep(6)' "$SERVER_IP4" "$PORT" "$TMP/waiting"
done
# until all three have their reply (python and a namespace take a moment to start)
for _ in $(seq 1 50); do
	[ "$(cat "$TMP/waiting" 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.1
done
run_client busy --count 10
check "client beyond --max-clients is refused (exit $rc)" [ "$rc" -eq 1 ]
check "... with 'server busy' ($(head -c 160 "$TMP/busy.err"))" grep -q "refused: server busy" "$TMP/busy.err"
check "... and no file" [ ! -e "$TMP/busy.csv" ]
for _ in $(seq 1 80); do # the waiting clients leave after 6 s
	run_client after --count 10
	[ "$rc" -eq 0 ] && break
	sleep 0.1
done
check "once the waiting clients leave, clients are served again" [ "$rc" -eq 0 ]
check "server logged the garbage as refused" grep -q "hello refused" "$TMP/server.log"
check "server logged the cut message" grep -q "peer vanished mid-message" "$TMP/server.log"
check "server logged the silent client" grep -q "no hello" "$TMP/server.log"

# SIGTERM with a client connected and idle: the server ends at once, exit 0.
tb_bg client bash -c "exec 3<>/dev/tcp/$SERVER_IP4/$PORT; sleep 5"
sleep 0.3
start=$(date +%s%N)
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "SIGTERM stops the server with exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "... in under 1.5 s (took $ms ms)" [ "$ms" -lt 1500 ]

# --idle-timeout: a client that says hello and then nothing is dropped after it.
PORT=$((PORT + 1))
start_server --idle-timeout 2 -v 2>"$TMP/idle.log"
tb_bg client python3 -c '
import socket, struct, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"PPNG" + struct.pack(">HHIIQ", 1, 24, 64, 0, 5)); s.recv(64)
s.settimeout(10); t = time.time(); s.recv(1)
print("closed after %.1f s" % (time.time() - t))' "$SERVER_IP4" "$PORT" >"$TMP/idle.out"
idler=$!
wait "$idler"
check "quiet client dropped after --idle-timeout 2 ($(cat "$TMP/idle.out"))" \
	grep -q "closed after [23]\.[0-9] s" "$TMP/idle.out"
check "... logged as such" grep -q "no message within the idle timeout" "$TMP/idle.log"

# --reply-delay: 2 ms slept, 100 us spun; both show in every RTT.
PORT=$((PORT + 1))
start_server --reply-delay 2000
run_client slow --count 50 --warmup 2 --summary-json "$TMP/slow.json"
check "client against --reply-delay 2000 exits 0" [ "$rc" -eq 0 ]
check "every RTT >= 2000 us" awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rtt_app_us") c = i; if (!c) exit 1; next }
	$c < 2000 { exit 1 }' "$TMP/slow.csv"
PORT=$((PORT + 1))
start_server --reply-delay 100
run_client spin --count 200 --warmup 2
check "every RTT >= 100 us with --reply-delay 100" awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rtt_app_us") c = i; if (!c) exit 1; next }
	$c < 100 { exit 1 }' "$TMP/spin.csv"
finish
