#!/usr/bin/env bash
# Runs the ```sh blocks of a guide (docs/*.md) in order, as one script, with
# $BISCOTTI the checkout and $WORK an empty directory: a guide whose
# commands stop working fails here.
#   run_guide_test.sh GUIDE.md [NAME=PATH...]
# Each NAME=PATH is exported as $NAME, the absolute path of a file the
# test target built (e.g. ISO=$(rootpath //:kernel.iso)), so a guide's
# commands can run what a `bazel run` target runs without a Bazel of their
# own; the guide says which target each stands for.
set -euo pipefail
guide=$1
shift
[ -f "$guide" ] || { echo "run_guide_test: no guide at '$guide'" >&2; exit 2; }
for arg in "$@"; do
  name=${arg%%=*} path=${arg#*=}
  [[ "$arg" == *=* && "$name" =~ ^[A-Z][A-Z0-9_]*$ ]] ||
    { echo "run_guide_test: '$arg' is not NAME=PATH (NAME in capitals)" >&2; exit 2; }
  [ -e "$path" ] || { echo "run_guide_test: $name: no file at '$path'" >&2; exit 2; }
  case "$path" in /*) ;; *) path="$PWD/$path" ;; esac
  export "$name=$path"
done
# The checkout: where the runfiles' WORKSPACE really is.
BISCOTTI=$(dirname "$(readlink -f "${TEST_SRCDIR:-.}/biscotti/WORKSPACE")")
[ -x "$BISCOTTI/tools/bazel" ] || { echo "run_guide_test: no checkout at '$BISCOTTI'" >&2; exit 2; }
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/guide.XXXXXX")
export BISCOTTI WORK

script="$WORK.sh"
awk '/^```sh$/ {on = 1; next} /^```$/ {on = 0} on' "$guide" > "$script"
[ -s "$script" ] || { echo "run_guide_test: $guide has no sh block" >&2; exit 2; }

# The guide's Bazel runs a server of its own (HOME is the test's temporary
# directory, so its output base is too): stop it however the script ends.
cleanup() {
  if [ -f "$WORK/WORKSPACE" ]; then (cd "$WORK" && "$BISCOTTI/tools/bazel" shutdown >/dev/null 2>&1 || true); fi
}
trap cleanup EXIT
echo "== running the sh blocks of $(basename "$guide") in $WORK"
# Traced to a file of its own, shown only when a command fails: its last
# lines name the command and what it was given.
trace="$WORK.trace"
# Without Bazel's test protocol variables, as in a reader's shell: a
# GoogleTest binary the guide runs would otherwise write its XML over this
# test's (XML_OUTPUT_FILE) or take --test_filter as its own.
if ! env -u XML_OUTPUT_FILE -u TESTBRIDGE_TEST_ONLY -u TEST_PREMATURE_EXIT_FILE \
    -u TEST_SHARD_INDEX -u TEST_TOTAL_SHARDS -u TEST_SHARD_STATUS_FILE \
    BASH_XTRACEFD=7 bash -x -euo pipefail "$script" 7>"$trace"; then
  echo "run_guide_test: a command of $(basename "$guide") failed; the last commands run:" >&2
  tail -n 15 "$trace" >&2
  exit 1
fi
echo "guide $(basename "$guide"): every command ran"
