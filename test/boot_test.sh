#!/usr/bin/env bash
# Boot-test harness: boots the ISO under QEMU with a given configuration and
# kernel arguments, enforces a timeout (a hung kernel fails within seconds),
# checks the exit status and required lines of the serial log, and prints
# the log on failure.
#   boot_test.sh --iso PATH [--smp N] [--mem M] [--cpu C] [--machine T]
#                [--cmdline "..."] [--timeout SECONDS] [--icount]
#                [--expect-exit pass|fail|reset|loader] [--expect REGEX]... [--reject REGEX]...
#                [--input TEXT]   (typed on the serial console once the
#                                  monitor prompt appears; \n ends a line)
#                [--input-file PATH] (its bytes sent at once right after
#                                  --input's, as a paste: flow control
#                                  holds what the kernel cannot take yet)
#                [--check PROGRAM] (run with the serial log's path; must exit 0)
#                [--qemu-arg ARG]... (appended to QEMU's arguments, e.g.
#                                  -acpitable file=PATH)
set -uo pipefail
iso="" smp=1 mem=128M cpu=qemu64 machine=pc cmdline="" timeout_s=30 expect_exit=pass
expects=() rejects=() input="" input_file="" icount=0 checks=() qemu_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --iso) iso=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --machine) machine=$2; shift 2 ;;
    --cmdline) cmdline=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --expect-exit) expect_exit=$2; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    --input) input=$2; shift 2 ;;
    --input-file) input_file=$2; shift 2 ;;
    --icount) icount=1; shift ;;
    --check) checks+=("$2"); shift 2 ;;
    --qemu-arg) qemu_extra+=("$2"); shift 2 ;;
    *) echo "boot_test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$iso" ] || { echo "boot_test: no ISO at '$iso'" >&2; exit 2; }

log=${TEST_UNDECLARED_OUTPUTS_DIR:-$(mktemp -d)}/serial.log
args=(-machine "$machine" -cpu "$cpu" -smp "$smp" -m "$mem" -cdrom "$iso" -boot d
      -display none -no-reboot -monitor none
      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
# Guest time exact: the kernel's tests may say so (src/ktest/timing.h).
# First, so that the test's own words win.
[ "$icount" = 1 ] && cmdline="ktest.timing=exact${cmdline:+ $cmdline}"
# QEMU's option syntax: a literal comma is written twice.
[ -n "$cmdline" ] && args+=(-fw_cfg "name=opt/biscotti/cmdline,string=${cmdline//,/,,}")
# Guest time = guest instructions: timing assertions become exact.
[ "$icount" = 1 ] && args+=(-icount shift=0,sleep=off)
args+=("${qemu_extra[@]+"${qemu_extra[@]}"}")

start=$(date +%s%N)
if [ -z "$input" ] && [ -z "$input_file" ]; then
  timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 "${args[@]}" -serial "file:$log" </dev/null
  status=$?
else
  # Type only once the prompt is up: bytes sent earlier could be read by
  # GRUB (its serial terminal takes keys while it boots).
  fifo_dir=$(mktemp -d)
  mkfifo "$fifo_dir/in"
  exec 3<>"$fifo_dir/in"
  timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 "${args[@]}" -serial stdio <&3 >"$log" &
  qemu_pid=$!
  for _ in $(seq 1 $((timeout_s * 10))); do
    grep -q 'biscotti> ' "$log" 2>/dev/null && break
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.1
  done
  printf '%b' "$input" >&3
  # Into the pipe at once (it holds 64 KiB): QEMU reads it only as fast as
  # the UART's FIFO has room, which is the point of a paste test.
  [ -n "$input_file" ] && cat "$input_file" >&3
  wait "$qemu_pid"
  status=$?
  exec 3>&-
  rm -rf "$fifo_dir"
fi
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))

fail() {
  echo "BOOT TEST FAILED: $*"
  echo "qemu: ${args[*]}"
  echo "----- serial log -----"
  tr -d '\r' < "$log" 2>/dev/null
  echo "----------------------"
  exit 1
}

# The kernel ends a run through isa-debug-exit with 0x10 (pass) or 0x11
# (fail), GRUB with 0x12 when it cannot load the kernel (loader): QEMU
# exits (v << 1) | 1, 33, 35 or 37 (src/arch/qemu_exit_codes.h). QEMU's own
# errors exit 1.
[ -s "$log" ] || fail "QEMU did not start (status $status)"
case $status in
  33) got=pass ;;
  35) got=fail ;;
  37) got=loader ;;
  124|137) fail "timed out after ${timeout_s}s (hung kernel)" ;;
  0) got=reset ;;  # -no-reboot turns a triple fault into a plain exit
  1) fail "QEMU failed (status 1)" ;;
  *) got="status $status" ;;
esac
[ "$got" = "$expect_exit" ] || fail "expected exit '$expect_exit', got '$got'"
clean=$(tr -d '\r' < "$log")
for re in "${expects[@]+"${expects[@]}"}"; do
  grep -qE -- "$re" <<<"$clean" || fail "serial log lacks /$re/"
done
for re in "${rejects[@]+"${rejects[@]}"}"; do
  if grep -qE -- "$re" <<<"$clean"; then fail "serial log has /$re/"; fi
done
for prog in "${checks[@]+"${checks[@]}"}"; do
  clean_log=$(mktemp)
  printf '%s\n' "$clean" > "$clean_log"
  why=$("$prog" "$clean_log" 2>&1) || fail "check $(basename "$prog"): $why"
  echo "$why"
  rm -f "$clean_log"
done
echo "boot test passed in ${elapsed_ms} ms (exit $got)"
grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' <<<"$clean" || true
