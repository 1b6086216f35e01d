// The kernel's virtual-range allocator: VaAllocator over the VA window
// (direct_map.h), behind a spinlock, with metadata pages from the page
// allocator. Kernel only; thread context (it may allocate a page).
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/va_alloc.h"

namespace mm {

/// Sets up the window. Boot CPU, after vm_init.
void kva_init();

/// A page-aligned range of at least `bytes` in the VA window, not mapped.
base::Result<base::VirtAddr> kva_alloc(uint64_t bytes);

/// Returns a range (unmap it first). Misuse is an error, not a panic.
base::Status kva_free(base::VirtAddr va, uint64_t bytes);

/// Counters of the size class of order `order` (4 KiB << order).
VaClassStats kva_stats(unsigned order);

}  // namespace mm
