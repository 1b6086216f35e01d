// TLB shootdown: after a kernel mapping changes, every other CPU that may
// cache it is sent an IPI and invalidates it, and the caller waits for all
// acknowledgements before reusing the old frame ([sdm3] 4.10.5). Kernel only.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/arch/smp.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/tlb_ranges.h"

namespace mm {

/// A set of CPUs by index, a bit each.
class CpuSet {
 public:
  void add(arch::CpuIndex cpu) { words_[cpu.value / 64] |= uint64_t{1} << (cpu.value % 64); }
  bool has(arch::CpuIndex cpu) const { return (words_[cpu.value / 64] >> (cpu.value % 64)) & 1; }
  /// CPUs 64w .. 64w+63, a bit each.
  uint64_t word(uint32_t w) const { return words_[w]; }
  template <typename Fn>
  void for_each(Fn fn) const {
    for (uint32_t w = 0; w < kWords; ++w)
      for (uint64_t bits = words_[w]; bits != 0; bits &= bits - 1)
        fn(arch::CpuIndex(w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits))));
  }

  static constexpr uint32_t kWords = (arch::kMaxCpus + 63) / 64;

 private:
  uint64_t words_[kWords] = {};
};

/// Installs the shootdown IPI handler. Boot CPU, before APs start.
void tlb_init();

/// CPU `cpu` (this one) takes part in shootdowns from now on, then flushes
/// its whole TLB: a shootdown either targets it or finished before the
/// flush, so a CPU coming online never keeps a stale entry. Every CPU, once,
/// interrupts off.
void tlb_cpu_online(arch::CpuIndex cpu);

/// CPUs that take part in shootdowns.
CpuSet tlb_online_cpus();

/// Invalidates `ranges` on this CPU and on every CPU of `targets` that is
/// online, waiting for each to acknowledge. A target halted in idle is not
/// interrupted: it flushes its whole TLB when it wakes, before it runs
/// anything (arch/lazy_tlb.h). Thread or interrupt context
/// with no spinlock held that a target might wait for with interrupts off
/// (the page-table lock is released before shooting down). Panics if a
/// target does not answer within about a second.
void tlb_shootdown(const CpuSet& targets, const TlbRanges& ranges);

/// tlb_shootdown to every online CPU; with no other CPU online or awake,
/// this CPU's INVLPGs and a look at each CPU's idle word.
void tlb_shootdown_all(const TlbRanges& ranges);

/// A full flush everywhere.
void tlb_shootdown_all_full();

/// Shootdowns this CPU has answered (tests).
uint64_t tlb_shootdowns_received(arch::CpuIndex cpu);

}  // namespace mm
