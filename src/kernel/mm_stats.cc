// See mm_stats.h.
#include "src/kernel/mm_stats.h"

#include "src/kernel/console.h"
#include "src/mm/page_alloc.h"

namespace kernel {

void print_mm_stats() {
  mm::PageAllocStats s = mm::page_alloc_stats();
  kprint("pages: {} managed, {} free ({} in per-CPU caches), {} quarantined{}\n", s.phys.total_pages,
         s.phys.free_pages, s.cached_pages, s.phys.quarantined_pages, s.poison ? ", poison checking on" : "");
  kprint("free blocks by order (4 KiB .. 2 MiB):");
  for (unsigned o = 0; o < mm::kNumOrders; ++o) kprint(" {}", s.phys.free_blocks[o]);
  kprint("\n");
}

}  // namespace kernel
