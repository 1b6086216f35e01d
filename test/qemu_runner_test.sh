#!/usr/bin/env bash
# Tests tools/qemu.sh, the script behind `bazel run //:qemu`: extra kernel
# arguments (commas included) reach the kernel, and every outcome gets its
# documented exit status: 0 pass, 1 the kernel failed (also when a failed
# command is followed by `poweroff`), 2 usage error, 3 QEMU failed (which
# must never read as a pass), 5 a hang past --timeout, 6 GRUB could not load
# the kernel (a machine too small for it). --gdb starts QEMU
# stopped (the kernel prints nothing) and prints a gdb line naming the
# debug ELF and tools/gdb/biscotti.py (tools/gdb:gdb_helpers_test runs gdb).
set -uo pipefail
runner=$1 iso=$2 elf=$3 script=$4

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
run 6 "a machine too small for GRUB to load the kernel" --mem 5M --timeout 60
grep -q 'qemu.sh: GRUB could not load the kernel' <<<"$out" || { echo "FAIL: no message for GRUB's failure: $out"; exit 1; }

# --gdb: usage errors first (no QEMU starts).
gdb_files=(--debug-elf "$elf" --gdb-script "$script")
run 2 "a bad --gdb-port" --gdb-port 70000 "${gdb_files[@]}"
grep -q "qemu.sh: --gdb-port takes a TCP port (1 to 65535), not '70000'" <<<"$out" || { echo "FAIL: no message for a bad port: $out"; exit 1; }
run 2 "--gdb-port without a value" "${gdb_files[@]}" --gdb-port
grep -q "qemu.sh: --gdb-port needs a value" <<<"$out" || { echo "FAIL: no message for a missing port: $out"; exit 1; }
run 2 "--gdb without the debug ELF" --gdb --gdb-script "$script"
grep -q "qemu.sh: --gdb needs --debug-elf" <<<"$out" || { echo "FAIL: no message for a missing ELF: $out"; exit 1; }
run 2 "--gdb without the script" --gdb --debug-elf "$elf"
grep -q "qemu.sh: --gdb needs --gdb-script" <<<"$out" || { echo "FAIL: no message for a missing script: $out"; exit 1; }
run 0 "--help" --help
grep -q -- "--gdb-port P" <<<"$out" || { echo "FAIL: --help does not describe --gdb-port: $out"; exit 1; }

# Stopped under the stub until the timeout: nothing of the kernel's runs.
# A random high port; another tool holding it makes QEMU fail to bind (3),
# so such a run is retried on another port.
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  out=$(timeout 120 "$runner" --iso "$iso" --gdb-port "$port" "${gdb_files[@]}" --timeout 3 </dev/null 2>&1)
  status=$?
  [ "$status" = 3 ] && grep -qi "address already in use\|failed to bind\|Failed to find an available port" <<<"$out" && continue
  break
done
[ "$status" = 5 ] || { echo "FAIL: --gdb with --timeout 3 exited $status, not 5"; echo "$out"; exit 1; }
grep -q "^biscotti " <<<"$out" && { echo "FAIL: the kernel ran before gdb attached: $out"; exit 1; }
grep -q "qemu.sh: QEMU is stopped and waits for gdb on port $port; from anywhere, run:" <<<"$out" || { echo "FAIL: no gdb message: $out"; exit 1; }
line=$(grep "^  gdb " <<<"$out")
[ "$line" = "  gdb -ex 'source $(readlink -f "$script")' -ex 'target remote :$port' $(readlink -f "$elf")" ] ||
  { echo "FAIL: the gdb line names the wrong port or files: '$line'"; exit 1; }

echo "qemu runner: arguments, --gdb and every exit status as documented"
