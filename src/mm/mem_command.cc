// `mem`: the usable memory found at boot (what vm_init was given) and the
// page allocator's counters: pages managed, free, in per-CPU caches and
// quarantined, and free blocks per order.
#include "src/arch/console.h"
#include "src/monitor/command.h"
#include "src/mm/kernel_vm.h"
#include "src/mm/page_alloc.h"

namespace mm {
namespace {

MONITOR_COMMAND(mem, "", "usable memory found at boot, page allocator counters") {
  UsableMemory u = usable_memory();
  arch::kprint("usable memory: {} bytes ({} MiB) in {} ranges, highest usable address {:#x}\n", u.bytes,
               u.bytes >> 20, u.ranges, u.highest_end);
  PageAllocStats s = page_alloc_stats();
  arch::kprint("pages: {} managed, {} free ({} in per-CPU caches), {} quarantined{}\n", s.phys.total_pages,
               s.phys.free_pages, s.cached_pages, s.phys.quarantined_pages, s.poison ? ", poison checking on" : "");
  arch::kprint("free blocks by order (4 KiB .. 2 MiB):");
  for (unsigned o = 0; o < kNumOrders; ++o) arch::kprint(" {}", s.phys.free_blocks[o]);
  arch::kprint("\n");
  return true;
}

}  // namespace
}  // namespace mm
