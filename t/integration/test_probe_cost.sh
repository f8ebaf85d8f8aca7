#!/bin/bash
# SPDX-License-Identifier: MIT
# The probe's own cost in the summary (--probe-cost on both hosts): a traced pingpong-client
# against an agent around pingpong-server, and pingpong-ebpf --peer around an untraced client
# against the same agent. Without --probe-cost (the default) neither host's cost is measured
# and the summary says how to get it.
# Both summaries (text and --summary-json) give each host's BPF run time and runs over the run,
# both counts above 0, per exchange over the exchanges; the agent's exit line gives its own.
# The kernel's statistics are on only while a tracer runs (a bpf_enable_stats fd): the sysctl
# kernel.bpf_stats_enabled reads after the runs what it read before, 0 or 1 (each tried).
# No time is asserted: only that the counts are there and not zero.
. "$(dirname "$0")/lib.sh"

AGENT_BIN=$BUILD/pingpong-ebpf
PYTHON=${PYTHON:-python3}
COUNT=500
require_built pingpong-ebpf pingpong-server pingpong-client

SYSCTL=/proc/sys/kernel/bpf_stats_enabled
[ -w "$SYSCTL" ] || fail "no $SYSCTL (a kernel before 5.8?)"
ORIG=$(cat "$SYSCTL")
# whatever happens, the host's setting is put back as it was
trap 'echo "$ORIG" >"$SYSCTL"; cleanup' EXIT

# cost_json FILE: "client_ns client_runs server_ns server_runs per_client per_server exchanges"
# from the summary's probe_cost, "none" where a host's object is null or missing
cost_json() {
	"$PYTHON" - "$1" <<'EOF'
import json, sys
pc = json.load(open(sys.argv[1])).get("probe_cost") or {}
out = []
for host in ("client", "server"):
    h = pc.get(host)
    out += [h["bpf_ns"], h["runs"]] if h else ["none", "none"]
for host in ("client", "server"):
    h = pc.get(host)
    out.append("none" if not h or h["ns_per_exchange"] is None else int(h["ns_per_exchange"]))
out.append(pc.get("exchanges", "none"))
print(*out)
EOF
}

# positive VALUE: an integer above 0
positive() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }

tb_up
port=7300
for setting in 0 1; do
	echo "$setting" >"$SYSCTL"
	agent_with_server "$port" --probe-cost
	tb_client "$BUILD/pingpong-client" --probe-cost --addr "$SERVER_IP4" --port "$port" --count "$COUNT" \
		--warmup 50 --output "$TMP/r$setting.csv" --summary-json "$TMP/s$setting.json" -v \
		>"$TMP/out$setting" 2>"$TMP/client$setting.err"
	check "sysctl $setting: the client ran" grep -q "^measured: $COUNT exchanges" "$TMP/out$setting"
	read -r cns cruns sns sruns cper sper n < <(cost_json "$TMP/s$setting.json")
	check "sysctl $setting: client cost in the JSON: bpf_ns $cns, runs $cruns" \
		bash -c "$(declare -f positive); positive '$cns' && positive '$cruns'"
	check "sysctl $setting: server cost in the JSON (from the agent's END): bpf_ns $sns, runs $sruns" \
		bash -c "$(declare -f positive); positive '$sns' && positive '$sruns'"
	check "sysctl $setting: per exchange over warm-up and run ($n = 550), both hosts ($cper, $sper ns)" \
		bash -c "$(declare -f positive); [ '$n' = 550 ] && positive '$cper' && positive '$sper'"
	check "sysctl $setting: the text says both hosts' cost per exchange" \
		grep -Eq '^probe cost: BPF run time per exchange: client [0-9]+\.[0-9]{3} us \([0-9.]+ runs\), server [0-9]+\.[0-9]{3} us \([0-9.]+ runs\)$' "$TMP/out$setting"
	check "sysctl $setting: -v lists the client's programs with their runs" \
		grep -Eq '^pingpong-client: BPF on_net_dev_queue: [1-9][0-9]* runs, [0-9.]+ ns per run$' "$TMP/client$setting.err"
	kill -INT "$AGENT"
	for _ in $(seq 1 100); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
	check "sysctl $setting: the agent's exit line says its own cost" \
		grep -Eq '^pingpong-ebpf: [0-9]+ events, .* probe cost [0-9]+\.[0-9]{3} ms of BPF in [1-9][0-9]* runs, ' "$TMP/agent.err"
	check "sysctl $setting: kernel.bpf_stats_enabled reads $setting after the run (got $(cat "$SYSCTL"))" \
		test "$(cat "$SYSCTL")" = "$setting"
	port=$((port + 10))
done

# --peer: the client host's agent around an untraced client, the server's agent as before
echo 0 >"$SYSCTL"
agent_with_server "$port" --probe-cost
tb_client "$AGENT_BIN" --probe-cost --peer "$SERVER_IP4" --port "$port" --output "$TMP/peer.csv" \
	--summary-json "$TMP/peer.json" -- "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" \
	--port "$port" --count "$COUNT" --output "$TMP/untraced.csv" >"$TMP/peer.out" 2>"$TMP/peer.err"
read -r cns cruns sns sruns cper sper n < <(cost_json "$TMP/peer.json")
check "--peer: this host's cost in the JSON: bpf_ns $cns, runs $cruns" \
	bash -c "$(declare -f positive); positive '$cns' && positive '$cruns'"
check "--peer: the server's cost in the JSON: bpf_ns $sns, runs $sruns" \
	bash -c "$(declare -f positive); positive '$sns' && positive '$sruns'"
check "--peer: per exchange over the rows ($n), both hosts ($cper, $sper ns)" \
	bash -c "$(declare -f positive); positive '$n' && positive '$cper' && positive '$sper'"
check "--peer: its exit line says its own cost" \
	grep -Eq '^pingpong-ebpf: [0-9]+ events, .* probe cost [0-9]+\.[0-9]{3} ms of BPF in [1-9][0-9]* runs, ' "$TMP/peer.err"
kill -INT "$AGENT"
for _ in $(seq 1 100); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
check "--peer: kernel.bpf_stats_enabled reads 0 after the run (got $(cat "$SYSCTL"))" \
	test "$(cat "$SYSCTL")" = 0

# the default: no statistics, no cost, and the summary says how to get it
port=$((port + 10))
agent_with_server "$port"
tb_client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port "$port" --count "$COUNT" \
	--warmup 50 --output "$TMP/rd.csv" --summary-json "$TMP/sd.json" >"$TMP/outd" 2>"$TMP/clientd.err"
read -r cns cruns sns sruns _ < <(cost_json "$TMP/sd.json")
check "default: neither host's cost measured (client $cns, server $sns)" \
	test "$cns $cruns $sns $sruns" = "none none none none"
check "default: the text says --probe-cost measures it" \
	grep -q '^probe cost: .*client unknown, server unknown (--probe-cost on a host measures its own)$' "$TMP/outd"
kill -INT "$AGENT"
for _ in $(seq 1 100); do kill -0 "$AGENT" 2>/dev/null || break; sleep 0.1; done
check "default: the agent's exit line says its cost is unknown" \
	grep -Eq '^pingpong-ebpf: [0-9]+ events, .* probe cost unknown' "$TMP/agent.err"
finish
