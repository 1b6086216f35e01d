// In-kernel tests of kernel mappings: map, protect and unmap round trips
// that give every owned frame back, errors that change nothing, given
// frames that unmap does not free, and ranges across page tables.
#include "src/ktest/ktest.h"
#include "src/mm/alloc_map.h"
#include "src/mm/direct_map.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/mm/safe_access.h"

namespace {

int err(base::Status s) { return s.ok() ? 0 : static_cast<int>(s.error()); }
constexpr int kInvalid = static_cast<int>(base::Error::kInvalidArgument);
constexpr int kOutOfRange = static_cast<int>(base::Error::kOutOfRange);
constexpr int kExists = static_cast<int>(base::Error::kAlreadyExists);
constexpr int kNotFound = static_cast<int>(base::Error::kNotFound);

uint64_t* words(uint64_t pa) { return static_cast<uint64_t*>(mm::phys_to_virt(base::PhysAddr(pa))); }
base::Result<uint64_t> read64(base::VirtAddr va) { return mm::safe_read64(va); }
base::Status write64(base::VirtAddr va, uint64_t v) { return mm::safe_write64(va, v); }

KTEST(mm, alloc_map_protect_unmap_round_trip) {
  constexpr uint64_t kBytes = 4 * base::kPageSize;
  base::Result<base::VirtAddr> va = mm::kva_alloc(kBytes);
  KASSERT_TRUE(va.ok());
  // Page tables for the range stay once created (they are reused), so
  // create them before counting.
  KASSERT_EQ(err(mm::alloc_map_range(va.value(), kBytes, mm::kPermWrite)), 0);
  KASSERT_EQ(err(mm::unmap_range(va.value(), kBytes)), 0);
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  KASSERT_EQ(err(mm::alloc_map_range(va.value(), kBytes, mm::kPermWrite)), 0);
  KEXPECT_LE(mm::page_alloc_stats().phys.free_pages + 4, free_before);
  for (uint64_t off = 0; off < kBytes; off += 8) {
    base::Result<uint64_t> v = read64(va.value() + off);
    KASSERT_TRUE(v.ok());
    KEXPECT_EQ(v.value(), uint64_t{0});  // fresh pages are zeroed
  }
  KEXPECT_TRUE(write64(va.value() + 8, 7).ok());
  KEXPECT_EQ(err(mm::protect_range(va.value(), kBytes, mm::kPermRead)), 0);
  KEXPECT_TRUE(!write64(va.value() + 8, 9).ok());
  KEXPECT_EQ(read64(va.value() + 8).value(), uint64_t{7});
  KEXPECT_EQ(err(mm::protect_range(va.value(), kBytes, mm::kPermWrite)), 0);
  KEXPECT_TRUE(write64(va.value() + 8, 9).ok());
  KEXPECT_EQ(err(mm::unmap_range(va.value(), kBytes)), 0);
  KEXPECT_TRUE(!read64(va.value()).ok());
  // The frames it owned are back.
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);
  KEXPECT_EQ(err(mm::kva_free(va.value(), kBytes)), 0);
}

KTEST(mm, mapping_errors_change_nothing) {
  base::Result<base::VirtAddr> va = mm::kva_alloc(2 * base::kPageSize);
  KASSERT_TRUE(va.ok());
  const base::VirtAddr v = va.value();
  KEXPECT_EQ(err(mm::alloc_map(v + 8, mm::kPermWrite)), kInvalid);
  KEXPECT_EQ(err(mm::alloc_map_range(v, 100, mm::kPermWrite)), kInvalid);
  KEXPECT_EQ(err(mm::alloc_map(base::VirtAddr(0x40'0000), mm::kPermWrite)), kOutOfRange);  // user half
  KEXPECT_EQ(err(mm::alloc_map(base::VirtAddr(mm::kKernelImageBase), mm::kPermWrite)), kOutOfRange);
  KEXPECT_EQ(err(mm::map_range(v, base::PhysAddr(0x1234), base::kPageSize, mm::kPermWrite)), kInvalid);
  KEXPECT_EQ(err(mm::unmap_range(v, base::kPageSize)), kNotFound);
  KASSERT_EQ(err(mm::alloc_map(v + base::kPageSize, mm::kPermWrite)), 0);
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  // Overlaps the mapped second page: all or nothing.
  KEXPECT_EQ(err(mm::alloc_map_range(v, 2 * base::kPageSize, mm::kPermWrite)), kExists);
  KEXPECT_TRUE(!read64(v).ok());
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);
  // Half mapped: unmap refuses the range and leaves the mapped page.
  KEXPECT_EQ(err(mm::unmap_range(v, 2 * base::kPageSize)), kNotFound);
  KEXPECT_TRUE(read64(v + base::kPageSize).ok());
  KEXPECT_EQ(err(mm::protect_range(v, 2 * base::kPageSize, mm::kPermRead)), kNotFound);
  KEXPECT_EQ(err(mm::unmap_range(v + base::kPageSize, base::kPageSize)), 0);
  KEXPECT_EQ(err(mm::kva_free(v, 2 * base::kPageSize)), 0);
}

KTEST(mm, map_range_does_not_free_frames_it_does_not_own) {
  base::Result<base::PhysAddr> frame = mm::page_alloc(0, mm::kAllocZero);
  base::Result<base::VirtAddr> va = mm::kva_alloc(base::kPageSize);
  KASSERT_TRUE(frame.ok() && va.ok());
  KASSERT_EQ(err(mm::map_range(va.value(), frame.value(), base::kPageSize, mm::kPermWrite)), 0);
  KEXPECT_TRUE(write64(va.value(), 0x5a5a).ok());
  KEXPECT_EQ(words(frame.value().value())[0], uint64_t{0x5a5a});  // same frame through the direct map
  KEXPECT_EQ(mm::kernel_translate(va.value()).value().value(), frame.value().value());
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
  base::Result<base::VirtAddr> va = mm::kva_alloc(span);
  KASSERT_TRUE(va.ok());
  // Two pages below a 2 MiB boundary: the range spans two page tables.
  const base::VirtAddr v = (va.value() + 2 * base::kPageSize).align_up(k2M) - 2 * base::kPageSize;
  KASSERT_TRUE(v >= va.value() && v + kBytes <= va.value() + span);
  // Create the page tables first: they stay, and would skew the counts.
  KASSERT_EQ(err(mm::alloc_map_range(v, kBytes, mm::kPermWrite)), 0);
  KASSERT_EQ(err(mm::unmap_range(v, kBytes)), 0);
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  KASSERT_EQ(err(mm::alloc_map_range(v, kBytes, mm::kPermWrite)), 0);
  for (uint64_t off = 0; off < kBytes; off += base::kPageSize) {
    KEXPECT_EQ(read64(v + off).value(), uint64_t{0});
    KEXPECT_TRUE(write64(v + off, off).ok());
  }
  KEXPECT_EQ(read64(v + kBytes - base::kPageSize).value(), kBytes - base::kPageSize);
  KEXPECT_EQ(err(mm::unmap_range(v, kBytes)), 0);
  KEXPECT_TRUE(!read64(v).ok());
  KEXPECT_TRUE(!read64(v + kBytes - base::kPageSize).ok());
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);

  // The last page, in the second table, is taken: the whole range fails,
  // and the pages mapped before the conflict are unmapped and freed again.
  const base::VirtAddr last = v + kBytes - base::kPageSize;
  KASSERT_EQ(err(mm::alloc_map(last, mm::kPermWrite)), 0);
  const uint64_t free_mid = mm::page_alloc_stats().phys.free_pages;
  KEXPECT_EQ(err(mm::alloc_map_range(v, kBytes, mm::kPermWrite)), kExists);
  KEXPECT_TRUE(!read64(v).ok());
  KEXPECT_TRUE(!read64(v + 2 * base::kPageSize).ok());
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_mid);
  KEXPECT_EQ(err(mm::unmap_range(v, kBytes)), kNotFound);
  KEXPECT_TRUE(read64(last).ok());
  KEXPECT_EQ(err(mm::unmap_range(last, base::kPageSize)), 0);

  // Given frames across the boundary: mapped in order, not freed on unmap.
  base::Result<base::PhysAddr> frames = mm::page_alloc(2, mm::kAllocZero);
  KASSERT_TRUE(frames.ok());
  KASSERT_EQ(err(mm::map_range(v, frames.value(), 4 * base::kPageSize, mm::kPermWrite)), 0);
  for (uint64_t i = 0; i < 4; ++i)
    KEXPECT_EQ(mm::kernel_translate(v + i * base::kPageSize).value().value(),
               (frames.value() + i * base::kPageSize).value());
  KEXPECT_EQ(err(mm::map_range(v + 3 * base::kPageSize, frames.value(), 2 * base::kPageSize, mm::kPermWrite)), kExists);
  KEXPECT_TRUE(!read64(v + 4 * base::kPageSize).ok());
  const uint64_t free_frames = mm::page_alloc_stats().phys.free_pages;
  KEXPECT_EQ(err(mm::unmap_range(v, 4 * base::kPageSize)), 0);
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_frames);
  mm::page_free(frames.value(), 2);
  KEXPECT_EQ(err(mm::kva_free(va.value(), span)), 0);
}

}  // namespace
