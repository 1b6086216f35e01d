#!/usr/bin/env bash
# tools/reliability_table.py over the made-up logs in test/testdata/reliability:
# the section exactly as expected.md (fuzz targets passing, crashing and
# leaking, fault injection leaking, a Bazel timeout, a hung and a panicking
# boot, rows not run); written into a README between the markers with the
# rest untouched, the same on a second run; with no logs at all, every row
# "not run" and nothing counted; and its refusals.
set -euo pipefail
script=$1 data=$(dirname "$2")
tmp=$TEST_TMPDIR
fail() { echo "FAIL: $*"; exit 1; }

"$script" --testlogs "$data/testlogs" --sanitizer-logs "$data/sanitizers" --stdout >"$tmp/section.md"
diff -u "$data/expected.md" "$tmp/section.md" || fail "the section differs from expected.md (above)"

# Several testlogs directories: a test's logs come from the first that has them.
mkdir -p "$tmp/empty" "$tmp/other/src/arch"
"$script" --testlogs "$tmp/empty" --testlogs "$data/testlogs" --sanitizer-logs "$data/sanitizers" --stdout \
  >"$tmp/fallthrough.md"
diff -u "$data/expected.md" "$tmp/fallthrough.md" || fail "logs in the second --testlogs were not read (above)"
cp -r "$data/testlogs/src/monitor/cmdline_fuzz" "$tmp/other/src/arch/acpi_fuzz"
"$script" --testlogs "$tmp/other" --testlogs "$data/testlogs" --sanitizer-logs "$data/sanitizers" --stdout \
  >"$tmp/first.md"
grep -q '^| `//src/arch:acpi_fuzz` | 4,242 | 3 s | 17 | 1 / 0 / 0 | \*\*FAIL\*\* |$' "$tmp/first.md" ||
  fail "the first --testlogs did not win"

# Into a README: what is between the markers is replaced, nothing else.
cp "$data/README.in.md" "$tmp/README.md"
chmod u+w "$tmp/README.md"
"$script" --testlogs "$data/testlogs" --sanitizer-logs "$data/sanitizers" --readme "$tmp/README.md" >/dev/null
{
  sed '/<!-- reliability:begin -->/q' "$data/README.in.md"
  cat "$data/expected.md"
  sed -n '/<!-- reliability:end -->/,$p' "$data/README.in.md"
} >"$tmp/README.expected.md"
diff -u "$tmp/README.expected.md" "$tmp/README.md" || fail "the README was not rewritten as expected (above)"
cp "$tmp/README.md" "$tmp/README.first.md"
"$script" --testlogs "$data/testlogs" --sanitizer-logs "$data/sanitizers" --readme "$tmp/README.md" >/dev/null
cmp -s "$tmp/README.first.md" "$tmp/README.md" || fail "a second run changed the README"

# No logs at all: nothing is made up.
"$script" --testlogs "$tmp/empty" --sanitizer-logs "$tmp/empty" --stdout >"$tmp/empty.md"
grep -q '^| `//src/mm:e820_fuzz` | not run | not run | not run | — | not run |$' "$tmp/empty.md" ||
  fail "a missing fuzz log is not 'not run'"
grep -q '^| TSan | `tools/bazel test --config=tsan //:tsan_tests` | not run | not run | not run | not run |$' \
  "$tmp/empty.md" || fail "a missing sanitizer log is not 'not run'"
grep -q '^0 of 8 targets fuzzed: 0 executions in 0 s\.$' "$tmp/empty.md" || fail "fuzz totals without logs"
grep -q '^\*\*Totals: crashes 0, leaks 0, hangs 0\*\*, other failures 0; not run: //src/arch:acpi_fuzz, ' \
  "$tmp/empty.md" || fail "totals without logs"
if grep -v '^| ' "$tmp/empty.md" | grep -q '| pass |'; then fail "a row passed without a log"; fi

# Refusals, each with its reason.
expect_refusal() {  # $1: the reason expected; the rest: arguments
  local reason=$1 out
  shift
  if out=$("$script" "$@" 2>&1); then fail "accepted: $*"; fi
  grep -qF -- "$reason" <<<"$out" || fail "'$*' refused without '$reason': $out"
}
printf '# no markers\n' >"$tmp/bare.md"
expect_refusal "needs one <!-- reliability:begin --> line before one <!-- reliability:end --> line" \
  --testlogs "$tmp/empty" --sanitizer-logs "$tmp/empty" --readme "$tmp/bare.md"
printf '<!-- reliability:end -->\n<!-- reliability:begin -->\n' >"$tmp/reversed.md"
expect_refusal "needs one <!-- reliability:begin -->" \
  --testlogs "$tmp/empty" --sanitizer-logs "$tmp/empty" --readme "$tmp/reversed.md"
expect_refusal "no test logs at $tmp/nowhere" --testlogs "$tmp/nowhere"
expect_refusal "--sanitizer-logs $tmp/nowhere is not a directory" --testlogs "$tmp/empty" --sanitizer-logs "$tmp/nowhere"
echo PASS
