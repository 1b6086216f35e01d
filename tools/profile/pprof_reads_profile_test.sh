#!/usr/bin/env bash
# The end of the host pipeline, checked by the real reader: a synthetic
# capture of a host binary (the symbolizer fixture) goes through
# profile_tool, and `go tool pprof -top` must read profile.pb.gz and name
# the fixture's functions, the inlined one included; -tagfocus on the cpu
# label must select one CPU's samples, CPU 0's included (issue 13, item 9);
# a sample's LBR branch (main -> profile_fixture_outer) must read as a
# kind=lbr sample that counts but adds no CPU time (item 2).
# Usage: pprof_reads_profile_test.sh PROFILE_TOOL FIXTURE_ELF
set -euo pipefail
tool=$1 elf=$2
command -v go >/dev/null || { echo "go not found: run tools/bazel, which installs golang-go" >&2; exit 1; }
# Bazel's strict test environment has no HOME; go wants a cache, and must
# not reach for the network (CI has only loopback): the profile is all it reads.
export HOME=$TEST_TMPDIR GOCACHE=$TEST_TMPDIR/gocache GOPATH=$TEST_TMPDIR/gopath GOPROXY=off

id=$(llvm-readelf-14 -n "$elf" | sed -n 's/.*Build ID: //p')
[ -n "$id" ] || { echo "no build id in $elf" >&2; exit 1; }
addr() { llvm-nm-14 "$elf" | awk -v n="$1" '$3 == n { print $1 }' | sed 's/^0*//'; }
outer=$(addr profile_fixture_outer) main=$(addr main)
[ -n "$outer" ] && [ -n "$main" ] || { echo "fixture symbols not found" >&2; exit 1; }
# A return address inside main: its start + 4 (looked up at + 3).
ret=$(printf '%x' $((0x$main + 4)))

log=$TEST_TMPDIR/serial.log
{
  echo "biscotti 0.1.0 build $id"
  echo "prof-dump begin v1 build-id=$id hz=1000 period_ns=1000000 cpus=2"
  echo "s 0 1 thread 2 1 $outer $ret lbr $main>$outer"
  for i in 2 3; do echo "s 0 1 thread 2 $i $outer $ret"; done
  echo "s 1 2 interrupt 0 4 $ret"
  echo "prof-dump end samples=4 dropped=0"
} >"$log"
out=$TEST_TMPDIR/out
"$tool" --capture "$log" --elf "$elf" --out "$out" --top 5 >"$TEST_TMPDIR/top.txt"
cat "$TEST_TMPDIR/top.txt"
grep -q "^4 samples at 1000 Hz on 2 CPUs, 0 dropped$" "$TEST_TMPDIR/top.txt"
grep -Eq "^ +75\.00 +75\.00  profile_fixture_leaf" "$TEST_TMPDIR/top.txt"

fail() { echo "FAIL: $*" >&2; exit 1; }
top=$(go tool pprof -top "$out/profile.pb.gz" 2>&1) || fail "go tool pprof failed: $top"
echo "$top"
grep -q "profile_fixture_leaf" <<<"$top" || fail "pprof -top does not name the inlined function"
grep -q "profile_fixture_outer" <<<"$top" || fail "pprof -top does not name profile_fixture_outer"
grep -q "^Type: cpu$" <<<"$top" || fail "sample type is not cpu"
cpu1=$(go tool pprof -top -tagfocus=cpu=1 "$out/profile.pb.gz" 2>&1) || fail "pprof -tagfocus failed: $cpu1"
echo "$cpu1"
grep -q "main" <<<"$cpu1" || fail "-tagfocus cpu=1 lost cpu 1's sample"
! grep -q "profile_fixture_outer" <<<"$cpu1" || fail "-tagfocus cpu=1 kept cpu 0's samples"
cpu0=$(go tool pprof -top -tagfocus=cpu=0 "$out/profile.pb.gz" 2>&1) || fail "pprof -tagfocus failed: $cpu0"
echo "$cpu0"
grep -q "profile_fixture_outer" <<<"$cpu0" || fail "-tagfocus cpu=0 lost cpu 0's samples"
# main only as profile_fixture_outer's caller: none of cpu 1's sample, which
# is main's own.
grep -Eq "^ +0 +0% .* main$" <<<"$cpu0" || fail "-tagfocus cpu=0 kept cpu 1's sample"
go tool pprof -top -tagfocus=mode=interrupt "$out/profile.pb.gz" 2>&1 | grep -q "main" ||
  fail "-tagfocus mode=interrupt lost the interrupt sample"
# The branch: one sample of its own (of 5: the 4 stacks count too), target
# as leaf -- outer's first instruction, where the fixture inlined the leaf
# -- and the branch (main) as its caller; none of the CPU time.
lbr=$(go tool pprof -top -sample_index=samples -tagfocus=kind=lbr "$out/profile.pb.gz" 2>&1) ||
  fail "pprof -tagfocus kind=lbr failed: $lbr"
echo "$lbr"
grep -Eq "^Showing nodes accounting for 1, 20.00% of 5 total$" <<<"$lbr" || fail "not one kind=lbr sample of 5"
grep -Eq "^ +1 +20.00% +20.00% +1 +20.00% +profile_fixture_leaf\(int\) \(inline\)$" <<<"$lbr" ||
  fail "the branch target is not the leaf"
grep -Eq "^ +0 +0% +20.00% +1 +20.00% +profile_fixture_outer$" <<<"$lbr" || fail "the target's function is missing"
grep -Eq "^ +0 +0% +20.00% +1 +20.00% +main$" <<<"$lbr" || fail "the branch is not the target's caller"
nolbr=$(go tool pprof -top -sample_index=samples -tagignore=kind=lbr "$out/profile.pb.gz" 2>&1) ||
  fail "pprof -tagignore kind=lbr failed: $nolbr"
echo "$nolbr"
grep -Eq "^Showing nodes accounting for 4, 80.00% of 5 total$" <<<"$nolbr" || fail "-tagignore kind=lbr does not leave the 4 samples"
cpu=$(go tool pprof -top "$out/profile.pb.gz" 2>&1)
grep -Eq "^Showing nodes accounting for 4ms, 100% of 4ms total$" <<<"$cpu" || fail "the branch added CPU time"
echo PASS
