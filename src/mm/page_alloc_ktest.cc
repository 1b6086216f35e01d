// In-kernel tests of the page allocator on the machine's real memory:
// every free page allocated, written, verified and freed back; every order
// aligned and zeroed; and (xfail) a double free caught.
#include "src/ktest/ktest.h"
#include "src/ktest/require.h"
#include "src/mm/direct_map.h"
#include "src/mm/page_alloc.h"

namespace {

// A pattern only this page can carry: its address in the first word (the
// link), then the address mixed with a constant at the middle and the end.
constexpr uint64_t kMix = 0x9e37'79b9'7f4a'7c15;
uint64_t* words(base::PhysAddr pa) { return static_cast<uint64_t*>(mm::phys_to_virt(pa)); }

KTEST(mm, every_free_page_allocates_verifies_and_frees_back) {
  const uint64_t free_before = mm::page_alloc_stats().phys.free_pages;
  // Chain every page through its first word, so the test needs no memory
  // of its own.
  uint64_t head = 0, count = 0;
  for (;;) {
    base::Result<base::PhysAddr> p = mm::page_alloc(0);
    if (!p.ok()) break;
    const uint64_t pa = p.value().value();  // chained and mixed as a raw word
    uint64_t* w = words(p.value());
    w[0] = head;
    w[1] = pa ^ kMix;
    w[256] = pa * kMix;
    w[511] = ~pa;
    head = pa;
    ++count;
  }
  KEXPECT_EQ(count, free_before);
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, uint64_t{0});
  uint64_t bad = 0, seen = 0;
  while (head != 0) {
    uint64_t* w = words(base::PhysAddr(head));
    if (w[1] != (head ^ kMix) || w[256] != head * kMix || w[511] != ~head) ++bad;
    uint64_t next = w[0];
    mm::page_free(base::PhysAddr(head), 0);
    head = next;
    ++seen;
  }
  KEXPECT_EQ(bad, uint64_t{0});
  KEXPECT_EQ(seen, count);
  KEXPECT_EQ(mm::page_alloc_stats().phys.free_pages, free_before);
}

KTEST(mm, every_order_allocates_aligned_blocks) {
  // A free, aligned block of the largest order (2 MiB) exists only where
  // usable memory is several of them: on a small machine the boot's own
  // pages (heap, page metadata, stacks) break up the few there are. 12 MiB
  // is the smallest boot it was seen to pass on.
  KTEST_REQUIRE_MEMORY(6 * mm::order_bytes(mm::kMaxOrder));
  for (unsigned order = 0; order <= mm::kMaxOrder; ++order) {
    base::Result<base::PhysAddr> p = mm::page_alloc(order, mm::kAllocZero);
    KASSERT_TRUE(p.ok());
    KEXPECT_TRUE(p.value().is_aligned(mm::order_bytes(order)));
    const uint64_t* w = words(p.value());
    uint64_t nonzero = 0;
    for (uint64_t i = 0; i < mm::order_bytes(order) / 8; ++i) nonzero += w[i] != 0;
    KEXPECT_EQ(nonzero, uint64_t{0});
    mm::page_free(p.value(), order);
  }
}

// Ends in a panic; a boot test expects it (xfail suites run only when named).
KTEST(xfail_mm, page_double_free_panics) {
  base::Result<base::PhysAddr> p = mm::page_alloc(0);
  KASSERT_TRUE(p.ok());
  mm::page_free(p.value(), 0);
  mm::page_free(p.value(), 0);
}

}  // namespace
