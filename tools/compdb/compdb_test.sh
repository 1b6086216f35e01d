#!/usr/bin/env bash
# compdb.py on this checkout (with a Bazel of its own: HOME and the output
# root are the test's temporary directory), then clangd-14 --check on a
# kernel file and on a host test: each must parse with no error, with the
# kernel's flags for the first and the host's for the second.
set -euo pipefail
compdb=$1
BISCOTTI=$(dirname "$(readlink -f "${TEST_SRCDIR:-.}/biscotti/WORKSPACE")")
[ -x "$BISCOTTI/tools/bazel" ] || { echo "compdb_test: no checkout at '$BISCOTTI'" >&2; exit 2; }
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/compdb.XXXXXX")
root="$tmp/bazel"
startup=(--startup-arg="--output_user_root=$root")
cleanup() { (cd "$BISCOTTI" && tools/bazel "--output_user_root=$root" shutdown >/dev/null 2>&1 || true); }
trap cleanup EXIT

mkdir -p "$tmp/db"
# Named packages, not //...: this Bazel has its own output base, so it would
# take the checkout's bazel-* convenience links for packages.
(cd "$BISCOTTI" && python3 "$compdb" --out "$tmp/db/compile_commands.json" "${startup[@]}" \
  --bazel-arg=--experimental_convenience_symlinks=ignore //src/... //examples/...) 2>"$tmp/bazel.log" | tee "$tmp/compdb.out" \
  || { cat "$tmp/bazel.log"; exit 1; }
grep -qE '^compdb: [0-9]+ files \([1-9][0-9]* with the kernel.s flags, [1-9][0-9]* the host.s\)' "$tmp/compdb.out" \
  || { echo "compdb_test: expected both kernel and host commands"; exit 1; }

check() {
  local file=$1 want_target=$2
  local out="$tmp/clangd.$(basename "$file").log"
  # --check-lines=1: diagnostics cover the whole file, but clangd's editing
  # features (tweaks) are tried on the first line only, so that a tweak
  # that cannot apply is not reported as an error.
  # --clang-tidy=false: this checks that the file compiles as Bazel compiles
  # it; lint is //:tidy_check's, which leaves test sources out.
  (cd "$BISCOTTI" && clangd-14 --compile-commands-dir="$tmp/db" --check="$file" --check-lines=1 --clang-tidy=false) \
    >"$out" 2>&1 || true
  grep -q 'All checks completed, 0 errors' "$out" || { echo "compdb_test: clangd found errors in $file:"; cat "$out"; exit 1; }
  if [ "$want_target" = kernel ]; then
    grep -q -- '--target=x86_64-unknown-none-elf' "$out" || { echo "compdb_test: $file lacks the kernel's flags"; exit 1; }
  else
    ! grep -q -- '--target=x86_64-unknown-none-elf' "$out" || { echo "compdb_test: $file got the kernel's flags"; exit 1; }
  fi
  echo "clangd: $file parses with no error ($want_target flags)"
}
check src/kernel/kmain.cc kernel
check src/mm/e820_test.cc host
