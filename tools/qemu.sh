#!/usr/bin/env bash
# Boots kernel.iso in QEMU with the serial console on this terminal
# (Ctrl-A X quits). `bazel run //:qemu -- [options]`:
#   --smp N          CPUs (default 1)
#   --mem SIZE       memory, QEMU syntax (default 256M)
#   --cpu MODEL      CPU model (default qemu64)
#   --machine TYPE   pc or q35 (default pc)
#   --cmdline "..."  extra kernel arguments (appended through fw_cfg; they
#                    override the ISO's own, e.g. --cmdline "test=arch.*")
#   --icount         count guest instructions as time (-icount shift=0,sleep=off)
#   --iso PATH       the image (set by the run target)
# Any other argument is passed to QEMU unchanged.
set -euo pipefail
iso="" smp=1 mem=256M cpu=qemu64 machine=pc cmdline="" icount=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --iso) iso=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --machine) machine=$2; shift 2 ;;
    --cmdline) cmdline=$2; shift 2 ;;
    --icount) icount=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) extra+=("$1"); shift ;;
  esac
done
[ -n "$iso" ] || { echo "qemu.sh: --iso is required" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu.sh: qemu-system-x86_64 not found; run tools/bazel to install it" >&2; exit 2; }

args=(-machine "$machine" -cpu "$cpu" -smp "$smp" -m "$mem"
      -cdrom "$iso" -boot d -display none -no-reboot
      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
# QEMU's option syntax: a literal comma is written twice.
[ -n "$cmdline" ] && args+=(-fw_cfg "name=opt/biscotti/cmdline,string=${cmdline//,/,,}")
[ "$icount" = 1 ] && args+=(-icount shift=0,sleep=off)
if [ -t 0 ]; then
  args+=(-serial mon:stdio)
else
  args+=(-serial stdio)
fi
set +e
qemu-system-x86_64 "${args[@]}" "${extra[@]}"
status=$?
set -e
# isa-debug-exit: the kernel wrote v, QEMU exits (v << 1) | 1.
case $status in
  1) exit 0 ;;
  3) exit 1 ;;
  *) exit "$status" ;;
esac
