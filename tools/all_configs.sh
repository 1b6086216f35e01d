#!/usr/bin/env bash
# Every configuration biscotti is tested in, one after another:
#   tools/bazel run //:all_configs [-- --ci]
#   default   tools/bazel test //...                 (every test, 1 CPU to 16)
#   asan      --config=asan over the host tests       (ASan+UBSan)
#   tsan      --config=tsan //:tsan_tests             (the lock-free and threaded ones)
#   debug     --//src/base:debug_asserts=true //:boot_tests  (DEBUG_ASSERTs on in the kernel)
# --ci runs the first three (what CI runs: the debug kernel is a second
# full set of boots). Each configuration reports; the status is non-zero
# if any failed, and the summary names which. Logs: $TMPDIR/biscotti-<config>.log.
set -uo pipefail
ci=0
case "${1:-}" in
  "") ;;
  --ci) ci=1 ;;
  *) echo "all_configs: unknown argument '$1' (takes only --ci)" >&2; exit 2 ;;
esac
# `bazel run` starts us in the runfiles; the tests run from the workspace.
cd "${BUILD_WORKSPACE_DIRECTORY:-$(dirname "$0")/..}"
[ -x tools/bazel ] || { echo "all_configs: not in a biscotti checkout ($(pwd))" >&2; exit 2; }
logs=${TMPDIR:-/tmp}

failed=()
run() {
  local config=$1; shift
  echo "== $config: tools/bazel test $*"
  tools/bazel test "$@" --test_summary=short 2>&1 | tee "$logs/biscotti-$config.log"
  if [ "${PIPESTATUS[0]}" != 0 ]; then
    failed+=("$config")
    grep -E "^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE)" "$logs/biscotti-$config.log" || true
  fi
}

run default //...
run asan --config=asan //src/... //tools/profile/...
run tsan --config=tsan //:tsan_tests
[ "$ci" = 1 ] || run debug --//src/base:debug_asserts=true //:boot_tests

if [ ${#failed[@]} -ne 0 ]; then
  echo "all_configs: failed: ${failed[*]}"
  exit 1
fi
echo "all_configs: every configuration passed"
