#!/usr/bin/env bash
# The //:profile flow end to end (issue 13, item 10): boots the real kernel
# with a workload and prof.start, captures its `prof dump`, and checks that
# `go tool pprof -top` names a function of the workload (and, -lines, its
# source file and line) and that folded
# stacks and the flame graph were written.
# Usage: profile_end_to_end_test.sh PROFILE_SH ISO ELF QEMU_SH PROFILE_TOOL CMDLINE FUNCTION_REGEX
#          SMP HZ [SERIAL_REGEX...]
# Each SERIAL_REGEX must match a line of the boot's serial output (e.g. the
# workload's own PASS lines: profiling must not break what it watches).
set -euo pipefail
script=$1 iso=$2 elf=$3 qemu=$4 tool=$5 cmdline=$6 want=$7 smp=$8 hz=$9
shift 9
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go not found: run tools/bazel, which installs golang-go"
export HOME=$TEST_TMPDIR GOCACHE=$TEST_TMPDIR/gocache GOPATH=$TEST_TMPDIR/gopath GOPROXY=off
out=$TEST_TMPDIR/prof-out
"$script" --iso "$iso" --elf "$elf" --qemu "$qemu" --tool "$tool" --out "$out" \
  --cmdline "$cmdline" --smp "$smp" --hz "$hz" --timeout 600 || {
  tail -50 "$out/serial.log" >&2 || true
  fail "//:profile failed"
}
for f in serial.log profile.pb.gz folded.txt flame.svg; do [ -s "$out/$f" ] || fail "no $f"; done
top=$(go tool pprof -top "$out/profile.pb.gz" 2>&1) || fail "go tool pprof failed: $top"
echo "$top"
grep -Eq -e "$want" <<<"$top" || fail "pprof -top names no function matching /$want/"
grep -q "^Type: cpu$" <<<"$top" || fail "sample type is not cpu"
# kernel.debug.elf's DWARF gives each location a source line.
lines=$(go tool pprof -top -lines "$out/profile.pb.gz" 2>&1) || fail "go tool pprof -lines failed: $lines"
grep -Eq " src/[a-z]+/[a-z0-9_]+\.(cc|h):[0-9]+" <<<"$lines" || fail "pprof -lines shows no src/FILE:LINE: $lines"
# Into a file first: `tr | grep -q` under pipefail fails when grep stops
# reading early and tr gets SIGPIPE.
tr -d '\r' <"$out/serial.log" >"$TEST_TMPDIR/serial.txt"
for re in "$@"; do
  grep -Eq -e "$re" "$TEST_TMPDIR/serial.txt" || fail "the serial output lacks /$re/"
done
echo PASS
