#!/bin/bash
# SPDX-License-Identifier: MIT
# The kernel's connection filter (pp_trace_set_flow): a tracer on a server port, set to its own
# connection, gets no event of two other clients hammering the same server port meanwhile,
# and still every point of each of its own exchanges. The same run without the filter must
# see the others' events (else this test could not tell the filter from quiet neighbours).
# t/flowfilter_probe.c is the traced client; pingpong-client does not set the filter yet, its
# own count of others' events is checked too.
. "$(dirname "$0")/lib.sh"

PORT=7210
COUNT=${COUNT:-10000}
PROBE=$BUILD/t/flowfilter_probe
if [ ! -x "$PROBE" ]; then
	make -C "$ROOT" --no-print-directory BUILD="$BUILD" "$PROBE" >/dev/null ||
		fail "cannot build $PROBE"
fi
require_built pingpong-server pingpong-client
tb_up
tb_bg server "$BUILD/pingpong-server" --port "$PORT" 2>"$TMP/server.err"
wait_port server "$PORT"

# two untraced clients at full rate on the same server port, from the same namespace
hammer_pids=()
for i in 1 2; do
	tb_bg client "$BUILD/pingpong-client" --no-trace --addr "$SERVER_IP4" --port "$PORT" --size 64 \
		--count 10000000 --warmup 0 --output "$TMP/hammer$i.csv" >/dev/null 2>"$TMP/hammer$i.err"
	hammer_pids+=("$!")
done
# both connected and exchanging: two established connections on the server's port
for _ in $(seq 1 50); do
	[ "$(tb_server ss -Htn state established "sport = :$PORT" | wc -l)" -ge 2 ] && break
	sleep 0.1
done
check "two other clients are exchanging on port $PORT" \
	[ "$(tb_server ss -Htn state established "sport = :$PORT" | wc -l)" -ge 2 ]

# value NAME FILE: the probe's "NAME value" line
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
run_probe() { # NAME [--no-filter]
	local name=$1; shift
	tb_client "$PROBE" --addr "$SERVER_IP4" --port "$PORT" --size 64 --count "$COUNT" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err"
	check "$name: the probe ran (exit 0)" [ $? -eq 0 ]
	sed 's/^/  /' "$TMP/$name.err"
	echo "  $name: $(tr '\n' ' ' <"$TMP/$name.out")"
}

run_probe unfiltered --no-filter
run_probe filtered
# pingpong-client traced meanwhile, with its capture: it sets the filter once its connection is
# up, so only what the other clients sent between its tracer's start and its connect reaches
# it (about a thousand events), against more than its own unfiltered (80,000-200,000 for its
# 70,000): at most 5% of its own events
tb_client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port "$PORT" --size 64 --count "$COUNT" \
	--warmup 0 --no-agent -v --output "$TMP/client.csv" >"$TMP/client.out" 2>"$TMP/client.err"
client_rc=$?
others=$(grep -o '[0-9]* of others not kept' "$TMP/client.err" | head -1 | cut -d' ' -f1)
own=$(grep -o '[0-9]* events of this connection' "$TMP/client.err" | head -1 | cut -d' ' -f1)
check "pingpong-client traced: exit 0, $COUNT rows complete" bash -c "[ $client_rc -eq 0 ] &&
	grep -q '^measured: $COUNT exchanges, $COUNT matched' '$TMP/client.out'"
check "pingpong-client traced (kernel points and capture): others' events only from before its filters (${others:-?} <= 5% of ${own:-?})" \
	[ "${others:-99999}" -le "$(( ${own:-0} / 20 ))" ]

for pid in "${hammer_pids[@]}"; do kill -0 "$pid" 2>/dev/null; done
check "the other clients ran throughout (still running)" kill -0 "${hammer_pids[0]}" "${hammer_pids[1]}"

u=$TMP/unfiltered.out f=$TMP/filtered.out
check "without the filter the tracer sees the other clients' events (foreign_after $(value foreign_after "$u"))" \
	[ "$(value foreign_after "$u")" -gt 1000 ]
check "with the filter: 0 events of other connections after it was set (foreign_after $(value foreign_after "$f"))" \
	[ "$(value foreign_after "$f")" = 0 ]
check "with the filter: all $COUNT exchanges done" [ "$(value exchanges "$f")" = "$COUNT" ]
check "with the filter: every exchange has send, xmit, rx, tcp, recv ($(value incomplete "$f") incomplete)" \
	[ "$(value complete "$f")" = "$COUNT" ]
check "with the filter: nothing lost (lost $(value lost "$f"))" [ "$(value lost "$f")" = 0 ]
check "with the filter: its own events are all there (own $(value own "$f") >= 5 x $COUNT)" \
	[ "$(value own "$f")" -ge $((5 * COUNT)) ]
finish
