#!/usr/bin/env bash
# The in-kernel suite on host time, N times in a row, while two other QEMUs
# keep the host's cores busy (each running the scheduler torture in a
# loop): the proof that host-time runs hold on a loaded host (issue 11).
#   tools/bazel run //test:realtime_under_load     (about 20 minutes)
# Prints each run's verdict and time, then "realtime under load: P of N
# passed"; exits non-zero if any failed (its log is kept and named).
set -uo pipefail
harness=$1 iso=$2 runs=$3 cmdline=$4
case "$runs" in ''|*[!0-9]*|0) echo "realtime_under_load: runs must be a number > 0, not '$runs'" >&2; exit 2 ;; esac
command -v qemu-system-x86_64 >/dev/null || { echo "realtime_under_load: qemu-system-x86_64 not found" >&2; exit 2; }
logs=$(mktemp -d "${TMPDIR:-/tmp}/realtime_under_load.XXXXXX")

load_pids=()
stop_load() { for p in "${load_pids[@]+"${load_pids[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap stop_load EXIT
for i in 1 2; do
  (
    while :; do
      qemu-system-x86_64 -machine pc -cpu max -smp 2 -m 256M -cdrom "$iso" -boot d -display none -no-reboot \
        -monitor none -serial null -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -fw_cfg "name=opt/biscotti/cmdline,string=test=torture.*" >/dev/null 2>&1
    done
  ) &
  load_pids+=($!)
done

passed=0
for n in $(seq 1 "$runs"); do
  start=$(date +%s)
  if TEST_UNDECLARED_OUTPUTS_DIR="$logs/run$n" bash -c 'mkdir -p "$TEST_UNDECLARED_OUTPUTS_DIR"; exec "$@"' _ \
      "$harness" --iso "$iso" --smp 2 --mem 256M --cpu qemu64 --timeout 240 --cmdline "$cmdline" \
      --expect '^[1-9][0-9]* passed, 0 failed, [0-9]+ skipped$' --reject '^FAIL ' --reject PANIC \
      --reject EXCEPTION >"$logs/run$n.txt" 2>&1; then
    passed=$((passed + 1))
    echo "run $n: pass in $(( $(date +%s) - start )) s"
  else
    echo "run $n: FAIL in $(( $(date +%s) - start )) s (log: $logs/run$n.txt)"
    grep -E "^FAIL |BOOT TEST FAILED" "$logs/run$n.txt" | head -5
  fi
done
echo "realtime under load: $passed of $runs passed (two busy QEMUs beside each run; logs in $logs)"
[ "$passed" = "$runs" ]
