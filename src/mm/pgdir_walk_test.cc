// Host tests for the page-table walker over simulated physical memory: every
// page-table page lives in a std::map keyed by its fake physical address.
#include "src/mm/pgdir_walk.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <type_traits>

namespace mm {
namespace {

using base::Error;

constexpr uint64_t k4K = 0x1000;
constexpr uint64_t k2M = 0x20'0000;
constexpr uint64_t k1G = 0x4000'0000;

// Fake physical memory: table pages only, handed out from 1 MiB upwards.
struct FakePhys {
  std::map<uint64_t, std::array<uint64_t, 512>> pages;
  uint64_t next = 0x10'0000;
  int allocs_left = -1;  // < 0: unlimited
  int allocs = 0;
  int frees = 0;

  uint64_t new_page() {
    uint64_t p = next;
    next += k4K;
    pages[p].fill(0);
    return p;
  }
};

// The handle PageTable copies: a pointer to the shared fake.
struct FakeMem {
  FakePhys* phys;

  uint64_t* table(base::PhysAddr at) {
    const uint64_t pa = at.value();
    auto it = phys->pages.find(pa);
    if (it == phys->pages.end()) {
      ADD_FAILURE() << "table() on a phys that is not a table page: " << std::hex << pa;
      std::abort();
    }
    return it->second.data();
  }
  base::Result<base::PhysAddr> alloc_table() {
    if (phys->allocs_left == 0) return Error::kOutOfMemory;
    if (phys->allocs_left > 0) --phys->allocs_left;
    ++phys->allocs;
    return base::PhysAddr(phys->new_page());
  }
  void free_table(base::PhysAddr pa) {
    ++phys->frees;
    EXPECT_EQ(phys->pages.erase(pa.value()), 1u);
  }
};
static_assert(PageTableMemory<FakeMem>);

// The walker's memory speaks physical addresses, not bare words: one that
// takes or hands out a uint64_t is not a PageTableMemory.
struct RawWordMem {
  uint64_t* table(uint64_t pa);
  base::Result<uint64_t> alloc_table();
  void free_table(uint64_t pa);
};
static_assert(!PageTableMemory<RawWordMem>);
static_assert(!std::is_constructible_v<PageTable<FakeMem>, FakeMem, uint64_t>);

class PgdirWalkTest : public ::testing::Test {
 protected:
  PgdirWalkTest() : pt_(FakeMem{&phys_}, base::PhysAddr(phys_.new_page())) {}

  // Every table page reachable from the root, checked for well-formedness:
  // no page referenced twice, no PS in a PML4E, large leaves aligned.
  size_t reachable_tables() {
    std::set<uint64_t> seen;
    walk_tables(pt_.root_phys().value(), kLevelPml4, seen);
    return seen.size();
  }
  void walk_tables(uint64_t pa, int level, std::set<uint64_t>& seen) {
    EXPECT_TRUE(seen.insert(pa).second) << "table referenced twice";
    auto& t = phys_.pages.at(pa);
    for (uint64_t raw : t) {
      Pte e(raw);
      if (!e.present()) continue;
      if (level == kLevelPt) continue;
      if (e.large()) {
        EXPECT_NE(level, kLevelPml4);
        EXPECT_EQ(e.addr() & (level_span(level) - 1), 0u);
        continue;
      }
      walk_tables(e.addr(), level - 1, seen);
    }
  }

  FakePhys phys_;
  PageTable<FakeMem> pt_;
};

TEST_F(PgdirWalkTest, Map4KAndTranslate) {
  ASSERT_TRUE(
      pt_.map(base::VirtAddr(0x40'0000), base::PhysAddr(0x1234'5000), PageSize::k4K, Pte::kWritable | Pte::kNoExecute)
          .ok());
  auto t = pt_.translate(base::VirtAddr(0x40'0abc));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value().phys.value(), 0x1234'5abcu);
  EXPECT_EQ(t.value().size, PageSize::k4K);
  EXPECT_TRUE(t.value().pte.writable());
  EXPECT_TRUE(t.value().pte.no_execute());
  EXPECT_FALSE(t.value().pte.large());
  EXPECT_EQ(phys_.allocs, 3);  // PDPT, PD, PT
  EXPECT_EQ(reachable_tables(), 4u);
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x40'1000)).error(), Error::kNotFound);
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x3f'f000)).error(), Error::kNotFound);
}

TEST_F(PgdirWalkTest, Map2MAnd1G) {
  ASSERT_TRUE(pt_.map(base::VirtAddr(0x60'0000), base::PhysAddr(0x8000'0000), PageSize::k2M, Pte::kWritable).ok());
  ASSERT_TRUE(pt_.map(base::VirtAddr(0x80'0000'0000), base::PhysAddr(0x1'0000'0000), PageSize::k1G, 0).ok());
  auto a = pt_.translate(base::VirtAddr(0x60'0000 + 0x1f'fff8));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().phys.value(), 0x8000'0000u + 0x1f'fff8);
  EXPECT_EQ(a.value().size, PageSize::k2M);
  EXPECT_TRUE(a.value().pte.large());
  auto b = pt_.translate(base::VirtAddr(0x80'0000'0000 + 0x3fff'ffff));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.value().phys.value(), 0x1'3fff'ffffu);
  EXPECT_EQ(b.value().size, PageSize::k1G);
  EXPECT_FALSE(b.value().pte.writable());
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x80'4000'0000)).error(), Error::kNotFound);
}

TEST_F(PgdirWalkTest, KernelHigherHalfAndDirectMap) {
  constexpr uint64_t kKernelBase = 0xffff'ffff'8000'0000;
  constexpr uint64_t kDirectMap = 0xffff'8000'0000'0000;
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        pt_.map(base::VirtAddr(kKernelBase + i * k4K), base::PhysAddr(0x20'0000 + i * k4K), PageSize::k4K, Pte::kGlobal)
            .ok());
  }
  ASSERT_TRUE(pt_.map(base::VirtAddr(kKernelBase + k2M), base::PhysAddr(0x40'0000), PageSize::k2M, Pte::kGlobal).ok());
  ASSERT_TRUE(
      pt_.map(base::VirtAddr(kDirectMap), base::PhysAddr(0), PageSize::k1G, Pte::kWritable | Pte::kNoExecute).ok());
  ASSERT_TRUE(
      pt_.map(base::VirtAddr(kDirectMap + k1G), base::PhysAddr(k1G), PageSize::k1G, Pte::kWritable | Pte::kNoExecute)
          .ok());
  EXPECT_EQ(pt_.translate(base::VirtAddr(kKernelBase + 0x3123)).value().phys.value(), 0x20'3123u);
  EXPECT_EQ(pt_.translate(base::VirtAddr(kKernelBase + k2M + 0x1234)).value().phys.value(), 0x40'1234u);
  EXPECT_TRUE(pt_.translate(base::VirtAddr(kKernelBase)).value().pte.global());
  for (uint64_t pa : {uint64_t{0x1000}, uint64_t{0x1234'5678}, uint64_t{0x7fff'ffff}}) {
    auto t = pt_.translate(base::VirtAddr(kDirectMap + pa));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().phys.value(), pa);
  }
  EXPECT_EQ(pt_.translate(base::VirtAddr(kDirectMap + 2 * k1G)).error(), Error::kNotFound);
  EXPECT_EQ(pt_.translate(base::VirtAddr(0xffff'ffff'ffff'f000)).error(), Error::kNotFound);
}

TEST_F(PgdirWalkTest, WalkCreatesTablesOnlyWhenAsked) {
  auto e = pt_.walk(base::VirtAddr(0x7000'0000'0000), kLevelPt, /*create=*/false);
  EXPECT_EQ(e.error(), Error::kNotFound);
  EXPECT_NE(pt_.reason(), nullptr);
  EXPECT_EQ(phys_.allocs, 0);
  EXPECT_EQ(reachable_tables(), 1u);

  auto c = pt_.walk(base::VirtAddr(0x7000'0000'0000), kLevelPt, /*create=*/true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c.value(), 0u);
  EXPECT_EQ(phys_.allocs, 3);
  EXPECT_EQ(reachable_tables(), 4u);

  // Now it exists without create, and is the same entry.
  auto again = pt_.walk(base::VirtAddr(0x7000'0000'0000), kLevelPt, /*create=*/false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), c.value());
  // A neighbour in the same PT needs no new tables.
  ASSERT_TRUE(pt_.walk(base::VirtAddr(0x7000'0000'1000), kLevelPt, true).ok());
  EXPECT_EQ(phys_.allocs, 3);
  // Walking to a higher level creates fewer tables.
  ASSERT_TRUE(pt_.walk(base::VirtAddr(0x1000'0000'0000), kLevelPdpt, true).ok());
  EXPECT_EQ(phys_.allocs, 4);
  // The PML4 entry itself needs none.
  ASSERT_TRUE(pt_.walk(base::VirtAddr(0x2000'0000'0000), kLevelPml4, true).ok());
  EXPECT_EQ(phys_.allocs, 4);
  EXPECT_EQ(pt_.walk(base::VirtAddr(0x1000), 0, true).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.walk(base::VirtAddr(0x1000), 5, true).error(), Error::kInvalidArgument);
}

TEST_F(PgdirWalkTest, WalkThroughLargeLeafIsBusy) {
  ASSERT_TRUE(pt_.map(base::VirtAddr(k1G), base::PhysAddr(0), PageSize::k1G, 0).ok());
  EXPECT_EQ(pt_.walk(base::VirtAddr(k1G + k2M), kLevelPd, true).error(), Error::kBusy);
  EXPECT_EQ(pt_.walk(base::VirtAddr(k1G + k2M), kLevelPt, false).error(), Error::kBusy);
  auto e = pt_.walk(base::VirtAddr(k1G), kLevelPdpt, false);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(Pte(*e.value()).large());
}

TEST_F(PgdirWalkTest, FindPteIsWalksCommonCase) {
  const uint64_t va = 0xffff'c000'0020'3000;
  // No tables yet: nothing to find, and nothing created.
  EXPECT_EQ(pt_.find_pte(base::VirtAddr(va)), nullptr);
  EXPECT_EQ(reachable_tables(), 1u);
  ASSERT_TRUE(pt_.map(base::VirtAddr(va), base::PhysAddr(0x5000), PageSize::k4K, Pte::kWritable).ok());
  // The same entry walk() finds, for the mapped page and its neighbours in
  // the same table (mapped or not).
  for (uint64_t a : {va, va - k4K, va + k4K, va & ~(k2M - 1)}) {
    auto w = pt_.walk(base::VirtAddr(a), kLevelPt, false);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(pt_.find_pte(base::VirtAddr(a)), w.value());
  }
  EXPECT_EQ(Pte(*pt_.find_pte(base::VirtAddr(va))).addr(), 0x5000u);
  // A different 2 MiB region has no page table yet.
  EXPECT_EQ(pt_.find_pte(base::VirtAddr(va + k2M)), nullptr);
  // Under a large leaf there is no PTE to find.
  ASSERT_TRUE(pt_.map(base::VirtAddr(k1G), base::PhysAddr(0), PageSize::k1G, 0).ok());
  EXPECT_EQ(pt_.find_pte(base::VirtAddr(k1G + k2M + k4K)), nullptr);
  ASSERT_TRUE(pt_.map(base::VirtAddr(4 * k1G + k2M), base::PhysAddr(0), PageSize::k2M, 0).ok());
  EXPECT_EQ(pt_.find_pte(base::VirtAddr(4 * k1G + k2M)), nullptr);
}

TEST_F(PgdirWalkTest, ZeroPageRefused) {
  EXPECT_EQ(pt_.map(base::VirtAddr(0), base::PhysAddr(0x10'0000), PageSize::k4K, 0).error(), Error::kInvalidArgument);
  EXPECT_STRNE(pt_.reason(), "");
  EXPECT_EQ(pt_.map(base::VirtAddr(0), base::PhysAddr(0), PageSize::k2M, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(0), base::PhysAddr(0), PageSize::k1G, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(phys_.allocs, 0);
  // The page right after it is fine.
  EXPECT_TRUE(pt_.map(base::VirtAddr(k4K), base::PhysAddr(0), PageSize::k4K, 0).ok());
  EXPECT_EQ(pt_.translate(base::VirtAddr(0)).error(), Error::kNotFound);
}

TEST_F(PgdirWalkTest, FourKInsideLargeLeafRefused) {
  ASSERT_TRUE(pt_.map(base::VirtAddr(k2M * 5), base::PhysAddr(0x4000'0000), PageSize::k2M, Pte::kWritable).ok());
  const size_t tables = reachable_tables();
  EXPECT_EQ(pt_.map(base::VirtAddr(k2M * 5 + 0x3000), base::PhysAddr(0x9000), PageSize::k4K, 0).error(), Error::kBusy);
  EXPECT_EQ(pt_.map(base::VirtAddr(k2M * 5), base::PhysAddr(0x9000), PageSize::k4K, 0).error(), Error::kBusy);
  // A 2M over the same 2M leaf is an overwrite.
  EXPECT_EQ(pt_.map(base::VirtAddr(k2M * 5), base::PhysAddr(0x8000'0000), PageSize::k2M, 0).error(),
            Error::kAlreadyExists);
  EXPECT_EQ(reachable_tables(), tables);
  EXPECT_EQ(pt_.translate(base::VirtAddr(k2M * 5 + 0x3000)).value().phys.value(), 0x4000'3000u);

  // Same with a 1G leaf under 2M and 4K requests.
  ASSERT_TRUE(pt_.map(base::VirtAddr(4 * k1G), base::PhysAddr(0), PageSize::k1G, 0).ok());
  EXPECT_EQ(pt_.map(base::VirtAddr(4 * k1G + k2M), base::PhysAddr(0), PageSize::k2M, 0).error(), Error::kBusy);
  EXPECT_EQ(pt_.map(base::VirtAddr(4 * k1G + k4K), base::PhysAddr(0), PageSize::k4K, 0).error(), Error::kBusy);
  EXPECT_EQ(pt_.map(base::VirtAddr(4 * k1G), base::PhysAddr(k1G), PageSize::k1G, 0).error(), Error::kAlreadyExists);
}

TEST_F(PgdirWalkTest, LargeLeafOverTableRefused) {
  ASSERT_TRUE(pt_.map(base::VirtAddr(k2M * 3 + 0x5000), base::PhysAddr(0x7000), PageSize::k4K, 0).ok());
  EXPECT_EQ(pt_.map(base::VirtAddr(k2M * 3), base::PhysAddr(0x20'0000), PageSize::k2M, 0).error(), Error::kBusy);
  EXPECT_NE(pt_.reason(), nullptr);
  EXPECT_EQ(pt_.map(base::VirtAddr(0), base::PhysAddr(0), PageSize::k1G, 0).error(),
            Error::kInvalidArgument);  // zero page
  ASSERT_TRUE(pt_.map(base::VirtAddr(k1G + k2M), base::PhysAddr(0), PageSize::k2M, 0).ok());
  EXPECT_EQ(pt_.map(base::VirtAddr(k1G), base::PhysAddr(0), PageSize::k1G, 0).error(), Error::kBusy);
  // The existing mappings are untouched.
  EXPECT_EQ(pt_.translate(base::VirtAddr(k2M * 3 + 0x5010)).value().phys.value(), 0x7010u);
  EXPECT_EQ(pt_.translate(base::VirtAddr(k1G + k2M + 8)).value().phys.value(), 8u);
}

TEST_F(PgdirWalkTest, Overwrite4KRefused) {
  ASSERT_TRUE(pt_.map(base::VirtAddr(0x5000), base::PhysAddr(0x7000), PageSize::k4K, 0).ok());
  EXPECT_EQ(pt_.map(base::VirtAddr(0x5000), base::PhysAddr(0x8000), PageSize::k4K, Pte::kWritable).error(),
            Error::kAlreadyExists);
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x5000)).value().phys.value(), 0x7000u);
}

TEST_F(PgdirWalkTest, NonCanonicalRefused) {
  for (uint64_t va : {uint64_t{0x0000'8000'0000'0000}, uint64_t{0xffff'7fff'ffff'f000}, uint64_t{0x0001'0000'0000'0000},
                      uint64_t{0x8000'0000'0000'0000}}) {
    EXPECT_EQ(pt_.map(base::VirtAddr(va), base::PhysAddr(0x1000), PageSize::k4K, 0).error(), Error::kInvalidArgument)
        << va;
    EXPECT_EQ(pt_.translate(base::VirtAddr(va)).error(), Error::kInvalidArgument);
    EXPECT_EQ(pt_.unmap(base::VirtAddr(va)).error(), Error::kInvalidArgument);
    EXPECT_EQ(pt_.walk(base::VirtAddr(va), kLevelPt, true).error(), Error::kInvalidArgument);
  }
  EXPECT_EQ(phys_.allocs, 0);
  // The edges of both halves are fine.
  EXPECT_TRUE(pt_.map(base::VirtAddr(0x0000'7fff'ffff'f000), base::PhysAddr(0x1000), PageSize::k4K, 0).ok());
  EXPECT_TRUE(pt_.map(base::VirtAddr(0xffff'8000'0000'0000), base::PhysAddr(0x1000), PageSize::k4K, 0).ok());
}

TEST_F(PgdirWalkTest, MisalignedAndBadArgumentsRefused) {
  EXPECT_EQ(pt_.map(base::VirtAddr(0x1234), base::PhysAddr(0x1000), PageSize::k4K, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(0x1000), base::PhysAddr(0x1234), PageSize::k4K, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k2M + k4K), base::PhysAddr(0), PageSize::k2M, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k2M), base::PhysAddr(k4K), PageSize::k2M, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k1G + k2M), base::PhysAddr(0), PageSize::k1G, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k1G), base::PhysAddr(k2M), PageSize::k1G, 0).error(), Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k4K), base::PhysAddr(uint64_t{1} << 52), PageSize::k4K, 0).error(),
            Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k4K), base::PhysAddr(0), static_cast<PageSize>(0x8000), 0).error(),
            Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k4K), base::PhysAddr(0), PageSize::k4K, Pte::kPresent).error(),
            Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k4K), base::PhysAddr(0), PageSize::k4K, Pte::kLarge).error(),
            Error::kInvalidArgument);
  EXPECT_EQ(pt_.map(base::VirtAddr(k4K), base::PhysAddr(0), PageSize::k4K, 0x5000).error(), Error::kInvalidArgument);
  EXPECT_EQ(phys_.allocs, 0);
  EXPECT_TRUE(pt_.map(base::VirtAddr(k4K), base::PhysAddr(0), PageSize::k4K, Pte::kSoftwareMask).ok());
}

TEST_F(PgdirWalkTest, UnmapThenTranslateFails) {
  ASSERT_TRUE(pt_.map(base::VirtAddr(0x40'0000), base::PhysAddr(0x9000), PageSize::k4K, Pte::kWritable).ok());
  ASSERT_TRUE(pt_.map(base::VirtAddr(k2M * 8), base::PhysAddr(k2M * 2), PageSize::k2M, 0).ok());
  ASSERT_TRUE(pt_.map(base::VirtAddr(k1G * 3), base::PhysAddr(k1G), PageSize::k1G, 0).ok());

  auto u = pt_.unmap(base::VirtAddr(0x40'0000));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().phys.value(), 0x9000u);
  EXPECT_EQ(u.value().size, PageSize::k4K);
  EXPECT_TRUE(u.value().pte.writable());
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x40'0000)).error(), Error::kNotFound);
  EXPECT_EQ(pt_.unmap(base::VirtAddr(0x40'0000)).error(), Error::kNotFound);

  // Unmapping from the middle of a large leaf would split it.
  EXPECT_EQ(pt_.unmap(base::VirtAddr(k2M * 8 + k4K)).error(), Error::kBusy);
  auto u2 = pt_.unmap(base::VirtAddr(k2M * 8));
  ASSERT_TRUE(u2.ok());
  EXPECT_EQ(u2.value().phys.value(), k2M * 2);
  EXPECT_EQ(u2.value().size, PageSize::k2M);
  EXPECT_EQ(pt_.translate(base::VirtAddr(k2M * 8 + 5)).error(), Error::kNotFound);

  EXPECT_EQ(pt_.unmap(base::VirtAddr(k1G * 3 + k2M)).error(), Error::kBusy);
  auto u3 = pt_.unmap(base::VirtAddr(k1G * 3));
  ASSERT_TRUE(u3.ok());
  EXPECT_EQ(u3.value().phys.value(), k1G);
  EXPECT_EQ(u3.value().size, PageSize::k1G);
  EXPECT_EQ(pt_.translate(base::VirtAddr(k1G * 3)).error(), Error::kNotFound);

  // The freed 4K slot can be mapped again.
  EXPECT_TRUE(pt_.map(base::VirtAddr(0x40'0000), base::PhysAddr(0xa000), PageSize::k4K, 0).ok());
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x40'0000)).value().phys.value(), 0xa000u);
}

TEST_F(PgdirWalkTest, OutOfMemoryLeavesTreeUnchanged) {
  // Fails at each possible point of a 3-table walk, then succeeds.
  for (int budget = 0; budget < 3; ++budget) {
    phys_.allocs_left = budget;
    const size_t pages_before = phys_.pages.size();
    const auto root_before = phys_.pages.at(pt_.root_phys().value());
    EXPECT_EQ(pt_.map(base::VirtAddr(0x1234'5000), base::PhysAddr(0x5000), PageSize::k4K, 0).error(),
              Error::kOutOfMemory);
    EXPECT_NE(pt_.reason(), nullptr);
    EXPECT_EQ(phys_.pages.size(), pages_before) << "allocated tables not given back";
    EXPECT_EQ(phys_.pages.at(pt_.root_phys().value()), root_before);
    EXPECT_EQ(reachable_tables(), 1u);
    EXPECT_EQ(pt_.translate(base::VirtAddr(0x1234'5000)).error(), Error::kNotFound);
  }
  phys_.allocs_left = -1;
  ASSERT_TRUE(pt_.map(base::VirtAddr(0x1234'5000), base::PhysAddr(0x5000), PageSize::k4K, 0).ok());
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x1234'5000)).value().phys.value(), 0x5000u);
  EXPECT_EQ(reachable_tables(), 4u);

  // OOM part-way down an existing path: only the PT is missing.
  phys_.allocs_left = 0;
  EXPECT_EQ(pt_.map(base::VirtAddr(0x1260'0000), base::PhysAddr(0x6000), PageSize::k4K, 0).error(),
            Error::kOutOfMemory);
  EXPECT_EQ(reachable_tables(), 4u);
  EXPECT_EQ(pt_.translate(base::VirtAddr(0x1234'5000)).value().phys.value(), 0x5000u);
  // A 2M leaf needs no table there and still works with no memory.
  EXPECT_TRUE(pt_.map(base::VirtAddr(0x1260'0000), base::PhysAddr(0x20'0000), PageSize::k2M, 0).ok());
  phys_.allocs_left = -1;
  EXPECT_TRUE(pt_.map(base::VirtAddr(0x1280'0000), base::PhysAddr(0x6000), PageSize::k4K, 0).ok());
  EXPECT_EQ(reachable_tables(), 5u);
}

// Randomized map/unmap/translate against a reference model. The model also
// tracks which 2M / 1G slots hold tables (tables are never reclaimed), so
// it predicts the exact error of every refused map.
TEST_F(PgdirWalkTest, RandomizedAgainstModel) {
  struct Leaf {
    uint64_t pa;
    PageSize size;
  };
  std::map<uint64_t, Leaf> model;  // va -> leaf
  std::set<uint64_t> pt_slots;     // 2M-aligned va with a page table
  std::set<uint64_t> pd_slots;     // 1G-aligned va with a page directory

  auto covering = [&](uint64_t va, uint64_t span) -> const Leaf* {
    auto it = model.find(va & ~(span - 1));
    if (it == model.end() || static_cast<uint64_t>(it->second.size) != span) return nullptr;
    return &it->second;
  };
  auto model_translate = [&](uint64_t va) -> std::pair<bool, uint64_t> {
    for (uint64_t span : {k4K, k2M, k1G}) {
      if (const Leaf* l = covering(va, span)) return {true, l->pa + (va & (span - 1))};
    }
    return {false, 0};
  };

  // Two windows: one straddling the 512 GiB PML4 boundary, one at the very
  // top of the address space (kernel image region). Dense offsets so that
  // collisions of every kind are common.
  const uint64_t kWindows[] = {0x0000'007f'8000'0000, 0xffff'ffff'0000'0000};
  std::mt19937_64 rng(20240601);
  auto pick_va = [&](PageSize size) {
    uint64_t va = kWindows[rng() % 2] + (rng() % 4) * k1G + (rng() % 4) * k2M + (rng() % 4) * k4K;
    return va & ~(static_cast<uint64_t>(size) - 1);
  };

  int maps_ok = 0, unmaps_ok = 0, refused = 0;
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 10;
    const unsigned s = rng() % 10;
    const PageSize size = s < 6 ? PageSize::k4K : s < 9 ? PageSize::k2M : PageSize::k1G;
    const uint64_t bytes = static_cast<uint64_t>(size);
    const uint64_t va = pick_va(size);
    if (op < 5) {
      const uint64_t pa = (rng() % 64) * k1G + ((rng() % 512) * k2M + (rng() % 512) * k4K) % k1G;
      const uint64_t pa_aligned = pa & ~(bytes - 1);
      // Predict.
      Error expect = Error(0);
      if (size != PageSize::k1G && covering(va, k1G))
        expect = Error::kBusy;
      else if (size == PageSize::k4K && covering(va, k2M))
        expect = Error::kBusy;
      else if (model.count(va) && model[va].size == size)
        expect = Error::kAlreadyExists;
      else if (size == PageSize::k2M && pt_slots.count(va))
        expect = Error::kBusy;
      else if (size == PageSize::k1G && pd_slots.count(va))
        expect = Error::kBusy;
      base::Status st = pt_.map(base::VirtAddr(va), base::PhysAddr(pa_aligned), size, Pte::kWritable);
      if (expect == Error(0)) {
        ASSERT_TRUE(st.ok()) << "step " << step << " va " << std::hex << va << " " << pt_.reason();
        model[va] = Leaf{pa_aligned, size};
        if (size == PageSize::k4K) pt_slots.insert(va & ~(k2M - 1));
        if (size != PageSize::k1G) pd_slots.insert(va & ~(k1G - 1));
        ++maps_ok;
      } else {
        ASSERT_FALSE(st.ok()) << "step " << step;
        ASSERT_EQ(st.error(), expect) << "step " << step << " " << pt_.reason();
        ++refused;
      }
    } else if (op < 8) {
      // Unmap: half the time a known leaf, else an arbitrary page.
      uint64_t target = va;
      if (!model.empty() && rng() % 2) {
        auto it = model.begin();
        std::advance(it, rng() % model.size());
        target = it->first;
      }
      auto u = pt_.unmap(base::VirtAddr(target));
      auto it = model.find(target);
      if (it != model.end()) {
        ASSERT_TRUE(u.ok()) << "step " << step;
        EXPECT_EQ(u.value().phys.value(), it->second.pa);
        EXPECT_EQ(u.value().size, it->second.size);
        model.erase(it);
        ++unmaps_ok;
      } else {
        ASSERT_FALSE(u.ok());
        const bool inside = model_translate(target).first;
        EXPECT_EQ(u.error(), inside ? Error::kBusy : Error::kNotFound) << "step " << step;
      }
    } else {
      const uint64_t probe = va + (rng() % bytes & ~uint64_t{7});
      auto [mapped, pa] = model_translate(probe);
      auto t = pt_.translate(base::VirtAddr(probe));
      ASSERT_EQ(t.ok(), mapped) << "step " << step;
      if (mapped) EXPECT_EQ(t.value().phys.value(), pa);
    }
  }
  // Final full check of every model leaf, first and last byte.
  for (const auto& [va, leaf] : model) {
    const uint64_t last = static_cast<uint64_t>(leaf.size) - 1;
    EXPECT_EQ(pt_.translate(base::VirtAddr(va)).value().phys.value(), leaf.pa);
    EXPECT_EQ(pt_.translate(base::VirtAddr(va + last)).value().phys.value(), leaf.pa + last);
    EXPECT_EQ(pt_.translate(base::VirtAddr(va)).value().size, leaf.size);
  }
  reachable_tables();  // structural checks
  EXPECT_GT(maps_ok, 1000);
  EXPECT_GT(unmaps_ok, 500);
  EXPECT_GT(refused, 500);
}

}  // namespace
}  // namespace mm
