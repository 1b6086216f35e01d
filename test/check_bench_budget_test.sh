#!/usr/bin/env bash
# The budget check itself: a log at budget passes; a regression, an
# unratcheted improvement, a missing and an unbudgeted benchmark each fail
# with their reason.
set -euo pipefail
check=$1 budget=$2
dir=$TEST_TMPDIR
log=$dir/at_budget.log
grep -vE '^\s*(#|$)' "$budget" | while read -r name ns; do
  [ "$ns" = unguarded ] && ns=12345  # any figure: it is not compared
  printf 'bench %s cycles=%s ns=%s\r\n' "$name" "$ns" "$ns"
done >"$log"
"$check" "$log" >/dev/null || { echo "FAIL: a log at budget did not pass"; exit 1; }
first=$(grep -vE '^\s*(#|$)' "$budget" | head -1 | cut -d' ' -f1)
expect_fail() {  # $1: sed script turning the good log into a bad one, $2: the reason expected
  sed -e "$1" "$log" >"$dir/bad.log"
  if out=$("$check" "$dir/bad.log"); then echo "FAIL: passed with: $1"; exit 1; fi
  grep -q -- "$2" <<<"$out" || { echo "FAIL: '$1' failed without '$2':"; echo "$out"; exit 1; }
}
expect_fail "s/^\(bench $first cycles=\)[0-9]*\( ns=\)\([0-9]*\)/\199999999\299999999/" "(a regression)"
expect_fail "s/^\(bench $first cycles=[0-9]* ns=\)[0-9]*/\11/" "lower the budget to 1"
expect_fail "/^bench $first /d" "$first: budgeted but did not run"
expect_fail "\$a bench brand.new cycles=7 ns=7" "add 'brand.new 7'"
echo PASS
