#!/usr/bin/env bash
# Reproducibility check: builds kernel.elf, kernel.debug.elf (whose DWARF
# must name no checkout path) and kernel.iso here, then again from a fresh
# clone of HEAD in another directory (another Bazel output base) at a later
# time, and compares sha256. Any difference fails.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
bazel=tools/bazel
targets=(//:kernel.elf //:kernel.debug.elf //:kernel.iso)

"$bazel" build "${targets[@]}" >/dev/null 2>&1 || "$bazel" build "${targets[@]}"
sum_here=$(cd "$(readlink -f bazel-bin)" && sha256sum kernel.elf kernel.debug.elf kernel.iso)

other=$(mktemp -d /tmp/biscotti-repro.XXXXXX)
trap '(cd "$other/clone" 2>/dev/null && "$here/tools/bazel" clean --expunge >/dev/null 2>&1); rm -rf "$other"' EXIT
git clone -q "$here" "$other/clone"
sleep 1  # a later wall-clock time, so anything stamping dates would differ
(cd "$other/clone" && "$here/tools/bazel" build "${targets[@]}" >"$other/log" 2>&1) || { cat "$other/log"; exit 1; }
sum_other=$(cd "$(readlink -f "$other/clone/bazel-bin")" && sha256sum kernel.elf kernel.debug.elf kernel.iso)

echo "$sum_here"
if [ "$sum_here" != "$sum_other" ]; then
  echo "REPRODUCIBILITY CHECK FAILED: a clean build in $other/clone differs:"
  echo "$sum_other"
  exit 1
fi
echo "reproducibility check: identical kernel.elf, kernel.debug.elf and kernel.iso from two checkouts"
