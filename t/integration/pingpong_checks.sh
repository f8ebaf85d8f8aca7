# SPDX-License-Identifier: MIT
# Sourced by the ping-pong integration tests (after lib.sh): checks on one client run's
# results.csv and summary, against the CSV itself.
#
#   start_server [ARGS...]            pingpong-server in the server namespace on $PORT; $SERVER_PID
#   check_run CSV SUMMARY_TXT SUMMARY_JSON COUNT MAX_US   rows, rtt bounds, summary = CSV

PORT=${PORT:-12345}

start_server() {
	tb_bg server "$BUILD/pingpong-server" --port "$PORT" "$@"
	SERVER_PID=$!
	wait_port server "$PORT"
}

# Type-7 percentile (stats.h) of the numbers on stdin, 3 decimals.
percentile() {
	sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		h = (NR - 1) * p / 100; lo = int(h)
		q = (lo + 1 >= NR) ? v[NR] : v[lo + 1] + (h - lo) * (v[lo + 2] - v[lo + 1])
		printf "%.3f\n", q }'
}

# same_number A B: equal within the last printed digit.
same_number() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 0.0015) }'
}

json_p50() { # summary.json component
	tr -d '\n' < "$1" | grep -o "\"$2\": { [^}]*}" | grep -o '"p50": [0-9.]*' | awk '{ print $2 }'
}

check_run() {
	local csv=$1 txt=$2 json=$3 count=$4 max_us=$5 rows csv_p50 txt_p50
	rows=$(($(wc -l < "$csv") - 1))
	check "results.csv has $count rows (got $rows)" [ "$rows" -eq "$count" ]
	# (awk runs END after an exit in a rule, and END's exit status wins: keep the verdict)
	check "seq runs 0..$((count - 1))" \
		awk -F, -v n="$count" 'NR > 1 && $1 != NR - 2 { bad = 1 } END { exit bad || NR - 1 != n }' "$csv"
	check "every rtt_app_us is > 0 and < $max_us" \
		bash -c "set -o pipefail; csv_col() { $(declare -f csv_col | tail -n +2); }; csv_col '$csv' rtt_app_us |
			awk -v max=$max_us '!(\$1 > 0 && \$1 < max) { bad++ } END { exit bad > 0 || NR == 0 }'"
	# (by name: --sched put columns between them)
	check "untraced columns are empty, not 0" \
		awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; if (!col["rtt_us"] || !col["c_send_ns"] || !col["s_wire_tx_ns"]) exit 1 }
			NR > 1 && ($col["rtt_us"] != "" || $col["c_send_ns"] != "" || $col["s_wire_tx_ns"] != "") { exit 1 }' "$csv"
	csv_p50=$(csv_col "$csv" rtt_app_us | percentile 50)
	txt_p50=$(awk '$1 == "rtt_app" { print $3 }' "$txt")
	check "summary p50 ($txt_p50) = p50 of the CSV ($csv_p50)" same_number "$txt_p50" "$csv_p50"
	check "summary.json p50 = p50 of the CSV" same_number "$(json_p50 "$json" rtt_app)" "$csv_p50"
	check "summary counts $count exchanges" grep -q "^measured: $count exchanges" "$txt"
	check "summary says tracing and server events are absent" \
		grep -q "server events: none" "$txt"
}
