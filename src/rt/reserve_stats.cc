// See reserve_stats.h.
#include "src/rt/reserve_stats.h"

#include "src/mm/kmalloc.h"
#include "src/rt/reserve.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace rt {
namespace {

void add_reservation(const sched::Thread& t, void* arg) {
  auto* s = static_cast<ResSnapshot*>(arg);
  s->parked_reserves += __atomic_load_n(&t.reserve_parked_hits, __ATOMIC_RELAXED);
  // Read-only use of the word (parked() only loads it).
  if (const ReserveSite* site = internal::parked_of(const_cast<sched::Thread*>(&t)).parked(); site != nullptr) {
    ++s->parked_threads;
    for (unsigned c = 0; c < kObjsClasses; ++c) s->parked[c] += site->want[c];
  }
  if (t.heap_charge == nullptr) return;
  ++s->reservations;
  for (unsigned c = 0; c < kObjsClasses; ++c) s->reserved[c] += static_cast<uint32_t>(t.reservation.credit(c));
}

}  // namespace

int64_t ResSnapshot::accounted_bytes() const {
  return budget_bytes + static_cast<int64_t>(mm::class_counts_bytes(cpu_credit)) +
         static_cast<int64_t>(mm::class_counts_bytes(reserved)) + static_cast<int64_t>(mm::class_counts_bytes(parked)) +
         outside_credit_bytes + static_cast<int64_t>(live_bytes);
}

ResSnapshot res_snapshot() {
  ResSnapshot s{};
  const mm::HeapBudget& budget = mm::heap_budget();
  s.max_bytes = budget.max();
  s.budget_bytes = budget.left();
  const uint32_t ncpu = sched::sched_cpus();
  for (uint32_t cpu = 0; cpu < ncpu; ++cpu) {
    const CpuCredit& cc = internal::cpu_credit(cpu);
    for (unsigned c = 0; c < kObjsClasses; ++c) s.cpu_credit[c] += cc.avail[c];
    s.reserves += cc.reserves;
    s.robs += cc.robs;
    s.flushes += cc.flushes;
    const mm::HeapCharge& own = mm::heap_cpu_charge(arch::CpuIndex(cpu));
    for (unsigned c = 0; c < kObjsClasses; ++c) s.outside[c] += own.used[c];
    s.outside_credit_bytes += own.credit_bytes();
  }
  (void)sched::for_each_thread(add_reservation, &s);
  const mm::KernelHeapStats heap = mm::heap_stats();
  for (unsigned c = 0; c < kObjsClasses; ++c) s.live[c] = static_cast<uint32_t>(heap.heap.classes[c].live_objects);
  s.live_bytes = heap.heap.small_live_bytes + heap.heap.large_live_bytes + heap.huge_live_bytes;
  s.global = internal::global_stats();
  s.parked_reserves += s.global.parked_hits_exited;
  s.reserves += s.parked_reserves;
  s.overruns = mm::heap_charge_stats().overruns;
  return s;
}

}  // namespace rt
