// In-kernel tests of memory management: every page allocated and
// verified, the direct map and image permissions, kernel mappings and
// their errors, fault-tolerant probes, and a TLB shootdown observed from
// another CPU.
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/kernel/cpus.h"
#include "src/kernel/exception.h"
#include "src/kernel/ktest.h"
#include "src/kernel/pin_to.h"
#include "src/mm/alloc_map.h"
#include "src/mm/direct_map.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/mm/safe_access.h"
#include "src/mm/tlb.h"

extern "C" char __text_start[], __rodata_start[];

namespace kernel {
namespace {

using base::MemoryOrder;

int err(base::Status s) { return s.ok() ? 0 : static_cast<int>(s.error()); }
constexpr int kInvalid = static_cast<int>(base::Error::kInvalidArgument);
constexpr int kOutOfRange = static_cast<int>(base::Error::kOutOfRange);
constexpr int kExists = static_cast<int>(base::Error::kAlreadyExists);
constexpr int kNotFound = static_cast<int>(base::Error::kNotFound);

// A pattern only this page can carry: its address in the first word (the
// link), then the address mixed with a constant at the middle and the end.
constexpr uint64_t kMix = 0x9e37'79b9'7f4a'7c15;
uint64_t* words(uint64_t pa) { return static_cast<uint64_t*>(mm::phys_to_virt(pa)); }

KTEST(mm, every_free_page_allocates_verifies_and_frees_back) {
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  // Chain every page through its first word, so the test needs no memory
  // of its own.
  uint64_t head = 0, count = 0;
  for (;;) {
    base::Result<uint64_t> p = mm::page_alloc(0);
    if (!p.ok()) break;
    uint64_t* w = words(p.value());
    w[0] = head;
    w[1] = p.value() ^ kMix;
    w[256] = p.value() * kMix;
    w[511] = ~p.value();
    head = p.value();
    ++count;
  }
  KEXPECT_EQ(count, free_before);
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, uint64_t{0});
  uint64_t bad = 0, seen = 0;
  while (head != 0) {
    uint64_t* w = words(head);
    if (w[1] != (head ^ kMix) || w[256] != head * kMix || w[511] != ~head) ++bad;
    uint64_t next = w[0];
    mm::page_free(head, 0);
    head = next;
    ++seen;
  }
  KEXPECT_EQ(bad, uint64_t{0});
  KEXPECT_EQ(seen, count);
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);
}

KTEST(mm, every_order_allocates_aligned_blocks) {
  for (unsigned order = 0; order <= mm::kMaxOrder; ++order) {
    base::Result<uint64_t> p = mm::page_alloc(order, mm::kAllocZero);
    KASSERT_TRUE(p.ok());
    KEXPECT_EQ(p.value() % mm::order_bytes(order), uint64_t{0});
    const uint64_t* w = words(p.value());
    uint64_t nonzero = 0;
    for (uint64_t i = 0; i < mm::order_bytes(order) / 8; ++i) nonzero += w[i] != 0;
    KEXPECT_EQ(nonzero, uint64_t{0});
    mm::page_free(p.value(), order);
  }
}

KTEST(mm, direct_map_reaches_the_highest_usable_page) {
  // The last page the allocator hands out at order 0 when we take a big
  // block: instead, probe the top of every managed range through the direct
  // map: the allocator's total must be backed by readable memory.
  base::Result<uint64_t> p = mm::page_alloc(mm::kMaxOrder);
  KASSERT_TRUE(p.ok());
  uint64_t top = p.value() + mm::order_bytes(mm::kMaxOrder) - 8;
  KEXPECT_TRUE(mm::safe_write64(reinterpret_cast<uint64_t>(mm::phys_to_virt(top)), 42).ok());
  KEXPECT_EQ(mm::safe_read64(reinterpret_cast<uint64_t>(mm::phys_to_virt(top))).value(), uint64_t{42});
  mm::page_free(p.value(), mm::kMaxOrder);
}

KTEST(mm, null_page_and_kernel_text_are_protected) {
  const uint64_t fixups = fixup_count();
  KEXPECT_TRUE(!mm::safe_read64(0).ok());
  KEXPECT_TRUE(!mm::safe_read64(0x1000).ok());
  // Text and rodata are read-only (CR0.WP is set, [sdm3] 4.6).
  uint64_t text = reinterpret_cast<uint64_t>(__text_start);
  base::Result<uint64_t> word = mm::safe_read64(text);
  KASSERT_TRUE(word.ok());
  KEXPECT_TRUE(!mm::safe_write64(text, word.value()).ok());
  KEXPECT_TRUE(!mm::safe_write64(reinterpret_cast<uint64_t>(__rodata_start), 0).ok());
  // Non-canonical: #GP, not #PF; the same fixup answers it.
  KEXPECT_TRUE(!mm::safe_read64(0x0000'8000'0000'0000).ok());
  KEXPECT_EQ(fixup_count(), fixups + 5);
}

KTEST(mm, alloc_map_protect_unmap_round_trip) {
  constexpr uint64_t kBytes = 4 * base::kPageSize;
  base::Result<uint64_t> va = mm::kva_alloc(kBytes);
  KASSERT_TRUE(va.ok());
  // Page tables for the range stay once created (they are reused), so
  // create them before counting.
  KASSERT_EQ(err(mm::alloc_map_range(va.value(), kBytes, mm::kPermWrite)), 0);
  KASSERT_EQ(err(mm::unmap_range(va.value(), kBytes)), 0);
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  KASSERT_EQ(err(mm::alloc_map_range(va.value(), kBytes, mm::kPermWrite)), 0);
  KEXPECT_LE(mm::page_alloc_stats().phys.free_pages + 4, free_before);
  for (uint64_t off = 0; off < kBytes; off += 8) {
    base::Result<uint64_t> v = mm::safe_read64(va.value() + off);
    KASSERT_TRUE(v.ok());
    KEXPECT_EQ(v.value(), uint64_t{0});  // fresh pages are zeroed
  }
  KEXPECT_TRUE(mm::safe_write64(va.value() + 8, 7).ok());
  KEXPECT_EQ(err(mm::protect_range(va.value(), kBytes, mm::kPermRead)), 0);
  KEXPECT_TRUE(!mm::safe_write64(va.value() + 8, 9).ok());
  KEXPECT_EQ(mm::safe_read64(va.value() + 8).value(), uint64_t{7});
  KEXPECT_EQ(err(mm::protect_range(va.value(), kBytes, mm::kPermWrite)), 0);
  KEXPECT_TRUE(mm::safe_write64(va.value() + 8, 9).ok());
  KEXPECT_EQ(err(mm::unmap_range(va.value(), kBytes)), 0);
  KEXPECT_TRUE(!mm::safe_read64(va.value()).ok());
  // The frames it owned are back.
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);
  KEXPECT_EQ(err(mm::kva_free(va.value(), kBytes)), 0);
}

KTEST(mm, mapping_errors_change_nothing) {
  base::Result<uint64_t> va = mm::kva_alloc(2 * base::kPageSize);
  KASSERT_TRUE(va.ok());
  const uint64_t v = va.value();
  KEXPECT_EQ(err(mm::alloc_map(v + 8, mm::kPermWrite)), kInvalid);
  KEXPECT_EQ(err(mm::alloc_map_range(v, 100, mm::kPermWrite)), kInvalid);
  KEXPECT_EQ(err(mm::alloc_map(0x40'0000, mm::kPermWrite)), kOutOfRange);  // user half
  KEXPECT_EQ(err(mm::alloc_map(mm::kKernelImageBase, mm::kPermWrite)), kOutOfRange);
  KEXPECT_EQ(err(mm::map_range(v, 0x1234, base::kPageSize, mm::kPermWrite)), kInvalid);
  KEXPECT_EQ(err(mm::unmap_range(v, base::kPageSize)), kNotFound);
  KASSERT_EQ(err(mm::alloc_map(v + base::kPageSize, mm::kPermWrite)), 0);
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  // Overlaps the mapped second page: all or nothing.
  KEXPECT_EQ(err(mm::alloc_map_range(v, 2 * base::kPageSize, mm::kPermWrite)), kExists);
  KEXPECT_TRUE(!mm::safe_read64(v).ok());
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);
  // Half mapped: unmap refuses the range and leaves the mapped page.
  KEXPECT_EQ(err(mm::unmap_range(v, 2 * base::kPageSize)), kNotFound);
  KEXPECT_TRUE(mm::safe_read64(v + base::kPageSize).ok());
  KEXPECT_EQ(err(mm::protect_range(v, 2 * base::kPageSize, mm::kPermRead)), kNotFound);
  KEXPECT_EQ(err(mm::unmap_range(v + base::kPageSize, base::kPageSize)), 0);
  KEXPECT_EQ(err(mm::kva_free(v, 2 * base::kPageSize)), 0);
}

KTEST(mm, map_range_does_not_free_frames_it_does_not_own) {
  base::Result<uint64_t> frame = mm::page_alloc(0, mm::kAllocZero);
  base::Result<uint64_t> va = mm::kva_alloc(base::kPageSize);
  KASSERT_TRUE(frame.ok() && va.ok());
  KASSERT_EQ(err(mm::map_range(va.value(), frame.value(), base::kPageSize, mm::kPermWrite)), 0);
  KEXPECT_TRUE(mm::safe_write64(va.value(), 0x5a5a).ok());
  KEXPECT_EQ(words(frame.value())[0], uint64_t{0x5a5a});  // same frame through the direct map
  KEXPECT_EQ(mm::kernel_translate(va.value()).value(), frame.value());
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  KEXPECT_EQ(err(mm::unmap_range(va.value(), base::kPageSize)), 0);
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);
  mm::page_free(frame.value(), 0);
  KEXPECT_EQ(err(mm::kva_free(va.value(), base::kPageSize)), 0);
}

// Ranges that cross page-table boundaries (2 MiB) take the general paths:
// all or nothing across tables, and an unmap with more owned frames than
// one batch holds (it flushes midway, with the page-table lock dropped).
KTEST(mm, ranges_across_page_tables) {
  constexpr uint64_t k2M = uint64_t{2} << 20;
  constexpr uint64_t kPages = 70;  // more than an UnmapBatch's 64 frames
  constexpr uint64_t kBytes = kPages * base::kPageSize;
  const uint64_t span = 2 * k2M + kBytes;
  base::Result<uint64_t> va = mm::kva_alloc(span);
  KASSERT_TRUE(va.ok());
  // Two pages below a 2 MiB boundary: the range spans two page tables.
  const uint64_t v = base::align_up(va.value() + 2 * base::kPageSize, k2M) - 2 * base::kPageSize;
  KASSERT_TRUE(v >= va.value() && v + kBytes <= va.value() + span);
  // Create the page tables first: they stay, and would skew the counts.
  KASSERT_EQ(err(mm::alloc_map_range(v, kBytes, mm::kPermWrite)), 0);
  KASSERT_EQ(err(mm::unmap_range(v, kBytes)), 0);
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  KASSERT_EQ(err(mm::alloc_map_range(v, kBytes, mm::kPermWrite)), 0);
  for (uint64_t off = 0; off < kBytes; off += base::kPageSize) {
    KEXPECT_EQ(mm::safe_read64(v + off).value(), uint64_t{0});
    KEXPECT_TRUE(mm::safe_write64(v + off, off).ok());
  }
  KEXPECT_EQ(mm::safe_read64(v + kBytes - base::kPageSize).value(), kBytes - base::kPageSize);
  KEXPECT_EQ(err(mm::unmap_range(v, kBytes)), 0);
  KEXPECT_TRUE(!mm::safe_read64(v).ok());
  KEXPECT_TRUE(!mm::safe_read64(v + kBytes - base::kPageSize).ok());
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);

  // The last page, in the second table, is taken: the whole range fails,
  // and the pages mapped before the conflict are unmapped and freed again.
  const uint64_t last = v + kBytes - base::kPageSize;
  KASSERT_EQ(err(mm::alloc_map(last, mm::kPermWrite)), 0);
  const uint64_t free_mid = mm::page_alloc_stats().phys.free_pages;
  KEXPECT_EQ(err(mm::alloc_map_range(v, kBytes, mm::kPermWrite)), kExists);
  KEXPECT_TRUE(!mm::safe_read64(v).ok());
  KEXPECT_TRUE(!mm::safe_read64(v + 2 * base::kPageSize).ok());
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_mid);
  KEXPECT_EQ(err(mm::unmap_range(v, kBytes)), kNotFound);
  KEXPECT_TRUE(mm::safe_read64(last).ok());
  KEXPECT_EQ(err(mm::unmap_range(last, base::kPageSize)), 0);

  // Given frames across the boundary: mapped in order, not freed on unmap.
  base::Result<uint64_t> frames = mm::page_alloc(2, mm::kAllocZero);
  KASSERT_TRUE(frames.ok());
  KASSERT_EQ(err(mm::map_range(v, frames.value(), 4 * base::kPageSize, mm::kPermWrite)), 0);
  for (uint64_t i = 0; i < 4; ++i)
    KEXPECT_EQ(mm::kernel_translate(v + i * base::kPageSize).value(), frames.value() + i * base::kPageSize);
  KEXPECT_EQ(err(mm::map_range(v + 3 * base::kPageSize, frames.value(), 2 * base::kPageSize, mm::kPermWrite)), kExists);
  KEXPECT_TRUE(!mm::safe_read64(v + 4 * base::kPageSize).ok());
  const uint64_t free_frames = mm::page_alloc_stats().phys.free_pages;
  KEXPECT_EQ(err(mm::unmap_range(v, 4 * base::kPageSize)), 0);
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_frames);
  mm::page_free(frames.value(), 2);
  KEXPECT_EQ(err(mm::kva_free(va.value(), span)), 0);
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
    bool ok = mm::safe_read64(p->va).ok();
    p->reading.store(1, MemoryOrder::kRelease);
    if (after) {
      (ok ? p->stale_reads : p->faulted_after).fetch_add(1, MemoryOrder::kRelaxed);
      return;
    }
    arch::cpu_relax();
  }
}

KTEST(tlb, unmap_is_seen_by_another_cpu_when_it_returns) {
  if (cpus_online() < 2) return;  // nothing to shoot down
  PinTo pin(0);  // the targets are CPUs 1..n-1: the initiator must be none of them
  for (uint32_t cpu = 1; cpu < cpus_online(); ++cpu) {
    static ShootdownProbe probe;
    probe.reading.store(0, MemoryOrder::kRelaxed);
    probe.unmapped.store(0, MemoryOrder::kRelaxed);
    probe.stale_reads.store(0, MemoryOrder::kRelaxed);
    probe.faulted_after.store(0, MemoryOrder::kRelaxed);
    base::Result<uint64_t> va = mm::kva_alloc(base::kPageSize);
    KASSERT_TRUE(va.ok());
    probe.va = va.value();
    KASSERT_EQ(err(mm::alloc_map(probe.va, mm::kPermWrite)), 0);
    const uint64_t received = mm::tlb_shootdowns_received(cpu);
    KASSERT_EQ(err(cpus_run_on(cpu, probe_until_unmapped, &probe)), 0);
    while (probe.reading.load(MemoryOrder::kAcquire) == 0) arch::cpu_relax();
    KEXPECT_EQ(err(mm::unmap_range(probe.va, base::kPageSize)), 0);
    probe.unmapped.store(1, MemoryOrder::kRelease);
    cpus_wait_work_done(cpu);
    KEXPECT_EQ(probe.stale_reads.load(MemoryOrder::kRelaxed), 0u);
    KEXPECT_EQ(probe.faulted_after.load(MemoryOrder::kRelaxed), 1u);
    KEXPECT_GT(mm::tlb_shootdowns_received(cpu), received);
    KEXPECT_EQ(err(mm::kva_free(probe.va, base::kPageSize)), 0);
  }
}

KTEST(tlb, batched_unmaps_cost_one_shootdown) {
  if (cpus_online() < 2) return;
  PinTo pin(0);  // counts CPU 1's shootdowns: the initiator must be elsewhere
  constexpr uint64_t kPages = 6;
  base::Result<uint64_t> va = mm::kva_alloc(2 * kPages * base::kPageSize);
  KASSERT_TRUE(va.ok());
  KASSERT_EQ(err(mm::alloc_map_range(va.value(), 2 * kPages * base::kPageSize, mm::kPermWrite)), 0);
  const uint64_t received = mm::tlb_shootdowns_received(1);
  {
    mm::UnmapBatch batch;
    // Every other page: six separate ranges, one shootdown.
    for (uint64_t i = 0; i < 2 * kPages; i += 2)
      KEXPECT_EQ(err(mm::unmap_range(va.value() + i * base::kPageSize, base::kPageSize, &batch)), 0);
    KEXPECT_EQ(mm::tlb_shootdowns_received(1), received);
    batch.flush();
  }
  KEXPECT_EQ(mm::tlb_shootdowns_received(1), received + 1);
  for (uint64_t i = 0; i < 2 * kPages; ++i)
    KEXPECT_EQ(mm::safe_read64(va.value() + i * base::kPageSize).ok(), i % 2 == 1);
  for (uint64_t i = 1; i < 2 * kPages; i += 2)
    KEXPECT_EQ(err(mm::unmap_range(va.value() + i * base::kPageSize, base::kPageSize)), 0);
  KEXPECT_EQ(err(mm::kva_free(va.value(), 2 * kPages * base::kPageSize)), 0);
}

}  // namespace
}  // namespace kernel

namespace kernel {
namespace {

// Ends in a panic; a boot test expects it (xfail suites run only when named).
KTEST(xfail_mm, page_double_free_panics) {
  base::Result<uint64_t> p = mm::page_alloc(0);
  KASSERT_TRUE(p.ok());
  mm::page_free(p.value(), 0);
  mm::page_free(p.value(), 0);
}

}  // namespace
}  // namespace kernel
