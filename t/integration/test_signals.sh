#!/bin/bash
# SPDX-License-Identifier: MIT
# Signals and faults: SIGINT or SIGTERM to the agent (right after start, during a client's run,
# during a control request) and to the client (warm-up, run, fetch) leaves no BPF program or
# link of theirs, no child process, no temp file; a full disk (64 KiB tmpfs) under --output or
# --events-out gives one clear line, exit 1 and no partial file; the testbed goes down after.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf
CLIENT=$BUILD/pingpong-client
PYTHON=${PYTHON:-python3}
require_built pingpong-ebpf pingpong-server pingpong-client
command -v bpftool >/dev/null || fail "bpftool not found"
trap 'umount "$TMP/full" 2>/dev/null; cleanup' EXIT

held_ids() { # PID: "prog ID" / "link ID" lines of the BPF objects a process holds
	grep -h '^\(prog\|link\)_id:' /proc/"$1"/fdinfo/* 2>/dev/null | sed 's/_id:[[:space:]]*/ /' | sort -u
}
watch_ids() { # PID: every id the process holds over 0.3 s (it may still be loading)
	for _ in $(seq 1 6); do held_ids "$1"; sleep 0.05; done | sort -u
}
none_left() { # "KIND ID" lines on stdin: true when none is still loaded
	local kind id
	while read -r kind id; do bpftool "$kind" show id "$id" >/dev/null 2>&1 && return 1; done
	return 0
}
wait_gone() { # PID: bounded 5 s
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
children_of() { pgrep -P "$1" | tr '\n' ' '; }
all_gone() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }

tb_up

# --- the agent ----------------------------------------------------------------------------------
# A stalled control request: connect, send half a frame header, wait.
cat >"$TMP/stall.py" <<EOF
import socket, sys, time
s = socket.create_connection(("$SERVER_IP4", int(sys.argv[1])))
s.send(b"PP")
time.sleep(20)
EOF
port=7300
for sig in INT TERM; do
	for phase in start run control; do
		port=$((port + 2))
		tb_bg server "$AGENT" --output "$TMP/ev-$sig-$phase.csv" -- "$BUILD/pingpong-server" \
			--port $port 2>"$TMP/agent-$sig-$phase.err"
		agent=$!
		case $phase in
		start)	watch_ids "$agent" >"$TMP/ids" ;;
		run)	wait_port server $((port + 1))
			tb_bg client "$CLIENT" --addr "$SERVER_IP4" --port $port --size 100 --count 2000 \
				--warmup 0 --interval 1000 --no-agent --output "$TMP/r.csv" >/dev/null 2>&1
			sleep 0.7
			held_ids "$agent" >"$TMP/ids" ;;
		control) wait_port server $((port + 1))
			tb_bg client "$PYTHON" "$TMP/stall.py" $((port + 1))
			sleep 0.5
			held_ids "$agent" >"$TMP/ids" ;;
		esac
		kids=$(children_of "$agent")
		kill -"$sig" "$agent"
		wait_gone "$agent"; gone=$?
		wait "$agent" 2>/dev/null
		# 7 at least: send, recv, xmit, rx, the flush program, fork, exit (the socket set)
		[ "$phase" = start ] || check "agent SIG$sig during $phase: it held programs before" \
			test "$(grep -c '^prog' "$TMP/ids")" -ge 7
		check "agent SIG$sig during $phase: exits within 5 s" test $gone -eq 0
		check "agent SIG$sig during $phase: no program or link of it left" none_left <"$TMP/ids"
		# shellcheck disable=SC2086 # a list of pids
		check "agent SIG$sig during $phase: no child left ($kids)" all_gone $kids
		check "agent SIG$sig during $phase: no temp file left" bash -c "! ls '$TMP'/ev-$sig-$phase.csv.* 2>/dev/null"
	done
done

# --- the client ---------------------------------------------------------------------------------
tb_bg server "$BUILD/pingpong-server" --port 7400
wait_port server 7400
# A fake agent that accepts the fetch and never answers: the client is caught in its fetch.
cat >"$TMP/mute_agent.py" <<EOF
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("$SERVER_IP4", 7401)); l.listen(8)
conns = []
end = time.time() + 50
while time.time() < end:
    c, _ = l.accept(); conns.append(c)
EOF
tb_bg server "$PYTHON" "$TMP/mute_agent.py"
wait_port server 7401
for sig in INT TERM; do
	for phase in warmup run fetch; do
		out=$TMP/c-$sig-$phase
		mkdir -p "$out"
		case $phase in
		warmup) args=(--warmup 3000 --count 10 --interval 1000) ; delay=0.8 ;;
		run)    args=(--warmup 0 --count 3000 --interval 1000) ; delay=0.8 ;;
		fetch)  args=(--warmup 0 --count 20) ; delay=1.2 ;;
		esac
		tb_bg client "$CLIENT" --addr "$SERVER_IP4" --port 7400 --size 100 "${args[@]}" \
			--output "$out/r.csv" --events-out "$out/ev.csv" --summary-json "$out/s.json" \
			>/dev/null 2>"$out/err"
		client=$!
		sleep "$delay"
		held_ids "$client" >"$TMP/ids"
		kids=$(children_of "$client")
		kill -"$sig" "$client"
		wait_gone "$client"; gone=$?
		wait "$client" 2>/dev/null; rc=$?
		check "client SIG$sig during $phase: it held programs before" \
			test "$(grep -c '^prog' "$TMP/ids")" -ge 5
		check "client SIG$sig during $phase: exits within 5 s, status $rc != 0" \
			bash -c "[ $gone -eq 0 ] && [ $rc -ne 0 ]"
		check "client SIG$sig during $phase: no program or link of it left" none_left <"$TMP/ids"
		# shellcheck disable=SC2086
		check "client SIG$sig during $phase: no child left ($kids)" all_gone $kids
		check "client SIG$sig during $phase: no temp file left" \
			bash -c "! ls '$out' | grep -q 'tmp\\|XXX'"
	done
done

# --- a full disk --------------------------------------------------------------------------------
mkdir "$TMP/full"
mount -t tmpfs -o size=64k tmpfs "$TMP/full" || fail "cannot mount a 64 KiB tmpfs"
tb_client "$CLIENT" --addr "$SERVER_IP4" --port 7400 --size 100 --count 3000 --warmup 0 \
	--no-trace --output "$TMP/full/r.csv" >/dev/null 2>"$TMP/full.err"; rc=$?
check "full disk under --output: exit 1" test $rc -eq 1
check "with one clear line" bash -c "[ \$(wc -l <'$TMP/full.err') -eq 1 ] &&
	grep -q '^pingpong-client: cannot write $TMP/full/r.csv: No space left on device' '$TMP/full.err'"
check "and no file at all left" test -z "$(ls -A "$TMP/full")"
head -c 30000 /dev/zero >"$TMP/full/filler"
tb_client "$CLIENT" --addr "$SERVER_IP4" --port 7400 --size 100 --count 300 --warmup 0 \
	--no-agent --output "$TMP/r-ok.csv" --events-out "$TMP/full/ev.csv" >/dev/null 2>"$TMP/full.err"; rc=$?
check "full disk under --events-out: exit 1, one clear line" bash -c "[ $rc -eq 1 ] &&
	[ \$(grep -c . '$TMP/full.err') -eq 1 ] && grep -q 'cannot write $TMP/full/ev.csv: No space left on device' '$TMP/full.err'"
check "and no partial event log" test "$(ls -A "$TMP/full")" = filler
rm -f "$TMP/full/filler"
tb_server "$AGENT" --output "$TMP/full/ev.csv" --control-port 0 --port 7400 --pid 1 --duration 1.5 2>"$TMP/afull.err" &
sleep 0.4
tb_client "$CLIENT" --addr "$SERVER_IP4" --port 7400 --size 100 --count 500 --warmup 0 --no-trace \
	--output "$TMP/r-ok2.csv" >/dev/null 2>&1
wait $!; rc=$?
check "agent: full disk under --output: exit 1, says so, no partial file" bash -c "[ $rc -eq 1 ] &&
	grep -q 'cannot write $TMP/full/ev.csv: No space left on device' '$TMP/afull.err' && [ -z \"\$(ls -A '$TMP/full')\" ]"
umount "$TMP/full"

# --- the testbed goes down with nothing left -----------------------------------------------------
testbed=$PP_TESTBED
"$TESTBED" down >/dev/null 2>&1
check "no namespace of the testbed left" bash -c "! ip netns list | grep -q '^$testbed-'"
finish
