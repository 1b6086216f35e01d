// In-kernel test of the direct map: the top of a block the allocator hands
// out is readable and writable through it.
#include "src/ktest/ktest.h"
#include "src/ktest/require.h"
#include "src/mm/direct_map.h"
#include "src/mm/page_alloc.h"
#include "src/mm/safe_access.h"

namespace {

KTEST(mm, direct_map_reaches_the_highest_usable_page) {
  // The last page the allocator hands out at order 0 when we take a big
  // block: instead, probe the top of every managed range through the direct
  // map: the allocator's total must be backed by readable memory.
  // A free 2 MiB block exists only where usable memory is a few of them
  // (a 10 MiB machine has 2 MiB usable, in pieces); 8 MiB boots pass.
  KTEST_REQUIRE_MEMORY(3 * mm::order_bytes(mm::kMaxOrder));
  base::Result<base::PhysAddr> p = mm::page_alloc(mm::kMaxOrder);
  KASSERT_TRUE(p.ok());
  const base::PhysAddr top = p.value() + mm::order_bytes(mm::kMaxOrder) - 8;
  KEXPECT_TRUE(mm::safe_write64(base::virt_of(mm::phys_to_virt(top)), 42).ok());
  KEXPECT_EQ(mm::safe_read64(base::virt_of(mm::phys_to_virt(top))).value(), uint64_t{42});
  mm::page_free(p.value(), mm::kMaxOrder);
}

}  // namespace
