// Where the kernel heap gets its memory: a pair of function pointers and a
// context, so the same heap logic runs over the kernel's page allocator and
// over aligned_alloc in host tests (no vtable: see STYLE.md).
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"

namespace mm {

/// Hands out and takes back runs of 4 KiB pages. The heap calls it with
/// exactly one of its own locks held (never with two), from the contexts
/// the heap's slow paths run in, so it must not call back into the heap.
struct HeapPageSource {
  /// `pages` pages, page aligned, contents undefined (the heap never relies
  /// on zeroed memory). kOutOfMemory when none are left.
  base::Result<uintptr_t> (*alloc)(void* ctx, size_t pages);
  /// Returns exactly a run alloc() produced, with the same page count.
  void (*free)(void* ctx, uintptr_t addr, size_t pages);
  void* ctx;

  base::Result<uintptr_t> alloc_pages(size_t pages) const { return alloc(ctx, pages); }
  void free_pages(uintptr_t addr, size_t pages) const { free(ctx, addr, pages); }
};

}  // namespace mm
