#!/bin/bash
# SPDX-License-Identifier: MIT
# `make run HOST=root@...` end to end: an sshd with a key made here runs inside the server
# namespace, tools/run-remote runs in the client namespace, copies the server side over scp,
# and leaves a full results folder (also over IPv6 via REMOTE_ADDR); the tcp point columns are
# empty by default and filled with TCP_POINT=1 (the IPv6 run); nothing of the run is left
# in either namespace, the remote pidfile is gone. Failures: a wrong key (ssh's own message), the
# port in use, Ctrl-C (during the exchanges, during the start), an agent that cannot start there.
. "$(dirname "$0")/lib.sh"

SSHD=/usr/sbin/sshd
COUNT=2000 PORT=12600
require_built pingpong-ebpf pingpong-server pingpong-client pingpong-plot
[ -x "$SSHD" ] || fail "$SSHD is missing (apt-get install openssh-server)"
command -v ssh-keygen >/dev/null || fail "ssh-keygen is missing (apt-get install openssh-client)"

tb_up

# --- an sshd of our own in the server namespace ------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C pp-host -f "$TMP/host_key" || fail "ssh-keygen (host key)"
ssh-keygen -q -t ed25519 -N '' -C pp-user -f "$TMP/user_key" || fail "ssh-keygen (user key)"
ssh-keygen -q -t ed25519 -N '' -C pp-wrong -f "$TMP/wrong_key" || fail "ssh-keygen (wrong key)"
cp "$TMP/user_key.pub" "$TMP/authorized_keys"
cat >"$TMP/sshd_config" <<EOF
ListenAddress $SERVER_IP4:22
HostKey $TMP/host_key
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile $TMP/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
mkdir -p /run/sshd # sshd's privilege separation directory (Debian creates it at boot)
tb_bg server "$SSHD" -D -e -f "$TMP/sshd_config" 2>"$TMP/sshd.log"
SSHD_PID=$!
wait_port server 22

REMOTE_DIR=$TMP/remote
SSH_OPTS="-i $TMP/user_key -o UserKnownHostsFile=$TMP/known_hosts -o StrictHostKeyChecking=no"
run_remote() { # out-file err-file [VAR=value...]
	local o=$1 e=$2; shift 2
	tb_client env HOST="root@$SERVER_IP4" PORT=$PORT COUNT=$COUNT SIZE=256 WARMUP=50 \
		REMOTE_DIR="$REMOTE_DIR" RESULTS="$TMP/results" BUILD="$BUILD" SSH_OPTS="$SSH_OPTS" "$@" \
		timeout 120 "$ROOT/tools/run-remote" >"$o" 2>"$e"
}

# Processes in the two namespaces, but sshd itself (this test stops it).
leftovers() {
	local ns pid
	for ns in "$PP_TESTBED-client" "$PP_TESTBED-server"; do
		for pid in $(ip netns pids "$ns"); do
			[ "$pid" = "$SSHD_PID" ] && continue
			echo "$ns: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
		done
	done
}
no_leftovers() { # a few tenths of a second for sshd's session processes to go
	for _ in $(seq 1 30); do [ -z "$(leftovers)" ] && return 0; sleep 0.1; done
	leftovers >&2
	return 1
}

# --- the run -----------------------------------------------------------------------------
run_remote "$TMP/out" "$TMP/err"
rc=$?
check "run-remote exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { sed 's/^/    /' "$TMP/err"; tail -n 20 "$TMP/sshd.log" | sed 's/^/    sshd: /'; }
dir=$(ls -d "$TMP"/results/*/ 2>/dev/null | head -n 1)
[ -n "$dir" ] || fail "no results folder under $TMP/results"
csv=$dir/results.csv
check "the server side was copied over scp" test -x "$REMOTE_DIR/pingpong-ebpf" -a -x "$REMOTE_DIR/pingpong-server"
check "results.csv has $COUNT rows" test "$(($(wc -l <"$csv") - 1))" -eq "$COUNT"
for col in rtt_us s_recv_ns s_send_ns server_stack_us; do
	filled=$(csv_col "$csv" "$col" | grep -c .)
	check "$col filled on >= 99.9% of the rows ($filled of $COUNT)" test $((filled * 1000)) -ge $((COUNT * 999))
done
# run-remote traces with the defaults: no --tcp-point, so no tcp point on either host
for col in c_tcp_ns s_tcp_ns; do
	filled=$(csv_col "$csv" "$col" | grep -c .)
	check "$col empty on every row (the tcp point is opt-in; $filled filled)" test "$filled" -eq 0
done
check "summary.json is valid JSON" /usr/bin/python3 -m json.tool "$dir/summary.json" >/dev/null
check "summary.txt is the printed summary" bash -c "[ -s '$dir/summary.txt' ] && cmp -s '$dir/summary.txt' '$TMP/out'"
check "latency_cdf.png is a PNG" bash -c "head -c 8 '$dir/latency_cdf.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
check "agent.log holds the remote agent's stderr" grep -q 'pingpong-ebpf' "$dir/agent.log"
check "no process of the run is left in either namespace" no_leftovers
check "the remote pidfile is gone" test ! -e "$REMOTE_DIR/agent.pid"

# --- IPV6=1, the client dialling REMOTE_ADDR while ssh goes to the IPv4 address; TCP_POINT=1 -------
rm -rf "$TMP/results"
run_remote "$TMP/out6" "$TMP/err6" IPV6=1 REMOTE_ADDR="$SERVER_IP6" COUNT=500 TCP_POINT=1
rc=$?
check "IPV6=1 REMOTE_ADDR=$SERVER_IP6 TCP_POINT=1 exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/    /' "$TMP/err6"
check "and dials it" grep -q "to \[$SERVER_IP6\]:$PORT" "$TMP/err6"
csv6=$(ls -d "$TMP"/results/*/ 2>/dev/null | head -n 1)results.csv
check "with the server's columns (s_recv_ns)" \
	test "$(csv_col "$csv6" s_recv_ns 2>/dev/null | grep -c .)" -ge 499
for col in c_tcp_ns s_tcp_ns; do
	check "TCP_POINT=1: --tcp-point on both hosts, $col filled" \
		test "$(csv_col "$csv6" "$col" 2>/dev/null | grep -c .)" -ge 499
done
check "and leaves nothing running" no_leftovers

# --- a wrong key: ssh's own message, non-zero, nothing started --------------------------------
rm -rf "$TMP/results"
SSH_OPTS="-i $TMP/wrong_key -o IdentitiesOnly=yes -o UserKnownHostsFile=$TMP/known_hosts -o StrictHostKeyChecking=no"
run_remote "$TMP/out2" "$TMP/err2"
rc=$?
check "a wrong key exits non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
check "with ssh's own one-line message" bash -c "[ \$(wc -l <'$TMP/err2') -eq 1 ] &&
	grep -q '^make run: ssh root@$SERVER_IP4 failed: .*Permission denied' '$TMP/err2'"
[ "$(wc -l <"$TMP/err2")" -eq 1 ] || sed 's/^/    /' "$TMP/err2"
check "and leaves nothing running" no_leftovers
check "nor a results folder" test ! -e "$TMP/results"

# --- the port in use: the remote side says so ---------------------------------------------
SSH_OPTS="-i $TMP/user_key -o UserKnownHostsFile=$TMP/known_hosts -o StrictHostKeyChecking=no"
tb_bg server "$BUILD/pingpong-server" --port $PORT
BUSY_PID=$!
wait_port server $PORT
run_remote "$TMP/out3" "$TMP/err3"
rc=$?
check "a port in use exits 1" test "$rc" -eq 1
check "and says which port" grep -q "^make run: the agent on $SERVER_IP4 did not start: port $PORT is in use" "$TMP/err3"
kill -TERM "$BUSY_PID"; wait "$BUSY_PID" 2>/dev/null
check "and leaves nothing running" no_leftovers

# --- Ctrl-C in the middle of the run: the remote side is stopped all the same ----------------
# run-remote in a process group of its own, signalled as a whole like a terminal's Ctrl-C. A
# background job of a script starts with SIGINT ignored (bash cannot undo that): python puts
# the default back first, as a terminal would have it.
DFL='import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGQUIT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])'
ctrl_c() { # name build wait-for-command: starts a run, Ctrl-C once the command succeeds
	local name=$1 build=$2 pid rc
	shift 2
	rm -rf "$TMP/results"
	tb_bg client setsid /usr/bin/python3 -c "$DFL" env HOST="root@$SERVER_IP4" PORT=$PORT \
		COUNT=10000000 SIZE=256 REMOTE_DIR="$REMOTE_DIR" RESULTS="$TMP/results" BUILD="$build" \
		SSH_OPTS="$SSH_OPTS" "$ROOT/tools/run-remote" >"$TMP/out-$name" 2>"$TMP/err-$name"
	pid=$!
	for _ in $(seq 1 100); do
		"$@" && break
		sleep 0.1
	done
	sleep 1
	check "$name: the remote agent runs" test -s "$REMOTE_DIR/agent.pid"
	kill -INT -- -"$pid"
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "$name: run-remote still runs 10 s after Ctrl-C"
	wait "$pid"
	rc=$?
	check "$name: Ctrl-C exits 130" test "$rc" -eq 130
	check "$name: and says so" grep -q '^make run: interrupted' "$TMP/err-$name"
	[ "$rc" -eq 130 ] || sed 's/^/    /' "$TMP/err-$name"
	check "$name: and leaves nothing running" no_leftovers
	check "$name: and removes the remote pidfile" test ! -e "$REMOTE_DIR/agent.pid"
}
exchanging() { tb_server ss -Htn state established "sport = :$PORT" | grep -q .; }
ctrl_c "during the exchanges" "$BUILD" exchanging
check "during the exchanges: and keeps what was measured" \
	bash -c "[ \$(wc -l <\$(ls -d '$TMP'/results/*/)results.csv) -gt 1 ]"

# An agent that never comes up: Ctrl-C while run-remote waits for it.
mkdir -p "$TMP/slowbuild"
for prog in pingpong-server pingpong-client pingpong-plot; do ln -s "$BUILD/$prog" "$TMP/slowbuild/$prog"; done
printf '#!/bin/sh\necho "stand-in agent: sleeping" >&2\nsleep 60\n' >"$TMP/slowbuild/pingpong-ebpf"
chmod +x "$TMP/slowbuild/pingpong-ebpf"
ctrl_c "while the agent starts" "$TMP/slowbuild" grep -q '^stand-in agent: sleeping' "$REMOTE_DIR/agent.log"

# --- an agent that cannot start there (no BTF, no tracepoints): its own words are shown ---------
# A stand-in agent, since this kernel has both: it fails the way pingpong-ebpf does.
mkdir -p "$TMP/fakebuild"
for prog in pingpong-server pingpong-client pingpong-plot; do ln -s "$BUILD/$prog" "$TMP/fakebuild/$prog"; done
printf '#!/bin/sh\necho "pingpong-ebpf: no kernel BTF at /sys/kernel/btf/vmlinux (give --btf FILE)" >&2\nexit 1\n' \
	>"$TMP/fakebuild/pingpong-ebpf"
chmod +x "$TMP/fakebuild/pingpong-ebpf"
rm -rf "$TMP/results"
run_remote "$TMP/out5" "$TMP/err5" BUILD="$TMP/fakebuild"
rc=$?
check "an agent that fails there exits 1" test "$rc" -eq 1
check "with the agent's own message" grep -q '^  pingpong-ebpf: no kernel BTF at /sys/kernel/btf/vmlinux' "$TMP/err5"
check "after a one-line reason" grep -q "^make run: the agent on $SERVER_IP4 did not start: the agent exited" "$TMP/err5"
[ "$rc" -eq 1 ] || sed 's/^/    /' "$TMP/err5"
check "and leaves nothing running" no_leftovers
check "and no remote pidfile" test ! -e "$REMOTE_DIR/agent.pid"

kill -TERM "$SSHD_PID"; wait "$SSHD_PID" 2>/dev/null
finish
