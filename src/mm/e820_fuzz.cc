// Fuzz target for the e820 sanitizer and the usable-page computation
// (tools/fuzz.bzl), seeded with the memory maps GRUB really passed
// (fuzz_corpus/e820, made by tools/fuzz/make_seeds.py from testdata/boot).
// Beyond "no crash", the answer is checked against the contract in e820.h:
// the map is sorted, non-overlapping, non-empty and merged, every point of
// it has the most restrictive raw type covering it (so it never adds RAM),
// no raw-covered point is lost, and the usable pages are page-aligned,
// inside usable ranges and clear of every carve-out.
//
// Input: 1 byte n (carve-outs: n & 7; bit 7: give `out` too little room),
// (n & 7) x {u64 start, u64 end} carve-outs, then raw entries as in the
// multiboot2 memory map ([mb2] 3.6.8): u64 base, u64 length, u32 type,
// u32 reserved (24 bytes each; a short tail is ignored).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "src/base/testing/fuzz_check.h"
#include "src/mm/e820.h"

namespace {

using mm::E820Boundary;
using mm::E820Entry;
using mm::E820Type;
using mm::MemRange;
using mm::PhysRange;

constexpr uint64_t kPage = base::kPageSize;

uint64_t le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Precedence from e820.h, written out independently of e820.cc:
// bad > NVS > reserved/unknown > ACPI reclaimable > usable.
int rank(uint32_t raw) {
  switch (raw) {
    case 1:
      return 0;
    case 3:
      return 1;
    case 4:
      return 3;
    case 5:
      return 4;
    default:
      return 2;
  }
}

E820Type type_of_rank(int r) {
  static constexpr E820Type kTypes[] = {E820Type::kUsable, E820Type::kAcpiReclaimable, E820Type::kReserved,
                                        E820Type::kAcpiNvs, E820Type::kBadMemory};
  return kTypes[r];
}

// The reference model: the rank of the most restrictive raw entry covering
// `p`, -1 if none. Entries reaching past 2^64 end at kPhysAddrEnd.
int model_rank(const std::vector<E820Entry>& raw, uint64_t p) {
  int best = -1;
  for (const E820Entry& e : raw) {
    uint64_t end = e.base + e.length;
    if (end < e.base) end = mm::kPhysAddrEnd;
    if (p >= e.base && p < end && rank(e.type) > best) best = rank(e.type);
  }
  return best;
}

// The sanitized range of `map` containing `p`, or null.
const MemRange* find(const MemRange* map, size_t n, uint64_t p) {
  for (size_t i = 0; i < n; ++i) {
    if (p >= map[i].start.value() && p < map[i].end.value()) return &map[i];
  }
  return nullptr;
}

void check_point(const std::vector<E820Entry>& raw, const MemRange* map, size_t n, uint64_t p) {
  const int want = model_rank(raw, p);
  const MemRange* got = find(map, n, p);
  if (want < 0) {
    FUZZ_CHECK(got == nullptr);  // nothing invented
  } else {
    FUZZ_CHECK(got != nullptr);  // nothing lost
    FUZZ_CHECK(got->type == type_of_rank(want));
  }
}

void check_map(const std::vector<E820Entry>& raw, const MemRange* map, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const MemRange& r = map[i];
    FUZZ_CHECK(r.start < r.end);  // non-empty
    if (i > 0) {
      FUZZ_CHECK(map[i - 1].end <= r.start);  // sorted, non-overlapping
      // Adjacent ranges of one type are merged.
      FUZZ_CHECK(map[i - 1].end < r.start || map[i - 1].type != r.type);
    }
    // Every range is uniform: its first, last and middle points, and the
    // point right after it, have the model's type.
    check_point(raw, map, n, r.start.value());
    check_point(raw, map, n, r.end.value() - 1);
    check_point(raw, map, n, r.start.value() + r.size() / 2);
    if (r.end.value() != mm::kPhysAddrEnd) check_point(raw, map, n, r.end.value());
  }
  // Every raw boundary lands where the model says, so no covered point
  // between two output ranges goes missing.
  for (const E820Entry& e : raw) {
    check_point(raw, map, n, e.base);
    if (e.base != 0) check_point(raw, map, n, e.base - 1);
    uint64_t end = e.base + e.length;
    if (end >= e.base && end != mm::kPhysAddrEnd) check_point(raw, map, n, end);
  }
  uint64_t usable_raw_bound = 0;  // saturating sum of the raw usable lengths
  for (const E820Entry& e : raw) {
    if (e.type != 1) continue;
    const uint64_t s = usable_raw_bound + e.length;
    usable_raw_bound = s < usable_raw_bound ? ~uint64_t{0} : s;
  }
  FUZZ_CHECK(mm::total_bytes(base::Span<const MemRange>(map, n), E820Type::kUsable) <= usable_raw_bound);
}

void check_usable(const MemRange* map, size_t n, const std::vector<PhysRange>& carve, const PhysRange* out, size_t m) {
  for (size_t i = 0; i < m; ++i) {
    const PhysRange& r = out[i];
    FUZZ_CHECK(r.start < r.end);
    FUZZ_CHECK(r.start.is_aligned(kPage) && r.end.is_aligned(kPage));
    if (i > 0) FUZZ_CHECK(out[i - 1].end <= r.start);
    const MemRange* in = find(map, n, r.start.value());
    FUZZ_CHECK(in != nullptr && in->type == E820Type::kUsable && r.end <= in->end);
    for (const PhysRange& c : carve) {
      if (c.start == c.end) continue;
      // Widened outward to whole pages: no page of `r` touches `c`.
      FUZZ_CHECK(c.end <= r.start || c.start >= r.end);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t ncarve = data[0] & 7;
  const bool tight = (data[0] & 0x80) != 0;
  size_t off = 1;
  if (size < off + 16 * ncarve) return 0;
  std::vector<PhysRange> carve;
  bool carve_ok = true;
  for (size_t i = 0; i < ncarve; ++i, off += 16) {
    carve.push_back(PhysRange{base::PhysAddr(le64(data + off)), base::PhysAddr(le64(data + off + 8))});
    carve_ok = carve_ok && carve.back().start <= carve.back().end;
  }
  std::vector<E820Entry> raw;
  for (; off + 24 <= size; off += 24) {
    E820Entry e;
    e.base = le64(data + off);
    e.length = le64(data + off + 8);
    std::memcpy(&e.type, data + off + 16, 4);
    raw.push_back(e);
  }

  // Exactly sized buffers: ASan reports any write past the spans.
  std::vector<E820Boundary> scratch(2 * raw.size());
  const size_t room = tight ? raw.size() / 2 : 2 * raw.size() + 1;
  std::vector<MemRange> map(room);
  auto n = mm::sanitize_e820(base::Span<const E820Entry>(raw.data(), raw.size()),
                             base::Span<E820Boundary>(scratch.data(), scratch.size()),
                             base::Span<MemRange>(map.data(), map.size()));
  if (!n.ok()) {
    // Only lack of room is an error; 2n - 1 ranges always fit untight.
    FUZZ_CHECK(n.error() == base::Error::kOutOfRange);
    FUZZ_CHECK(tight);
    return 0;
  }
  FUZZ_CHECK(n.value() <= map.size());
  check_map(raw, map.data(), n.value());

  const base::Span<const MemRange> sanitized(map.data(), n.value());
  std::vector<PhysRange> usable(tight ? n.value() / 2 : n.value() * (ncarve + 1));
  auto m = mm::usable_pages(sanitized, base::Span<const PhysRange>(carve.data(), carve.size()),
                            base::Span<PhysRange>(usable.data(), usable.size()));
  if (!m.ok()) {
    FUZZ_CHECK(m.error() == (carve_ok ? base::Error::kOutOfRange : base::Error::kInvalidArgument));
    FUZZ_CHECK(!carve_ok || tight);
    return 0;
  }
  FUZZ_CHECK(carve_ok);
  check_usable(map.data(), n.value(), carve, usable.data(), m.value());
  FUZZ_CHECK(mm::total_bytes(base::Span<const PhysRange>(usable.data(), m.value())) <=
             mm::total_bytes(sanitized, E820Type::kUsable));
  return 0;
}
