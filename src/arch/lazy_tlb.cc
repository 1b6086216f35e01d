// See lazy_tlb.h.
#include "src/arch/lazy_tlb.h"

#include "src/arch/x86.h"
#include "src/base/assert.h"

namespace arch {
namespace internal {

constinit LazyTlbSlot lazy_tlb_slots[kMaxCpus];

void lazy_tlb_flush(LazyTlbWord& w) {
  // Global entries too: kernel mappings are global, and only a CR4.PGE
  // toggle (or INVPCID) drops them ([sdm3] 4.10.4.1). The CR4 write is
  // serializing, so no walk of ours precedes the shooter's change.
  flush_tlb_all();
  w.flushed();
}

}  // namespace internal

uint64_t lazy_tlb_flushes(CpuIndex cpu) {
  ASSERT_MSG(cpu.value < kMaxCpus, "lazy_tlb_flushes: cpu {} beyond MAX_CPUS", cpu.value);
  return internal::lazy_tlb_slots[cpu.value].word.generation();
}

}  // namespace arch
