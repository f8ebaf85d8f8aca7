#!/bin/bash
# SPDX-License-Identifier: MIT
# Least privilege. The client, once its trace and capture are up, runs as --user (default
# nobody, no capability) and still writes results.csv, --summary-json and --events-out where
# asked (a root-only directory here). Once its BPF programs, capture and control port are up, the agent runs as
# --user (default nobody: no groups, only CAP_KILL to stop the CMD it started as root,
# no_new_privs) and still serves fetches, stops CMD, writes --output (into a root-only
# directory, through its root helper) and leaves no BPF program or link behind.
. "$(dirname "$0")/lib.sh"

AGENT=$BUILD/pingpong-ebpf
require_built pingpong-ebpf pingpong-server pingpong-client
command -v bpftool >/dev/null || fail "bpftool not found"

fdinfo_ids() { # PID KEY: the BPF prog_id / link_id a process holds
	grep -h "^$2:" /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un
}
status_of() { # PID FIELD: that line of /proc/PID/status, tabs as spaces
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' /proc/"$1"/status
}
none_left() { # KIND IDS...: none of these ids is still loaded
	local kind=$1 id; shift
	for id in "$@"; do bpftool "$kind" show id "$id" >/dev/null 2>&1 && return 1; done
	return 0
}
wait_gone() { # PID
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

tb_up
mkdir -m 0700 "$TMP/rootonly"

# --- default: nobody -------------------------------------------------------------------------
tb_bg server "$AGENT" --output "$TMP/rootonly/ev.csv" --pcap-out "$TMP/rootonly/a.pcap" \
	-- "$BUILD/pingpong-server" --port 7101 2>"$TMP/agent.err"
agent=$!
wait_port server 7102
sleep 0.3
server_pid=$(pgrep -P "$agent" -x pingpong-server)
helper_pid=$(pgrep -P "$agent" -x pingpong-ebpf)
check "the output helper (root) is the agent's only other child" test -n "$helper_pid"
check "the agent runs as nobody" test "$(status_of "$agent" Uid)" = "65534 65534 65534 65534"
check "with nobody's group only" bash -c "[ '$(status_of "$agent" Gid)' = '65534 65534 65534 65534' ] &&
	[ -z '$(status_of "$agent" Groups)' ]"
check "keeping only CAP_KILL" test "$(status_of "$agent" CapEff)" = 0000000000000020
check "and CAP_KILL only in its permitted set" test "$(status_of "$agent" CapPrm)" = 0000000000000020
check "with no_new_privs" test "$(status_of "$agent" NoNewPrivs)" = 1
check "CMD still runs as root" test "$(status_of "$server_pid" Uid)" = "0 0 0 0"
progs=$(fdinfo_ids "$agent" prog_id)
links=$(fdinfo_ids "$agent" link_id)
# at least: send, recv, xmit, rx, the flush program, fork, exit (socket set, no --tcp-point;
# more with syscalls or the tcp point)
check "the unprivileged agent still holds its programs" test "$(echo "$progs" | wc -w)" -ge 7
tb_client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port 7101 --size 100 --count 200 \
	--warmup 10 --output "$TMP/r.csv" >"$TMP/client.out" 2>"$TMP/client.err"
check "a client's run and fetch work (server columns filled)" \
	test "$(csv_col "$TMP/r.csv" server_app_us | grep -c '[0-9]')" -ge 190
kill -TERM "$agent"
wait_gone "$agent"; wait "$agent"; rc=$?
# pingpong-server ends with 0 on SIGTERM; 143 would be the agent killed by it, not exiting
check "SIGTERM: the agent exits with CMD's status, 0 (got $rc)" test "$rc" -eq 0
check "and CMD (root) is stopped" bash -c "! kill -0 $server_pid 2>/dev/null"
check "--output is written into a root-only directory" \
	bash -c "[ \$(grep -c '^send,' '$TMP/rootonly/ev.csv') -ge 200 ]"
check "and --pcap-out" test -s "$TMP/rootonly/a.pcap"
check "owned by root, no temp file beside them" bash -c "[ \$(stat -c %u '$TMP/rootonly/ev.csv') -eq 0 ] &&
	[ \$(ls '$TMP/rootonly' | wc -l) -eq 2 ]"
# shellcheck disable=SC2086 # lists of ids
check "no program of the agent is left loaded" none_left prog $progs
# shellcheck disable=SC2086
check "no link of the agent is left" none_left link $links
check "no helper process is left" bash -c "! kill -0 $helper_pid 2>/dev/null"

# --- SIGKILL: the helper removes the temp file it never got to rename ---------------------------
rm -f "$TMP/rootonly"/*
tb_bg server "$AGENT" --output "$TMP/rootonly/ev.csv" --port 7101 --pid "$$" 2>/dev/null
agent=$!
sleep 0.8
kill -KILL "$agent"; wait "$agent" 2>/dev/null
sleep 0.3
check "killed: no output and no temp file" test "$(ls "$TMP/rootonly" | wc -l)" -eq 0

# --- --user NAME, --keep-root, an unknown user --------------------------------------------------
tb_bg server "$AGENT" --user daemon --port 7101 --pid "$$" 2>/dev/null
agent=$!
sleep 0.8
check "--user daemon: runs as daemon, no capability at all (no CMD to stop)" bash -c "
	[ '$(status_of "$agent" Uid)' = '1 1 1 1' ] && [ '$(status_of "$agent" CapEff)' = 0000000000000000 ]"
kill -TERM "$agent"; wait_gone "$agent"
tb_bg server "$AGENT" --keep-root --port 7101 --pid "$$" 2>/dev/null
agent=$!
sleep 0.8
check "--keep-root stays root" test "$(status_of "$agent" Uid)" = "0 0 0 0"
kill -TERM "$agent"; wait_gone "$agent"
tb_server "$AGENT" --user no-such-user-pp --port 7101 --pid "$$" 2>"$TMP/err"; rc=$?
check "an unknown --user: exit 1, one line says so" bash -c "[ $rc -eq 1 ] && [ \$(wc -l <'$TMP/err') -eq 1 ] &&
	grep -q \"no user 'no-such-user-pp'\" '$TMP/err'"

# --- the client -------------------------------------------------------------------------------
tb_bg server "$AGENT" -- "$BUILD/pingpong-server" --port 7201 2>/dev/null
agent=$!
wait_port server 7202
rm -rf "$TMP/rootonly"/*
client_run() { # ARGS...: a slow traced run in the background, its pid in $client
	tb_bg client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port 7201 --size 100 --count 150 \
		--warmup 5 --interval 10000 "$@" >/dev/null 2>"$TMP/client.err"
	client=$!
}
wait_dropped() { # PID: until it is no longer root (bounded: 3 s)
	for _ in $(seq 1 30); do
		[ "$(status_of "$1" Uid)" != "0 0 0 0" ] && break
		sleep 0.1
	done
}
client_run --output "$TMP/rootonly/r.csv" --summary-json "$TMP/rootonly/s.json" \
	--events-out "$TMP/rootonly/ev.csv" --pcap-out "$TMP/rootonly/c.pcap"
wait_dropped "$client"
check "the client runs as nobody during its run" test "$(status_of "$client" Uid)" = "65534 65534 65534 65534"
check "with no capability, no group, no_new_privs" bash -c "[ '$(status_of "$client" CapEff)' = 0000000000000000 ] &&
	[ '$(status_of "$client" CapPrm)' = 0000000000000000 ] && [ -z '$(status_of "$client" Groups)' ] &&
	[ '$(status_of "$client" NoNewPrivs)' = 1 ]"
cprogs=$(fdinfo_ids "$client" prog_id)
check "still holding its BPF programs" test "$(echo "$cprogs" | wc -w)" -ge 5
wait "$client"; rc=$?
check "the run succeeds" test "$rc" -eq 0
check "results.csv in a root-only directory, traced and fetched" bash -c "
	[ \$(grep -c '^[0-9]' '$TMP/rootonly/r.csv') -eq 150 ]"
check "server columns filled" test "$(csv_col "$TMP/rootonly/r.csv" server_app_us | grep -c '[0-9]')" -ge 145
check "client columns filled" test "$(csv_col "$TMP/rootonly/r.csv" client_stack_us | grep -c '[0-9]')" -ge 145
check "--summary-json, --events-out, --pcap-out written too, no temp file" bash -c "
	[ -s '$TMP/rootonly/s.json' ] && [ -s '$TMP/rootonly/ev.csv' ] && [ -s '$TMP/rootonly/c.pcap' ] &&
	[ \$(ls '$TMP/rootonly' | wc -l) -eq 4 ]"
# shellcheck disable=SC2086
check "no program of the client is left loaded" none_left prog $cprogs
rm -f "$TMP/rootonly"/*
client_run --output "$TMP/rootonly/r.csv"
wait_dropped "$client"
kill -KILL "$client"; wait "$client" 2>/dev/null
sleep 0.3
check "client killed (SIGKILL): its helper removes the temp results file" test -z "$(ls -A "$TMP/rootonly")"
client_run --keep-root --output "$TMP/r2.csv"
sleep 0.8
check "client --keep-root stays root" test "$(status_of "$client" Uid)" = "0 0 0 0"
wait "$client"
tb_client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port 7201 --count 5 --warmup 0 --no-trace \
	--user no-such-user-pp --output "$TMP/r3.csv" >/dev/null 2>"$TMP/err"; rc=$?
check "client: an unknown --user: exit 1, says so, no output" bash -c "[ $rc -eq 1 ] &&
	grep -q \"no user 'no-such-user-pp'\" '$TMP/err' && [ ! -e '$TMP/r3.csv' ] && ! ls '$TMP'/r3.csv.* 2>/dev/null"
finish
