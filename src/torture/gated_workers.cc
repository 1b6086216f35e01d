// See gated_workers.h.
#include "src/torture/gated_workers.h"

#include "src/arch/console.h"
#include "src/prof/kernel_symbols.h"
#include "src/sched/saved_stack.h"

namespace torture {

using base::MemoryOrder;

namespace {
constexpr const char* kAtTheGate = "parked at the gate";
}  // namespace

void GatedWorkers::fail(const char* what) {
  if (failures_.fetch_add(1, MemoryOrder::kRelaxed) == 0) first_failure_ = what;
}

void GatedWorkers::checkpoint(Worker& w) {
  const char* was = w.doing.load(MemoryOrder::kRelaxed);
  w.set_doing(kAtTheGate);
  gate->checkpoint();
  w.set_doing(was);
}

base::Status GatedWorkers::spawn_workers(Gate* g, void (*fn)(void*), uint64_t seed) {
  gate = g;
  stop_.store(0, MemoryOrder::kRelaxed);
  for (uint32_t i = 0; i < n_; ++i) {
    Worker& w = workers_[i];
    w.owner = this;
    w.id = i;
    w.rng = seed * (i + 1);
    w.set_doing("starting");
    base::Result<sched::Thread*> th = sched::spawn(fn, &w, {.name = name_});
    if (!th.ok()) return th.error();  // the caller stops what did start
    w.thread = th.value();
  }
  return base::Status();
}

void GatedWorkers::join_workers() {
  stop_.store(1, MemoryOrder::kRelease);
  for (uint32_t i = 0; i < n_; ++i) {
    if (workers_[i].thread != nullptr) sched::join(workers_[i].thread);
    workers_[i].thread = nullptr;
  }
}

uint64_t GatedWorkers::report_unparked() const {
  uint64_t running = 0;
  for (uint32_t i = 0; i < n_; ++i) {
    const Worker& w = workers_[i];
    const char* doing = w.doing.load(MemoryOrder::kRelaxed);
    const sched::Thread* t = w.thread;
    if (t == nullptr || doing == kAtTheGate) continue;
    const auto state = static_cast<sched::ThreadState>(t->state.load(MemoryOrder::kRelaxed));
    arch::kprint("torture: {} worker {} (tid {}) not at the gate: {}, {} cpu {}, doing: {}\n", name_, w.id, t->tid,
                 sched::state_name(state), t->on_cpu.load(MemoryOrder::kRelaxed) != 0 ? "on" : "last on",
                 sched::thread_stats(t).last_cpu.value, doing);
    // Off a CPU, its stack holds switch_context's frame: where it waits.
    // (A running one is in the CPUs' backtraces.) The worker is alive, so
    // its stack stays mapped while it is read; a worker that runs on
    // meanwhile leaves a garbled chain, which the walk cuts short.
    if (t->on_cpu.load(MemoryOrder::kAcquire) != 0) {
      running |= uint64_t{1} << (sched::thread_stats(t).last_cpu.value % 64);
      continue;
    }
    uint64_t pcs[16];
    const size_t n = sched::saved_stack_pcs(
        t->saved_rsp, t->stack_lo, t->stack_hi, [](uint64_t a) { return *reinterpret_cast<const uint64_t*>(a); }, pcs,
        16);
    for (size_t k = 0; k < n; ++k) {
      char buf[prof::kSymbolTextBytes];
      arch::kprint("  #{} {:#x} {}\n", k, pcs[k],
                   prof::format_symbol(pcs[k], prof::PcKind::kReturnAddress, buf, sizeof buf));
    }
  }
  return running;
}

}  // namespace torture
