// See direct_map.h.
#include "src/mm/direct_map.h"

namespace mm {

base::Result<size_t> plan_direct_map(base::Span<const MemRange> map, uint64_t page_bytes, base::Span<PhysRange> out) {
  if (page_bytes < base::kPageSize || (page_bytes & (page_bytes - 1)) != 0) return base::Error::kInvalidArgument;
  size_t n = 0;
  for (const MemRange& r : map) {
    if (!is_ram_type(r.type) || r.end <= r.start) continue;
    if (r.end.value() > kDirectMapMaxBytes) return base::Error::kOutOfRange;
    uint64_t start = r.start.value() & ~(page_bytes - 1);
    uint64_t end = (r.end.value() + page_bytes - 1) & ~(page_bytes - 1);
    // The map is sorted, so a run can only touch the previous one.
    if (n > 0 && start <= out[n - 1].end.value()) {
      if (end > out[n - 1].end.value()) out[n - 1].end = base::PhysAddr(end);
      continue;
    }
    if (n == out.size()) return base::Error::kOutOfRange;
    out[n++] = PhysRange{base::PhysAddr(start), base::PhysAddr(end)};
  }
  return n;
}

}  // namespace mm
