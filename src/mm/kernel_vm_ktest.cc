// The kernel's page tables seen from running code: image permissions and
// probes (arch's fixup count), and a TLB shootdown observed from another
// CPU (a pinned thread: mm_sched_ktests, mm's test library that may use the
// scheduler).
#include "src/arch/exceptions.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/ktest/ktest.h"
#include "src/ktest/pin_to.h"
#include "src/mm/alloc_map.h"
#include "src/mm/kva.h"
#include "src/mm/safe_access.h"
#include "src/mm/tlb.h"
#include "src/sched/run_on.h"

extern "C" char __text_start[], __rodata_start[];

namespace mm {
namespace {

using base::MemoryOrder;
using ktest::PinTo;

int err(base::Status s) { return s.ok() ? 0 : static_cast<int>(s.error()); }

KTEST(mm, null_page_and_kernel_text_are_protected) {
  const uint64_t fixups = arch::fixup_count();
  KEXPECT_TRUE(!mm::safe_read64(base::VirtAddr(0)).ok());
  KEXPECT_TRUE(!mm::safe_read64(base::VirtAddr(0x1000)).ok());
  // Text and rodata are read-only (CR0.WP is set, [sdm3] 4.6).
  const base::VirtAddr text = base::virt_of(__text_start);
  base::Result<uint64_t> word = mm::safe_read64(text);
  KASSERT_TRUE(word.ok());
  KEXPECT_TRUE(!mm::safe_write64(text, word.value()).ok());
  KEXPECT_TRUE(!mm::safe_write64(base::virt_of(__rodata_start), 0).ok());
  // Non-canonical: #GP, not #PF; the same fixup answers it.
  KEXPECT_TRUE(!mm::safe_read64(base::VirtAddr(0x0000'8000'0000'0000)).ok());
  KEXPECT_EQ(arch::fixup_count(), fixups + 5);
}

// The shootdown test: another CPU reads a mapped page in a loop (filling
// its TLB); once unmap_range has returned, its very next read must fault.
struct ShootdownProbe {
  uint64_t va;
  base::Atomic<uint32_t> reading{0};
  base::Atomic<uint32_t> unmapped{0};
  base::Atomic<uint32_t> stale_reads{0};
  base::Atomic<uint32_t> faulted_after{0};
};

void probe_until_unmapped(void* arg) {
  auto* p = static_cast<ShootdownProbe*>(arg);
  for (uint64_t spins = 0; spins < (uint64_t{1} << 32); ++spins) {
    // Acquire: unmap_range (and its shootdown) happened before the flag.
    bool after = p->unmapped.load(MemoryOrder::kAcquire) != 0;
    bool ok = mm::safe_read64(base::VirtAddr(p->va)).ok();
    p->reading.store(1, MemoryOrder::kRelease);
    if (after) {
      (ok ? p->stale_reads : p->faulted_after).fetch_add(1, MemoryOrder::kRelaxed);
      return;
    }
    arch::cpu_relax();
  }
}

KTEST(tlb, unmap_is_seen_by_another_cpu_when_it_returns) {
  if (arch::cpus_online() < 2) KTEST_SKIP("needs 2 CPUs (nothing to shoot down)");
  PinTo pin(arch::CpuIndex(0));  // the targets are CPUs 1..n-1: the initiator must be none of them
  for (uint32_t cpu = 1; cpu < arch::cpus_online(); ++cpu) {
    static ShootdownProbe probe;
    probe.reading.store(0, MemoryOrder::kRelaxed);
    probe.unmapped.store(0, MemoryOrder::kRelaxed);
    probe.stale_reads.store(0, MemoryOrder::kRelaxed);
    probe.faulted_after.store(0, MemoryOrder::kRelaxed);
    base::Result<base::VirtAddr> va = mm::kva_alloc(base::kPageSize);
    KASSERT_TRUE(va.ok());
    probe.va = va.value().value();
    KASSERT_EQ(err(mm::alloc_map(va.value(), mm::kPermWrite)), 0);
    const uint64_t received = mm::tlb_shootdowns_received(arch::CpuIndex(cpu));
    KASSERT_EQ(err(sched::run_on(arch::CpuIndex(cpu), probe_until_unmapped, &probe)), 0);
    while (probe.reading.load(MemoryOrder::kAcquire) == 0) arch::cpu_relax();
    KEXPECT_EQ(err(mm::unmap_range(va.value(), base::kPageSize)), 0);
    probe.unmapped.store(1, MemoryOrder::kRelease);
    sched::run_on_wait(arch::CpuIndex(cpu));
    KEXPECT_EQ(probe.stale_reads.load(MemoryOrder::kRelaxed), 0u);
    KEXPECT_EQ(probe.faulted_after.load(MemoryOrder::kRelaxed), 1u);
    KEXPECT_GT(mm::tlb_shootdowns_received(arch::CpuIndex(cpu)), received);
    KEXPECT_EQ(err(mm::kva_free(va.value(), base::kPageSize)), 0);
  }
}

// Keeps CPU 1 awake (a spinning thread) for a scope: shootdowns skip a CPU
// halted in idle (arch/lazy_tlb.h), and a test that counts the IPIs it
// answers needs it to take them.
class Cpu1Awake {
 public:
  Cpu1Awake() {
    ok_ = sched::run_on(arch::CpuIndex(1), spin, this).ok();
    while (ok_ && spinning_.load(MemoryOrder::kAcquire) == 0) arch::cpu_relax();
  }
  ~Cpu1Awake() {
    stop_.store(1, MemoryOrder::kRelease);
    if (ok_) sched::run_on_wait(arch::CpuIndex(1));
  }
  Cpu1Awake(const Cpu1Awake&) = delete;
  Cpu1Awake& operator=(const Cpu1Awake&) = delete;
  bool ok() const { return ok_; }

 private:
  static void spin(void* p) {
    auto* self = static_cast<Cpu1Awake*>(p);
    self->spinning_.store(1, MemoryOrder::kRelease);
    while (self->stop_.load(MemoryOrder::kAcquire) == 0) arch::cpu_relax();
  }
  bool ok_ = false;
  base::Atomic<uint32_t> spinning_{0};
  base::Atomic<uint32_t> stop_{0};
};

KTEST(tlb, batched_unmaps_cost_one_shootdown) {
  if (arch::cpus_online() < 2) KTEST_SKIP("needs 2 CPUs (nothing to shoot down)");
  PinTo pin(arch::CpuIndex(0));  // counts CPU 1's shootdowns: the initiator must be elsewhere
  Cpu1Awake awake;
  KASSERT_TRUE(awake.ok());
  constexpr uint64_t kPages = 6;
  base::Result<base::VirtAddr> va = mm::kva_alloc(2 * kPages * base::kPageSize);
  KASSERT_TRUE(va.ok());
  KASSERT_EQ(err(mm::alloc_map_range(va.value(), 2 * kPages * base::kPageSize, mm::kPermWrite)), 0);
  const uint64_t received = mm::tlb_shootdowns_received(arch::CpuIndex(1));
  {
    mm::UnmapBatch batch;
    // Every other page: six separate ranges, one shootdown.
    for (uint64_t i = 0; i < 2 * kPages; i += 2)
      KEXPECT_EQ(err(mm::unmap_range(va.value() + i * base::kPageSize, base::kPageSize, &batch)), 0);
    KEXPECT_EQ(mm::tlb_shootdowns_received(arch::CpuIndex(1)), received);
    batch.flush();
  }
  KEXPECT_EQ(mm::tlb_shootdowns_received(arch::CpuIndex(1)), received + 1);
  for (uint64_t i = 0; i < 2 * kPages; ++i)
    KEXPECT_EQ(mm::safe_read64(va.value() + i * base::kPageSize).ok(), i % 2 == 1);
  for (uint64_t i = 1; i < 2 * kPages; i += 2)
    KEXPECT_EQ(err(mm::unmap_range(va.value() + i * base::kPageSize, base::kPageSize)), 0);
  KEXPECT_EQ(err(mm::kva_free(va.value(), 2 * kPages * base::kPageSize)), 0);
}

}  // namespace
}  // namespace mm
