// See gate.h.
#include "src/torture/gate.h"

#include "src/ktest/wait_until.h"
#include "src/sched/futex.h"

namespace torture {

using base::MemoryOrder;

void Gate::checkpoint() {
  // Acquire pairs with close()'s release: a worker that sees the gate
  // closed parks; one that saw it open finishes one more operation, and
  // close() waits for it to come round.
  if (__atomic_load_n(&closed_, __ATOMIC_ACQUIRE) == 0) return;
  parked_.fetch_add(1, MemoryOrder::kAcqRel);
  while (__atomic_load_n(&closed_, __ATOMIC_ACQUIRE) != 0) (void)sched::futex_wait(&closed_, 1);
  parked_.fetch_sub(1, MemoryOrder::kAcqRel);
}

bool Gate::close(uint32_t participants, uint64_t bound_ns) {
  __atomic_store_n(&closed_, 1, __ATOMIC_RELEASE);
  return ktest::wait_until([&] { return parked_.load(MemoryOrder::kAcquire) == participants; }, bound_ns, 50'000);
}

bool Gate::open(uint64_t bound_ns) {
  __atomic_store_n(&closed_, 0, __ATOMIC_RELEASE);
  (void)sched::futex_wake(&closed_, sched::kFutexAll);
  return ktest::wait_until([&] { return parked_.load(MemoryOrder::kAcquire) == 0; }, bound_ns, 50'000);
}

}  // namespace torture
