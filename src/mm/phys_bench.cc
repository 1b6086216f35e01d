// The buddy allocator's set-up cost for 4 GiB of RAM (`bench=mm`).
#include "src/ktest/bench.h"
#include "src/mm/alloc_map.h"
#include "src/mm/kva.h"
#include "src/mm/phys.h"

namespace {

// Initialising the buddy allocator for 4 GiB of RAM (metadata only: the
// pages themselves are not touched).
BENCH_N(mm, phys_init_4g, 1) {
  static const mm::PhysRange ranges[] = {{base::PhysAddr(0x10'0000), base::PhysAddr(0xc000'0000)},
                                         {base::PhysAddr(0x1'0000'0000), base::PhysAddr(0x1'4000'0000)}};
  const uint64_t bytes = (mm::phys_metadata_bytes(ranges) + base::kPageSize - 1) & ~(base::kPageSize - 1);
  base::Result<base::VirtAddr> va = mm::kva_alloc(bytes);
  if (!va.ok() || !mm::alloc_map_range(va.value(), bytes, mm::kPermWrite).ok()) return run.skip("out of memory");
  static mm::PhysAllocator pa;
  run.start();
  base::Status s = pa.init(ranges, base::Span<uint8_t>(base::as_ptr<uint8_t>(va.value()), bytes), nullptr, nullptr);
  run.stop();
  if (!s.ok()) run.skip("init failed");
  (void)mm::unmap_range(va.value(), bytes);
  (void)mm::kva_free(va.value(), bytes);
}

}  // namespace
