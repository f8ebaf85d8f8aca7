#!/bin/bash
# SPDX-License-Identifier: MIT
# Plots from a results.csv: both backends (pingpong-plot with gnuplot, plots/plot_cdf.py with
# matplotlib) draw valid PNG and SVG with one curve per component, print identical percentile
# tables (numpy's definition), and refuse bad input with one line, exit 1/2 and no file.
# PP_PLOT_CSV=path uses that results.csv (e.g. from a testbed run) instead of a synthetic one.
# Then the same from a real run: agent and client on the testbed, 2000 exchanges with capture,
# so every component (wire and device parts too) has a curve. PP_PLOT_KEEP=DIR keeps its
# pictures (real-c.png, real-py.png, ...) there for a look.
. "$(dirname "$0")/lib.sh"

PLOT=$BUILD/pingpong-plot
PY=/usr/bin/python3
PLOT_PY=$ROOT/plots/plot_cdf.py
[ -x "$PLOT" ] || fail "$PLOT not built (make)"
$PY -c 'import matplotlib, numpy' 2>/dev/null || fail "$PY has no matplotlib/numpy (apt install python3-matplotlib)"
command -v gnuplot >/dev/null || fail "no gnuplot (apt install gnuplot-nox)"

csv=$TMP/results.csv
if [ -n "${PP_PLOT_CSV:-}" ]; then
	cp "$PP_PLOT_CSV" "$csv" || fail "cannot read PP_PLOT_CSV=$PP_PLOT_CSV"
	echo "  using $PP_PLOT_CSV ($(($(wc -l < "$csv") - 1)) rows)"
else
	"$ROOT/t/data/make-results-csv" 5000 42 > "$csv" || fail "cannot make a synthetic results.csv"
	echo "  using a synthetic results.csv (5000 rows)"
fi

# png_ok FILE: PNG signature, an IHDR of 1200x750 (both backends' size), and more than a blank.
png_ok() {
	$PY - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
assert data[12:16] == b"IHDR", "no IHDR"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1200, 750), f"{w}x{h}"
assert len(data) > 20000, f"only {len(data)} bytes: a blank picture?"
EOF
}

# svg_curves FILE COMPONENT...: the SVG parses as XML and holds exactly one curve (a path in
# gnuplot's titled plot group, or matplotlib's gid "cdf_NAME") per component, no others.
svg_curves() {
	$PY - "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
path, want = sys.argv[1], sys.argv[2:]
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(path).getroot()
found = []
for g in root.iter(ns + "g"):
    gid = g.get("id", "")
    title = g.find(ns + "title")
    name = None
    if gid.startswith("cdf_"):
        name = gid[4:]
    elif gid.startswith("gnuplot_plot_") and title is not None:
        name = title.text
    if name is not None and any(True for _ in g.iter(ns + "path")):
        found.append(name)
assert sorted(found) == sorted(want), f"curves {found}, expected {want}"
EOF
}

# table_components FILE: the component names in a printed percentile table.
table_components() { awk 'NR > 1 && NF > 0 { print $1 }' "$1"; }

# matches_numpy TABLE CSV PCT...: every number equals numpy.percentile (default method) of the
# column, to the printed 3 decimals.
matches_numpy() {
	$PY - "$@" <<'EOF'
import csv, sys, numpy as np
table, path, pct = sys.argv[1], sys.argv[2], [float(p) for p in sys.argv[3:]]
rows = list(csv.DictReader(open(path)))
for line in open(table).read().splitlines()[1:]:
    f = line.split()
    x = np.sort(np.array([float(r[f[0] + "_us"]) for r in rows if r[f[0] + "_us"] != ""]))
    assert int(f[1]) == len(x), f"{f[0]} count"
    want = list(np.percentile(x, pct)) + [x[-1], x.mean()]
    for got, w in zip(f[2:], want):
        assert abs(float(got) - w) <= 0.0015, f"{f[0]}: {got} vs numpy {w:.4f}"
EOF
}

render() { # backend format [args...]: writes $TMP/<backend>.<format>, table in .txt
	local backend=$1 fmt=$2; shift 2
	local out=$TMP/$backend.$fmt
	if [ "$backend" = c ]; then
		"$PLOT" --input "$csv" --output "$out" "$@" > "$out.txt" 2> "$out.err"
	else
		$PY "$PLOT_PY" --input "$csv" --output "$out" "$@" > "$out.txt" 2> "$out.err"
	fi
}

for backend in c py; do
	check "$backend: renders PNG" render $backend png
	check "$backend: renders SVG" render $backend svg
	check "$backend: PNG is a 1200x750 picture" png_ok "$TMP/$backend.png"
	mapfile -t comps < <(table_components "$TMP/$backend.svg.txt")
	check "$backend: table lists components (${comps[*]})" test "${#comps[@]}" -ge 5
	check "$backend: SVG holds one curve per component" svg_curves "$TMP/$backend.svg" "${comps[@]}"
	check "$backend: no temporary file left beside the output" \
		bash -c "! ls -A '$TMP' | grep -q '^\\.$backend\\.'"
done
check "tables identical (default percentiles)" cmp "$TMP/c.png.txt" "$TMP/py.png.txt"
check "table is numpy.percentile's" matches_numpy "$TMP/c.png.txt" "$csv" 50 90 99 99.9

check "c: --logx --percentiles 25 50 99.99" render c png --logx --percentiles 25 50 99.99
check "py: --logx --percentiles 25,50,99.99" render py png --logx --percentiles 25,50,99.99
check "tables identical (25 50 99.99)" cmp "$TMP/c.png.txt" "$TMP/py.png.txt"
check "c: --logx PNG valid" png_ok "$TMP/c.png"
check "py: --logx PNG valid" png_ok "$TMP/py.png"
check "c: --components rtt,wire" render c svg --components rtt,wire --percentiles 0,100,33.3
check "py: --components rtt,wire" render py svg --components rtt,wire --percentiles 0,100,33.3
check "tables identical (rtt,wire at 0 100 33.3)" cmp "$TMP/c.svg.txt" "$TMP/py.svg.txt"
check "c: SVG has only rtt and wire" svg_curves "$TMP/c.svg" rtt wire
check "py: SVG has only rtt and wire" svg_curves "$TMP/py.svg" rtt wire

# Fixtures: odd but valid numbers (CRLF, blank line, "5.e1", ".5", "+25.5", "-0.000", 1E2, 20+
# digits, empty cells) must read the same in both backends.
for fixture in results-tricky results-small; do
	check "$fixture.csv: both backends agree" bash -c "
		'$PLOT' --input '$ROOT/t/data/$fixture.csv' --output '$TMP/$fixture.svg' > '$TMP/$fixture-c.txt' &&
		$PY '$PLOT_PY' --input '$ROOT/t/data/$fixture.csv' --output '$TMP/$fixture-py.svg' > '$TMP/$fixture-py.txt' &&
		cmp '$TMP/$fixture-c.txt' '$TMP/$fixture-py.txt'"
done
check "results-tricky.csv: -0.000 and 5.e1 read as numbers" grep -q "^rtt  *6  *50.062 " "$TMP/results-tricky-c.txt"

# A client without its agent: the server-side columns are empty; both still plot what there is.
client_only=$TMP/client-only.csv
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^(network|server_stack|server_app|client_dev|wire|server_dev)_us$/) drop[i] = 1 }
	NR > 1 { for (i in drop) $i = "" } { print }' "$csv" > "$client_only"
check "c: client-only CSV plots" bash -c "'$PLOT' --input '$client_only' --output '$TMP/co.svg' > '$TMP/co-c.txt' 2> '$TMP/co-c.err'"
check "py: client-only CSV plots" bash -c "$PY '$PLOT_PY' --input '$client_only' --output '$TMP/co-py.svg' > '$TMP/co-py.txt' 2> '$TMP/co-py.err'"
check "client-only tables identical" cmp "$TMP/co-c.txt" "$TMP/co-py.txt"
check "client-only: says what was not measured" grep -q "not measured in any row, not drawn: network" "$TMP/co-c.err"
check "client-only: SVG has client_stack and rtt" svg_curves "$TMP/co.svg" client_stack rtt
check "client-only: --stacked refuses (no complete row)" bash -c "! '$PLOT' --input '$client_only' --output '$TMP/cs.png' --stacked 2>/dev/null >&2"

# The stacked view: a valid picture with the four parts.
check "c: --stacked PNG" render c png --stacked --title "1024 B, 198.18.0.1 -> 198.18.0.2"
check "c: --stacked PNG valid" $PY -c "import sys; d = open('$TMP/c.png', 'rb').read(); sys.exit(d[:8] != b'\\x89PNG\\r\\n\\x1a\\n')"
check "c: --stacked prints the split" grep -q "^p99.9 " "$TMP/c.png.txt"
check "c: --stacked SVG" render c svg --stacked
check "c: --stacked SVG names the parts" $PY - "$TMP/c.svg" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
titles = {t.text for t in ET.parse(sys.argv[1]).getroot().iter(ns + "title")}
missing = {"client_stack", "network", "server_stack", "server_app"} - titles
sys.exit(f"missing {missing}" if missing else 0)
EOF

# Installed under a prefix, the scripts are found in <prefix>/share/pingpong beside bin/.
mkdir -p "$TMP/prefix/bin" "$TMP/prefix/share/pingpong"
cp "$PLOT" "$TMP/prefix/bin/" && cp "$ROOT/plots/cdf.gp" "$ROOT/plots/stack.gp" "$TMP/prefix/share/pingpong/"
check "installed: finds share/pingpong/cdf.gp" bash -c "cd / && '$TMP/prefix/bin/pingpong-plot' -q -i '$csv' -o '$TMP/prefix/cdf.png'"
check "installed: finds share/pingpong/stack.gp" bash -c "cd / && '$TMP/prefix/bin/pingpong-plot' -q -i '$csv' -o '$TMP/prefix/stack.png' --stacked"
check "installed without scripts: says so, exit 1" bash -c "rm '$TMP/prefix/share/pingpong/cdf.gp'
	out=\$('$TMP/prefix/bin/pingpong-plot' -q -i '$csv' -o '$TMP/prefix/x.png' 2>&1)
	[ \$? -eq 1 ] && [[ \$out == *'cannot find plots/cdf.gp'* ]] && [ ! -e '$TMP/prefix/x.png' ]"

# Bad input: one line on stderr, exit 1 (or 2 for usage), no output file, an old one untouched.
bad=$TMP/bad
mkdir -p "$bad"
: > "$bad/empty.csv"
echo "seq,rtt_us,client_stack_us" > "$bad/header.csv"
printf 'seq,rtt_us\n0,12.5\n1,fast\n' > "$bad/text.csv"
printf 'seq,rtt_us\n0,12.5\n1,NaN\n' > "$bad/nan.csv"
printf 'seq,rtt_us\n0,12.5\n1,inf\n' > "$bad/inf.csv"
printf 'seq,rtt_us\n0,12.5\n1\n' > "$bad/short.csv"
printf 'seq,rtt_us\n0,12.5\n' > "$bad/good.csv"
echo "previous picture" > "$bad/old.png"

refuses() { # want_status tool args...: checks status, one stderr line, no file appeared
	local want=$1 tool=$2 before after status
	shift 2
	before=$(ls -A "$bad" | grep -v '^err$' | md5sum)
	if [ "$tool" = c ]; then "$PLOT" "$@" > /dev/null 2> "$bad/err"; else $PY "$PLOT_PY" "$@" > /dev/null 2> "$bad/err"; fi
	status=$?
	after=$(ls -A "$bad" | grep -v '^err$' | md5sum)
	[ "$status" -eq "$want" ] || { echo "    exit $status, wanted $want: $(cat "$bad/err")"; return 1; }
	[ "$(wc -l < "$bad/err")" -eq 1 ] || { echo "    stderr is not one line:"; cat "$bad/err"; return 1; }
	[ "$(cat "$bad/old.png")" = "previous picture" ] || { echo "    the old output was overwritten"; return 1; }
	[ "$before" = "$after" ] || { echo "    files appeared: $(ls -A "$bad" | tr '\n' ' ')"; return 1; }
}

for tool in c py; do
	check "$tool: missing file -> 1" refuses 1 $tool --input "$bad/missing.csv" --output "$bad/new.png"
	check "$tool: empty CSV -> 1" refuses 1 $tool --input "$bad/empty.csv" --output "$bad/new.png"
	check "$tool: header only -> 1" refuses 1 $tool --input "$bad/header.csv" --output "$bad/new.svg"
	check "$tool: column of text -> 1" refuses 1 $tool --input "$bad/text.csv" --output "$bad/new.png"
	check "$tool: ... says where: text.csv:3: rtt_us: 'fast'" grep -q "text.csv:3: rtt_us: 'fast'" "$bad/err"
	check "$tool: NaN -> 1" refuses 1 $tool --input "$bad/nan.csv" --output "$bad/new.png"
	check "$tool: inf -> 1" refuses 1 $tool --input "$bad/inf.csv" --output "$bad/new.png"
	check "$tool: short row -> 1" refuses 1 $tool --input "$bad/short.csv" --output "$bad/new.png"
	check "$tool: bad data keeps the old output" refuses 1 $tool --input "$bad/nan.csv" --output "$bad/old.png"
	check "$tool: no --input -> 2" refuses 2 $tool --output "$bad/new.png"
	check "$tool: .pdf output -> 2" refuses 2 $tool --input "$bad/good.csv" --output "$bad/new.pdf"
	check "$tool: percentile 101 -> 2" refuses 2 $tool --input "$bad/good.csv" --output "$bad/new.png" --percentiles 50,101
	check "$tool: unknown component -> 2" refuses 2 $tool --input "$bad/good.csv" --output "$bad/new.png" --components rtt,latency
	check "$tool: absent component column -> 1" refuses 1 $tool --input "$bad/good.csv" --output "$bad/new.png" --components wire
done
check "c: --stacked with --logx -> 2" refuses 2 c --input "$bad/good.csv" --output "$bad/new.png" --stacked --logx

# ---- a results.csv from a real testbed run: agent + client, 2000 x 1024 B, with capture ----
require_built "$BUILD/pingpong-ebpf" "$BUILD/pingpong-server" "$BUILD/pingpong-client"
tb_up
port=23100
tb_bg server "$BUILD/pingpong-ebpf" --port "$port" -- "$BUILD/pingpong-server" --port "$port" 2>"$TMP/agent.err"
wait_port server "$port" 10
wait_port server $((port + 1)) 10
csv=$TMP/real.csv
timeout 60 "$TESTBED" exec client "$BUILD/pingpong-client" --addr "$SERVER_IP4" --port "$port" --count 2000 \
	--warmup 100 --output "$csv" >"$TMP/real-client.txt" 2>"$TMP/real-client.err" ||
	fail "real run: the client failed: $(head -c 300 "$TMP/real-client.err")"
check "real: 2000 rows" [ "$(($(wc -l < "$csv") - 1))" -eq 2000 ]
# the components with at least one value in the CSV (rtt_app is drawn only when asked for)
mapfile -t present < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /_us$/ && $i != "rtt_app_us") name[i] = substr($i, 1, length($i) - 3); next }
	{ for (i in name) if ($i != "") seen[i] = 1 }
	END { for (i = 1; i <= NF; i++) if (i in seen) print name[i] }' "$csv")
echo "  real: components present: ${present[*]}"
check "real: all 8 drawn components measured (capture on: wire, client_dev, server_dev too)" \
	[ "${#present[@]}" -eq 8 ]
for backend in c py; do
	check "real $backend: renders PNG" render $backend png --title "testbed run, 1024 B x 2000"
	cp "$TMP/$backend.png.txt" "$TMP/real-$backend.png.txt"
	check "real $backend: PNG is a 1200x750 picture" png_ok "$TMP/$backend.png"
	check "real $backend: renders SVG" render $backend svg
	check "real $backend: SVG holds one curve per component present" svg_curves "$TMP/$backend.svg" "${present[@]}"
	mapfile -t comps < <(table_components "$TMP/$backend.svg.txt")
	check "real $backend: the table lists the components present" \
		[ "$(printf '%s\n' "${comps[@]}" | sort)" = "$(printf '%s\n' "${present[@]}" | sort)" ]
	if [ -n "${PP_PLOT_KEEP:-}" ]; then
		mkdir -p "$PP_PLOT_KEEP" && cp "$TMP/$backend.png" "$PP_PLOT_KEEP/real-$backend.png" &&
			cp "$TMP/$backend.svg" "$PP_PLOT_KEEP/real-$backend.svg"
	fi
done
check "real: tables identical (pingpong-plot and plot_cdf.py)" cmp "$TMP/real-c.png.txt" "$TMP/real-py.png.txt"
check "real: tables identical (SVG runs)" cmp "$TMP/c.svg.txt" "$TMP/py.svg.txt"
check "real: table is numpy.percentile's" matches_numpy "$TMP/real-c.png.txt" "$csv" 50 90 99 99.9
sed 's/^/    /' "$TMP/real-c.png.txt"
if [ -n "${PP_PLOT_KEEP:-}" ]; then
	render c png --stacked && cp "$TMP/c.png" "$PP_PLOT_KEEP/real-stacked.png"
fi
finish
