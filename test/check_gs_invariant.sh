#!/usr/bin/env bash
# The NMI handler's way to its per-CPU block (src/prof/cpu_prof.h): GS holds
# it from before each CPU loads the kernel's IDT, and nothing in the kernel
# ever changes GS afterwards, so an NMI landing anywhere reads gs:0 safely.
# That holds only while kernel.elf has no SWAPGS and no WRGSBASE; this
# check fails the build's tests the day one appears. It also requires the
# one WRMSR path (percpu_install) to be there, so an empty or broken
# disassembly cannot pass.
# Usage: check_gs_invariant.sh KERNEL_ELF [OBJDUMP]
set -euo pipefail
elf=$1
objdump=${2:-llvm-objdump-14}
dis=$("$objdump" -d --no-show-raw-insn "$elf")
bad=$(printf '%s\n' "$dis" | grep -E '^ *[0-9a-f]+:[[:space:]]+(swapgs|wrgsbase)' || true)
if [ -n "$bad" ]; then
  echo "SWAPGS/WRGSBASE in the kernel: the NMI's per-CPU access (gs:0) is no longer always valid:"
  echo "$bad"
  exit 1
fi
n=$(printf '%s\n' "$dis" | grep -cE '^ *[0-9a-f]+:[[:space:]]+wrmsr' || true)
if [ "$n" -eq 0 ]; then
  echo "no WRMSR found in $elf: the disassembly cannot be trusted"
  exit 1
fi
echo "gs check: no SWAPGS or WRGSBASE in $(printf '%s\n' "$dis" | grep -cE '^ *[0-9a-f]+:' ) instructions"
