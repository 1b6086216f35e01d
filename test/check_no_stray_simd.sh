#!/usr/bin/env bash
# The SIMD policy's build check (src/sched/simd.h): in kernel.elf, vector
# (SSE/AVX/AVX-512/MMX) and x87 instructions, and the XSAVE/XRSTOR family
# that would save or restore their state, appear only between
# __simd_text_start and __simd_text_end, i.e. in SIMD_FUNCTIONs and
# SIMD_AVX2_FUNCTIONs. Also requires that the allowed range does contain
# vector instructions, so the scan is known to see them (a broken
# disassembly pattern would otherwise pass silently), and counts the YMM
# ones among them.
# Usage: check_no_stray_simd.sh KERNEL_ELF [OBJDUMP NM]
set -euo pipefail
elf=$1
objdump=${2:-llvm-objdump-14}
nm=${3:-llvm-nm-14}

sym() { "$nm" "$elf" | awk -v s="$1" '$3 == s { print $1 }'; }
lo=$(sym __simd_text_start)
hi=$(sym __simd_text_end)
[ -n "$lo" ] && [ -n "$hi" ] || { echo "no __simd_text_start/__simd_text_end in $elf"; exit 1; }

"$objdump" -d --no-show-raw-insn "$elf" | awk -v lo="$lo" -v hi="$hi" '
  # 64-bit addresses exceed awk numbers; compare them as 16-digit strings.
  function pad(s) { s = tolower(s); while (length(s) < 16) s = "0" s; return s }
  BEGIN { l = pad(lo); h = pad(hi) }
  /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
  /^ *[0-9a-f]+:[ \t]/ {
    split($0, part, "\t"); addr = part[1]; sub(/:.*$/, "", addr); sub(/^ +/, "", addr)
    insn = part[2]; for (i = 3; i in part; i++) insn = insn " " part[i]
    split(insn, w, " "); m = w[1]
    vector = insn ~ /%[xyz]mm[0-9]/ || insn ~ /%mm[0-7]/ || insn ~ /%k[0-7]/ || insn ~ /%st/ || m ~ /^f/ ||
             m ~ /^(emms|ldmxcsr|stmxcsr|vzeroupper|vzeroall)$/ || m ~ /^(xsave|xrstor)/
    if (!vector) next
    a = pad(addr)
    if (a >= l && a < h) { allowed++; if (insn ~ /%ymm[0-9]/) ymm++; next }
    print "vector/x87 instruction outside SIMD_FUNCTIONs: " fn " " addr ": " insn; stray++
  }
  END {
    if (stray) { print stray " stray vector instruction(s)"; exit 1 }
    if (!allowed) { print "no vector instructions found in .text.simd: the scan cannot be trusted"; exit 1 }
    print "simd check: " allowed " vector instructions (" ymm + 0 " on YMM registers), all in SIMD_FUNCTIONs"
  }'
