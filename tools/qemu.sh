#!/usr/bin/env bash
# Boots kernel.iso in QEMU with the serial console on this terminal
# (Ctrl-A X quits). `bazel run //:qemu -- [options]`:
#   --smp N          CPUs (default 1)
#   --mem SIZE       memory, QEMU syntax (default 256M)
#   --cpu MODEL      CPU model (default qemu64)
#   --machine TYPE   pc or q35 (default pc)
#   --cmdline "..."  extra kernel arguments (appended through fw_cfg; they
#                    override the ISO's own, e.g. --cmdline "test=arch.*")
#   --icount         count guest instructions as time (-icount shift=0,sleep=off;
#                    adds ktest.timing=exact, so tests hold exact time bounds)
#   --timeout S      stop the kernel after S seconds (default: none)
#   --gdb            start stopped, with QEMU's gdb stub on TCP port 1234,
#                    and print the gdb command line that attaches to it
#   --gdb-port P     the stub's port (1 to 65535; implies --gdb)
#   --iso PATH       the image (set by the run target)
#   --debug-elf PATH, --gdb-script PATH  the kernel with its DWARF and
#                    tools/gdb/biscotti.py, for --gdb (set by the run target)
# Any other argument is passed to QEMU unchanged.
# Exit status: 0 the kernel ended the run passing; 1 it ended it failing;
# 2 a usage error; 3 QEMU failed (could not start, or died); 4 the kernel
# stopped without ending the run (a triple fault resets, -no-reboot exits;
# also gdb's `kill`); 5 the timeout passed first (a hang); 6 GRUB could not
# load the kernel (too little memory: GRUB's error is on the console). Each
# but 0 says so on stderr.
set -euo pipefail
iso="" smp=1 mem=256M cpu=qemu64 machine=pc cmdline="" icount=0 timeout_s="" extra=()
gdb=0 gdb_port=1234 debug_elf="" gdb_script=""
while [ $# -gt 0 ]; do
  case "$1" in
    --iso|--smp|--mem|--cpu|--machine|--cmdline|--timeout|--gdb-port|--debug-elf|--gdb-script)
      [ $# -ge 2 ] || { echo "qemu.sh: $1 needs a value" >&2; exit 2; } ;;&
    --iso) iso=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --machine) machine=$2; shift 2 ;;
    --cmdline) cmdline=$2; shift 2 ;;
    --icount) icount=1; shift ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --gdb) gdb=1; shift ;;
    --gdb-port) gdb=1; gdb_port=$2; shift 2 ;;
    --debug-elf) debug_elf=$2; shift 2 ;;
    --gdb-script) gdb_script=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) extra+=("$1"); shift ;;
  esac
done
[ -n "$iso" ] || { echo "qemu.sh: --iso is required" >&2; exit 2; }
case "$timeout_s" in
  "") ;;
  *[!0-9]*|0) echo "qemu.sh: --timeout takes a whole number of seconds > 0, not '$timeout_s'" >&2; exit 2 ;;
esac
if [ "$gdb" = 1 ]; then
  case "$gdb_port" in
    ""|*[!0-9]*) echo "qemu.sh: --gdb-port takes a TCP port (1 to 65535), not '$gdb_port'" >&2; exit 2 ;;
  esac
  [ "$gdb_port" -ge 1 ] && [ "$gdb_port" -le 65535 ] ||
    { echo "qemu.sh: --gdb-port takes a TCP port (1 to 65535), not '$gdb_port'" >&2; exit 2; }
  [ -f "$debug_elf" ] || { echo "qemu.sh: --gdb needs --debug-elf, the kernel with its DWARF (//:qemu passes it), not '$debug_elf'" >&2; exit 2; }
  [ -f "$gdb_script" ] || { echo "qemu.sh: --gdb needs --gdb-script, tools/gdb/biscotti.py (//:qemu passes it), not '$gdb_script'" >&2; exit 2; }
fi
command -v qemu-system-x86_64 >/dev/null || { echo "qemu.sh: qemu-system-x86_64 not found; run tools/bazel to install it" >&2; exit 2; }

args=(-machine "$machine" -cpu "$cpu" -smp "$smp" -m "$mem"
      -cdrom "$iso" -boot d -display none -no-reboot
      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
# Guest time exact: the kernel's tests may say so (src/ktest/timing.h).
# First, so that the caller's own words win.
[ "$icount" = 1 ] && cmdline="ktest.timing=exact${cmdline:+ $cmdline}"
# QEMU's option syntax: a literal comma is written twice.
[ -n "$cmdline" ] && args+=(-fw_cfg "name=opt/biscotti/cmdline,string=${cmdline//,/,,}")
[ "$icount" = 1 ] && args+=(-icount shift=0,sleep=off)
if [ -t 0 ]; then
  args+=(-serial mon:stdio)
else
  args+=(-serial stdio)
fi
if [ "$gdb" = 1 ]; then
  # -S: no guest instruction runs before gdb says `continue`.
  args+=(-gdb "tcp::$gdb_port" -S)
  # Paths for the line to paste: from the workspace root under `bazel
  # run` (the run target passes workspace-relative paths, and bazel-bin
  # holds the same file when it is this configuration's), else absolute.
  elf_shown=$(readlink -f "$debug_elf") script_shown=$(readlink -f "$gdb_script")
  where="anywhere"
  debug_elf=${debug_elf#./} gdb_script=${gdb_script#./}
  if [ -n "${BUILD_WORKSPACE_DIRECTORY:-}" ] && [ "$BUILD_WORKSPACE_DIRECTORY/bazel-bin/$debug_elf" -ef "$debug_elf" ] &&
     [ "$BUILD_WORKSPACE_DIRECTORY/$gdb_script" -ef "$gdb_script" ]; then
    elf_shown="bazel-bin/$debug_elf" script_shown=$gdb_script where="the workspace root ($BUILD_WORKSPACE_DIRECTORY)"
  fi
  echo "qemu.sh: QEMU is stopped and waits for gdb on port $gdb_port; from $where, run:" >&2
  echo "  gdb -ex 'source $script_shown' -ex 'target remote :$gdb_port' $elf_shown" >&2
fi
runner=()
[ -n "$timeout_s" ] && runner=(timeout --kill-after=5 "$timeout_s")
set +e
"${runner[@]}" qemu-system-x86_64 "${args[@]}" "${extra[@]}"
status=$?
set -e
# isa-debug-exit: the kernel wrote 0x10 (pass) or 0x11 (fail), or GRUB
# 0x12 (it could not load the kernel), and QEMU exits (v << 1) | 1
# (src/arch/qemu_exit_codes.h); QEMU's own errors exit 1.
case $status in
  33) exit 0 ;;
  35) echo "qemu.sh: the kernel reported failure" >&2; exit 1 ;;
  37) echo "qemu.sh: GRUB could not load the kernel (its error is on the console; more memory?)" >&2; exit 6 ;;
  0)
    if [ "$gdb" = 1 ]; then
      echo "qemu.sh: the kernel stopped without ending the run (gdb's kill, a triple fault or a reset)" >&2
    else
      echo "qemu.sh: the kernel stopped without ending the run (triple fault or reset)" >&2
    fi
    exit 4 ;;
  124|137) echo "qemu.sh: no end of run after ${timeout_s}s (hung kernel?)" >&2; exit 5 ;;
  *) echo "qemu.sh: QEMU failed (status $status)" >&2; exit 3 ;;
esac
