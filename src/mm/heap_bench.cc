// The heap's fast path: kmalloc(64) and kfree from the per-CPU cache
// (`bench=heap`).
#include "src/ktest/bench.h"
#include "src/mm/kmalloc.h"

namespace {

BENCH_N(heap, kmalloc_kfree_64, 2000) {
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) mm::kfree(mm::kmalloc(64));
  run.stop();
}

}  // namespace
