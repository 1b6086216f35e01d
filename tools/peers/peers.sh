#!/usr/bin/env bash
# The //tools/peers target: runs peers.py (see there) with Debian's python3.
# A py_binary's stub would need a `python` on PATH, which Debian 12 lacks.
set -euo pipefail
command -v python3 >/dev/null || { echo "peers: python3 not found; run tools/bazel to install it" >&2; exit 2; }
# bazel run starts us at the root of our runfiles, where the target's data
# (peers.py and its modules, the benchmarks' sources) lie.
[ -f tools/peers/peers.py ] || { echo "peers: run this with tools/bazel run //tools/peers" >&2; exit 2; }
exec python3 -B tools/peers/peers.py "$@"
