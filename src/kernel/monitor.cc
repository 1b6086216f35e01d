// Monitor commands (see monitor.h).
#include "src/kernel/monitor.h"

#include "src/arch/qemu_exit.h"
#include "src/arch/x86.h"
#include "src/kernel/console.h"
#include "src/kernel/cpu_hotplug_command.h"
#include "src/kernel/cpus.h"
#include "src/kernel/bench.h"
#include "src/kernel/ktest.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"
#include "src/kernel/line_editor.h"
#include "src/kernel/mm_stats.h"
#include "src/kernel/version.h"

namespace kernel {
namespace {

base::StrView trim(base::StrView s) {
  size_t b = 0, e = s.size();
  while (b < e && s[b] == ' ') ++b;
  while (e > b && s[e - 1] == ' ') --e;
  return s.substr(b, e - b);
}

// Splits "cmd rest" at the first space.
void split_word(base::StrView line, base::StrView* word, base::StrView* rest) {
  size_t sp = line.find(' ');
  *word = line.substr(0, sp);
  *rest = sp == base::StrView::npos ? base::StrView() : trim(line.substr(sp + 1));
}

bool run_tests(base::StrView glob) {
  if (glob.empty()) glob = "*";
  KTestSummary s = run_ktests(glob);
  if (s.passed + s.failed == 0) {
    kprint("no in-kernel test matches '{}'\n", glob);
    return false;
  }
  kprint("{} passed, {} failed\n", s.passed, s.failed);
  return s.failed == 0;
}

}  // namespace

bool monitor_execute(base::StrView line, const BootState& boot) {
  base::StrView cmd, arg;
  split_word(trim(line), &cmd, &arg);
  if (cmd.empty()) return true;
  if (cmd == "help") {
    kprint("commands:\n"
           "  help          this list\n"
           "  version       name, version, build id\n"
           "  mem           usable memory found at boot\n"
           "  cpus          CPUs online, their APIC ids and interrupt counts\n"
           "  cpus offline N / cpus online N   take CPU N out of scheduling, or back\n"
           "  test [GLOB]   run in-kernel tests matching GLOB (default *)\n"
           "  threads       every thread: state, CPU, run time, switches\n"
           "  bench [GLOB]  run benchmarks matching GLOB or a suite name (default *)\n"
           "  poweroff      end the run (QEMU exits)\n");
    return true;
  }
  if (cmd == "version") {
    print_version_line();
    return true;
  }
  if (cmd == "mem") {
    kprint("usable memory: {} bytes ({} MiB) in {} ranges, highest usable address {:#x}\n",
           boot.usable_bytes, boot.usable_bytes >> 20, boot.memory_ranges, boot.highest_usable_end);
    print_mm_stats();
    return true;
  }
  if (cmd == "cpus") {
    if (!arg.empty()) return cpus_hotplug_command(arg);
    uint32_t offline = 0;
    for (uint32_t i = 0; i < cpus_online(); ++i) offline += sched::cpu_is_offline(i) ? 1 : 0;
    kprint("{} found, {} online, {} skipped; TSC {} kHz, LAPIC timer {} kHz\n", cpus_found(), cpus_online(),
           cpus_skipped(), clock_info().tsc_hz / 1000, clock_info().lapic_timer_hz / 1000);
    if (offline != 0) kprint("{} taken offline (cpus online N brings one back)\n", offline);
    for (uint32_t i = 0; i < cpus_online(); ++i) {
      const arch::PerCpu& c = cpu_block(i);
      kprint("  cpu {:<3} apic {:<3} timer ticks {:<10} ipis {:<6} nmis {}\n", c.index, c.apic_id,
             __atomic_load_n(&c.timer_ticks, __ATOMIC_RELAXED), __atomic_load_n(&c.ipis_received, __ATOMIC_RELAXED),
             __atomic_load_n(&c.nmis_received, __ATOMIC_RELAXED));
      sched::CpuStats st = sched::cpu_stats(i);
      if (sched::cpu_is_offline(i)) kprint("          offline\n");
      kprint("          sched: switches {} preemptions {} steals {} idle {} ms queued {} wakeups {} tick-wakeps {}\n",
             st.switches, st.preemptions, st.steals, st.idle_ns / 1'000'000, st.queued, st.wakeups_sent,
             st.tick_wakeps);
    }
    sched::IdleInvariantReport idle = sched::idle_invariant_report();
    if (idle.violations == 0)
      kprint("idle invariant: held (no thread queued over {} us while a CPU was halted)\n", idle.bound_ns / 1000);
    else
      kprint("idle invariant: {} violations; first: cpu {} halted for {} us while a thread queued on cpu {} "
             "waited {} us ({} queued there, {} CPUs spinning)\n",
             idle.violations, idle.first_idle_cpu, idle.first_halted_ns / 1000, idle.first_busy_cpu,
             idle.first_waited_ns / 1000, idle.first_queued, idle.first_spinning);
    return true;
  }
  if (cmd == "threads") {
    kprint("  tid  name                     state     cpu affinity  run ms  voluntary involuntary\n");
    size_t n = sched::for_each_thread(
        [](const sched::Thread& t, void*) {
          sched::ThreadStats st = sched::thread_stats(&t);
          uint32_t aff = t.affinity.load(base::MemoryOrder::kRelaxed);
          char affinity[12];
          if (aff == sched::kAnyCpu)
            base::format_to(affinity, sizeof(affinity), "any");
          else
            base::format_to(affinity, sizeof(affinity), "{}", aff);
          kprint("  {:<4} {:<24} {:<9} {:<3} {:<9} {:<7} {:<9} {}\n", t.tid, t.name, sched::state_name(t.get_state()),
                 st.last_cpu, affinity, st.run_ns / 1'000'000, st.voluntary, st.involuntary);
        },
        nullptr);
    kprint("{} threads\n", n);
    return true;
  }
  if (cmd == "test") return run_tests(arg);
  if (cmd == "bench") {
    if (run_benches(arg.empty() ? base::StrView("*") : arg) != 0) return true;
    kprint("no benchmark matches '{}'\n", arg);
    return false;
  }
  if (cmd == "poweroff") {
    kprint("powering off\n");
    arch::qemu_exit(arch::ExitCode::kPass);
  }
  kprint("unknown command '{}'; try 'help'\n", cmd);
  return false;
}

void run_commands(base::StrView script, const BootState& boot) {
  bool ok = true;
  base::for_each_field(script, ';', [&](base::StrView field) {
    base::StrView cmd = trim(field);
    if (!cmd.empty()) {
      kprint("biscotti> {}\n", cmd);
      ok = monitor_execute(cmd, boot) && ok;
    }
    return true;
  });
  kprint("run: {}\n", ok ? "all commands succeeded" : "a command failed");
  arch::qemu_exit(ok ? arch::ExitCode::kPass : arch::ExitCode::kFail);
}

void monitor_loop(const BootState& boot) {
  LineEditor<128> editor(console_sink());
  kprint("biscotti> ");
  for (;;) {
    int c = console_try_read();
    if (c < 0) {
      console_wait_for_input();
      continue;
    }
    if (editor.feed(static_cast<char>(c))) {
      monitor_execute(editor.line(), boot);
      kprint("biscotti> ");
    }
  }
}

}  // namespace kernel
