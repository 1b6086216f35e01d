// See fail_inject.h.
#include "src/mm/fail_inject.h"

#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"

namespace mm {
namespace internal {
// Read on every allocation, written once at boot: kept apart from written
// data so that its cache line stays shared in every CPU's cache.
alignas(64) constinit bool fail_armed = false;
}  // namespace internal

namespace {

alignas(64) constinit FaultConfig config{};
// By CPU index; each written only by its CPU with interrupts off.
struct alignas(64) CpuStream {
  FaultStream s;
};
constinit CpuStream streams[arch::kMaxCpus];
// The threads (arch::PerCpu::current_thread, compared as a key only) with a
// scope open; null slots are free.
constinit const void* scoped[kMaxFaultScopes] = {};

const void* current_thread_key() { return arch::this_cpu().current_thread; }

bool in_scope(const void* thread) {
  for (const void* const& s : scoped) {
    if (__atomic_load_n(&s, __ATOMIC_RELAXED) == thread) return true;
  }
  return false;
}

}  // namespace

void fail_inject_init(const FaultConfig& c) {
  for (unsigned i = 0; i < kFaultSites; ++i) {
    ASSERT_MSG(c.per_mille[i] <= kFaultPerMilleMax, "fail.{}={}: above {} per mille",
               fault_site_name(static_cast<FaultSite>(i)), c.per_mille[i], kFaultPerMilleMax);
  }
  config = c;
  for (uint32_t cpu = 0; cpu < arch::kMaxCpus; ++cpu) streams[cpu].s.seed(c.seed, cpu);
  internal::fail_armed = c.any();
}

const FaultConfig& fail_inject_config() { return config; }

bool fail_inject_now(FaultSite site) {
  const uint32_t rate = config.rate(site);
  if (!internal::fail_armed || rate == 0) return false;
  // Pinned from here: the stream is this CPU's, and the reservation test
  // reads two fields of this CPU's block. Interrupts were off already: an
  // interrupt handler, or code under a spinlock — not injected.
  const uint64_t irq = arch::irq_save();
  if ((irq & arch::kRflagsIf) == 0) return false;
  arch::PerCpu& cpu = arch::this_cpu();
  bool fail = false;
  const void* thread = cpu.current_thread;
  const bool in_reservation = cpu.heap_charge != cpu.heap_cpu_charge;
  if (thread != nullptr && in_scope(thread) && !(site == FaultSite::kHeap && in_reservation))
    fail = streams[cpu.index.value].s.decide(site, rate);
  arch::irq_restore(irq);
  return fail;
}

FaultScope::FaultScope() {
  const void* thread = current_thread_key();
  ASSERT_MSG(thread != nullptr, "FaultScope outside a thread");
  ASSERT_MSG(!in_scope(thread), "FaultScope: this thread has one open already");
  for (unsigned i = 0; i < kMaxFaultScopes; ++i) {
    const void* expected = nullptr;
    // Release on the way in is not needed (the slot is only compared), but
    // the claim itself must be atomic: several threads open scopes at once.
    if (__atomic_compare_exchange_n(&scoped[i], &expected, thread, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
      slot_ = i;
      return;
    }
  }
  PANIC("FaultScope: more than {} threads with a scope open", kMaxFaultScopes);
}

FaultScope::~FaultScope() {
  ASSERT_MSG(scoped[slot_] == current_thread_key(), "FaultScope closed by another thread");
  __atomic_store_n(&scoped[slot_], nullptr, __ATOMIC_RELAXED);
}

FaultCounts fail_inject_counts() {
  FaultCounts c{};
  for (const CpuStream& cs : streams) {
    for (unsigned i = 0; i < kFaultSites; ++i) {
      c.draws[i] += __atomic_load_n(&cs.s.draws[i], __ATOMIC_RELAXED);
      c.injected[i] += __atomic_load_n(&cs.s.injected[i], __ATOMIC_RELAXED);
    }
  }
  return c;
}

}  // namespace mm
