#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 7 acceptance: `make run` on the testbed leaves a results folder with results.csv
# (COUNT rows, every split column on >= 99.9% of them), summary.txt and summary.json that
# agree (exchanges = COUNT), and latency_cdf.png; afterwards no namespace of its testbed and
# no process of the run remain. DELAY=200 goes through the router: network p50 >= 400 us.
# The run gets this test's unique PP_TESTBED and its own PORT, so it collides with nothing.
. "$(dirname "$0")/lib.sh"

COUNT=2000
MIN_OK=$((COUNT * 999 / 1000))
PORT=$((24000 + RANDOM % 4000 * 2))
PY=/usr/bin/python3
require_root
[ -d "$ROOT/results" ] || mkdir -p "$ROOT/results"
MADE=()
cleanup_results() { local d; for d in "${MADE[@]}"; do rm -rf "$d"; done; }
trap 'cleanup_results; cleanup' EXIT

# make_run NAME [VARS...]: `make run` bounded in time; sets OUT to the folder it made.
make_run() {
	local name=$1 before rc; shift
	before=$(ls -1d "$ROOT"/results/2*/ 2>/dev/null | sort)
	timeout 120 make -s -C "$ROOT" run COUNT="$COUNT" PORT="$PORT" PP_TESTBED="$PP_TESTBED" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	OUT=$(comm -13 <(echo "$before") <(ls -1d "$ROOT"/results/2*/ 2>/dev/null | sort) | tail -1)
	OUT=${OUT%/}
	[ -n "$OUT" ] && MADE+=("$OUT")
	[ "$rc" -eq 0 ] || fail "$name: make run exited $rc: $(tail -c 400 "$TMP/$name.err")"
	[ -n "$OUT" ] && [ -d "$OUT" ] || fail "$name: make run made no new results/<time>/ folder"
	echo "  $name: ${OUT#"$ROOT"/}"
}

# left_behind: no namespace of the prefix, no process of the run (they carry our port or
# our interfaces on their command lines).
nothing_left() {
	local ns procs
	ns=$(ip netns list | grep -E "^$PP_TESTBED-" || true)
	procs=$(pgrep -a -f -- "(pingpong-(ebpf|server|client) .*--port $PORT( |$))|(wire-delay .*$PP_TESTBED-r)" || true)
	[ -z "$ns$procs" ] && return 0
	echo "    left: ${ns:+namespaces $ns }${procs:+processes $procs}"
	return 1
}

# csv_split: "rows all" where all counts rows with every split column filled
csv_split() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^(rtt|client_stack|network|server_stack|server_app|client_dev|wire|server_dev)_us$/) c[i] = 1; next }
		{ rows++; ok = 1; for (i in c) if ($i == "") ok = 0; all += ok }
		END { print rows + 0, all + 0 }' "$1"
}

# summaries_agree DIR: the JSON's counts and every component's numbers are those of the text.
summaries_agree() {
	$PY - "$1" "$COUNT" <<'EOF'
import json, re, sys
d, n = sys.argv[1], int(sys.argv[2])
j = json.load(open(d + "/summary.json"))
txt = open(d + "/summary.txt").read()
assert j["exchanges"] == n, f"json exchanges {j['exchanges']}"
m = re.search(r"^measured: (\d+) exchanges, (\d+) matched", txt, re.M)
assert m and int(m.group(1)) == n and int(m.group(2)) == j["matched"], "text and json counts differ"
assert j["traced"] and j["server_events"] and j["capture"], "not everything was measured"
rows = {l.split()[0]: l.split()[1:] for l in txt.splitlines() if re.match(r"^[a-z_]+ +\d+ +-?[0-9.]", l)}
comps = j["components"]
assert set(rows) == set(comps), f"components {sorted(rows)} vs {sorted(comps)}"
for k, v in comps.items():
    want = [str(v["samples"])] + ["%.3f" % v[f] for f in ("p50", "p90", "p99", "p99.9", "max", "mean")]
    assert rows[k] == want, f"{k}: text {rows[k]} json {want}"
for k in ("rtt", "client_stack", "network", "server_stack", "server_app", "client_dev", "wire", "server_dev"):
    assert comps[k]["samples"] >= n * 999 // 1000, f"{k}: {comps[k]['samples']} samples"
EOF
}

# split_exact CSV: on every row, each printed component is its README formula ("How a round
# trip is split") of the raw ns columns, to the ns (results.c prints integer ns as us with 3
# decimals), and the README's two identities hold on the printed columns. Rows lacking a
# point are skipped per formula; at least MIN_OK rows must have had every formula checked.
split_exact() {
	$PY - "$1" "$MIN_OK" "$ROOT/t/integration" <<'EOF'
import csv, sys
sys.path.insert(0, sys.argv[3])
import formulas
bad, full = [], 0
for row in csv.DictReader(open(sys.argv[1])):
    raw, p = formulas.raw(row), formulas.printed(row)
    checks = formulas.checked(raw, p)
    for c, got, want in checks:
        if got != want:
            bad.append(f"seq {row['seq']}: {c}_us {row[c + '_us']!r}, the raw ns give {want} ns")
    if not formulas.adds_up(p, "rtt", formulas.RTT_PARTS):
        bad.append(f"seq {row['seq']}: the printed parts do not add up to rtt_us")
    if not formulas.adds_up(p, "network", formulas.NETWORK_PARTS):
        bad.append(f"seq {row['seq']}: the printed parts do not add up to network_us")
    full += len(checks) == len(formulas.FORMULAS)
for b in bad[:5]:
    print("    " + b)
if full < int(sys.argv[2]):
    print(f"    only {full} rows with every formula checked")
sys.exit(1 if bad or full < int(sys.argv[2]) else 0)
EOF
}

png_ok() {
	$PY -c "import os, sys; d = open(sys.argv[1], 'rb').read(); sys.exit(not (d[:8] == b'\\x89PNG\\r\\n\\x1a\\n' and d[12:16] == b'IHDR' and len(d) > 10000))" "$1"
}

check "before: no namespace or process of this run" nothing_left

# ---- DELAY=0: the direct testbed ----
make_run direct
read -r rows all < <(csv_split "$OUT/results.csv")
echo "  direct: $rows rows, $all with every split column"
check "direct: results.csv has $COUNT rows" [ "$rows" -eq "$COUNT" ]
check "direct: every split column on >= 99.9% of the rows ($all)" [ "$all" -ge "$MIN_OK" ]
check "direct: summary.txt and summary.json present" test -s "$OUT/summary.txt" -a -s "$OUT/summary.json"
check "direct: summary.txt and summary.json agree, exchanges $COUNT" summaries_agree "$OUT"
check "direct: every us column its formula of the raw ns columns; parts add up as printed" \
	split_exact "$OUT/results.csv"
check "direct: latency_cdf.png is a PNG" png_ok "$OUT/latency_cdf.png"
check "direct: results/latest points at it" test "$(readlink "$ROOT/results/latest")" = "$(basename "$OUT")"
check "direct: nothing of the run left (namespaces, processes)" nothing_left
grep -A12 '^component/us' "$OUT/summary.txt" | sed 's/^/    /'

# ---- DELAY=200: through the router and tools/wire-delay ----
make_run delay DELAY=200
read -r rows all < <(csv_split "$OUT/results.csv")
net=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["components"]["network"]["p50"])' "$OUT/summary.json")
echo "  delay: $rows rows, $all with every split column, network p50 $net us"
check "delay: results.csv has $COUNT rows" [ "$rows" -eq "$COUNT" ]
check "delay: every split column on >= 99.9% of the rows ($all)" [ "$all" -ge "$MIN_OK" ]
check "delay: summary.txt and summary.json agree, exchanges $COUNT" summaries_agree "$OUT"
check "delay: every us column its formula of the raw ns columns; parts add up as printed" \
	split_exact "$OUT/results.csv"
check "delay: latency_cdf.png is a PNG" png_ok "$OUT/latency_cdf.png"
check "delay: network p50 >= 400 us ($net)" awk -v n="$net" 'BEGIN { exit !(n >= 400) }'
# one statistics line per direction: both there, both with 0 dropped
check "delay: wire-delay's log says nothing was dropped, both ways" \
	test "$(grep -c -- "frames forwarded, 0 dropped" "$OUT/wire-delay.log")" -eq 2 -a \
	"$(grep -c -- "frames forwarded" "$OUT/wire-delay.log")" -eq 2
check "delay: nothing of the run left (namespaces, processes)" nothing_left

# our folders go; so does results/latest when it names one of them
latest=$(readlink "$ROOT/results/latest" 2>/dev/null || true)
for d in "${MADE[@]}"; do [ "$latest" = "$(basename "$d")" ] && rm -f "$ROOT/results/latest"; done
finish
