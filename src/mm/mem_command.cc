// `mem`: the usable memory found at boot (what vm_init was given), the
// page allocator's counters (pages managed, free, in per-CPU caches and
// quarantined, whether deferred metadata init is done, free blocks per order) and the heap's (per size class live
// objects and bytes, spans, free objects in the central lists; large and
// huge objects; pages held), and with fail.* set the faults injected so far.
#include "src/arch/console.h"
#include "src/mm/fail_inject.h"
#include "src/mm/kernel_vm.h"
#include "src/mm/kmalloc.h"
#include "src/mm/page_alloc.h"
#include "src/monitor/command.h"

namespace mm {
namespace {

MONITOR_COMMAND(mem, "", "usable memory found at boot, page allocator counters") {
  UsableMemory u = usable_memory();
  arch::kprint("usable memory: {} bytes ({} MiB) in {} ranges, highest usable address {:#x}\n", u.bytes, u.bytes >> 20,
               u.ranges, u.highest_end.value());
  PageAllocStats s = page_alloc_stats();
  arch::kprint("pages: {} managed, {} free ({} in per-CPU caches), {} quarantined{}\n", s.phys.total_pages,
               s.phys.free_pages, s.cached_pages, s.phys.quarantined_pages, s.poison ? ", poison checking on" : "");
  // Managed and free are the final figures from boot on (deferred pages are
  // free pages); the blocks per order count prepared pages only.
  if (s.phys.ready_pages != s.phys.total_pages) {
    arch::kprint(
        "page metadata: init in progress: {} of {} pages ready ({} MiB of {}); free blocks below: ready only\n",
        s.phys.ready_pages, s.phys.total_pages, s.phys.ready_pages >> 8, s.phys.total_pages >> 8);
  } else {
    arch::kprint("page metadata: all {} pages ready{}\n", s.phys.total_pages,
                 s.phys.grown_by_alloc != 0 ? " (some prepared by allocations that needed them)" : "");
  }
  if (s.init_step_tsc != 0) {
    arch::kprint("page metadata: init steps after boot spanned {} TSC cycles, {} steps by allocations\n",
                 s.init_step_tsc, s.phys.grown_by_alloc);
  }
  arch::kprint("free blocks by order (4 KiB .. 2 MiB):");
  for (unsigned o = 0; o < kNumOrders; ++o) arch::kprint(" {}", s.phys.free_blocks[o]);
  arch::kprint("\n");
  const KernelHeapStats h = heap_stats();
  arch::kprint("heap: class size  live objects   live bytes  spans  central free\n");
  for (unsigned c = 0; c < kHeapNumClasses; ++c) {
    const HeapClassStats& k = h.heap.classes[c];
    if (k.live_objects == 0 && k.spans == 0) continue;  // never used: nothing to show
    arch::kprint("      {:10} {:13} {:12} {:6} {:13}\n", k.size, k.live_objects, k.live_bytes, k.spans, k.central_free);
  }
  arch::kprint(
      "heap: {} small objects ({} bytes), {} large ({} bytes), {} huge ({} bytes); {} pages held "
      "({} in spans, {} of metadata){}\n",
      h.heap.small_live_objects, h.heap.small_live_bytes, h.heap.large_live_objects, h.heap.large_live_bytes,
      h.huge_live_objects, h.huge_live_bytes, h.heap.pages_held, h.heap.span_pages, h.heap.metadata_pages,
      h.heap.quarantined != 0 ? "; some objects quarantined by poison checks" : "");
  if (fail_armed()) {
    const FaultConfig& f = fail_inject_config();
    const FaultCounts n = fail_inject_counts();
    arch::kprint(
        "faults injected (fail.*, inside fault scopes): page {} of {} at {}/1000, heap {} of {} at {}/1000, "
        "reserve {} of {} at {}/1000\n",
        n.injected[0], n.draws[0], f.per_mille[0], n.injected[1], n.draws[1], f.per_mille[1], n.injected[2], n.draws[2],
        f.per_mille[2]);
  }
  return true;
}

}  // namespace
}  // namespace mm
