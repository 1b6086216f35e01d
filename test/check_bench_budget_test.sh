#!/usr/bin/env bash
# The budget check itself: a log at budget passes; a regression, an
# unratcheted improvement, a missing and an unbudgeted benchmark each fail
# with their reason.
set -euo pipefail
check=$1 budget=$2
dir=$TEST_TMPDIR
log=$dir/at_budget.log
grep -vE '^\s*(#|$)|@' "$budget" | while read -r name ns; do
  [ "$ns" = unguarded ] && ns=12345  # any figure: it is not compared
  printf 'bench %s cycles=%s ns=%s\r\n' "$name" "$ns" "$ns"
done >"$log"
"$check" "$log" >/dev/null || { echo "FAIL: a log at budget did not pass"; exit 1; }
first=$(grep -vE '^\s*(#|$)|@' "$budget" | head -1 | cut -d' ' -f1)
expect_fail() {  # $1: sed script turning the good log into a bad one, $2: the reason expected
  sed -e "$1" "$log" >"$dir/bad.log"
  if out=$("$check" "$dir/bad.log"); then echo "FAIL: passed with: $1"; exit 1; fi
  grep -q -- "$2" <<<"$out" || { echo "FAIL: '$1' failed without '$2':"; echo "$out"; exit 1; }
}
expect_fail "s/^\(bench $first cycles=\)[0-9]*\( ns=\)\([0-9]*\)/\199999999\299999999/" "(a regression)"
expect_fail "s/^\(bench $first cycles=[0-9]* ns=\)[0-9]*/\11/" "lower the budget to 1"
expect_fail "/^bench $first /d" "$first: budgeted but did not run"
expect_fail "\$a bench brand.new cycles=7 ns=7" "add 'brand.new 7'"
# A 4-CPU boot (its cpus line) is held to the @smp4 budgets only, under
# their plain names.
log4=$dir/smp4.log
{
  printf 'cpus: 4 found, 4 online, 0 skipped; xAPIC mode\r\n'
  grep -E '^[^#]*@smp4 ' "$budget" | while read -r name ns; do
    printf 'bench %s cycles=%s ns=%s\r\n' "${name%@smp4}" "$ns" "$ns"
  done
} >"$log4"
"$check" "$log4" >/dev/null || { echo "FAIL: a 4-CPU log at budget did not pass"; exit 1; }
four=$(grep -E '^[^#]*@smp4 ' "$budget" | head -1 | cut -d' ' -f1)
sed -e "/^bench ${four%@smp4} /d" "$log4" >"$dir/bad4.log"
if out=$("$check" "$dir/bad4.log"); then echo "FAIL: a 4-CPU log without ${four%@smp4} passed"; exit 1; fi
grep -q -- "$four: budgeted but did not run" <<<"$out" || { echo "FAIL: no '$four: budgeted but did not run':"; echo "$out"; exit 1; }
printf 'cpus: 3 found, 3 online, 0 skipped; xAPIC mode\r\n' >"$dir/smp3.log"
if out=$("$check" "$dir/smp3.log" 2>&1); then echo "FAIL: a 3-CPU log (no budgets) passed"; exit 1; fi
grep -q -- "no budgets for boots with 3 CPUs" <<<"$out" || { echo "FAIL: 3 CPUs: $out"; exit 1; }
echo PASS
