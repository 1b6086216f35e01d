#!/usr/bin/env bash
# Tests tools/qemu.sh, the script behind `bazel run //:qemu`: extra kernel
# arguments (commas included) reach the kernel, and the kernel's verdict
# becomes the exit status (0 pass, 1 fail).
set -uo pipefail
runner=$1 iso=$2
out=$(timeout 60 "$runner" --iso "$iso" --cmdline 'run="help" extra=a,b' </dev/null 2>&1)
status=$?
grep -q 'command line: console=ttyS0 run="help" extra=a,b' <<<"$out" || { echo "FAIL: arguments lost: $out"; exit 1; }
[ "$status" = 0 ] || { echo "FAIL: a passing run exited $status"; echo "$out"; exit 1; }
timeout 60 "$runner" --iso "$iso" --cmdline 'run=frobnicate' </dev/null >/dev/null 2>&1
status=$?
[ "$status" = 1 ] || { echo "FAIL: a failing run exited $status, not 1"; exit 1; }
echo "qemu runner: arguments and exit statuses as documented"
