#!/usr/bin/env bash
# Deferred page-metadata init (mm.init, src/mm/page_alloc.h) must end where
# an eager one starts: boots the same 8 GiB machine twice under -icount,
# once preparing every page's metadata at boot (mm.init=boot) and once in
# the background (the default, `mem` run after the page_init tests have
# waited for the thread and allocated all memory), and compares the
# figures each printed: usable memory, the banner's pages free of managed
# (deferred pages count as free from the start), and `mem`'s pages managed
# and that all of them are ready. The free figure `mem` prints is left out:
# the background boot has one thread's stack more.
#   check_page_init_totals.sh BOOT_TEST_SH ISO
set -uo pipefail
harness=$1 iso=$2
out=${TEST_UNDECLARED_OUTPUTS_DIR:-$(mktemp -d)}

boot() {
  local name=$1
  shift
  mkdir -p "$out/$name"
  if ! TEST_UNDECLARED_OUTPUTS_DIR="$out/$name" "$harness" --iso "$iso" --smp 2 --mem 8G --cpu max --icount \
      --timeout 240 --reject PANIC --reject EXCEPTION --reject '^FAIL ' "$@" >"$out/$name.txt" 2>&1; then
    cat "$out/$name.txt"
    echo "page_init_totals: the $name boot failed (above)"
    exit 1
  fi
}

# The lines compared, with what legitimately differs cut off.
figures() {
  tr -d '\r' <"$1" | grep -E '^(memory: [0-9]+ bytes usable|mm: [0-9]+ pages \(|usable memory: |pages: [0-9]+ managed|page metadata: all )' |
    sed -E 's/^(pages: [0-9]+ managed).*/\1/; s/ \(some prepared by allocations that needed them\)$//'
}

boot eager --cmdline "mm.init=boot run=mem" --expect '^page metadata: all [0-9]+ pages ready$' \
  --reject '^mm: page metadata for '
boot deferred --cmdline "test=page_init.* run=mem" --expect '^2 passed, 0 failed, 0 skipped$' \
  --expect '^mm: page metadata for [0-9]+ of [0-9]+ pages prepared at boot; the rest in the background' \
  --expect '^page metadata: all [0-9]+ pages ready' --reject '^page metadata: init in progress'

eager=$(figures "$out/eager/serial.log")
deferred=$(figures "$out/deferred/serial.log")
if [ "$(echo "$eager" | wc -l)" != 5 ]; then
  printf 'page_init_totals: expected 5 figure lines from the eager boot, got:\n%s\n' "$eager"
  exit 1
fi
if [ "$eager" != "$deferred" ]; then
  printf 'page_init_totals: the figures differ\n--- mm.init=boot\n%s\n--- mm.init=background\n%s\n' "$eager" "$deferred"
  exit 1
fi
printf 'page_init_totals: mm.init=background ends with the figures mm.init=boot starts with:\n%s\n' "$eager"
