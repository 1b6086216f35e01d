// Lazy TLB for idle CPUs: one CPU's state word, shared by that CPU and the
// CPUs that shoot down kernel mappings. A CPU halted in idle is skipped by
// shootdowns (no IPI wakes it); instead the skip is recorded in its word,
// and the CPU flushes its whole TLB when it wakes, before it runs anything
// that could use a kernel address. Pure logic (host-tested with threads);
// lazy_tlb.h keeps one per CPU. Any context, NMI included: one atomic word.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"

namespace arch {

/// The protocol, Dekker-style on one word per CPU:
///  - the CPU going idle sets kLazy (a locked RMW) with interrupts off,
///    just before it halts;
///  - a shooter changes the page tables, then a full fence
///    (order_before_scan()), then reads each target's word: if kLazy, it
///    sets kMissed with a compare-exchange that succeeds only while kLazy
///    is still set, and skips the CPU; otherwise (or if the exchange finds
///    the CPU awake) it interrupts it as before;
///  - the CPU waking clears kLazy (a locked RMW) and flushes if kMissed was
///    set, then clears kMissed.
/// The word's modification order decides every race: a shooter's exchange
/// lands before the wake's clear (the wake sees kMissed and flushes after
/// the page-table change, which the exchange's lock made visible) or after
/// it (the exchange fails, the shooter sees the CPU awake and interrupts
/// it). A shooter that finds kMissed already set writes nothing: its fence
/// put its page-table change before its read, so before the wake's clear,
/// hence before the flush. A CPU that goes lazy after a shooter read it
/// awake is still sent that shooter's IPI, which wakes it, and the shooter
/// waits for its answer.
///
/// Why the generation lives in each CPU's word rather than in one global
/// counter that shooters bump and wakers compare (Linux's shape): here the
/// decision to skip a CPU and the record that it must flush are one atomic
/// step on that CPU's word. With a global counter bumped before the reads,
/// a waker would have to know the generation its TLB was last clean at,
/// which only a flush can advance (one read at idle entry may already
/// include a shooter that then skips it), so it would flush on nearly every
/// wake while anything is mapped or unmapped.
class LazyTlbWord {
 public:
  static constexpr uint64_t kLazy = 1;    // halted in idle: shootdowns pass it by
  static constexpr uint64_t kMissed = 2;  // one did, this idle period: flush before running anything
  /// Bits 2 and up count idle periods that missed a shootdown (the
  /// generation: it moves exactly when a wake must flush).
  static constexpr uint64_t kGenerationOne = 4;

  /// The CPU itself, interrupts off, just before it halts: shootdowns skip
  /// it from here until exit(). A locked RMW: a shooter that read the word
  /// before it (awake) sends an IPI, which ends the halt; one that reads it
  /// after records the miss.
  void enter() { word_.fetch_or(kLazy, base::MemoryOrder::kSeqCst); }

  /// The CPU itself, on waking (first thing in any interrupt taken while
  /// lazy, and on the way out of idle): true if it must flush its whole TLB
  /// now, then call flushed(). One load while the CPU is awake. kMissed
  /// stays set until flushed(), so that an NMI landing between this and the
  /// flush flushes too before its handler runs.
  bool exit() {
    if ((word_.load(base::MemoryOrder::kRelaxed) & (kLazy | kMissed)) == 0) return false;
    // A locked RMW: from here on shooters interrupt this CPU, and no page
    // walk of ours is ordered before it. Its old value unused, so that it
    // is one `lock and` rather than a compare-exchange loop: the load after
    // it sees every miss recorded before it (they precede it in the word's
    // modification order), and none can follow (shooters write only a lazy
    // word). An NMI between the two that flushes clears kMissed first: this
    // exit then flushes nothing, the NMI's flush having done it.
    word_.fetch_and(~kLazy, base::MemoryOrder::kSeqCst);
    if ((word_.load(base::MemoryOrder::kRelaxed) & kMissed) == 0) return false;
    // A no-op on x86 after the locked RMW; it is what makes the missed
    // shooter's page-table change visible to our walks in C++'s model too
    // (the shooter's fence, then this one).
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return true;
  }

  /// The CPU itself, after the flush exit() asked for.
  void flushed() { word_.fetch_and(~kMissed, base::MemoryOrder::kRelaxed); }

  /// A shooter, once per shootdown after changing the page tables and
  /// before reading any CPU's word with skip(): a full fence (x86 lets a
  /// load pass an earlier store, [sdm3] 9.2.3.4), so that the change is
  /// visible before the read, and thus before the wake that ends an idle
  /// period the read saw.
  static void order_before_scan() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

  /// A shooter, after order_before_scan(): true if this CPU is idle and
  /// will flush before running anything (the miss is recorded), false if
  /// it is awake and must be interrupted.
  bool skip() {
    uint64_t w = word_.load(base::MemoryOrder::kRelaxed);
    while ((w & kLazy) != 0) {
      if ((w & kMissed) != 0) return true;  // this idle period already flushes at its end
      if (word_.compare_exchange(w, (w | kMissed) + kGenerationOne, base::MemoryOrder::kSeqCst,
                                 base::MemoryOrder::kRelaxed))
        return true;
      // w reloaded: woken meanwhile (interrupt it), or lazy again.
    }
    return false;
  }

  /// Whether the CPU is lazy now (tests, diagnostics).
  bool lazy() const { return (word_.load(base::MemoryOrder::kRelaxed) & kLazy) != 0; }

  /// Idle periods of this CPU that missed a shootdown, and so ended in a
  /// flush (tests, diagnostics).
  uint64_t generation() const { return word_.load(base::MemoryOrder::kRelaxed) / kGenerationOne; }

 private:
  base::Atomic<uint64_t> word_{0};
};

}  // namespace arch
