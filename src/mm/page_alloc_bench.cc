// The page allocator's fast path: one 4 KiB page allocated and freed
// through the per-CPU cache (`bench=mm`).
#include "src/ktest/bench.h"
#include "src/mm/page_alloc.h"

namespace {

BENCH_N(mm, page_alloc_free, 2000) {
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    base::Result<base::PhysAddr> p = mm::page_alloc(0);
    if (!p.ok()) return run.skip("out of memory");
    mm::page_free(p.value(), 0);
  }
  run.stop();
}

}  // namespace
