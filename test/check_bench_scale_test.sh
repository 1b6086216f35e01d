#!/usr/bin/env bash
# The scale check itself: equal figures and one 10% above pass; one just
# past 10% above, and a pair with a side missing, fail with their reason.
set -euo pipefail
check=$1
dir=$TEST_TMPDIR
log() {  # $1: the map+unmap figure with 100,000 mappings (the plain one is 400)
  printf 'bench %s cycles=%s ns=%s\r\n' \
    sched.yield_2_threads 246 246 sched.yield_10000_threads 246 246 \
    sched.spawn_join_empty_thread 1000 1000 sched.spawn_join_with_10000_live_threads 1000 1000 \
    mm.map_unmap_4k 400 400 mm.map_unmap_4k_with_100000_live_mappings "$1" "$1"
}
log 400 >"$dir/equal.log"
"$check" "$dir/equal.log" >/dev/null || { echo "FAIL: equal figures did not pass"; exit 1; }
log 440 >"$dir/at_limit.log"
"$check" "$dir/at_limit.log" >/dev/null || { echo "FAIL: +10% exactly did not pass"; exit 1; }
expect_fail() {  # $1: log, $2: the reason expected
  if out=$("$check" "$1"); then echo "FAIL: $1 passed"; exit 1; fi
  grep -q -- "$2" <<<"$out" || { echo "FAIL: $1 failed without '$2':"; echo "$out"; exit 1; }
}
log 441 >"$dir/over.log"
expect_fail "$dir/over.log" "mm.map_unmap_4k_with_100000_live_mappings: 441 is +10.2% above mm.map_unmap_4k 400"
log 400 | grep -v spawn_join_empty >"$dir/missing.log"
expect_fail "$dir/missing.log" "sched.spawn_join_with_10000_live_threads: did not run: sched.spawn_join_empty_thread"
printf 'bench sched.spawn_join_with_10000_live_threads skipped: needs 79 MiB\r\n' >"$dir/skipped.log"
expect_fail "$dir/skipped.log" "did not run"
echo PASS
