// In-kernel tests of deferred page-metadata init (page_alloc.h, mm.init=):
// the background thread finishes it, demand mode leaves it to
// allocations, and allocating all memory while it is deferred fails only
// once every page is ready (no false out-of-memory). They pass in every
// mode and on any machine; the deferred case is the boot tests'
// page_init_* (more than 256 MiB, mm.init=background and =demand).
// In this order (section order): the first must see init still deferred.
#include "src/arch/console.h"
#include "src/ktest/ktest.h"
#include "src/ktest/wait_until.h"
#include "src/mm/direct_map.h"
#include "src/mm/page_alloc.h"
#include "src/sched/thread.h"

namespace {

uint64_t deferred_pages() {
  const mm::PageAllocStats s = mm::page_alloc_stats();
  return s.phys.total_pages - s.phys.ready_pages;
}

KTEST(page_init, background_thread_finishes_and_demand_mode_waits_for_allocations) {
  const uint64_t deferred = deferred_pages();
  switch (mm::page_alloc_init_mode()) {
    case mm::PageInitMode::kBoot:
      KEXPECT_EQ(deferred, uint64_t{0});
      break;
    case mm::PageInitMode::kBackground:
      // 8 GiB is about 3 ms of work under -icount; the bound only turns a
      // thread that never runs into a failure.
      KEXPECT_TRUE(ktest::wait_until([] { return deferred_pages() == 0; }, 10 * ktest::kWaitBoundNs));
      break;
    case mm::PageInitMode::kDemand:
      // Nothing prepares metadata behind the allocations' backs (the next
      // test relies on it to find init still deferred).
      sched::sleep_for(2'000'000);
      KEXPECT_EQ(deferred_pages(), deferred);
      break;
  }
  arch::kprint("page_init: {} pages deferred at the test's start, {} now\n", deferred, deferred_pages());
}

KTEST(page_init, allocating_all_memory_while_init_is_deferred_fails_only_once_all_is_ready) {
  const uint64_t deferred = deferred_pages();
  // Every 2 MiB block, chained through its first word: the largest order
  // needs the most prepared memory, so each allocation past the prepared
  // part has to prepare more itself.
  uint64_t head = 0, blocks = 0, deferred_at_failure = 0;
  for (;;) {
    base::Result<base::PhysAddr> p = mm::page_alloc(mm::kMaxOrder);
    if (!p.ok()) {
      deferred_at_failure = deferred_pages();
      KEXPECT_EQ(p.error(), base::Error::kOutOfMemory);
      break;
    }
    // Chained as raw words: 0 ends the chain.
    *static_cast<uint64_t*>(mm::phys_to_virt(p.value())) = head;
    head = p.value().value();
    ++blocks;
  }
  KEXPECT_EQ(deferred_at_failure, uint64_t{0});  // out of memory with pages still deferred: a false one
  // Every deferred 2 MiB block was handed out: the deferred part starts on a
  // 2 MiB boundary, and only its ranges' unaligned ends (under 512 pages
  // each, a few ranges) hold smaller blocks.
  const uint64_t block_pages = uint64_t{1} << mm::kMaxOrder;
  KEXPECT_GE(blocks * block_pages + 8 * block_pages, deferred);
  while (head != 0) {
    const uint64_t next = *static_cast<uint64_t*>(mm::phys_to_virt(base::PhysAddr(head)));
    mm::page_free(base::PhysAddr(head), mm::kMaxOrder);
    head = next;
  }
  const mm::PageAllocStats s = mm::page_alloc_stats();
  arch::kprint("page_init: {} pages deferred at the start; {} blocks of 2 MiB allocated; all {} pages ready\n",
               deferred, blocks, s.phys.ready_pages);
}

}  // namespace
