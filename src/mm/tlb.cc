// See tlb.h. One shootdown at a time: the initiator takes `shoot_lock`,
// publishes the ranges, sets a mailbox flag per target, sends the IPIs and
// spins until every target has cleared its flag. A CPU waiting for the lock
// with interrupts off answers its own mailbox meanwhile, so two CPUs
// shooting down at once cannot deadlock. Targets halted in idle are not
// interrupted at all (arch/lazy_tlb.h): with none awake, a shootdown takes
// no lock.
#include "src/mm/tlb.h"

#include "src/arch/ipi.h"
#include "src/arch/lazy_tlb.h"
#include "src/arch/local_apic.h"
#include "src/arch/percpu.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/base/ticket_lock.h"

namespace mm {
namespace {

using base::MemoryOrder;

struct alignas(64) Mailbox {
  base::Atomic<uint32_t> pending{0};
  uint64_t received = 0;
};

// One shootdown at a time. A raw TicketLock, not a SpinLock: it is taken
// only in interrupt_and_wait, always with interrupts already off, so there
// is no interrupt flag to save and no nesting to count.
constinit base::TicketLock<> shoot_lock;
// Written under shoot_lock before any flag is set; the targets read it
// lock-free while the sender holds the lock (published_request).
constinit TlbRanges request GUARDED_BY(shoot_lock){TlbRanges::ZeroInit{}};
constinit base::Atomic<uint32_t> outstanding{0};
constinit Mailbox mailboxes[arch::kMaxCpus];
constinit base::Atomic<uint64_t> online[(arch::kMaxCpus + 63) / 64];

// About a second of pauses even under -icount (one instruction each).
constexpr uint64_t kAckSpinLimit = uint64_t{1} << 31;

void apply(const TlbRanges& r) {
  if (r.full()) {
    arch::flush_tlb_all();
    return;
  }
  // Bounds in locals: INVLPG's asm clobbers memory, which would otherwise
  // reload them from `r` on every page.
  const uint32_t n = r.count();
  for (uint32_t i = 0; i < n; ++i) {
    const TlbRange range = r[i];
    const uint64_t end = range.va + range.pages * base::kPageSize;
    for (uint64_t va = range.va; va != end; va += base::kPageSize) arch::invlpg(base::VirtAddr(va));
  }
}

// The request, for a target whose pending flag is set: the sender holds
// shoot_lock, and keeps `request` still, until every flag is answered — a
// hand-off the analysis cannot follow.
const TlbRanges& published_request() NO_THREAD_SAFETY_ANALYSIS { return request; }

void answer_mailbox() {
  Mailbox& m = mailboxes[arch::this_cpu().index.value];
  // Acquire: the request was written before the flag.
  if (m.pending.load(MemoryOrder::kAcquire) == 0) return;
  apply(published_request());
  ++m.received;
  m.pending.store(0, MemoryOrder::kRelaxed);
  // Release: our invalidation happens before the initiator frees the frame.
  outstanding.fetch_sub(1, MemoryOrder::kRelease);
}

void on_shootdown_ipi(arch::TrapFrame&) {
  answer_mailbox();
  arch::lapic_eoi();
}

}  // namespace

void tlb_init() { arch::set_trap_handler(arch::kVectorIpiTlbShootdown, on_shootdown_ipi); }

void tlb_cpu_online(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  ASSERT(cpu < arch::kMaxCpus);
  // Sequentially consistent: the bit must be visible to any initiator that
  // changes a mapping after our flush below, and our flush must not be
  // reordered before it.
  online[cpu / 64].fetch_or(uint64_t{1} << (cpu % 64), MemoryOrder::kSeqCst);
  arch::flush_tlb_all();
}

CpuSet tlb_online_cpus() {
  CpuSet s;
  for (uint32_t w = 0; w < (arch::kMaxCpus + 63) / 64; ++w) {
    uint64_t bits = online[w].load(MemoryOrder::kSeqCst);
    for (; bits != 0; bits &= bits - 1) s.add(arch::CpuIndex(w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits))));
  }
  return s;
}

namespace {

// The interrupting part of a shootdown: `count` CPUs of `awake` (not this
// one) invalidate `ranges` and acknowledge. Interrupts off (shoot_lock is a
// plain ticket lock, taken only here: no SpinLock nesting to keep).
void interrupt_and_wait(const CpuSet& awake, uint32_t count, const TlbRanges& ranges) {
  while (!shoot_lock.try_lock()) {
    answer_mailbox();
    arch::cpu_relax();
  }
  request = ranges;
  outstanding.store(count, MemoryOrder::kRelaxed);
  awake.for_each([&](arch::CpuIndex c) {
    // Release: the request and `outstanding` before the flag.
    mailboxes[c.value].pending.store(1, MemoryOrder::kRelease);
    base::Status s = arch::send_ipi(c, arch::kVectorIpiTlbShootdown);
    if (!s.ok()) PANIC("tlb shootdown: IPI to cpu {} failed: {}", c.value, base::error_name(s.error()));
  });
  for (uint64_t spins = 0; outstanding.load(MemoryOrder::kAcquire) != 0; ++spins) {
    if (spins == kAckSpinLimit) {
      awake.for_each([&](arch::CpuIndex c) {
        if (mailboxes[c.value].pending.load(MemoryOrder::kAcquire))
          PANIC("tlb shootdown: cpu {} did not acknowledge", c.value);
      });
    }
    arch::cpu_relax();
  }
  shoot_lock.unlock();
}

// A shootdown from this CPU (`self`), interrupts off, after invalidating
// here: every online CPU in target_word(w) (CPUs 64w..64w+63) that is awake
// is interrupted; one halted in idle is passed by and flushes when it wakes,
// before it runs anything (arch/lazy_tlb.h). With nobody awake (one CPU
// online, or the others idle) that is a fence and a look at each word: no
// lock, no IPI.
template <typename TargetWord>
void shoot_others(uint32_t self, TargetWord target_word, const TlbRanges& ranges) {
  // Orders the caller's page-table change before the reads of the CPUs'
  // words and of `online`.
  arch::lazy_tlb_order_before_scan();
  CpuSet awake;
  uint32_t count = 0;
  for (uint32_t w = 0; w < CpuSet::kWords; ++w) {
    // Sequentially consistent: a CPU whose online bit we miss sets it after
    // this load in the single total order, so after the caller's change,
    // and flushes its whole TLB after that (tlb_cpu_online).
    uint64_t bits = target_word(w) & online[w].load(MemoryOrder::kSeqCst);
    if (w == self / 64) bits &= ~(uint64_t{1} << (self % 64));
    for (; bits != 0; bits &= bits - 1) {
      const arch::CpuIndex c(w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits)));
      if (arch::lazy_tlb_skip(c)) continue;
      awake.add(c);
      ++count;
    }
  }
  if (count != 0) interrupt_and_wait(awake, count, ranges);
}

}  // namespace

void tlb_shootdown(const CpuSet& targets, const TlbRanges& ranges) {
  if (ranges.empty()) return;
  // Interrupts off: this CPU stays the same, and an IPI we wait for from
  // another initiator is answered by the lock loop, not by a nested
  // handler.
  uint64_t irq = arch::irq_save();
  apply(ranges);
  shoot_others(
      arch::this_cpu().index.value, [&](uint32_t w) { return targets.word(w); }, ranges);
  arch::irq_restore(irq);
}

void tlb_shootdown_all(const TlbRanges& ranges) {
  if (ranges.empty()) return;
  uint64_t irq = arch::irq_save();
  apply(ranges);
  shoot_others(
      arch::this_cpu().index.value, [](uint32_t) { return ~uint64_t{0}; }, ranges);
  arch::irq_restore(irq);
}

void tlb_shootdown_all_full() {
  TlbRanges all;
  all.set_full();
  tlb_shootdown_all(all);
}

uint64_t tlb_shootdowns_received(arch::CpuIndex cpu) {
  ASSERT(cpu.value < arch::kMaxCpus);
  return __atomic_load_n(&mailboxes[cpu.value].received, __ATOMIC_RELAXED);
}

}  // namespace mm
