// Host tests only: PhysAllocator with integer addresses. The allocator's
// interface takes and returns base::PhysAddr; the buddy tests do a lot of
// address arithmetic and compare with integer constants, so they go through
// this adapter, which converts at that interface and nowhere else.
// phys_test.cc's TypedInterface checks the typed calls themselves.
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/mm/phys.h"

namespace mm {

class RawPhysAllocator : public PhysAllocator {
 public:
  base::Result<uint64_t> alloc(unsigned order, uint32_t flags = kAllocNone) {
    base::Result<base::PhysAddr> r = PhysAllocator::alloc(order, flags);
    if (!r.ok()) return r.error();
    return r.value().value();
  }
  base::Status free(uint64_t phys, unsigned order) { return PhysAllocator::free(base::PhysAddr(phys), order); }
  base::Status cache_page(uint64_t phys, PhysPageMeta** meta = nullptr) {
    return PhysAllocator::cache_page(base::PhysAddr(phys), meta);
  }
  void uncache_page(uint64_t phys) { PhysAllocator::uncache_page(base::PhysAddr(phys)); }
  bool owns(uint64_t phys) const { return PhysAllocator::owns(base::PhysAddr(phys)); }
};

}  // namespace mm
