#include "src/mm/direct_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace mm {
namespace {

constexpr uint64_t k2M = uint64_t{2} << 20;
constexpr uint64_t k1G = uint64_t{1} << 30;

// A MemRange from two plain numbers: the tests spell addresses as literals.
MemRange mr(uint64_t start, uint64_t end, E820Type type) {
  return MemRange{base::PhysAddr(start), base::PhysAddr(end), type};
}

std::vector<PhysRange> plan(const std::vector<MemRange>& map, uint64_t page, size_t cap = 64) {
  std::vector<PhysRange> out(cap);
  auto n = plan_direct_map(base::Span<const MemRange>(map.data(), map.size()), page,
                           base::Span<PhysRange>(out.data(), out.size()));
  EXPECT_TRUE(n.ok());
  out.resize(n.ok() ? n.value() : 0);
  return out;
}

// QEMU -m 4G (testdata/boot/m4G-smp8-max.txt), sanitized.
const std::vector<MemRange> kQemu4G = {
    mr(0x0, 0x9fc00, E820Type::kUsable),
    mr(0x9fc00, 0xa0000, E820Type::kReserved),
    mr(0xf0000, 0x100000, E820Type::kReserved),
    mr(0x100000, 0xbffe0000, E820Type::kUsable),
    mr(0xbffe0000, 0xc0000000, E820Type::kReserved),
    mr(0xfffc0000, 0x100000000, E820Type::kReserved),
    mr(0x100000000, 0x140000000, E820Type::kUsable),
    mr(0xfd00000000, 0x10000000000, E820Type::kReserved),
};

TEST(DirectMapPlan, Qemu4GWith2MiBPagesSkipsTheHoleAndTheHighReservedRange) {
  auto runs = plan(kQemu4G, k2M);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].start.value(), 0u);
  EXPECT_EQ(runs[0].end.value(), 0xc0000000u);  // rounded up over the ACPI tables' reserved tail
  EXPECT_EQ(runs[1].start.value(), 0x100000000u);
  EXPECT_EQ(runs[1].end.value(), 0x140000000u);
}

TEST(DirectMapPlan, Qemu4GWith1GiBPagesLeavesTheMmioGigabyteOut) {
  auto runs = plan(kQemu4G, k1G);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].end.value(), 3 * k1G);  // [3 GiB, 4 GiB) holds no RAM: LAPIC, IOAPIC, ROM
  EXPECT_EQ(runs[1].start.value(), 4 * k1G);
  EXPECT_EQ(runs[1].end.value(), 5 * k1G);
}

TEST(DirectMapPlan, AcpiTypesAreRamBadMemoryIsNot) {
  std::vector<MemRange> map = {
      mr(0x0, 0x200000, E820Type::kAcpiReclaimable),
      mr(0x400000, 0x600000, E820Type::kAcpiNvs),
      mr(0x800000, 0xa00000, E820Type::kBadMemory),
      mr(0xc00000, 0xe00000, E820Type::kReserved),
  };
  auto runs = plan(map, k2M);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].start.value(), 0u);
  EXPECT_EQ(runs[0].end.value(), 0x200000u);
  EXPECT_EQ(runs[1].start.value(), 0x400000u);
  EXPECT_EQ(runs[1].end.value(), 0x600000u);
}

TEST(DirectMapPlan, RangesSharingABlockMergeIntoOneRun) {
  std::vector<MemRange> map = {
      mr(0x1000, 0x2000, E820Type::kUsable),
      mr(0x3000, 0x4000, E820Type::kReserved),
      mr(0x5000, 0x300000, E820Type::kUsable),
  };
  auto runs = plan(map, k2M);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].start.value(), 0u);
  EXPECT_EQ(runs[0].end.value(), 0x400000u);
}

TEST(DirectMapPlan, EmptyMapPlansNothing) { EXPECT_TRUE(plan({}, k2M).empty()); }

TEST(DirectMapPlan, BadPageSizeIsRejected) {
  PhysRange out[4];
  EXPECT_EQ(plan_direct_map({}, 3 * k2M, base::Span<PhysRange>(out, 4)).error(), base::Error::kInvalidArgument);
  EXPECT_EQ(plan_direct_map({}, 512, base::Span<PhysRange>(out, 4)).error(), base::Error::kInvalidArgument);
}

TEST(DirectMapPlan, OutputOverflowAndRamBeyondTheWindowAreErrors) {
  std::vector<MemRange> map = {
      mr(0x0, 0x1000, E820Type::kUsable),
      mr(k1G, k1G + 0x1000, E820Type::kUsable),
  };
  PhysRange one[1];
  EXPECT_EQ(plan_direct_map(base::Span<const MemRange>(map.data(), 2), k2M, base::Span<PhysRange>(one, 1)).error(),
            base::Error::kOutOfRange);
  std::vector<MemRange> huge = {mr(kDirectMapMaxBytes - 0x1000, kDirectMapMaxBytes + 0x1000, E820Type::kUsable)};
  PhysRange out[4];
  EXPECT_EQ(plan_direct_map(base::Span<const MemRange>(huge.data(), 1), k2M, base::Span<PhysRange>(out, 4)).error(),
            base::Error::kOutOfRange);
}

TEST(DirectMapPlan, TranslationHelpersRoundTrip) {
  EXPECT_EQ(direct_virt_to_phys(phys_to_virt(base::PhysAddr(0x1234'5000))), base::PhysAddr(0x1234'5000));
  EXPECT_EQ(reinterpret_cast<uint64_t>(phys_to_virt(base::PhysAddr(0))), kDirectMapBase);
}

}  // namespace
}  // namespace mm
