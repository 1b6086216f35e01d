// Fuzz target for the page-table walker (tools/fuzz.bzl) against simulated
// RAM (table pages in a map, a budget of allocations) and a reference model
// of what the tree maps: the leaves by start address and the tables ever
// created (pgdir_walk.h keeps emptied tables). Each input is a sequence of
// map/unmap/translate calls; every answer, error or not, must be the one
// the contract in pgdir_walk.h gives for the model's state, an out-of-memory
// map must leave the tree and the page count unchanged, and at the end
// every leaf must translate at its first and last byte.
//
// Op (1 byte, then its operands; a short input reads zeros):
//   bits 1:0 map (0, 3), unmap (1), translate (2)
//   bits 3:2 size 4 KiB (0, 3), 2 MiB (1), 1 GiB (2)
//   bit 4    raw 64-bit va instead of region + offset (non-canonical ones)
//   bit 5    raw 64-bit pa instead of an aligned one
//   bit 6    flags with a bit map() must refuse
//   bit 7    unaligned: keep the va's/pa's low bits
// then a va (1 byte region + 4 bytes offset, or 8 bytes), a pa (4 bytes, or
// 8), flags (2 bytes) as the op needs. The first input byte is the table
// page budget (0xff: unlimited).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "src/base/testing/fuzz_check.h"
#include "src/mm/pgdir_walk.h"

namespace {

using base::Error;
constexpr Error kNone = static_cast<Error>(0);  // what a Status that is ok() holds
using mm::PageSize;
using mm::PageTable;
using mm::Pte;

struct Page {
  uint64_t e[512];
};

// Simulated RAM: table pages only, handed out from 1 MiB upwards.
struct FakePhys {
  std::map<uint64_t, Page> pages;
  uint64_t next = 0x10'0000;
  int budget = -1;  // allocations left; < 0: unlimited

  uint64_t new_page() {
    const uint64_t p = next;
    next += 4096;
    std::memset(pages[p].e, 0, sizeof(Page));
    return p;
  }
};

struct FakeMem {
  FakePhys* phys;
  uint64_t* table(base::PhysAddr at) {
    const uint64_t pa = at.value();
    auto it = phys->pages.find(pa);
    FUZZ_CHECK(it != phys->pages.end());  // the walker follows only its own tables
    return it->second.e;
  }
  base::Result<base::PhysAddr> alloc_table() {
    if (phys->budget == 0) return Error::kOutOfMemory;
    if (phys->budget > 0) --phys->budget;
    return base::PhysAddr(phys->new_page());
  }
  void free_table(base::PhysAddr pa) { FUZZ_CHECK(phys->pages.erase(pa.value()) == 1); }
};

struct Leaf {
  uint64_t pa;
  uint64_t size;
  uint64_t flags;
};

// The reference model.
struct Model {
  std::map<uint64_t, Leaf> leaves;            // by va
  std::set<std::pair<int, uint64_t>> tables;  // (level, va >> shift of the region it maps)

  static int shift_of_table(int level) { return level == 3 ? 39 : level == 2 ? 30 : 21; }
  bool has_table(int level, uint64_t va) const { return tables.count({level, va >> shift_of_table(level)}) != 0; }
  // The leaf covering va, or null.
  const std::pair<const uint64_t, Leaf>* covering(uint64_t va) const {
    auto it = leaves.upper_bound(va);
    if (it == leaves.begin()) return nullptr;
    --it;
    return va - it->first < it->second.size ? &*it : nullptr;
  }
};

class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool more() const { return i_ < n_; }
  uint64_t take(size_t bytes) {
    uint64_t v = 0;
    for (size_t b = 0; b < bytes; ++b, ++i_) v |= uint64_t{i_ < n_ ? d_[i_] : uint8_t{0}} << (8 * b);
    return v;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

constexpr uint64_t kRegions[] = {0, 0x0000'7fff'0000'0000, 0xffff'8000'0000'0000, 0xffff'ffff'0000'0000};

uint64_t read_va(Reader& r, uint8_t op, uint64_t size) {
  if (op & 0x10) return r.take(8);
  const uint64_t region = kRegions[r.take(1) & 3];
  uint64_t off = (r.take(4) << 10) & 0xffff'ffff;  // 4 GiB per region: collisions
  if (!(op & 0x80)) off &= ~(size - 1);
  return region + off;
}

uint64_t read_pa(Reader& r, uint8_t op, uint64_t size) {
  if (op & 0x20) return r.take(8);
  uint64_t pa = (r.take(4) << 12) & ((uint64_t{1} << 40) - 1);
  if (!(op & 0x80)) pa &= ~(size - 1);
  return pa;
}

void check_map(PageTable<FakeMem>& pt, FakePhys& phys, Model& m, uint64_t va, uint64_t pa, uint64_t size,
               uint64_t flags) {
  const int level = size == (uint64_t{1} << 30) ? 3 : size == (uint64_t{1} << 21) ? 2 : 1;
  Error want = kNone;
  if (!mm::is_canonical(va) || va % size != 0 || pa % size != 0 || (pa >> 52) != 0 ||
      (flags & ~mm::kMapFlagsAllowed) != 0 || va == 0) {
    want = Error::kInvalidArgument;
  } else if (const auto* c = m.covering(va); c != nullptr && c->second.size > size) {
    want = Error::kBusy;  // a larger leaf covers va
  } else if (c != nullptr && c->first == va && c->second.size == size) {
    want = Error::kAlreadyExists;
  } else if (level > 1 && m.has_table(level - 1, va)) {
    want = Error::kBusy;  // a table occupies the large leaf's slot
  } else if (c != nullptr) {
    FUZZ_CHECK(false);  // a smaller leaf here implies a table: caught above
  } else {
    int missing = 0;
    for (int l = 3; l >= level; --l) missing += !m.has_table(l, va);
    if (phys.budget >= 0 && missing > phys.budget) want = Error::kOutOfMemory;
  }
  const size_t pages_before = phys.pages.size();
  const base::Status s = pt.map(base::VirtAddr(va), base::PhysAddr(pa), static_cast<PageSize>(size), flags);
  FUZZ_CHECK(s.error() == want);
  if (want != kNone) {
    FUZZ_CHECK(pt.reason() != nullptr);
    FUZZ_CHECK(phys.pages.size() == pages_before);  // nothing leaked, nothing linked
    return;
  }
  for (int l = 3; l >= level; --l) m.tables.insert({l, va >> Model::shift_of_table(l)});
  m.leaves[va] = {pa, size, flags};
}

void check_unmap(PageTable<FakeMem>& pt, Model& m, uint64_t va) {
  auto r = pt.unmap(base::VirtAddr(va));
  if (!mm::is_canonical(va)) {
    FUZZ_CHECK(!r.ok() && r.error() == Error::kInvalidArgument);
    return;
  }
  const auto* c = m.covering(va);
  if (c == nullptr) {
    FUZZ_CHECK(!r.ok() && r.error() == Error::kNotFound);
  } else if (c->first != va) {
    // Inside a leaf, not at its start: splitting a large one is refused;
    // inside a 4 KiB one the contract does not say, but nothing may change.
    FUZZ_CHECK(!r.ok());
    if (c->second.size > 4096) FUZZ_CHECK(r.error() == Error::kBusy);
  } else {
    FUZZ_CHECK(r.ok());
    FUZZ_CHECK(r.value().phys.value() == c->second.pa);
    FUZZ_CHECK(static_cast<uint64_t>(r.value().size) == c->second.size);
    m.leaves.erase(va);
  }
}

void check_translate(const PageTable<FakeMem>& pt, const Model& m, uint64_t va) {
  auto r = pt.translate(base::VirtAddr(va));
  if (!mm::is_canonical(va)) {
    FUZZ_CHECK(!r.ok() && r.error() == Error::kInvalidArgument);
    return;
  }
  const auto* c = m.covering(va);
  if (c == nullptr) {
    FUZZ_CHECK(!r.ok() && r.error() == Error::kNotFound);
    return;
  }
  FUZZ_CHECK(r.ok());
  FUZZ_CHECK(r.value().phys.value() == c->second.pa + (va - c->first));
  FUZZ_CHECK(static_cast<uint64_t>(r.value().size) == c->second.size);
  FUZZ_CHECK(r.value().pte.present());
  FUZZ_CHECK(r.value().pte.large() == (c->second.size > 4096));
  FUZZ_CHECK((r.value().pte.raw() & mm::kMapFlagsAllowed) == c->second.flags);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // a few hundred operations are plenty
  Reader r(data, size);
  FakePhys phys;
  const uint64_t budget = r.take(1);
  phys.budget = budget == 0xff ? -1 : static_cast<int>(budget);
  PageTable<FakeMem> pt(FakeMem{&phys}, base::PhysAddr(phys.new_page()));
  Model m;

  while (r.more()) {
    const uint8_t op = static_cast<uint8_t>(r.take(1));
    const unsigned sz = (op >> 2) & 3;
    const uint64_t leaf = sz == 1 ? uint64_t{1} << 21 : sz == 2 ? uint64_t{1} << 30 : 4096;
    switch (op & 3) {
      case 0:
      case 3: {
        const uint64_t va = read_va(r, op, leaf);
        const uint64_t pa = read_pa(r, op, leaf);
        uint64_t flags = r.take(2);
        flags = (flags & 0xfff & mm::kMapFlagsAllowed) | ((flags & 0x8000) ? Pte::kNoExecute : 0);
        if (op & 0x40) flags |= (op & 0x80) ? Pte::kLarge : Pte::kPresent;
        check_map(pt, phys, m, va, pa, leaf, flags);
        break;
      }
      case 1:
        check_unmap(pt, m, read_va(r, op, (op & 0x80) ? 1 : 4096));
        break;
      case 2:
        check_translate(pt, m, read_va(r, op, 1));
        break;
    }
  }
  for (const auto& [va, l] : m.leaves) {
    check_translate(pt, m, va);
    check_translate(pt, m, va + l.size - 1);
  }
  return 0;
}
