// Tests for the e820 sanitizer: hand-made edge cases, the six memory maps
// GRUB really handed the kernel under QEMU (testdata/boot), and a randomized
// comparison against a brute-force model of a small address space.
#include "src/mm/e820.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "src/base/testing/testdata.h"

namespace mm {

bool operator==(const MemRange& a, const MemRange& b) {
  return a.start == b.start && a.end == b.end && a.type == b.type;
}
bool operator==(const PhysRange& a, const PhysRange& b) { return a.start == b.start && a.end == b.end; }
void PrintTo(const MemRange& r, std::ostream* os) {
  *os << std::hex << "[0x" << r.start.value() << ", 0x" << r.end.value() << ") type " << std::dec
      << static_cast<uint32_t>(r.type);
}
void PrintTo(const PhysRange& r, std::ostream* os) {
  *os << std::hex << "[0x" << r.start.value() << ", 0x" << r.end.value() << ")" << std::dec;
}

namespace {

// A PhysRange from two plain numbers: the tests spell addresses as literals.
PhysRange pr(uint64_t start, uint64_t end) { return PhysRange{base::PhysAddr(start), base::PhysAddr(end)}; }
// A MemRange likewise.
MemRange mr(uint64_t start, uint64_t end, E820Type type) {
  return MemRange{base::PhysAddr(start), base::PhysAddr(end), type};
}

// A MemRange holds physical addresses only: neither a raw integer nor a
// virtual address can be stored in one.
static_assert(!std::is_assignable_v<base::PhysAddr&, uint64_t>);
static_assert(!std::is_assignable_v<decltype((std::declval<MemRange&>().start)), uint64_t>);
static_assert(!std::is_assignable_v<decltype((std::declval<MemRange&>().start)), base::VirtAddr>);
static_assert(!std::is_assignable_v<decltype((std::declval<MemRange&>().end)), uint64_t>);
static_assert(!std::is_constructible_v<MemRange, uint64_t, uint64_t, E820Type>);

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
constexpr uint64_t kPage = base::kPageSize;
constexpr uint64_t kTop = ~uint64_t{0};

constexpr uint32_t kUsable = 1;
constexpr uint32_t kReserved = 2;
constexpr uint32_t kAcpi = 3;
constexpr uint32_t kNvs = 4;
constexpr uint32_t kBad = 5;

constexpr E820Type U = E820Type::kUsable;
constexpr E820Type R = E820Type::kReserved;
constexpr E820Type A = E820Type::kAcpiReclaimable;
constexpr E820Type N = E820Type::kAcpiNvs;
constexpr E820Type B = E820Type::kBadMemory;

// The precedence, written out independently of e820.cc.
int test_rank(uint32_t raw) {
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
E820Type test_type(uint32_t raw) {
  switch (raw) {
    case 1:
      return U;
    case 3:
      return A;
    case 4:
      return N;
    case 5:
      return B;
    default:
      return R;
  }
}

std::vector<MemRange> sanitize(const std::vector<E820Entry>& raw) {
  std::vector<E820Boundary> scratch(2 * raw.size() + 1);
  std::vector<MemRange> out(2 * raw.size() + 1);
  auto n = sanitize_e820(base::Span<const E820Entry>(raw.data(), raw.size()),
                         base::Span<E820Boundary>(scratch.data(), scratch.size()),
                         base::Span<MemRange>(out.data(), out.size()));
  EXPECT_TRUE(n.ok()) << base::error_name(n.error());
  out.resize(n.ok() ? n.value() : 0);
  return out;
}

std::vector<PhysRange> carve(const std::vector<MemRange>& map, const std::vector<PhysRange>& cuts) {
  std::vector<PhysRange> out(2 * map.size() + 2 * cuts.size() + 1);
  auto n = usable_pages(base::Span<const MemRange>(map.data(), map.size()),
                        base::Span<const PhysRange>(cuts.data(), cuts.size()),
                        base::Span<PhysRange>(out.data(), out.size()));
  EXPECT_TRUE(n.ok()) << base::error_name(n.error());
  out.resize(n.ok() ? n.value() : 0);
  return out;
}

std::vector<PhysRange> pages(const std::vector<E820Entry>& raw, const std::vector<PhysRange>& cuts = {}) {
  return carve(sanitize(raw), cuts);
}

// Invariants every sanitized map must satisfy.
void expect_well_formed(const std::vector<MemRange>& map) {
  for (size_t i = 0; i < map.size(); ++i) {
    EXPECT_LT(map[i].start, map[i].end) << "range " << i;
    if (i > 0) {
      EXPECT_LE(map[i - 1].end, map[i].start) << "range " << i << " overlaps or is unsorted";
      if (map[i - 1].end == map[i].start) {
        EXPECT_NE(map[i - 1].type, map[i].type) << "range " << i << " not merged";
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Sanitizing

TEST(E820Sanitize, EmptyInput) { EXPECT_TRUE(sanitize({}).empty()); }

TEST(E820Sanitize, SingleEntryKept) {
  EXPECT_EQ(sanitize({{0x100000, 0x7ee0000, kUsable}}), (std::vector<MemRange>{mr(0x100000, 0x7fe0000, U)}));
}

TEST(E820Sanitize, UnsortedInputIsSorted) {
  auto map = sanitize({{0x200000, 0x1000, kReserved}, {0, 0x9fc00, kUsable}, {0x100000, 0x1000, kAcpi}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x9fc00, U), mr(0x100000, 0x101000, A), mr(0x200000, 0x201000, R)}));
}

TEST(E820Sanitize, ZeroLengthEntriesDropped) {
  // A zero-length bad entry inside usable RAM must neither split it nor
  // appear; one on its own vanishes.
  auto map = sanitize({{0, 0x10000, kUsable}, {0x8000, 0, kBad}, {0x50000, 0, kReserved}, {0, 0, kUsable}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x10000, U)}));
  EXPECT_TRUE(sanitize({{0x1000, 0, kUsable}, {0, 0, kBad}}).empty());
}

TEST(E820Sanitize, AdjacentSameTypeMerges) {
  auto map = sanitize({{0x2000, 0x1000, kUsable}, {0, 0x1000, kUsable}, {0x1000, 0x1000, kUsable}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x3000, U)}));
}

TEST(E820Sanitize, UnknownTypesMergeWithReserved) {
  auto map = sanitize({{0, 0x1000, 0}, {0x1000, 0x1000, kReserved}, {0x2000, 0x1000, 7}, {0x3000, 0x1000, 0xffffffff}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x4000, R)}));
}

TEST(E820Sanitize, AdjacentDifferentTypesStaySeparate) {
  auto map = sanitize({{0, 0x1000, kUsable}, {0x1000, 0x1000, kAcpi}, {0x2000, 0x1000, kUsable}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x1000, U), mr(0x1000, 0x2000, A), mr(0x2000, 0x3000, U)}));
}

TEST(E820Sanitize, HolesAreKept) {
  // No entry at all for 0xa0000..0xf0000: the result must not bridge it.
  auto map = sanitize({{0, 0x9fc00, kUsable}, {0xf0000, 0x10000, kReserved}, {0x100000, 0x100000, kUsable}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x9fc00, U), mr(0xf0000, 0x100000, R), mr(0x100000, 0x200000, U)}));
}

TEST(E820Sanitize, OverlapOfEveryTypePair) {
  const uint32_t types[] = {kUsable, kReserved, kAcpi, kNvs, kBad, 0, 6, 12, 0xffffffff};
  for (uint32_t a : types) {
    for (uint32_t b : types) {
      SCOPED_TRACE(testing::Message() << "a=" << a << " b=" << b);
      const E820Type ta = test_type(a);
      const E820Type tb = test_type(b);
      const E820Type win = test_rank(a) >= test_rank(b) ? ta : tb;
      auto squash = [](std::vector<MemRange> v) {
        // Expected lists are written piecewise; merge equal neighbours.
        std::vector<MemRange> r;
        for (const MemRange& m : v) {
          if (!r.empty() && r.back().end == m.start && r.back().type == m.type) {
            r.back().end = m.end;
          } else {
            r.push_back(m);
          }
        }
        return r;
      };
      // Partial overlap: a = [1, 3) pages, b = [2, 4).
      EXPECT_EQ(sanitize({{0x1000, 0x2000, a}, {0x2000, 0x2000, b}}),
                squash({mr(0x1000, 0x2000, ta), mr(0x2000, 0x3000, win), mr(0x3000, 0x4000, tb)}));
      // Containment: b = [2, 3) inside a = [1, 4); also listed the other way round.
      auto inside = squash({mr(0x1000, 0x2000, ta), mr(0x2000, 0x3000, win), mr(0x3000, 0x4000, ta)});
      EXPECT_EQ(sanitize({{0x1000, 0x3000, a}, {0x2000, 0x1000, b}}), inside);
      EXPECT_EQ(sanitize({{0x2000, 0x1000, b}, {0x1000, 0x3000, a}}), inside);
      // Identical extent.
      EXPECT_EQ(sanitize({{0x1000, 0x1000, a}, {0x1000, 0x1000, b}}), (std::vector<MemRange>{mr(0x1000, 0x2000, win)}));
      // Shared start, different ends; unaligned boundaries.
      EXPECT_EQ(sanitize({{0x1000, 0x800, a}, {0x1000, 0x1400, b}}),
                squash({mr(0x1000, 0x1800, win), mr(0x1800, 0x2400, tb)}));
    }
  }
}

TEST(E820Sanitize, RestrictiveTypeWinsAcrossManyLayers) {
  // Usable everywhere, reserved in the middle, NVS inside that, bad inside
  // that, ACPI reclaimable overlapping the usable edge.
  auto map = sanitize({{0, 0x10000, kUsable},
                       {0x4000, 0x8000, kReserved},
                       {0x5000, 0x6000, kNvs},
                       {0x7000, 0x1000, kBad},
                       {0xe000, 0x4000, kAcpi}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x4000, U), mr(0x4000, 0x5000, R), mr(0x5000, 0x7000, N),
                                        mr(0x7000, 0x8000, B), mr(0x8000, 0xb000, N), mr(0xb000, 0xc000, R),
                                        mr(0xc000, 0xe000, U), mr(0xe000, 0x12000, A)}));
}

TEST(E820Sanitize, UnalignedEntriesKeptExactly) {
  auto map = sanitize({{0, 0x9fc00, kUsable}, {0x9fc00, 0x400, kReserved}, {0x100123, 0x10000, kUsable}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x9fc00, U), mr(0x9fc00, 0xa0000, R), mr(0x100123, 0x110123, U)}));
}

TEST(E820Sanitize, EntriesAboveFourGiB) {
  auto map = sanitize({{0xfd00000000, 0x300000000, kReserved},
                       {0x100000000, 0x40000000, kUsable},
                       {0xfffc0000, 0x40000, kReserved},
                       {0x120000000, 0x40000000, kAcpi},  // Overlaps the RAM above 4 GiB.
                       {0, 0x9fc00, kUsable}});
  EXPECT_EQ(map,
            (std::vector<MemRange>{mr(0, 0x9fc00, U), mr(0xfffc0000, 0x100000000, R), mr(0x100000000, 0x120000000, U),
                                   mr(0x120000000, 0x160000000, A), mr(0xfd00000000, 0x10000000000, R)}));
  EXPECT_EQ(usable_end(base::Span<const MemRange>(map.data(), map.size())).value(), 0x120000000u);
}

TEST(E820Sanitize, WrappingEntriesClippedAtTopOfAddressSpace) {
  // base + length wraps to 0x1000: taken naively that would be an end below
  // the base, or a reserved claim on low memory. It must clip at the top.
  auto map = sanitize({{0, 0x100000, kUsable}, {kTop - 0xfff, 0x2000, kReserved}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x100000, U), mr(kTop - 0xfff, kTop, R)}));

  // The largest possible length from a nonzero base.
  map = sanitize({{0, 0x100000, kUsable}, {0x100000000, kTop, kBad}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x100000, U), mr(0x100000000, kTop, B)}));

  // Ending exactly at 2^64 also overflows 64 bits; a one-byte entry at the
  // last address is empty after clipping and dropped.
  map = sanitize({{kTop - 0xffff, 0x10000, kUsable}, {kTop, 1, kBad}, {kTop, kTop, kNvs}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(kTop - 0xffff, kTop, U)}));
  // The top page is partial after clipping, so shrinking drops it.
  EXPECT_EQ(carve(map, {}), (std::vector<PhysRange>{pr(kTop - 0xffff, kTop - 0xfff)}));

  // A whole-address-space entry that does not wrap.
  map = sanitize({{0, kTop, kUsable}, {0x1000, 0x1000, kReserved}});
  EXPECT_EQ(map, (std::vector<MemRange>{mr(0, 0x1000, U), mr(0x1000, 0x2000, R), mr(0x2000, kTop, U)}));
}

TEST(E820Sanitize, TwoHundredDisjointEntries) {
  // 200 separate entries of alternating type, shuffled: more than the 128
  // that a legacy e820 table holds.
  std::vector<E820Entry> raw;
  std::vector<MemRange> expected;
  for (uint64_t i = 0; i < 200; ++i) {
    uint32_t t = i % 2 ? kReserved : kUsable;
    raw.push_back({i * 0x10000, 0x8000, t});
    expected.push_back(mr(i * 0x10000, i * 0x10000 + 0x8000, test_type(t)));
  }
  std::shuffle(raw.begin(), raw.end(), std::mt19937_64(200));
  EXPECT_EQ(sanitize(raw), expected);
  EXPECT_EQ(pages(raw).size(), 100u);
}

TEST(E820Sanitize, TwoHundredAdjacentEntriesMergeToOne) {
  std::vector<E820Entry> raw;
  for (uint64_t i = 0; i < 200; ++i) raw.push_back({i * 0x1000, 0x1000, kUsable});
  std::shuffle(raw.begin(), raw.end(), std::mt19937_64(201));
  EXPECT_EQ(sanitize(raw), (std::vector<MemRange>{mr(0, 200 * 0x1000, U)}));
}

TEST(E820Sanitize, OutputOverflowIsAnError) {
  const E820Entry raw[] = {{0, 0x1000, kUsable}, {0x2000, 0x1000, kUsable}, {0x4000, 0x1000, kUsable}};
  E820Boundary scratch[6];
  MemRange out[3];
  auto n = sanitize_e820(raw, scratch, base::Span<MemRange>(out, 2));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error(), base::Error::kOutOfRange);
  n = sanitize_e820(raw, scratch, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 3u);
  // Zero output capacity with nonempty input.
  n = sanitize_e820(raw, scratch, base::Span<MemRange>());
  EXPECT_FALSE(n.ok());
}

TEST(E820Sanitize, ScratchOverflowIsAnError) {
  const E820Entry raw[] = {{0, 0x1000, kUsable}, {0x2000, 0, kUsable}, {0x4000, 0x1000, kUsable}};
  E820Boundary scratch[4];
  MemRange out[4];
  // Two non-empty entries need four boundaries; the zero-length one none.
  auto n = sanitize_e820(raw, scratch, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 2u);
  n = sanitize_e820(raw, base::Span<E820Boundary>(scratch, 3), out);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error(), base::Error::kOutOfRange);
}

// ---------------------------------------------------------------------------
// Page-shrinking and carving

TEST(E820Pages, ShrinksInwardToPages) {
  auto p = pages({{0, 0x9fc00, kUsable}, {0x100123, 0x5000, kUsable}, {0x200800, 0x800, kUsable}});
  // 0x9fc00 -> 0x9f000; the second rounds in at both ends; the third lies
  // within one page and vanishes.
  EXPECT_EQ(p, (std::vector<PhysRange>{pr(0, 0x9f000), pr(0x101000, 0x105000)}));
}

TEST(E820Pages, OnlyUsableRangesCount) {
  auto p = pages({{0, 0x1000, kReserved},
                  {0x1000, 0x1000, kAcpi},
                  {0x2000, 0x1000, kNvs},
                  {0x3000, 0x1000, kBad},
                  {0x4000, 0x1000, 9},
                  {0x5000, 0x1000, kUsable}});
  EXPECT_EQ(p, (std::vector<PhysRange>{pr(0x5000, 0x6000)}));
}

TEST(E820Pages, CarveOutSplitsRange) {
  auto p = pages({{0x100000, 0x100000, kUsable}}, {pr(0x150000, 0x152000)});
  EXPECT_EQ(p, (std::vector<PhysRange>{pr(0x100000, 0x150000), pr(0x152000, 0x200000)}));
}

TEST(E820Pages, UnalignedCarveOutWidensToPages) {
  // A carve-out covering one byte costs its whole page.
  auto p = pages({{0x100000, 0x10000, kUsable}}, {pr(0x104fff, 0x105001)});
  EXPECT_EQ(p, (std::vector<PhysRange>{pr(0x100000, 0x104000), pr(0x106000, 0x110000)}));
}

TEST(E820Pages, CarveOutsAtEdges) {
  const std::vector<E820Entry> raw = {{0x100000, 0x10000, kUsable}};
  // At the start, at the end, both, touching from outside, exactly the range.
  EXPECT_EQ(pages(raw, {pr(0x100000, 0x101000)}), (std::vector<PhysRange>{pr(0x101000, 0x110000)}));
  EXPECT_EQ(pages(raw, {pr(0x10f000, 0x110000)}), (std::vector<PhysRange>{pr(0x100000, 0x10f000)}));
  EXPECT_EQ(pages(raw, {pr(0x10f000, 0x110000), pr(0x100000, 0x101000)}),
            (std::vector<PhysRange>{pr(0x101000, 0x10f000)}));
  EXPECT_EQ(pages(raw, {pr(0xf0000, 0x100000), pr(0x110000, 0x120000)}),
            (std::vector<PhysRange>{pr(0x100000, 0x110000)}));
  EXPECT_TRUE(pages(raw, {pr(0x100000, 0x110000)}).empty());
  // Straddling an edge from outside.
  EXPECT_EQ(pages(raw, {pr(0xff000, 0x102000)}), (std::vector<PhysRange>{pr(0x102000, 0x110000)}));
  EXPECT_EQ(pages(raw, {pr(0x10e800, 0x200000)}), (std::vector<PhysRange>{pr(0x100000, 0x10e000)}));
}

TEST(E820Pages, OverlappingUnorderedCarveOuts) {
  auto p =
      pages({{0, 0x20000, kUsable}}, {pr(0x8000, 0xa000), pr(0x3000, 0x5000), pr(0x4000, 0x6000), pr(0x9000, 0x9001),
                                      pr(0x3000, 0x3800), pr(0x7000, 0x7000)});  // The last one is empty: ignored.
  EXPECT_EQ(p, (std::vector<PhysRange>{pr(0, 0x3000), pr(0x6000, 0x8000), pr(0xa000, 0x20000)}));
}

TEST(E820Pages, CarveOutSpanningSeveralRanges) {
  auto p = pages({{0, 0x9fc00, kUsable}, {0x100000, 0x100000, kUsable}, {0x300000, 0x1000, kUsable}},
                 {pr(0x1000, 0x180000)});
  EXPECT_EQ(p, (std::vector<PhysRange>{pr(0, 0x1000), pr(0x180000, 0x200000), pr(0x300000, 0x301000)}));
}

TEST(E820Pages, CarveOutToTopOfAddressSpace) {
  auto p = pages({{0, 0x100000, kUsable}, {0x100000000, 0x100000000, kUsable}}, {pr(0x180000000, kTop)});
  EXPECT_EQ(p, (std::vector<PhysRange>{pr(0, 0x100000), pr(0x100000000, 0x180000000)}));
}

TEST(E820Pages, InvertedCarveOutIsAnError) {
  auto map = sanitize({{0, 0x100000, kUsable}});
  const PhysRange cuts[] = {pr(0x2000, 0x1000)};
  PhysRange out[4];
  auto n = usable_pages(base::Span<const MemRange>(map.data(), map.size()), cuts, out);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error(), base::Error::kInvalidArgument);
}

TEST(E820Pages, SplitOverflowIsAnError) {
  auto map = sanitize({{0, 0x100000, kUsable}});
  const PhysRange cuts[] = {pr(0x10000, 0x11000), pr(0x20000, 0x21000)};
  PhysRange out[3];
  auto n = usable_pages(base::Span<const MemRange>(map.data(), map.size()), cuts, base::Span<PhysRange>(out, 2));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error(), base::Error::kOutOfRange);
  n = usable_pages(base::Span<const MemRange>(map.data(), map.size()), cuts, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 3u);
}

TEST(E820BootMemoryMap, TotalsAndHighestUsable) {
  static BootMemoryMap<16, 16> m;
  const E820Entry raw[] = {{0, 0x9fc00, kUsable},
                           {0x9fc00, 0x400, kReserved},
                           {0x100000, 0x7ee0000, kUsable},
                           {0x7fe0000, 0x20000, kReserved},
                           {0xfd00000000, 0x300000000, kReserved}};
  const PhysRange cuts[] = {pr(0, 0x100000), pr(0x200000, 0x300000)};
  ASSERT_TRUE(m.init(raw, cuts).ok());
  EXPECT_EQ(m.map().size(), 5u);
  EXPECT_EQ(m.usable_bytes_sanitized(), 0x9fc00u + 0x7ee0000u);
  EXPECT_EQ(m.usable_bytes(), 0x7ee0000u - 0x100000u);
  EXPECT_EQ(m.highest_usable_end().value(), 0x7fe0000u);
  EXPECT_EQ(usable_end(m.map()).value(), 0x7fe0000u);
  std::vector<PhysRange> seen;
  for (const PhysRange& r : m.usable()) seen.push_back(r);
  EXPECT_EQ(seen, (std::vector<PhysRange>{pr(0x100000, 0x200000), pr(0x300000, 0x7fe0000)}));
}

TEST(E820BootMemoryMap, OverflowLeavesMapEmpty) {
  static BootMemoryMap<4, 2> m;
  const E820Entry raw[] = {{0, 0x1000, kUsable}, {0x2000, 0x1000, kReserved}, {0x4000, 0x1000, kUsable}};
  auto s = m.init(raw, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), base::Error::kOutOfRange);
  EXPECT_TRUE(m.map().empty());
  EXPECT_TRUE(m.usable().empty());
  EXPECT_EQ(m.usable_bytes(), 0u);
  // Too many raw entries for the scratch space.
  const E820Entry many[] = {{0, 1, 1}, {2, 1, 1}, {4, 1, 1}, {6, 1, 1}, {8, 1, 1}};
  EXPECT_FALSE(m.init(many, {}).ok());
}

// ---------------------------------------------------------------------------
// The real maps GRUB handed the kernel (testdata/boot/README.md).

uint32_t le32(const std::vector<uint8_t>& b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}
uint64_t le64(const std::vector<uint8_t>& b, size_t off) {
  uint64_t v;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}

struct Mb2Info {
  std::vector<E820Entry> mmap;
  std::vector<PhysRange> modules;
  uint64_t image_end = 0;  // Highest end of any ELF section GRUB loaded.
};

// Walks the multiboot2 tags, [mb2] 3.6: an 8-byte fixed header (total_size,
// reserved), then tags {u32 type, u32 size} each starting 8-byte aligned.
Mb2Info parse_mb2(const std::vector<uint8_t>& b) {
  Mb2Info info;
  EXPECT_GE(b.size(), 16u);
  if (b.size() < 16) return info;
  EXPECT_EQ(le32(b, 0), b.size());
  for (size_t off = 8; off + 8 <= b.size();) {
    const uint32_t type = le32(b, off);
    const uint32_t size = le32(b, off + 4);
    EXPECT_GE(size, 8u);
    EXPECT_LE(off + size, b.size());
    if (type == 0 || size < 8 || off + size > b.size()) break;
    if (type == 6) {  // mmap, [mb2] 3.6.8
      const uint32_t entry_size = le32(b, off + 8);
      EXPECT_GE(entry_size, 24u);
      for (size_t e = off + 16; e + 24 <= off + size; e += entry_size) {
        info.mmap.push_back({le64(b, e), le64(b, e + 8), le32(b, e + 16)});
      }
    } else if (type == 3) {  // module, [mb2] 3.6.6
      info.modules.push_back(pr(le32(b, off + 8), le32(b, off + 12)));
    } else if (type == 9) {  // ELF sections, [mb2] 3.6.7: 32- or 64-bit headers
      const uint32_t num = le32(b, off + 8);
      const uint32_t entsize = le32(b, off + 12);
      for (uint32_t i = 0; i < num; ++i) {
        const size_t sh = off + 20 + size_t{i} * entsize;
        uint64_t addr = entsize == 40 ? le32(b, sh + 12) : le64(b, sh + 16);
        uint64_t len = entsize == 40 ? le32(b, sh + 20) : le64(b, sh + 32);
        if (addr != 0) info.image_end = std::max(info.image_end, addr + len);
      }
    }
    off += base::align_up(size, 8);
  }
  return info;
}

// A tiny JSON reader for the one number we need: the first integer value of
// `key` after `anchor`.
uint64_t json_u64(const std::string& text, const std::string& anchor, const std::string& key) {
  size_t at = text.find(anchor);
  EXPECT_NE(at, std::string::npos) << anchor;
  if (at == std::string::npos) return 0;
  at = text.find("\"" + key + "\":", at);
  EXPECT_NE(at, std::string::npos) << key;
  if (at == std::string::npos) return 0;
  at += key.size() + 3;
  while (at < text.size() && text[at] == ' ') ++at;
  uint64_t v = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') v = v * 10 + (text[at++] - '0');
  return v;
}

struct RealMap {
  const char* config;
  size_t entries;           // README: "mmap entries"
  uint64_t usable;          // README: "usable RAM (type 1)"
  uint64_t above_4g;        // README: "of it above 4 GiB"
  uint64_t highest_usable;  // End of the last type-1 entry.
};

class E820RealMap : public testing::TestWithParam<RealMap> {};

TEST_P(E820RealMap, MatchesReadme) {
  const RealMap& want = GetParam();
  const std::string name = want.config;
  const auto bin = base::testing::read_testdata("testdata/boot/" + name + ".mb2.bin");
  ASSERT_FALSE(bin.empty()) << "run from the repository root";
  const auto json_bytes = base::testing::read_testdata("testdata/boot/" + name + ".json");
  ASSERT_FALSE(json_bytes.empty());
  const std::string json(json_bytes.begin(), json_bytes.end());

  const Mb2Info info = parse_mb2(bin);
  ASSERT_EQ(info.mmap.size(), want.entries);
  EXPECT_EQ(json_u64(json, "\"mmap_analysis\"", "count"), want.entries);

  // Sanitizing a well-formed map keeps every usable byte.
  const auto map = sanitize(info.mmap);
  expect_well_formed(map);
  const base::Span<const MemRange> map_span(map.data(), map.size());
  EXPECT_EQ(total_bytes(map_span, E820Type::kUsable), want.usable);
  EXPECT_EQ(json_u64(json, "\"mmap_analysis\"", "usable_bytes"), want.usable);
  uint64_t above = 0;
  for (const MemRange& r : map) {
    if (r.type == U && r.start.value() >= 4 * kGiB) above += r.size();
  }
  EXPECT_EQ(above, want.above_4g);

  // Highest usable address, not highest map address (QEMU's 1 TiB range).
  EXPECT_EQ(usable_end(map_span).value(), want.highest_usable);
  EXPECT_EQ(map.back().end.value(), 0x10000000000u);
  EXPECT_EQ(map.back().type, R);

  // Shrinking: page-aligned, and the 0x9fc00 entry becomes [0, 0x9f000).
  const auto shrunk = carve(map, {});
  ASSERT_FALSE(shrunk.empty());
  for (const PhysRange& r : shrunk) {
    EXPECT_TRUE(r.start.is_aligned(kPage) && r.end.is_aligned(kPage));
    EXPECT_LT(r.start, r.end);
  }
  EXPECT_EQ(shrunk.front(), (pr(0, 0x9f000)));
  const uint64_t shrunk_total = total_bytes(base::Span<const PhysRange>(shrunk.data(), shrunk.size()));
  EXPECT_EQ(shrunk_total, want.usable - 0xc00);

  // Carving what a kernel booted this way must keep: the first MiB (real-mode
  // structures, the AP trampoline page), the image and the symbol tables
  // GRUB loaded after it, the boot information (at EBX) and the module.
  const uint64_t mbi = json_u64(json, "\"mbi\"", "phys_addr");
  ASSERT_EQ(info.modules.size(), 1u);
  ASSERT_NE(info.image_end, 0u);
  std::vector<PhysRange> cuts = {pr(0, kMiB), pr(0x8000, 0x9000), pr(kMiB, info.image_end), pr(mbi, mbi + bin.size())};
  cuts.insert(cuts.end(), info.modules.begin(), info.modules.end());
  const auto carved = carve(map, cuts);
  // GRUB packs all of that between 1 MiB and 0x1133e8 (the module's end).
  EXPECT_EQ(info.modules[0].end.value(), 0x1133e8u);
  ASSERT_FALSE(carved.empty());
  EXPECT_EQ(carved.front().start.value(), 0x114000u);
  EXPECT_EQ(total_bytes(base::Span<const PhysRange>(carved.data(), carved.size())),
            shrunk_total - 0x9f000 - (0x114000 - kMiB));
  EXPECT_EQ(carved.back().end.value(), want.highest_usable);

  // The same through BootMemoryMap.
  static BootMemoryMap<64, 64> boot;
  ASSERT_TRUE(boot.init(base::Span<const E820Entry>(info.mmap.data(), info.mmap.size()),
                        base::Span<const PhysRange>(cuts.data(), cuts.size()))
                  .ok());
  EXPECT_EQ(boot.usable_bytes_sanitized(), want.usable);
  EXPECT_EQ(boot.usable_bytes(), shrunk_total - 0x9f000 - (0x114000 - kMiB));
  EXPECT_EQ(boot.highest_usable_end().value(), want.highest_usable);
}

INSTANTIATE_TEST_SUITE_P(Boot, E820RealMap,
                         testing::Values(RealMap{"m32M-smp1-qemu64", 7, 33029120, 0, 0x1fe0000},
                                         RealMap{"m128M-smp2-qemu64", 7, 133692416, 0, 0x7fe0000},
                                         RealMap{"m512M-smp4-max", 7, 536345600, 0, 0x1ffe0000},
                                         RealMap{"m3584M-smp2-qemu64", 8, 3757571072, 512 * kMiB, 0x120000000},
                                         RealMap{"m4G-smp8-max", 8, 4294441984, 1 * kGiB, 0x140000000},
                                         RealMap{"m2G-smp4-q35-max", 9, 2146954240, 0, 0x7ffdf000}),
                         [](const testing::TestParamInfo<RealMap>& p) {
                           std::string n = p.param.config;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---------------------------------------------------------------------------
// Randomized: a 256 KiB address space modelled one KiB at a time (so
// entries are unaligned to pages), checked exactly against the sanitizer,
// then a per-page model of shrinking and carving.

TEST(E820Random, MatchesBruteForceModel) {
  constexpr int kUnits = 256;
  constexpr uint64_t kUnit = kKiB;
  constexpr int kPages = kUnits * kUnit / kPage;
  const uint32_t kTypes[] = {kUsable, kUsable, kUsable, kReserved, kAcpi, kNvs, kBad, 0, 7};
  std::mt19937_64 rng(0xb15c0771);
  auto below = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };

  for (int iter = 0; iter < 3000; ++iter) {
    SCOPED_TRACE(testing::Message() << "iteration " << iter);
    // Build raw entries; include zero-length ones and duplicates.
    std::vector<E820Entry> raw;
    const int count = static_cast<int>(below(iter % 10 == 0 ? 60 : 12));
    for (int i = 0; i < count; ++i) {
      uint64_t start = below(kUnits);
      uint64_t len = below(5) == 0 ? 0 : 1 + below(kUnits - start);
      raw.push_back({start * kUnit, len * kUnit, kTypes[below(std::size(kTypes))]});
    }
    if (count > 1 && below(4) == 0) raw.push_back(raw[below(raw.size())]);

    // Model: per unit, the highest-ranked covering type, or -1 for a hole.
    int unit_rank[kUnits];
    std::fill(std::begin(unit_rank), std::end(unit_rank), -1);
    E820Type rank_type[5] = {U, A, R, N, B};
    for (const E820Entry& e : raw) {
      for (uint64_t u = e.base / kUnit; u < (e.base + e.length) / kUnit; ++u) {
        unit_rank[u] = std::max(unit_rank[u], test_rank(e.type));
      }
    }
    std::vector<MemRange> want;
    for (int u = 0; u < kUnits; ++u) {
      if (unit_rank[u] < 0) continue;
      E820Type t = rank_type[unit_rank[u]];
      uint64_t s = u * kUnit;
      if (!want.empty() && want.back().end.value() == s && want.back().type == t) {
        want.back().end += kUnit;
      } else {
        want.push_back(mr(s, s + kUnit, t));
      }
    }
    const auto map = sanitize(raw);
    ASSERT_EQ(map, want);
    expect_well_formed(map);

    // Exact capacity works; one less fails.
    {
      std::vector<E820Boundary> scratch(2 * raw.size());
      std::vector<MemRange> out(want.size());
      auto n = sanitize_e820(base::Span<const E820Entry>(raw.data(), raw.size()),
                             base::Span<E820Boundary>(scratch.data(), scratch.size()),
                             base::Span<MemRange>(out.data(), out.size()));
      ASSERT_TRUE(n.ok());
      if (!want.empty()) {
        n = sanitize_e820(base::Span<const E820Entry>(raw.data(), raw.size()),
                          base::Span<E820Boundary>(scratch.data(), scratch.size()),
                          base::Span<MemRange>(out.data(), out.size() - 1));
        ASSERT_FALSE(n.ok());
      }
    }

    // Carve-outs at byte granularity, possibly empty, overlapping, or
    // reaching past the modelled space.
    std::vector<PhysRange> cuts;
    const int ncuts = static_cast<int>(below(5));
    for (int i = 0; i < ncuts; ++i) {
      uint64_t s = below(kUnits * kUnit + kPage);
      uint64_t len = below(4) == 0 ? 0 : below(6 * kPage);
      cuts.push_back(pr(s, s + len));
    }
    // Model: a page is usable iff every unit in it is usable (usable units
    // in one page are necessarily one merged range) and no non-empty
    // carve-out touches it.
    std::vector<PhysRange> want_pages;
    for (int p = 0; p < kPages; ++p) {
      bool ok = true;
      const int per = static_cast<int>(kPage / kUnit);
      for (int u = p * per; u < (p + 1) * per; ++u) ok = ok && unit_rank[u] == 0;
      const uint64_t ps = p * kPage, pe = ps + kPage;
      for (const PhysRange& c : cuts) ok = ok && !(c.start < c.end && c.start.value() < pe && c.end.value() > ps);
      if (!ok) continue;
      if (!want_pages.empty() && want_pages.back().end.value() == ps) {
        want_pages.back().end = base::PhysAddr(pe);
      } else {
        want_pages.push_back(pr(ps, pe));
      }
    }
    ASSERT_EQ(carve(map, cuts), want_pages);
  }
}

}  // namespace
}  // namespace mm
