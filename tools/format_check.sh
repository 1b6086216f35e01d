#!/usr/bin/env bash
# clang-format-14 (.clang-format) over every C++ source and header of the
# tree: a file that formatting would change fails, with the diff.
#   tools/format_check.sh [--fix]    (from the workspace, or as //:format_check)
set -euo pipefail
fix=0
case "${1:-}" in
  "") ;;
  --fix) fix=1 ;;
  *) echo "format_check: unknown argument '$1' (takes only --fix)" >&2; exit 2 ;;
esac
if [ -n "${TEST_SRCDIR:-}" ]; then
  root=$(dirname "$(readlink -f "$TEST_SRCDIR/biscotti/WORKSPACE")")
else
  root=$(cd "$(dirname "$0")/.." && pwd)
fi
cd "$root"
command -v clang-format-14 >/dev/null || { echo "format_check: clang-format-14 not found; run tools/bazel to install it" >&2; exit 2; }
mapfile -t files < <(find src tools examples test -type f \( -name '*.cc' -o -name '*.h' \) -not -path '*/fuzz_corpus/*' | sort)
[ "${#files[@]}" -gt 100 ] || { echo "format_check: only ${#files[@]} files found under $root"; exit 1; }
if [ "$fix" = 1 ]; then
  clang-format-14 -i "${files[@]}"
  echo "format_check: formatted ${#files[@]} files"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format-14 "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - ; then bad=$((bad + 1)); fi
done
if [ "$bad" != 0 ]; then
  echo "format_check: $bad of ${#files[@]} files differ from clang-format-14; fix with tools/format_check.sh --fix"
  exit 1
fi
echo "format_check: ${#files[@]} files formatted"
