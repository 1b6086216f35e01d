#!/usr/bin/env bash
# The README's Reliability section is well formed: one begin and one end
# marker, in that order, holding the tables tools/reliability_table.py
# writes (their header rows, in order) and its totals line. Not its figures:
# they come from the last run (tools/bazel run //:reliability_table).
set -euo pipefail
script=$1 readme=$2
tmp=$TEST_TMPDIR
fail() { echo "FAIL: $*"; exit 1; }

[ "$(grep -c '^<!-- reliability:begin -->$' "$readme")" = 1 ] || fail "README needs one <!-- reliability:begin --> line"
[ "$(grep -c '^<!-- reliability:end -->$' "$readme")" = 1 ] || fail "README needs one <!-- reliability:end --> line"
sed -n '/^<!-- reliability:begin -->$/,/^<!-- reliability:end -->$/p' "$readme" >"$tmp/section.md"
[ -s "$tmp/section.md" ] || fail "the end marker comes before the begin marker"

# The header rows the script writes (each followed by |---|), from a run
# over no logs, must be the section's, in the same order.
mkdir -p "$tmp/empty"
"$script" --testlogs "$tmp/empty" --sanitizer-logs "$tmp/empty" --stdout >"$tmp/fresh.md"
headers() { grep -B1 '^|---|' "$1" | grep -v -e '^|---|' -e '^--$'; }
headers "$tmp/fresh.md" >"$tmp/want"
headers "$tmp/section.md" >"$tmp/got"
[ "$(wc -l <"$tmp/want")" -ge 5 ] || fail "the script wrote fewer than five tables"
diff -u "$tmp/want" "$tmp/got" || fail "the README's tables differ from the script's (above): run tools/bazel run //:reliability_table"
grep -qE '^\*\*Totals: crashes [0-9]+, leaks [0-9]+, hangs [0-9]+\*\*, other failures [0-9]+; not run: ' "$tmp/section.md" ||
  fail "the section has no totals line"
grep -qF 'tools/bazel run //:reliability_table' "$tmp/section.md" || fail "the section does not name its command"
echo PASS
