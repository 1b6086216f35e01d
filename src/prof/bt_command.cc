// `bt [CPU|all]`: each chosen CPU's registers and backtrace, taken by its
// own NMI handler wherever it is (interrupts off included), printed here
// one CPU at a time.
#include "src/arch/console.h"
#include "src/arch/smp_boot.h"
#include "src/base/str.h"
#include "src/monitor/command.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/snapshot.h"
#include "src/sched/sync.h"

namespace prof {
namespace {

using arch::kprint;
using base::StrView;

// One asker at a time: each CPU has one snapshot.
constinit sched::Mutex bt_lock;

// A CPU answers within microseconds; a second covers a loaded emulator.
constexpr uint64_t kAnswerNs = 1'000'000'000;

bool online(uint32_t cpu) { return cpu == 0 || arch::ap_is_online(arch::CpuIndex(cpu)); }

bool show(uint32_t cpu) REQUIRES(bt_lock) {
  base::Status s = request_snapshot(cpu, kAnswerNs);
  if (!s.ok()) {
    kprint("cpu {}: {}\n", cpu,
           s.error() == base::Error::kTimedOut ? "no answer to the NMI within a second" : "not online");
    return false;
  }
  arch::console_lock();
  print_snapshot(arch::console_sink(), cpu, cpu_prof(cpu)->snapshot);
  arch::console_unlock();
  return true;
}

MONITOR_COMMAND(bt, "[CPU | all]", "a CPU's registers and backtrace (all CPUs by default), taken by NMI") {
  if (prof_cpus() == 0) {
    kprint("bt: CPUs cannot be asked before prof_init\n");
    return false;
  }
  while (!args.empty() && args[args.size() - 1] == ' ') args = args.substr(0, args.size() - 1);
  sched::MutexGuard guard(bt_lock);
  if (args.empty() || args == StrView("all")) {
    bool ok = true;
    for (uint32_t cpu = 0; cpu < prof_cpus(); ++cpu) {
      if (online(cpu)) ok = show(cpu) && ok;
    }
    return ok;
  }
  uint32_t cpu = 0;
  bool digits = args.size() <= 4;
  for (char c : args) {
    if (c < '0' || c > '9')
      digits = false;
    else
      cpu = cpu * 10 + static_cast<uint32_t>(c - '0');
  }
  if (!digits || cpu >= prof_cpus() || !online(cpu)) {
    kprint("bt: '{}' is not an online CPU (0 to {}) or all\n", args, prof_cpus() - 1);
    return false;
  }
  return show(cpu);
}

}  // namespace
}  // namespace prof
