#!/bin/bash
# SPDX-License-Identifier: MIT
# pingpong-ebpf as a program: usage errors, clear one-line failures (no root, no BTF), tracing
# that starts before CMD's first instruction and follows its children, CMD's exit status,
# --pid and --port targets, --duration, SIGTERM with a summary, an atomic output file, tracefs
# mounted when a fresh mount namespace lacks it, and no program left loaded afterwards.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf
PYTHON=${PYTHON:-python3}
require_built pingpong-ebpf pingpong-server pingpong-client
command -v bpftool >/dev/null || fail "bpftool not found"

prog_ids_of() { # PID: the ids of the BPF programs a process holds
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un
}

# --- no traffic needed ---------------------------------------------------------------------
check "--help exits 0 and shows the usage" bash -c "'$AGENT' --help | grep -q '^Usage: pingpong-ebpf'"
"$AGENT" --port 0 --pid 1 2>"$TMP/err"; rc=$?
check "a bad value exits 2" test "$rc" -eq 2
check "with a one-line reason" bash -c "[ \$(wc -l <'$TMP/err') -eq 1 ] &&
	grep -qx 'pingpong-ebpf: --port must be 1..65535 (got .0.)' '$TMP/err'"
"$AGENT" -- true 2>"$TMP/err"; rc=$?
check "CMD without any port exits 2" bash -c "[ $rc -eq 2 ] && grep -q 'give --port' '$TMP/err'"
setpriv --reuid=65534 --regid=65534 --clear-groups "$AGENT" --port 9 --pid 1 2>"$TMP/err"; rc=$?
check "without root: exit 1, says so" bash -c "[ $rc -eq 1 ] && grep -q 'needs root' '$TMP/err'"
"$AGENT" --port 9 --pid 1 --btf /nonexistent/vmlinux 2>"$TMP/err"; rc=$?
check "missing BTF file: exit 1, says which" bash -c "[ $rc -eq 1 ] &&
	grep -q 'cannot read BTF file /nonexistent/vmlinux' '$TMP/err'"

tb_up
check "a fresh network namespace has no tracefs mounted" \
	bash -c "! '$TESTBED' exec server test -e /sys/kernel/tracing/events"

# --- CMD: status, tracing from the first instruction, children --------------------------------
tb_server "$AGENT" --port 9 -- sh -c 'exit 3' 2>"$TMP/err"; rc=$?
check "CMD's exit status is the agent's" test "$rc" -eq 3
check "the summary line counts lost samples" grep -q ' 0 lost samples' "$TMP/err"

tb_bg server "$BUILD/pingpong-server" --port 7001
wait_port server 7001
# The first thing the traced program does is to connect and send: it must be in the log.
cat >"$TMP/send_once.py" <<EOF
import socket
s = socket.create_connection(("$SERVER_IP4", 7001)); s.send(b"x" * 24); s.close()
EOF
tb_client "$AGENT" --output "$TMP/first.csv" --port 7001 -- "$PYTHON" "$TMP/send_once.py" 2>/dev/null
check "the first send of CMD is traced" bash -c "grep -q '^send,.*,7001,[0-9]*,24,' '$TMP/first.csv'"
# ... and that of a grandchild, started through a shell.
tb_client "$AGENT" --output "$TMP/child.csv" --port 7001 -- sh -c "sleep 0.1; '$PYTHON' '$TMP/send_once.py'; true" 2>/dev/null
check "a child's send is traced" bash -c "grep -q '^send,.*,7001,[0-9]*,24,' '$TMP/child.csv'"
check "no temporary file is left next to the output" bash -c "! ls '$TMP'/*.csv.* 2>/dev/null"
tb_client "$AGENT" --output /nonexistent/dir/ev.csv --port 7001 -- true 2>"$TMP/err"; rc=$?
check "an unwritable output: exit 1, says so" bash -c "[ $rc -eq 1 ] && grep -q 'cannot write /nonexistent/dir/ev.csv' '$TMP/err'"

# --- --pid and --port attach to a running server, which they leave running ---------------------
server_pid=$(ip netns pids "$PP_TESTBED-server" | while read -r p; do
	[ "$(cat /proc/"$p"/comm 2>/dev/null)" = pingpong-server ] && echo "$p"; done | head -1)
[ -n "$server_pid" ] || fail "cannot find pingpong-server's pid"
for target in "--pid $server_pid" "--port 7001"; do
	name=${target%% *}
	rm -f "$TMP/attached.csv"
	# shellcheck disable=SC2086 # two words on purpose
	tb_bg server "$AGENT" --output "$TMP/attached.csv" $target 2>"$TMP/attached.err"
	agent=$!
	sleep 1
	ids=$(prog_ids_of "$agent")
	tb_client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port 7001 --size 100 --count 50 \
		--warmup 0 --output "$TMP/r.csv" >/dev/null 2>&1
	kill -TERM "$agent"
	for _ in $(seq 1 50); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
	wait "$agent"; rc=$?
	check "$name: SIGTERM ends the agent with status 0" test "$rc" -eq 0
	check "$name: the server's sends and recvs were traced" bash -c "
		[ \$(grep -c '^recv,.*,$server_pid\$' '$TMP/attached.csv') -ge 50 ] &&
		[ \$(grep -c '^send,.*,$server_pid\$' '$TMP/attached.csv') -ge 50 ]"
	check "$name: the server keeps running" kill -0 "$server_pid"
	# 7 at least: send, recv, xmit, rx, the flush program, fork, exit (the socket set)
	check "$name: the agent held all its programs" test "$(echo "$ids" | wc -w)" -ge 7
	check "$name: none of them is left loaded after it exits" bash -c "
		for id in $(echo $ids); do bpftool prog show id \$id >/dev/null 2>&1 && exit 1; done; exit 0"
done

# --- --duration stops CMD -------------------------------------------------------------------
start=$(date +%s%N)
tb_server "$AGENT" --port 9 --duration 1 -- sleep 30 2>/dev/null; rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "--duration 1 stops CMD with SIGTERM after about 1 s" \
	bash -c "[ $rc -eq 143 ] && [ $elapsed_ms -ge 900 ] && [ $elapsed_ms -lt 5000 ]"

finish
