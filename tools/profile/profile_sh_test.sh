#!/usr/bin/env bash
# The //:profile script without a kernel: a stand-in for tools/qemu.sh
# records its arguments, prints a capture of the symbolizer fixture as the
# kernel would, and exits with a chosen qemu.sh status. Checks that the
# workload's command line gets prof.start=HZ, that serial.log and the
# outputs land in --out (relative to BUILD_WORKING_DIRECTORY), how each
# qemu.sh status is passed on, and the usage errors.
# Usage: profile_sh_test.sh PROFILE_SH PROFILE_TOOL FIXTURE_ELF
set -uo pipefail
script=$(realpath "$1") tool=$(realpath "$2") elf=$(realpath "$3")
t=$TEST_TMPDIR
fail() { echo "FAIL: $*" >&2; exit 1; }

id=$(llvm-readelf-14 -n "$elf" | sed -n 's/.*Build ID: //p')
outer=$(llvm-nm-14 "$elf" | awk '$3 == "profile_fixture_outer" { print $1 }' | sed 's/^0*//')
cat >"$t/fake_qemu.sh" <<FAKE
#!/usr/bin/env bash
printf '%s\n' "\$@" >"$t/qemu_args"
echo "biscotti 0.1.0 build $id"
echo "prof-dump begin v1 build-id=$id hz=500 period_ns=2000000 cpus=2"
echo "s 1 3 thread 0 100 $outer"
echo "prof-dump end samples=1 dropped=0"
exit \$(cat "$t/qemu_status")
FAKE
chmod +x "$t/fake_qemu.sh"

run() {  # run ARGS...: the script as //:profile runs it, from $t/ws
  (cd "$t" && BUILD_WORKING_DIRECTORY="$t/ws" "$script" --iso the.iso --elf "$elf" --qemu "$t/fake_qemu.sh" \
    --tool "$tool" "$@" >"$t/stdout" 2>"$t/stderr")
}
mkdir -p "$t/ws"

echo 0 >"$t/qemu_status"
run --out prof-out --cmdline 'bench=sched' --smp 2 --hz 500 || fail "a good run failed: $(cat "$t/stderr")"
grep -qx -- "--cmdline" "$t/qemu_args" && grep -qx "bench=sched prof.start=500" "$t/qemu_args" ||
  fail "qemu.sh got: $(cat "$t/qemu_args")"
grep -qx -- "--smp" "$t/qemu_args" && grep -qx "the.iso" "$t/qemu_args" || fail "qemu.sh got: $(cat "$t/qemu_args")"
for f in serial.log profile.pb.gz folded.txt flame.svg; do
  [ -s "$t/ws/prof-out/$f" ] || fail "no $f in --out"
done
grep -q "^1 samples at 500 Hz on 2 CPUs, 0 dropped$" "$t/stdout" || fail "stdout: $(cat "$t/stdout")"

# The kernel failed its run but printed a complete dump: written, status 1.
echo 1 >"$t/qemu_status"
rm -rf "$t/ws/p1"
run --out p1 --cmdline 'test=x'
[ $? = 1 ] || fail "a failing kernel run did not give status 1"
[ -s "$t/ws/p1/profile.pb.gz" ] || fail "no profile from a failing run with a complete dump"
grep -q "the kernel reported failure" "$t/stderr" || fail "stderr: $(cat "$t/stderr")"

# A hung or crashed boot: qemu.sh's status, and no profile.
for s in 3 4 5; do
  echo $s >"$t/qemu_status"
  rm -rf "$t/ws/p$s"
  run --out "p$s" --cmdline 'bench=sched'
  got=$?
  [ $got = $s ] || fail "qemu.sh status $s gave $got"
  [ ! -e "$t/ws/p$s/profile.pb.gz" ] || fail "status $s still wrote a profile"
  grep -q "tools/qemu.sh status $s" "$t/stderr" || fail "stderr: $(cat "$t/stderr")"
done

# Usage errors: status 2 and a message.
usage() {
  local re=$1
  shift
  run "$@"
  local got=$?
  [ $got = 2 ] || fail "'$*' gave $got, want 2"
  grep -Eq -e "$re" "$t/stderr" || fail "'$*' stderr lacks /$re/: $(cat "$t/stderr")"
}
usage "--out DIR is required" --cmdline 'bench=sched'
usage "--cmdline is required" --out x
usage "--hz takes a whole number from 1 to 100000, not '0'" --out x --cmdline a --hz 0
usage "--hz takes a whole number" --out x --cmdline a --hz 1e3
usage "--smp takes a whole number from 1 to 256, not '300'" --out x --cmdline a --smp 300
usage "--cmdline must not set prof.start; use --hz" --out x --cmdline 'bench=a prof.start=5'
usage "unknown argument '--frobnicate'" --out x --cmdline a --frobnicate
usage "--top needs a value" --out x --cmdline a --top
"$script" --out x --cmdline a >/dev/null 2>"$t/stderr"
[ $? = 2 ] && grep -q "set by the //:profile target" "$t/stderr" || fail "missing target args not caught"
echo PASS
