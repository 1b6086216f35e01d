#!/usr/bin/env bash
# Profiles a workload: boots kernel.iso in QEMU with the workload's command
# line plus prof.start=HZ (the kernel samples from boot, runs the jobs,
# prints its `prof dump` and powers off), keeps the serial output, and runs
# profile_tool on it. `bazel run //:profile -- [options]`:
#   --out DIR        where serial.log, profile.pb.gz, folded.txt and
#                    flame.svg go (required; relative to where bazel ran)
#   --cmdline "..."  the workload's kernel arguments (required), e.g.
#                    'bench=sched' or 'test=sched.*'
#   --smp N          CPUs (default 1)
#   --hz HZ          samples per second per CPU (default 1000)
#   --mem SIZE       memory, QEMU syntax (default 256M)
#   --top N          rows of the table printed at the end (default 20)
#   --timeout S      give up on the boot after S seconds (default 600)
# Exit status: 0 profile written; 1 the kernel reported failure (the
# profile is still written if its dump is complete) or the capture is
# unusable; 2 a usage error; 3-5 as tools/qemu.sh (QEMU failed, the kernel
# stopped without ending the run, the timeout passed).
set -euo pipefail
iso="" elf="" qemu="" tool="" out="" cmdline="" smp=1 hz=1000 mem=256M top=20 timeout_s=600
usage() {
  echo "profile: $1" >&2
  echo "usage: bazel run //:profile -- --out DIR --cmdline '...' [--smp N] [--hz HZ] [--mem SIZE] [--top N] [--timeout S]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --iso|--elf|--qemu|--tool|--out|--cmdline|--smp|--hz|--mem|--top|--timeout)
      [ $# -ge 2 ] || usage "$1 needs a value"
      v=$2
      case "$1" in
        --iso) iso=$v ;; --elf) elf=$v ;; --qemu) qemu=$v ;; --tool) tool=$v ;;
        --out) out=$v ;; --cmdline) cmdline=$v ;; --smp) smp=$v ;; --hz) hz=$v ;;
        --mem) mem=$v ;; --top) top=$v ;; --timeout) timeout_s=$v ;;
      esac
      shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage "unknown argument '$1'" ;;
  esac
done
[ -n "$iso" ] && [ -n "$elf" ] && [ -n "$qemu" ] && [ -n "$tool" ] ||
  usage "--iso, --elf, --qemu and --tool are set by the //:profile target; run it with bazel run"
[ -n "$out" ] || usage "--out DIR is required"
[ -n "$cmdline" ] || usage "--cmdline is required: the workload to profile, e.g. --cmdline 'bench=sched'"
whole() { case "$2" in ''|*[!0-9]*|0*) usage "$1 takes a whole number from $3 to $4, not '$2'" ;; esac
          [ "$2" -le "$4" ] || usage "$1 takes a whole number from $3 to $4, not '$2'"; }
whole --smp "$smp" 1 256
whole --hz "$hz" 1 100000
whole --top "$top" 1 100000
whole --timeout "$timeout_s" 1 86400
case "$cmdline" in
  *prof.start=*) usage "--cmdline must not set prof.start; use --hz" ;;
esac

# bazel run executes in the runfiles tree; the user's paths are relative to
# where they typed the command.
case "$out" in
  /*) ;;
  *) out="${BUILD_WORKING_DIRECTORY:-$PWD}/$out" ;;
esac
mkdir -p "$out" || usage "cannot create --out directory '$out'"
log="$out/serial.log"

echo "profile: booting with '$cmdline prof.start=$hz' on $smp CPU(s); serial output in $log" >&2
set +e
"$qemu" --iso "$iso" --smp "$smp" --mem "$mem" --timeout "$timeout_s" \
  --cmdline "$cmdline prof.start=$hz" </dev/null >"$log"
status=$?
set -e
case $status in
  0|1) ;;  # the run ended (passing or not): the dump was printed before power-off
  *) echo "profile: the boot did not end normally (tools/qemu.sh status $status); see $log" >&2
     exit "$status" ;;
esac
"$tool" --capture "$log" --elf "$elf" --out "$out" --top "$top" || exit 1
if [ "$status" = 1 ]; then
  echo "profile: the kernel reported failure (see $log); the profile above is of that run" >&2
  exit 1
fi
