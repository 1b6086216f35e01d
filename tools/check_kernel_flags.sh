#!/usr/bin/env bash
# Checks, from Bazel's own action graph (aquery), that every compile of a
# kernel object uses the pinned clang with the kernel flags and sees no host
# headers: --target=x86_64-unknown-none-elf, -ffreestanding, -nostdinc, only
# Clang's builtin include directory, and no /usr/include; and with the
# thread-safety analysis as errors (-Wthread-safety -Werror).
set -euo pipefail
cd "$(dirname "$0")/.."
bazel=${BAZEL:-tools/bazel}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bazel" aquery --output=text 'mnemonic("CppCompile", deps(//:kernel.elf))' >"$out" 2>/dev/null

awk '
  function check() {
    if (action == "" || config ~ /-exec-/) return
    kernel++
    if (cmd !~ /\/usr\/lib\/llvm-14\/bin\/clang /) bad("not compiled by the pinned clang")
    n = split("--target=x86_64-unknown-none-elf -ffreestanding -nostdinc -mno-red-zone -mcmodel=kernel -mno-sse -fno-exceptions -fno-rtti", need, " ")
    for (i = 1; i <= n; i++) if (index(cmd, " " need[i] " ") == 0) bad("lacks " need[i])
    # C and C++ (not assembly): the thread-safety analysis, as errors.
    if (action !~ /\.S\047?$/) {
      n = split("-Wthread-safety -Werror", need, " ")
      for (i = 1; i <= n; i++) if (index(cmd, " " need[i] " ") == 0) bad("lacks " need[i])
    }
    if (cmd ~ /\/usr\/include/ || cmd ~ /c\+\+\/12/) bad("sees host headers")
    if (cmd !~ /-isystem \/usr\/lib\/llvm-14\/lib\/clang\/14\.0\.6\/include /) bad("lacks the builtin include directory")
  }
  function bad(why) { print "kernel compile " action ": " why; failed = 1 }
  /^action / { check(); action = $0; config = ""; cmd = " " }
  /^  Configuration: / { config = $2 }
  /^    / { line = $0; gsub(/\047/, "", line); sub(/^ +/, "", line); sub(/ \\$/, "", line); sub(/^\(exec /, "", line); sub(/\)$/, "", line); cmd = cmd line " " }
  /^  Command Line: / { line = $0; sub(/^  Command Line: \(exec /, "", line); sub(/ \\$/, "", line); cmd = cmd line " " }
  END {
    check()
    if (kernel == 0) { print "no kernel compile actions found"; exit 1 }
    if (failed) exit 1
    printf "kernel flags check: %d kernel compiles, all pinned clang 14.0.6, freestanding, no host headers, C/C++ with -Wthread-safety -Werror\n", kernel
  }
' "$out"
