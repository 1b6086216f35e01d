#!/usr/bin/env bash
# tools/fuzz.bzl's fuzz_test, run on a target with planted faults
# (planted_fuzz.cc): it passes with nothing planted, fails on a crash, a
# leak, a hang (an input over -timeout) and an allocation over
# -rss_limit_mb, and its final line says which, with the execution count,
# time and corpus size that tools/reliability_table.py reads.
set -euo pipefail
fuzz=$1
fail() { echo "FAIL: $*"; exit 1; }
# $1: PLANTED_FAULT, $2: the exit expected (pass/fail), $3: the end of the
# final line expected, the rest: more libFuzzer flags (the last one wins).
# The fuzzer runs 2 s at most.
check() {
  local fault=$1 want=$2 tail=$3 out status=0
  shift 3
  out=$(PLANTED_FAULT=$fault "$fuzz" -max_total_time=2 "$@" 2>&1) || status=$?
  if [ "$want" = pass ] && [ "$status" != 0 ]; then fail "'$fault' failed (status $status): $(tail -20 <<<"$out")"; fi
  if [ "$want" = fail ] && [ "$status" = 0 ]; then fail "'$fault' passed"; fi
  last=$(tail -1 <<<"$out")
  grep -qE "^fuzz: //tools/fuzz:planted_fuzz [1-9][0-9]* executions in [0-9]+ s, corpus [1-9][0-9]* inputs, $tail$" \
    <<<"$last" || fail "'$fault': final line '$last', expected '... $tail'"
  echo "$fault: $last"
}
check none pass "crashes 0, leaks 0, timeouts 0"
check crash fail "crashes 1, leaks 0, timeouts 0"
check leak fail "crashes 0, leaks 1, timeouts 0"
# The hang with fuzz_test's own 5 s would take 5 s; the other faults keep
# it (reporting one, with a symbolized stack, can take over a second).
check hang fail "crashes 0, leaks 0, timeouts 1" -timeout=1
check oom fail "crashes 1, leaks 0, timeouts 0"
echo PASS
