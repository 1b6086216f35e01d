// Boot memory map sanitizer: a boundary sweep over the raw e820 entries, then
// page-shrinking and carving of the usable ranges. Freestanding: no heap, no
// libc, only src/base.
#include "src/mm/e820.h"

namespace mm {
namespace {

// Ranks order the types by how restrictive they are; where entries overlap,
// the higher rank wins. Bad memory must never be touched; NVS must be
// preserved across sleep, [acpi] 15; reserved (and anything unknown) may be
// device memory; ACPI reclaimable only until the tables are parsed; usable
// is the weakest claim.
inline constexpr uint8_t kRankUsable = 0;
inline constexpr uint8_t kRankAcpiReclaimable = 1;
inline constexpr uint8_t kRankReserved = 2;
inline constexpr uint8_t kRankAcpiNvs = 3;
inline constexpr uint8_t kRankBad = 4;
inline constexpr int kRankCount = 5;

constexpr E820Type kTypeOfRank[kRankCount] = {
    E820Type::kUsable, E820Type::kAcpiReclaimable, E820Type::kReserved, E820Type::kAcpiNvs, E820Type::kBadMemory,
};

constexpr uint8_t rank_of(uint32_t raw_type) {
  switch (raw_type) {
    case 1:
      return kRankUsable;
    case 3:
      return kRankAcpiReclaimable;
    case 4:
      return kRankAcpiNvs;
    case 5:
      return kRankBad;
    default:
      return kRankReserved;  // 2, and every type we do not know.
  }
}

// Heapsort by address: O(n log n) worst case, in place, no recursion (the
// boot stack is small), and no std::sort in a freestanding build. Stability
// is not needed: the sweep applies every boundary at one address before it
// looks at the result.
void sift_down(E820Boundary* a, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && a[child + 1].addr > a[child].addr) ++child;
    if (a[root].addr >= a[child].addr) return;
    E820Boundary t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

void heap_sort(E820Boundary* a, size_t n) {
  if (n < 2) return;
  for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (size_t end = n - 1; end > 0; --end) {
    E820Boundary t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

// Page rounding that cannot wrap: an address in the top partial page has no
// page-aligned address above it.
inline constexpr uint64_t kLastPage = base::align_down(kPhysAddrEnd, base::kPageSize);

constexpr uint64_t page_up_saturating(uint64_t v) {
  return v > kLastPage ? kPhysAddrEnd : base::align_up(v, base::kPageSize);
}

}  // namespace

base::Result<size_t> sanitize_e820(base::Span<const E820Entry> raw, base::Span<E820Boundary> scratch,
                                   base::Span<MemRange> out) {
  size_t points = 0;
  for (const E820Entry& e : raw) {
    if (e.length == 0) continue;
    // An entry reaching past 2^64 is clipped rather than dropped or taken
    // as is: base + length would wrap to a small end, and a naive sweep
    // would then apply the entry's type to low memory (or see end < base).
    // Nothing exists beyond 2^64 (x86-64 has at most 52 physical address
    // bits), so keeping the addressable part loses nothing real. The clip
    // point is 2^64 - 1 because an exclusive end of 2^64 does not fit in
    // 64 bits; the lost byte could at most cost the top page, where no
    // machine has RAM.
    uint64_t end = e.base + e.length;
    if (end < e.base) end = kPhysAddrEnd;
    if (end <= e.base) continue;  // base == 2^64 - 1: empty after clipping.
    if (scratch.size() - points < 2) return base::Error::kOutOfRange;
    uint8_t rank = rank_of(e.type);
    scratch[points++] = E820Boundary{e.base, rank, true};
    scratch[points++] = E820Boundary{end, rank, false};
  }
  heap_sort(scratch.data(), points);

  // Sweep the boundaries in address order keeping, per rank, how many
  // entries cover the current address; the covering type is the highest
  // rank with a nonzero count. A range ends wherever that type changes.
  // Adjacent entries of one type merge by construction: at their shared
  // address the closing and opening boundaries cancel out.
  size_t depth[kRankCount] = {};
  constexpr int kNone = -1;
  int current = kNone;
  uint64_t current_start = 0;
  size_t n = 0;
  for (size_t i = 0; i < points;) {
    const uint64_t addr = scratch[i].addr;
    for (; i < points && scratch[i].addr == addr; ++i) {
      if (scratch[i].opens) {
        ++depth[scratch[i].rank];
      } else {
        --depth[scratch[i].rank];
      }
    }
    int top = kNone;
    for (int r = kRankCount - 1; r >= 0; --r) {
      if (depth[r] != 0) {
        top = r;
        break;
      }
    }
    if (top == current) continue;
    if (current != kNone) {
      if (n == out.size()) return base::Error::kOutOfRange;
      out[n++] = MemRange{base::PhysAddr(current_start), base::PhysAddr(addr), kTypeOfRank[current]};
    }
    current = top;
    current_start = addr;
  }
  return n;
}

base::Result<size_t> usable_pages(base::Span<const MemRange> map, base::Span<const PhysRange> carve_outs,
                                  base::Span<PhysRange> out) {
  for (const PhysRange& c : carve_outs) {
    if (c.start > c.end) return base::Error::kInvalidArgument;
  }
  size_t n = 0;
  for (const MemRange& r : map) {
    if (r.type != E820Type::kUsable) continue;
    // Shrink inward: a page only partly described as RAM may overlap
    // whatever the firmware put next to it (e.g. the EBDA at 0x9fc00).
    if (r.start.value() > kLastPage) continue;
    uint64_t cur = r.start.page_up().value();
    const uint64_t end = r.end.page_down().value();
    // Walk the range left to right, each time skipping past the lowest
    // carve-out that still overlaps the rest. O(ranges x carve-outs); there
    // are a handful of carve-outs, and no scratch memory is needed to sort
    // them.
    while (cur < end) {
      bool found = false;
      uint64_t cut_start = 0;
      uint64_t cut_end = 0;
      for (const PhysRange& c : carve_outs) {
        if (c.start == c.end) continue;
        uint64_t cs = c.start.page_down().value();
        uint64_t ce = page_up_saturating(c.end.value());
        if (ce <= cur || cs >= end) continue;
        // Overlapping carve-outs need no merging: one not chosen now is
        // chosen on a later turn, when it yields an empty piece at most.
        if (!found || cs < cut_start) {
          found = true;
          cut_start = cs;
          cut_end = ce;
        }
      }
      const uint64_t piece_end = found ? cut_start : end;
      if (piece_end > cur) {
        if (n == out.size()) return base::Error::kOutOfRange;
        out[n++] = PhysRange{base::PhysAddr(cur), base::PhysAddr(piece_end)};
      }
      if (!found) break;
      cur = cut_end;
    }
  }
  return n;
}

uint64_t total_bytes(base::Span<const MemRange> map, E820Type type) {
  uint64_t total = 0;
  for (const MemRange& r : map) {
    if (r.type == type) total += r.size();
  }
  return total;
}

uint64_t total_bytes(base::Span<const PhysRange> ranges) {
  uint64_t total = 0;
  for (const PhysRange& r : ranges) total += r.size();
  return total;
}

base::PhysAddr usable_end(base::Span<const MemRange> map) {
  for (size_t i = map.size(); i-- > 0;) {
    if (map[i].type == E820Type::kUsable) return map[i].end;
  }
  return base::PhysAddr(0);
}

base::PhysAddr usable_end(base::Span<const PhysRange> ranges) {
  return ranges.empty() ? base::PhysAddr(0) : ranges[ranges.size() - 1].end;
}

}  // namespace mm
