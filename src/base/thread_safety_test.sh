#!/usr/bin/env bash
# Proves -Wthread-safety -Werror bites: each case in thread_safety_cases/
# that says "Must not compile" must fail to compile with the diagnostic on
# its "// EXPECT:" line, and each "ok_" case (the same code, locked right)
# must compile, so a failure is the analysis and not a broken snippet. The
# kernel's flags (-Wthread-safety -Werror, C++20) with the pinned clang.
#   thread_safety_test.sh CLANG CASE...
set -euo pipefail
clang=$1
shift
[ -x "$clang" ] || clang=$(command -v "$clang") || { echo "thread_safety_test: no compiler '$1'" >&2; exit 2; }
# Run from the workspace root (Bazel's runfiles, or the checkout).
[ -f src/base/thread_annotations.h ] || { echo "thread_safety_test: run from the workspace root" >&2; exit 2; }
flags=(-fsyntax-only -std=c++20 -Wall -Wextra -Wthread-safety -Wno-unused-parameter -Werror -iquote .)
[ "$#" -gt 0 ] || { echo "thread_safety_test: no cases given" >&2; exit 2; }
fail=0 ok=0 bad=0
for f in "$@"; do
  name=$(basename "$f")
  out=$("$clang" "${flags[@]}" "$f" 2>&1) && status=0 || status=$?
  if [[ $name == ok_* ]]; then
    if [ "$status" -ne 0 ]; then
      echo "FAIL $name: the correctly locked control does not compile:"; echo "$out"; fail=1
    else
      echo "ok   $name compiles"; ok=$((ok + 1))
    fi
    continue
  fi
  expect=$(sed -n 's|^// EXPECT: ||p' "$f")
  [ -n "$expect" ] || { echo "FAIL $name: no '// EXPECT:' line"; fail=1; continue; }
  if [ "$status" -eq 0 ]; then
    echo "FAIL $name compiled; the analysis should have rejected it"; fail=1
  elif ! grep -qF -- "$expect" <<<"$out" || ! grep -qF -- "-Wthread-safety" <<<"$out"; then
    echo "FAIL $name failed, but not with '$expect' (-Wthread-safety):"; echo "$out"; fail=1
  else
    echo "ok   $name rejected: $expect"; bad=$((bad + 1))
  fi
done
[ "$ok" -gt 0 ] && [ "$bad" -gt 0 ] || { echo "FAIL: need at least one control and one rejected case"; fail=1; }
exit $fail
