#!/usr/bin/env bash
# Runs a Python unittest file with Debian's python3: Bazel's py_test stub
# would need a `python` on PATH, which Debian 12 (and the test sandbox's
# strict PATH) lacks. The modules it imports sit beside it in runfiles.
set -euo pipefail
exec python3 -B "$1"
