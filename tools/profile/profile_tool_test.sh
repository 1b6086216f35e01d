#!/usr/bin/env bash
# profile_tool's command line: the files it writes from a synthetic capture
# of the symbolizer fixture, and its refusals -- usage errors (status 2), a
# build-id mismatch, a malformed or incomplete capture (status 1), each
# with a message that says what is wrong.
# Usage: profile_tool_test.sh PROFILE_TOOL FIXTURE_ELF
set -uo pipefail
tool=$1 elf=$2
t=$TEST_TMPDIR
fail() { echo "FAIL: $*" >&2; exit 1; }

id=$(llvm-readelf-14 -n "$elf" | sed -n 's/.*Build ID: //p')
outer=$(llvm-nm-14 "$elf" | awk '$3 == "profile_fixture_outer" { print $1 }' | sed 's/^0*//')
[ -n "$id" ] && [ -n "$outer" ] || fail "fixture has no build id or symbol"

capture() {  # capture BUILD_ID N_SAMPLES_CLAIMED [extra sample line]
  echo "prof-dump begin v1 build-id=$1 hz=100 period_ns=10000000 cpus=1"
  echo "s 0 1 thread 0 10 $outer"
  echo "kernel chatter"
  echo "s 0 1 thread 0 20 $outer"
  [ $# -gt 2 ] && echo "$3"
  echo "prof-dump end samples=$2 dropped=1"
}

# expect STATUS MESSAGE_REGEX -- ARGS...
expect() {
  local want=$1 re=$2
  shift 3
  "$tool" "$@" >"$t/stdout" 2>"$t/stderr"
  local got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, want $want: $(cat "$t/stderr")"
  grep -Eq -e "$re" "$t/stderr" || fail "'$*' stderr lacks /$re/: $(cat "$t/stderr")"
}

# The happy path, with CRLF line endings as a serial console writes them.
capture "$id" 2 | sed 's/$/\r/' >"$t/good.log"
"$tool" --capture "$t/good.log" --elf "$elf" --out "$t/out/nested" >"$t/stdout" 2>"$t/stderr" ||
  fail "good capture refused: $(cat "$t/stderr")"
grep -q "^2 samples at 100 Hz on 1 CPU, 1 dropped (a sample ring was full)$" "$t/stdout" || fail "summary: $(cat "$t/stdout")"
grep -Eq "^ +100\.00 +100\.00  profile_fixture_leaf" "$t/stdout" || fail "top table: $(cat "$t/stdout")"
# Root first: outer, then the leaf inlined into it.
grep -Eq "^profile_fixture_outer;profile_fixture_leaf[^;]* 2$" "$t/out/nested/folded.txt" ||
  fail "folded.txt: $(cat "$t/out/nested/folded.txt")"
gzip -t "$t/out/nested/profile.pb.gz" || fail "profile.pb.gz is not gzip"
grep -q "<title>profile_fixture_outer (2 samples, 100.00%)</title>" "$t/out/nested/flame.svg" ||
  fail "flame.svg lacks the frame"
cp "$t/out/nested/flame.svg" "$t/flame1.svg"
"$tool" --capture "$t/good.log" --elf "$elf" --out "$t/out/nested" >/dev/null 2>&1
cmp -s "$t/flame1.svg" "$t/out/nested/flame.svg" || fail "flame.svg differs between two runs"

# Usage errors.
expect 2 "--capture is required" -- --elf "$elf" --out "$t/o"
expect 2 "--elf is required" -- --capture "$t/good.log" --out "$t/o"
expect 2 "--out is required" -- --capture "$t/good.log" --elf "$elf"
expect 2 "unknown argument '--bogus'" -- --bogus 1
expect 2 "'--out' needs a value" -- --out
expect 2 "--top takes a whole number from 1 to 100000, not '0'" -- --top 0 --capture a --elf b --out c
expect 2 "--top takes a whole number" -- --top x --capture a --elf b --out c

# Refusals.
capture 0123456789abcdef0123456789abcdef01234567 2 >"$t/other.log"
expect 1 "build id mismatch: the capture comes from kernel build 0123456789abcdef0123456789abcdef01234567 but .* is build $id; symbolize with the kernel.elf that was booted" \
  -- --capture "$t/other.log" --elf "$elf" --out "$t/o"
capture none 2 >"$t/none.log"
expect 1 "build id mismatch: the capture comes from kernel build none" -- --capture "$t/none.log" --elf "$elf" --out "$t/o"
capture "$id" 3 >"$t/short.log"
expect 1 "capture incomplete: got 2 of 3 samples" -- --capture "$t/short.log" --elf "$elf" --out "$t/o"
capture "$id" 3 "s 0 1 thread 0 30 XYZ" >"$t/bad.log"
expect 1 "line 5: malformed sample line \(pc 0 not lowercase hex without 0x\)" -- --capture "$t/bad.log" --elf "$elf" --out "$t/o"
capture "$id" 2 | head -3 >"$t/cut.log"
expect 1 "capture incomplete: no 'prof-dump end' line" -- --capture "$t/cut.log" --elf "$elf" --out "$t/o"
expect 1 "cannot open $t/missing.log" -- --capture "$t/missing.log" --elf "$elf" --out "$t/o"
expect 1 "cannot open /nonexistent.elf" -- --capture "$t/good.log" --elf /nonexistent.elf --out "$t/o"
expect 1 "cannot run no-such-symbolizer" -- --capture "$t/good.log" --elf "$elf" --out "$t/o" --symbolizer no-such-symbolizer
[ ! -e "$t/o" ] || fail "a refused run wrote $t/o"
echo PASS
