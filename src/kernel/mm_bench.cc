// bench=mm: the memory-management fast paths and shootdowns (see bench.h).
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/kernel/bench.h"
#include "src/kernel/cpus.h"
#include "src/mm/alloc_map.h"
#include "src/mm/direct_map.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/mm/phys.h"
#include "src/mm/tlb.h"

namespace kernel {
namespace {

BENCH_N(mm, page_alloc_free, 2000) {
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    base::Result<uint64_t> p = mm::page_alloc(0);
    if (!p.ok()) return run.skip("out of memory");
    mm::page_free(p.value(), 0);
  }
  run.stop();
}

BENCH_N(mm, map_unmap_4k, 500) {
  base::Result<uint64_t> va = mm::kva_alloc(base::kPageSize);
  base::Result<uint64_t> frame = mm::page_alloc(0);
  if (!va.ok() || !frame.ok()) return run.skip("out of memory");
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    (void)mm::map_range(va.value(), frame.value(), base::kPageSize, mm::kPermWrite);
    (void)mm::unmap_range(va.value(), base::kPageSize);
  }
  run.stop();
  mm::page_free(frame.value(), 0);
  (void)mm::kva_free(va.value(), base::kPageSize);
}

void shootdown_to(BenchRun& run, uint32_t others) {
  if (cpus_online() < others + 1) return run.skip("needs more CPUs (use --smp 4)");
  mm::CpuSet targets;
  for (uint32_t c = 1; c <= others; ++c) targets.add(c);
  mm::TlbRanges one;
  one.add(mm::kVaWindowBase, 1);
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) mm::tlb_shootdown(targets, one);
  run.stop();
}

BENCH_N(mm, shootdown_1_cpu, 200) { shootdown_to(run, 1); }
BENCH_N(mm, shootdown_3_cpus, 200) { shootdown_to(run, 3); }

// Initialising the buddy allocator for 4 GiB of RAM (metadata only: the
// pages themselves are not touched).
BENCH_N(mm, phys_init_4g, 1) {
  static const mm::PhysRange ranges[] = {{0x10'0000, 0xc000'0000}, {0x1'0000'0000, 0x1'4000'0000}};
  const uint64_t bytes = (mm::phys_metadata_bytes(ranges) + base::kPageSize - 1) & ~(base::kPageSize - 1);
  base::Result<uint64_t> va = mm::kva_alloc(bytes);
  if (!va.ok() || !mm::alloc_map_range(va.value(), bytes, mm::kPermWrite).ok()) return run.skip("out of memory");
  static mm::PhysAllocator pa;
  run.start();
  base::Status s = pa.init(ranges, base::Span<uint8_t>(reinterpret_cast<uint8_t*>(va.value()), bytes), nullptr, nullptr);
  run.stop();
  if (!s.ok()) run.skip("init failed");
  (void)mm::unmap_range(va.value(), bytes);
  (void)mm::kva_free(va.value(), bytes);
}

}  // namespace
}  // namespace kernel
