// See kva.h.
#include "src/mm/kva.h"

#include "src/arch/spinlock.h"
#include "src/base/assert.h"
#include "src/mm/direct_map.h"
#include "src/mm/page_alloc.h"

namespace mm {
namespace {

constinit arch::SpinLock lock;
constinit VaAllocator space GUARDED_BY(lock);
constinit bool ready = false;

base::Result<uintptr_t> metadata_page(void*) {
  base::Result<base::PhysAddr> p = page_alloc(0, kAllocZero);
  if (!p.ok()) return p.error();
  return reinterpret_cast<uintptr_t>(phys_to_virt(p.value()));
}

void free_metadata_page(void*, uintptr_t va) { page_free(direct_virt_to_phys(reinterpret_cast<void*>(va)), 0); }

}  // namespace

void kva_init() {
  arch::SpinLockGuard g(lock);
  base::Status s = space.init(kVaWindowBase, kVaWindowBytes, VaPageSource{metadata_page, free_metadata_page, nullptr});
  ASSERT_MSG(s.ok(), "kva_init: {}", space.last_error());
  ready = true;
}

base::Result<base::VirtAddr> kva_alloc(uint64_t bytes) {
  arch::SpinLockGuard g(lock);
  ASSERT_MSG(ready, "kva_alloc before kva_init");
  base::Result<uint64_t> va = space.alloc(bytes);
  if (!va.ok()) return va.error();
  return base::VirtAddr(va.value());
}

base::Status kva_free(base::VirtAddr va, uint64_t bytes) {
  arch::SpinLockGuard g(lock);
  return space.free(va.value(), bytes);
}

VaClassStats kva_stats(unsigned order) {
  arch::SpinLockGuard g(lock);
  return space.class_stats(order);
}

}  // namespace mm
