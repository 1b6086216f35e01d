// See kva.h.
#include "src/mm/kva.h"

#include "src/arch/spinlock.h"
#include "src/base/assert.h"
#include "src/base/guarded.h"
#include "src/mm/direct_map.h"
#include "src/mm/page_alloc.h"

namespace mm {
namespace {

// The window's allocator, reachable only with its lock held.
using Space = base::Guarded<VaAllocator, arch::SpinLock>;
constinit Space space;
constinit bool ready GUARDED_BY(space.lock()) = false;

base::Result<base::VirtAddr> metadata_page(void*) {
  base::Result<base::PhysAddr> p = page_alloc(0, kAllocZero);
  if (!p.ok()) return p.error();
  return base::virt_of(phys_to_virt(p.value()));
}

void free_metadata_page(void*, base::VirtAddr va) { page_free(direct_virt_to_phys(base::as_ptr(va)), 0); }

}  // namespace

void kva_init() {
  arch::SpinLockGuard g(space.lock());
  base::Status s = space.get().init(base::VirtAddr(kVaWindowBase), kVaWindowBytes,
                                    VaPageSource{metadata_page, free_metadata_page, nullptr});
  ASSERT_MSG(s.ok(), "kva_init: {}", space.get().last_error());
  ready = true;
}

base::Result<base::VirtAddr> kva_alloc(uint64_t bytes) {
  arch::SpinLockGuard g(space.lock());
  ASSERT_MSG(ready, "kva_alloc before kva_init");
  return space.get().alloc(bytes);
}

base::Status kva_free(base::VirtAddr va, uint64_t bytes) {
  return space.with([&](VaAllocator& s) { return s.free(va, bytes); });
}

VaClassStats kva_stats(unsigned order) {
  return space.with([&](VaAllocator& s) { return s.class_stats(order); });
}

}  // namespace mm
