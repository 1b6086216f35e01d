#!/usr/bin/env bash
# Tests tools/gdb/biscotti.py against a booted kernel: Debian's gdb, in
# batch mode, drives QEMU (TCG, 2 CPUs) through its gdb stub, and each
# command's output is checked. Two boots, each stopped at a breakpoint, so
# nothing waits on time (gdb runs QEMU itself over a pipe, `-gdb stdio`: no
# port to collide with other tests):
#   1. the monitor's prompt (monitor::wait_for_console_input): bthreads, bcpu,
#      bmem, bbt of threads on a CPU, and every argument error;
#   2. `run="top 3"` stopped in the sleep timer that wakes kmain: bbt of a
#      switched-out thread, walked from its switch frame down to the boot
#      entry.
set -uo pipefail
iso=$1 elf=$2 script=$3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v gdb >/dev/null || { echo "FAIL: gdb not found (tools/bazel installs it)"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "FAIL: qemu-system-x86_64 not found"; exit 1; }

# run_gdb NAME CMDLINE STAGE... -- COMMAND...: boots with CMDLINE and runs
# to each STAGE breakpoint in turn, then runs each COMMAND (each its own
# -ex, so an error in one, which some must print, does not end the rest).
# Output, with "=== COMMAND" before each, goes to $tmp/NAME.out.
run_gdb() {
  local name=$1 cmdline=$2
  shift 2
  # gdb hands the command to /bin/sh: quote each word (QEMU's own syntax
  # writes a literal comma twice).
  local qemu
  qemu="exec qemu-system-x86_64 -machine pc -cpu qemu64 -smp 2 -m 256M -cdrom $(printf %q "$iso") -boot d"
  qemu+=" -display none -no-reboot -serial $(printf %q "file:$tmp/$name.serial") -gdb stdio -S"
  qemu+=" -fw_cfg $(printf %q "name=opt/biscotti/cmdline,string=${cmdline//,/,,}")"
  local ex=(-ex "set pagination off" -ex "set confirm off" -ex "set remotetimeout 120"
    -ex "file $elf" -ex "source $script" -ex "target remote | $qemu")
  while [ "$1" != "--" ]; do
    ex+=(-ex "delete" -ex "hbreak $1" -ex "continue")
    shift
  done
  shift
  for c in "$@"; do ex+=(-ex "echo === $c\\n" -ex "$c"); done
  ex+=(-ex "kill")
  # Generous: a TCG boot beside other QEMUs on a 2-core host.
  timeout 300 gdb -nx -batch "${ex[@]}" </dev/null >"$tmp/$name.out" 2>&1
  echo "=== end" >>"$tmp/$name.out"
}

# section NAME COMMAND: that command's output in run NAME.
section() {
  awk -v want="=== $2" '$0 == want { on = 1; next } /^=== / { on = 0 } on' "$tmp/$1.out"
}

fail() {
  echo "FAIL: $1"
  [ -n "${2:-}" ] && { echo "--- output of run $2:"; cat "$tmp/$2.out"; echo "--- serial:"; cat "$tmp/$2.serial" 2>/dev/null; }
  exit 1
}

# expect RUN COMMAND REGEX...: each regex matches a line of the command's output.
expect() {
  local run=$1 cmd=$2 out
  shift 2
  out=$(section "$run" "$cmd")
  for re in "$@"; do
    grep -Eq -- "$re" <<<"$out" || fail "'$cmd' printed no line matching /$re/:
$out" "$run"
  done
}

# --- 1. At the prompt. -------------------------------------------------------
# bbt runs on ids 1 to 4, so that one boot serves: the checks below pick
# the ids bthreads showed (a missing id just prints its error).
run_gdb prompt "console=ttyS0" "monitor::wait_for_console_input" -- \
  bthreads "bcpu 0" "bcpu 1" bmem "bbt 1" "bbt 2" "bbt 3" "bbt 4" \
  "bcpu 2" "bcpu -1" "bcpu one" "bcpu" "bmem now" "bbt 99999" "bbt x" "bthreads all"
grep -q "hit Breakpoint .*monitor::wait_for_console_input" "$tmp/prompt.out" || fail "the prompt's breakpoint was never hit" prompt
grep -q "^biscotti> " "$tmp/prompt.serial" || fail "no prompt on the serial console" prompt

threads=$(section prompt bthreads)
# kmain runs the monitor on a CPU; each CPU has its idle thread.
expect prompt bthreads '^ +TID +NAME +STATE +CPU +LAST +THREAD$' '^ +[0-9]+ +kmain +running +[01] +[01] +0x[0-9a-f]+$' '^[3-9][0-9]* threads$'
[ "$(grep -cE '^ +[0-9]+ +idle +idle ' <<<"$threads")" = 2 ] || fail "bthreads lists not 2 idle threads" prompt
kmain_tid=$(awk '$2 == "kmain" { print $1 }' <<<"$threads")
kmain_cpu=$(awk '$2 == "kmain" { print $4 }' <<<"$threads")
other_cpu=$((1 - kmain_cpu))
# The idle thread on the other CPU is the one running there.
idle_tid=$(awk -v c="$other_cpu" '$2 == "idle" && $4 == c { print $1 }' <<<"$threads")
[ -n "$idle_tid" ] || fail "no idle thread on CPU $other_cpu, which kmain does not run on" prompt

for cpu in 0 1; do
  expect prompt "bcpu $cpu" "^CPU $cpu: arch::PerCpu at 0x[0-9a-f]+, gdb thread [12]$" "^  index +$cpu$" \
    "^  self +0x[0-9a-f]+" "^  current_thread +0x[0-9a-f]+ \\(tid [0-9]+ '(kmain|idle)'\\)$" \
    "^sched::CpuSched at 0x[0-9a-f]+:$" "^  idle +0x[0-9a-f]+ \\(tid [0-9]+ 'idle'\\)$" "^  running +true$" \
    "^  bound_queued +[0-9]+$"
done
expect prompt "bcpu $kmain_cpu" "^  current_thread +0x[0-9a-f]+ \\(tid $kmain_tid 'kmain'\\)$"
# Two CPUs, two vCPUs: each block is some vCPU's GS base, not the same one.
[ "$(section prompt "bcpu 0" | head -1 | awk '{ print $NF }')" != "$(section prompt "bcpu 1" | head -1 | awk '{ print $NF }')" ] ||
  fail "bcpu 0 and bcpu 1 name the same vCPU" prompt

expect prompt bmem '^pages: [1-9][0-9]* managed \([0-9]+ KiB\), [1-9][0-9]* free ' '^free blocks by order: 0:[0-9]+ ' \
  '^heap: [1-9][0-9]* small objects live, [0-9]+ large \([0-9]+ pages\), [0-9]+ huge \([0-9]+ bytes\); pages held [1-9][0-9]* \(spans [1-9][0-9]*, metadata [1-9][0-9]*\)'
read -r managed free < <(section prompt bmem | sed -nE 's/^pages: ([0-9]+) managed .*, ([0-9]+) free .*/\1 \2/p')
[ "$free" -lt "$managed" ] || fail "bmem: $free pages free of $managed managed" prompt

expect prompt "bcpu 2" '^bcpu: no CPU 2: this boot has 2 \(0 to 1\)$'
expect prompt "bcpu -1" '^bcpu: no CPU -1: this boot has 2 \(0 to 1\)$'
expect prompt "bcpu one" "^bcpu: 'one' is not a number \\(usage: bcpu N\\)$"
expect prompt "bcpu" '^usage: bcpu N$'
expect prompt "bmem now" '^bmem takes no arguments$'
expect prompt "bbt 99999" '^bbt: no live thread has id 99999 \(bthreads lists them\)$'
expect prompt "bbt x" "^bbt: 'x' is not a number \\(usage: bbt TID\\)$"
expect prompt "bthreads all" '^bthreads takes no arguments$'

# Threads on a CPU: gdb's own backtrace from that vCPU's registers. kmain's
# ends in the boot entry; an AP's idle thread in the AP's start.
expect prompt "bbt $kmain_tid" "^thread $kmain_tid 'kmain' is on CPU $kmain_cpu \\(gdb thread [12]\\), from its registers:$" \
  '^#0 +monitor::wait_for_console_input ' ' in monitor::monitor_loop ' ' in kmain ' ' in higher_half_entry '
# (CPU 0's idle thread was spawned: its stack starts in thread_first_run.)
idle_root=' in arch::\(anonymous namespace\)::ap_start '
[ "$other_cpu" = 0 ] && idle_root=' in thread_first_run '
expect prompt "bbt $idle_tid" "^thread $idle_tid 'idle' is on CPU $other_cpu \\(gdb thread [12]\\), from its registers:$" \
  'idle_loop' "$idle_root"

# --- 2. A switched-out thread. -------------------------------------------------
# Stopped first in `top` itself, then where kmain's sleep timer fires: kmain
# is asleep with switch_context's frame on its stack. The condition skips a
# firing that beats the end of the switch (a timer homed on another CPU,
# the switching vCPU descheduled by a loaded host). It reads the thread
# from RSI, the timer callback's second argument, at the function's first
# instruction (where the System V ABI fixes it; gdb's own breakpoint after
# the prologue lies in an inlined store that does not see `arg`).
# `mem` runs first, so that bmem's figures can be checked against the
# kernel's own.
run_gdb sleeping 'run="mem; top 3"' "sched::(anonymous namespace)::monitor_command_fn_top" \
  "*'sched::(anonymous namespace)::on_sleep_timer' if ((sched::Thread *) \$rsi)->on_cpu.v_ == 0" -- \
  bthreads "bbt $kmain_tid" bmem
expect sleeping bthreads "^ +$kmain_tid +kmain +sleeping +- +[01] +0x[0-9a-f]+$"
bt=$(section sleeping "bbt $kmain_tid")
expect sleeping "bbt $kmain_tid" "^thread $kmain_tid 'kmain' is sleeping, from its switch frame at 0x[0-9a-f]+:$" \
  '^#0  switch_context$' ' in sched::sleep_until\(' ' in sched::\(anonymous namespace\)::wait_a_second\(' \
  ' in monitor::run_jobs\(' ' in kmain\('
# Pages managed never change after boot: bmem and `mem` must agree.
kernel_managed=$(sed -nE 's/^pages: ([0-9]+) managed, .*/\1/p' "$tmp/sleeping.serial" | tr -d '\r')
[ -n "$kernel_managed" ] || fail "mem printed no 'pages: N managed' line" sleeping
expect sleeping bmem "^pages: $kernel_managed managed "
# The walk ends at the root: kmain's caller, the boot entry.
last=$(grep -E '^#[0-9]+ ' <<<"$bt" | tail -1)
grep -q ' in higher_half_entry' <<<"$last" || fail "kmain's backtrace ends in '$last', not the boot entry" sleeping

echo "gdb helpers: bthreads, bcpu, bbt (on a CPU and switched out) and bmem on a 2-CPU boot; every argument error"
