# SPDX-License-Identifier: MIT
# Sourced by t/integration/test_*.sh: a private testbed per test, background processes
# tracked by PID, and cleanup on every exit path (pass, fail, signal).
#
#   tb_up [--router|--router-bridge]   testbed named after the test; sets CLIENT_IP4 ...
#   tb_client CMD... / tb_server CMD... / tb_router CMD...      run in a namespace
#   tb_bg client|server|router CMD...  start in background; PID appended to PP_PIDS, in $!
#   wait_port server PORT [SECONDS]    wait until something listens on PORT
#   witness_start / witness_stop FILE  the kernel's own record (ftrace) of the packet tracepoints
#   check "what" CMD...                records a PASS/FAIL line (the test goes on)
#   fail "why" / finish                fail now / exit with the recorded outcome
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TESTBED=$ROOT/tools/testbed
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/pp-${TEST_NAME}.XXXXXX")
# Short unique testbed prefix: two tests (or a test and `make run`) may run at once.
export PP_TESTBED="t$(printf '%04x' $((RANDOM % 65536)))$(printf '%03d' $(($$ % 1000)))"
PP_TESTBED=${PP_TESTBED:0:8}
PP_PIDS=()
PP_FAILED=0
CLIENT_IP4=198.18.0.1 SERVER_IP4=198.18.0.2
CLIENT_IP6=2001:2::1 SERVER_IP6=2001:2::2

WITNESS=
cleanup() {
	local pid
	# Nothing may cut the cleanup short: a second Ctrl-C or TERM, or a runner that died (its
	# pipe gone, so the next echo would raise SIGPIPE) left namespaces behind.
	trap '' INT TERM PIPE HUP
	[ -z "$WITNESS" ] || { echo 0 >"$WITNESS/tracing_on"; rmdir "$WITNESS"; } 2>/dev/null
	for pid in "${PP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${PP_PIDS[@]}"; do
		for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	"$TESTBED" down >/dev/null 2>&1
	if [ "$PP_FAILED" -eq 0 ] || [ -n "${CI:-}" ]; then rm -rf "$TMP"; else echo "  (kept $TMP)"; fi
}
trap cleanup EXIT
trap 'echo "  FAIL $TEST_NAME: interrupted"; PP_FAILED=1; exit 1' INT TERM

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "  FAIL $TEST_NAME: needs root (network namespaces, BPF)"
		exit 1
	fi
}

# require_built PROG...: each program (a path, or a name under $BUILD) is built.
require_built() {
	local prog
	for prog in "$@"; do
		case $prog in */*) ;; *) prog=$BUILD/$prog ;; esac
		[ -x "$prog" ] || fail "$prog is not built (make)"
	done
}

# wait_for_log FILE PATTERN: up to 5 s for a line of FILE that matches PATTERN; 1 if none came.
wait_for_log() {
	for _ in $(seq 1 50); do
		grep -q "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

fail() {
	echo "  FAIL $TEST_NAME: $*"
	PP_FAILED=1
	exit 1
}

check() {
	local what=$1; shift
	if "$@"; then
		echo "  ok   $what"
	else
		echo "  FAIL $what"
		PP_FAILED=1
	fi
}

finish() {
	[ "$PP_FAILED" -eq 0 ] || exit 1
	exit 0
}

tb_up() {
	require_root
	"$TESTBED" up "$@" >/dev/null || fail "testbed up $* failed"
}

tb_client() { "$TESTBED" exec client "$@"; }
tb_server() { "$TESTBED" exec server "$@"; }
tb_router() { "$TESTBED" exec router "$@"; }

tb_bg() {
	local host=$1; shift
	"$TESTBED" exec "$host" "$@" &
	PP_PIDS+=("$!")
}

wait_port() { # host port [seconds]
	local host=$1 port=$2 tries=$((${3:-5} * 10))
	for _ in $(seq 1 "$tries"); do
		"$TESTBED" exec "$host" ss -Htln "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	fail "nothing listens on port $port in $host after ${3:-5}s"
}

# stop_pid PID [SECONDS]: SIGTERM (an agent then stops its CMD and writes its outputs), up to
# SECONDS (default 10) for it to go, then SIGKILL; reaped.
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 1 $((${2:-10} * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# start_relay DELAY_US: tools/wire-delay between the router's two interfaces, holding each
# frame DELAY_US + $BASE_US (the test sets BASE_US); sets RELAY_PID, log in $TMP/relay-DELAY_US.log.
start_relay() {
	tb_bg router "$BUILD/wire-delay" --delay-us "$1" --base-us "$BASE_US" "$PP_TESTBED-rc" \
		"$PP_TESTBED-rs" 2>"$TMP/relay-$1.log"
	RELAY_PID=$!
	wait_for_log "$TMP/relay-$1.log" relaying ||
		fail "wire-delay --delay-us $1 did not start: $(cat "$TMP/relay-$1.log")"
}

# agent_with_server PORT [AGENT_ARGS...]: pingpong-ebpf tracing a pingpong-server on PORT in the server host,
# both up (the server's port and the control port PORT + 1); sets AGENT and SERVER (pids).
agent_with_server() {
	local port=$1; shift
	tb_bg server "$BUILD/pingpong-ebpf" "$@" -- "$BUILD/pingpong-server" --port "$port" 2>"$TMP/agent.err"
	AGENT=$!
	wait_port server $((port + 1))
	# ip netns exec runs the agent in its own process, but stay right if it ever forks first
	[ "$(cat /proc/"$AGENT"/comm 2>/dev/null)" = pingpong-ebpf ] ||
		AGENT=$(pgrep -P "$AGENT" -x pingpong-ebpf | head -1)
	[ -n "$AGENT" ] || fail "cannot find pingpong-ebpf's pid"
	SERVER=$(pgrep -P "$AGENT" -x pingpong-server | head -1)
	[ -n "$SERVER" ] || fail "cannot find pingpong-server's pid"
}

# count_of LINE NAME: the number after NAME= in a line of counts ("rows=3 bad=0").
count_of() { sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" <<<"$1"; }

# csv_col FILE NAME: prints column NAME of a CSV (header line first), one value per line.
csv_col() {
	awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; if (!c) exit 3; next }
		{ print $c }' "$1"
}

# agent_counts_zero NAME ERRFILE HOST: checks the agent's closing line (pingpong-ebpf: N events, N lost
# samples ..., N dropped (store full at M), N tracepoint hits skipped by the kernel, ...):
# nothing lost, nothing dropped; the kernel's own skip count (programs it did not run because one
# was already running on that CPU) is reported.
agent_counts_zero() {
	local line lost dropped skipped
	line=$(grep '^pingpong-ebpf: [0-9]* events' "$2" | tail -1)
	lost=$(sed -n 's/.* \([0-9]*\) lost samples.*/\1/p' <<<"$line")
	dropped=$(sed -n 's/.* \([0-9]*\) dropped (store.*/\1/p' <<<"$line")
	skipped=$(sed -n 's/.* \([0-9]*\) tracepoint hits skipped by the kernel.*/\1/p' <<<"$line")
	check "$1: $3 agent: 0 lost samples, 0 dropped (lost '$lost', dropped '$dropped')" \
		[ "$lost" = 0 -a "$dropped" = 0 ]
	# reported, not asserted: a skip that cost one of our points fails the points' own check
	echo "  note: $1: $3 agent: the kernel skipped ${skipped:-?} tracepoint hits (recursion)"
}

# The witness: an ftrace instance recording net_dev_queue, netif_receive_skb and tcp_probe
# with the task each hit ran on. It is the kernel's own account of every hit, independent of
# BPF, so a point missing from our events can be told apart from a hit the kernel never gave
# our programs (t/integration/witness.py compares them). Started before the agents attach.
witness_start() {
	local tracefs=/sys/kernel/tracing ev
	pid1_detect
	[ -d "$tracefs/instances" ] || mount -t tracefs nodev "$tracefs" ||
		fail "tracefs is not mounted and cannot be mounted on $tracefs"
	WITNESS=$tracefs/instances/$PP_TESTBED
	rmdir "$WITNESS" 2>/dev/null
	mkdir "$WITNESS" || fail "cannot create the ftrace instance $WITNESS"
	echo 0 >"$WITNESS/tracing_on"
	echo mono >"$WITNESS/trace_clock" || fail "ftrace has no mono clock"
	echo 1 >"$WITNESS/options/record-tgid"
	echo "${1:-65536}" >"$WITNESS/buffer_size_kb" || fail "cannot size the ftrace buffer"
	# witness.py FTRACE_FILTERS: what cannot carry data (ARP, ND, pure ACKs) stays out
	while IFS='|' read -r ev filter; do
		echo "$filter" >"$WITNESS/events/$ev/filter" || fail "cannot filter $ev in ftrace ($filter)"
		echo 1 >"$WITNESS/events/$ev/enable" || fail "cannot enable the tracepoint $ev in ftrace"
	done < <(python3 -c "import sys; sys.path.insert(0, '$ROOT/t/integration'); import witness
for ev, f in witness.FTRACE_FILTERS.items(): print(ev + '|' + f)")
	echo 1 >"$WITNESS/tracing_on"
}

# pid1_detect: sets PID1_EXEMPT to 1 on the sandbox kernel this project is developed on, which
# runs no tracing BPF program while a thread of its PID 1 is current (witness.py), else 0, and
# says which. PP_PID1_EXEMPT=0|1 sets it explicitly (make test-kernels' stock kernels: 0).
PID1_EXEMPT=
pid1_detect() {
	[ -z "$PID1_EXEMPT" ] || return 0
	PID1_EXEMPT=${PP_PID1_EXEMPT:-}
	if [ -z "$PID1_EXEMPT" ]; then
		PID1_EXEMPT=0
		# Firecracker's guest kernel ("-fc") with the sandbox's agent as PID 1
		[[ $(uname -r) == *-fc* ]] && [ "$(cat /proc/1/comm 2>/dev/null)" = process_api ] && PID1_EXEMPT=1
	fi
	if [ "$PID1_EXEMPT" = 1 ]; then
		echo "  note: sandbox kernel $(uname -r), PID 1 $(cat /proc/1/comm 2>/dev/null): a missing" \
			"packet point may be excused by a witnessed hit on a PID 1 thread, none other"
	else
		echo "  note: kernel $(uname -r): no exemption, every point of every message is required"
	fi
}

# witness_stop FILE: the record as text; fails the test if the ring buffer overran.
witness_stop() {
	local overrun
	echo 0 >"$WITNESS/tracing_on"
	cat "$WITNESS/trace" >"$1"
	# events the ring buffer overwrote, could not commit, or dropped: a witness with a gap
	# cannot account for every hit
	overrun=$(awk '/^(overrun|commit overrun|dropped events):/ { n += $NF } END { print n + 0 }' \
		"$WITNESS"/per_cpu/cpu*/stats)
	rmdir "$WITNESS"
	WITNESS=
	[ "$overrun" -eq 0 ] || fail "the ftrace witness lost $overrun events (overrun, commit overrun, dropped)"
}
