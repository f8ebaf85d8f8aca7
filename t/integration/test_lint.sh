#!/bin/bash
# SPDX-License-Identifier: MIT
# lint_checks.py, which the runner applies to every test before running any: it flags a
# check whose command line goes on with && or || (or a pipe) after check's command, on one
# line or across backslash continuations, and check "..." true / check "..." :; it leaves
# alone && inside a quoted bash -c (one line or several), a check after || or && (the check is
# the whole right-hand side), here-documents, comments and check's own definition.
. "$(dirname "$0")/lib.sh"

LINT=$ROOT/t/integration/lint_checks.py

# Line numbers matter: the expected findings below name them.
cat >"$TMP/bad.sh" <<'EOF'
check "one line" [ "$rc" -eq 0 ] && [ "$ms" -lt 1500 ]
check "or" test -s a || test -s b
check "continued" \
	[ "$rc" -eq 1 ] &&
	[ "$secs" -le 16 ]
check "continued after the operator" [ "$rc" -eq 1 ] \
	&& [ "$secs" -le 16 ]
check "asserts nothing" true
	check "asserts nothing, indented" :
check "piped" grep -c x f | grep -q 3
[ -n "$x" ] || check "after ||, then &&" test -s a && test -s b
check "a multi-line quoted command, then &&" bash -c "[ 1 -eq 1 ] &&
	[ 2 -eq 2 ]" && false
EOF
cat >"$TMP/good.sh" <<'EOF'
check() { local what=$1; shift; "$@"; }
check "inside bash -c" bash -c "[ \$rc -eq 0 ] && [ \$ms -lt 1500 ]"
check "inside bash -c, several lines" bash -c "[ 1 -eq 1 ] &&
	[ 2 -eq 2 ] || exit 1"
check "continued, one command" \
	[ "$rc" -eq 1 -a "$secs" -le 16 ]
[ "$phase" = start ] || check "after ||" \
	test -s a
check "label with && and true in it" test "$(echo a && echo true)" = "a
true"
check "true is not its whole command" true_enough x
check "awk with || in its program" awk '$1 == 1 || $2 == 2 { n++ } END { exit !n }' f
check "a here-document" python3 - <<'PY'
check "not a call: inside a here-document" true
PY
# check "a comment" true
echo "check \"in a string\" true && false"
arith=$((4 << 20)); check "after arithmetic" test "$arith" -gt 0
EOF

python3 "$LINT" "$TMP/bad.sh" >"$TMP/bad.out"
rc=$?
sed "s|^$TMP/||; s/^/    /" "$TMP/bad.out"
check "bad shapes: the lint exits 1" test "$rc" -eq 1
lines=$(sed -n 's|^[^:]*bad\.sh:\([0-9]*\):.*|\1|p' "$TMP/bad.out" | paste -sd' ')
check "bad shapes: each is flagged at its check's line (1 2 3 6 8 9 10 11 12; got $lines)" \
	test "$lines" = "1 2 3 6 8 9 10 11 12"
check "bad shapes: && and || named" \
	bash -c "grep -q \"bad.sh:1: '&&' after check's command\" '$TMP/bad.out' &&
		grep -q \"bad.sh:2: '||' after check's command\" '$TMP/bad.out'"
check "bad shapes: true and : named" \
	bash -c "grep -q 'bad.sh:8: check \"asserts nothing\" true asserts nothing' '$TMP/bad.out' &&
		grep -q 'bad.sh:9: check \"asserts nothing, indented\" : asserts nothing' '$TMP/bad.out'"

python3 "$LINT" "$TMP/good.sh" >"$TMP/good.out"
rc=$?
sed "s|^$TMP/||; s/^/    /" "$TMP/good.out"
check "good shapes: nothing flagged, exit 0 (got $rc)" test "$rc" -eq 0 -a ! -s "$TMP/good.out"

python3 "$LINT" "$ROOT"/t/integration/*.sh >"$TMP/tree.out"
rc=$?
sed "s/^/    /" "$TMP/tree.out"
check "the tests of this tree pass the lint (got $rc)" test "$rc" -eq 0
finish
