// `cpus offline N` / `cpus online N` (see cpu_hotplug_command.h).
#include "src/sched/cpu_hotplug_command.h"

#include "src/arch/console.h"
#include "src/base/result.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"

namespace sched {
namespace {

using arch::kprint;

// A CPU index in decimal: digits only, below sched_cpus().
bool parse_cpu(base::StrView s, uint32_t* cpu) {
  if (s.empty() || s.size() > 4) return false;
  uint32_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<uint32_t>(ch - '0');
  }
  *cpu = v;
  return true;
}

void report_unpinned(const sched::Thread& t, void*) {
  kprint("  thread {} '{}' was bound to the CPU; its affinity is now any\n", t.tid, t.name);
}

}  // namespace

bool cpus_hotplug_command(base::StrView args) {
  size_t sp = args.find(' ');
  base::StrView verb = args.substr(0, sp);
  base::StrView rest = sp == base::StrView::npos ? base::StrView() : args.substr(sp + 1);
  while (!rest.empty() && rest[0] == ' ') rest = rest.substr(1);
  uint32_t cpu = 0;
  bool offline = verb == "offline";
  if ((!offline && verb != "online") || !parse_cpu(rest, &cpu)) {
    kprint("usage: cpus [offline N | online N] (N: a CPU index from 0 to {})\n", sched::sched_cpus() - 1);
    return false;
  }
  if (cpu >= sched::sched_cpus()) {
    kprint("cpus {}: no cpu {} (CPUs 0 to {})\n", verb, cpu, sched::sched_cpus() - 1);
    return false;
  }
  if (offline) {
    if (const char* why = sched::offline_refusal(arch::CpuIndex(cpu))) {
      kprint("cpus offline: cpu {} stays online: {}\n", cpu, why);
      return false;
    }
    base::Result<size_t> n = sched::cpu_offline(arch::CpuIndex(cpu), report_unpinned, nullptr);
    if (!n.ok()) {
      kprint("cpus offline: cpu {}: {}\n", cpu, base::error_name(n.error()));
      return false;
    }
    kprint("cpu {} offline; {} bound threads unpinned, its queue, timers and caches handed on\n", cpu, n.value());
    return true;
  }
  if (!sched::cpu_is_offline(arch::CpuIndex(cpu))) {
    kprint("cpus online: cpu {} is not offline\n", cpu);
    return false;
  }
  base::Status s = sched::cpu_online(arch::CpuIndex(cpu));
  if (!s.ok()) {
    kprint("cpus online: cpu {}: {}\n", cpu, base::error_name(s.error()));
    return false;
  }
  kprint("cpu {} online\n", cpu);
  return true;
}

}  // namespace sched
