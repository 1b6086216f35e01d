#!/usr/bin/env bash
# clang-tidy-14 (.clang-tidy) over the tree's C++ sources with their real
# compile commands (tools/compdb), kernel and host alike; every finding is
# an error. The test sources (*_test.cc, *_fuzz.cc, host benchmarks) are
# left out: GoogleTest's and Benchmark's headers make each one take ~15 s
# to analyse (90 files), and they are checked by the compiler's -Werror.
#   tools/tidy_check.sh              (from the workspace, or as //:tidy_check)
set -euo pipefail
if [ -n "${TEST_SRCDIR:-}" ]; then
  root=$(dirname "$(readlink -f "$TEST_SRCDIR/biscotti/WORKSPACE")")
else
  root=$(cd "$(dirname "$0")/.." && pwd)
fi
cd "$root"
command -v clang-tidy-14 >/dev/null || { echo "tidy_check: clang-tidy-14 not found; run tools/bazel to install it" >&2; exit 2; }
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/tidy.XXXXXX")
db="$tmp/db"
mkdir -p "$db"
bazel_root="$tmp/bazel"
cleanup() { tools/bazel "--output_user_root=$bazel_root" shutdown >/dev/null 2>&1 || true; }
trap cleanup EXIT
# A Bazel of its own (the caller's may be busy running this very test),
# over named packages: with its own output base it would take the
# checkout's bazel-* links for packages.
python3 tools/compdb/compdb.py --out "$db/compile_commands.json" --startup-arg="--output_user_root=$bazel_root" \
  --bazel-arg=--experimental_convenience_symlinks=ignore //src/... //examples/... //tools/... >"$tmp/compdb.log" 2>&1 \
  || { cat "$tmp/compdb.log"; exit 1; }
python3 - "$db/compile_commands.json" "$root" >"$tmp/files" <<'EOF'
import json, re, sys
db, root = sys.argv[1], sys.argv[2] + "/"
for e in json.load(open(db)):
    f = e["file"]
    if f.startswith(root) and f.endswith(".cc") and not re.search(r"(_test|_fuzz|_host_bench)\.cc$", f):
        print(f)
EOF
n=$(wc -l <"$tmp/files")
[ "$n" -gt 100 ] || { echo "tidy_check: only $n files in the compile commands; expected the whole tree"; exit 1; }
echo "tidy_check: clang-tidy-14 on $n files"
status=0
xargs -P "$(nproc)" -n 8 clang-tidy-14 -p "$db" --quiet <"$tmp/files" >"$tmp/tidy.log" 2>/dev/null || status=$?
if grep -E "(error|warning):" "$tmp/tidy.log" >"$tmp/findings"; then
  sort -u "$tmp/findings"
  echo "tidy_check: $(sort -u "$tmp/findings" | wc -l) findings (.clang-tidy says what is checked and why)"
  exit 1
fi
[ "$status" = 0 ] || { cat "$tmp/tidy.log"; echo "tidy_check: clang-tidy failed (status $status)"; exit 1; }
echo "tidy_check: $n files, no findings"
