#!/usr/bin/env bash
# Tests tools/qemu.sh, the script behind `bazel run //:qemu`: extra kernel
# arguments (commas included) reach the kernel, and every outcome gets its
# documented exit status: 0 pass, 1 the kernel failed (also when a failed
# command is followed by `poweroff`), 2 usage error, 3 QEMU failed (which
# must never read as a pass), 5 a hang past --timeout.
set -uo pipefail
runner=$1 iso=$2

# run <expected status> <what> <args...>: runs the runner, checks its status.
run() {
  local want=$1 what=$2
  shift 2
  out=$(timeout 120 "$runner" --iso "$iso" "$@" </dev/null 2>&1)
  status=$?
  [ "$status" = "$want" ] || { echo "FAIL: $what exited $status, not $want"; echo "$out"; exit 1; }
}

run 0 "a passing run" --cmdline 'run="help" extra=a,b'
grep -q 'command line: console=ttyS0 run="help" extra=a,b' <<<"$out" || { echo "FAIL: arguments lost: $out"; exit 1; }
run 1 "a failing run" --cmdline 'run=frobnicate'
grep -q 'qemu.sh: the kernel reported failure' <<<"$out" || { echo "FAIL: no message for a failing run"; exit 1; }
run 1 "a failed command then poweroff" --cmdline 'run="frobnicate; poweroff"'
grep -q '^powering off (a command failed: the run fails)' <<<"$(tr -d '\r' <<<"$out")" || { echo "FAIL: poweroff hid the failure: $out"; exit 1; }
run 3 "QEMU refusing its CPU model" --cpu no-such-cpu-model
grep -q 'qemu.sh: QEMU failed' <<<"$out" || { echo "FAIL: no message for a QEMU failure"; exit 1; }
run 2 "a bad --timeout" --timeout soon
run 5 "the prompt waiting for input" --timeout 3
grep -q 'qemu.sh: no end of run after 3s' <<<"$out" || { echo "FAIL: no message for a hang"; exit 1; }
echo "qemu runner: arguments and every exit status as documented"
