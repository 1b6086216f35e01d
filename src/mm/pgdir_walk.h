// The x86-64 4-level page-table walker ([sdm3] 4.5): map, unmap and translate
// 4 KiB / 2 MiB / 1 GiB pages. Written against a physical-memory accessor so
// the same code walks real page tables in the kernel and simulated ones in tests.
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace mm {

/// One paging-structure entry (PML4E, PDPTE, PDE or PTE), [sdm3] 4.5, tables
/// 4-14 to 4-20. The bit positions are the same at every level; what differs
/// is whether PS (bit 7) is legal and which address bits a leaf uses.
class Pte {
 public:
  static constexpr uint64_t kPresent = uint64_t{1} << 0;
  static constexpr uint64_t kWritable = uint64_t{1} << 1;
  static constexpr uint64_t kUser = uint64_t{1} << 2;
  static constexpr uint64_t kWriteThrough = uint64_t{1} << 3;
  static constexpr uint64_t kCacheDisable = uint64_t{1} << 4;
  static constexpr uint64_t kAccessed = uint64_t{1} << 5;
  static constexpr uint64_t kDirty = uint64_t{1} << 6;
  /// PS: in a PDPTE or PDE the entry maps a 1 GiB / 2 MiB page instead of
  /// referencing a table. Reserved in a PML4E; PAT in a PTE (we never set it).
  static constexpr uint64_t kLarge = uint64_t{1} << 7;
  static constexpr uint64_t kGlobal = uint64_t{1} << 8;
  /// Bits 11:9 are ignored by the hardware: free for the kernel's own use.
  static constexpr uint64_t kSoftwareMask = uint64_t{0x7} << 9;
  static constexpr uint64_t kNoExecute = uint64_t{1} << 63;
  /// Bits 51:12: the physical address of the next table or of a 4 KiB page
  /// (for a large leaf its low bits are the PAT bit and reserved zeros).
  static constexpr uint64_t kAddrMask = 0x000f'ffff'ffff'f000;

  constexpr Pte() = default;
  constexpr explicit Pte(uint64_t raw) : raw_(raw) {}

  constexpr uint64_t raw() const { return raw_; }
  constexpr bool present() const { return (raw_ & kPresent) != 0; }
  constexpr bool writable() const { return (raw_ & kWritable) != 0; }
  constexpr bool user() const { return (raw_ & kUser) != 0; }
  constexpr bool large() const { return (raw_ & kLarge) != 0; }
  constexpr bool global() const { return (raw_ & kGlobal) != 0; }
  constexpr bool accessed() const { return (raw_ & kAccessed) != 0; }
  constexpr bool dirty() const { return (raw_ & kDirty) != 0; }
  constexpr bool no_execute() const { return (raw_ & kNoExecute) != 0; }
  /// Bits 51:12 as they stand.
  constexpr uint64_t addr() const { return raw_ & kAddrMask; }
  /// The same, as the physical address of the next table (or a 4 KiB leaf's
  /// frame).
  constexpr base::PhysAddr phys() const { return base::PhysAddr(raw_ & kAddrMask); }
  /// Everything that is not address.
  constexpr uint64_t flags() const { return raw_ & ~kAddrMask; }

 private:
  uint64_t raw_ = 0;
};

static_assert(sizeof(Pte) == 8);
static_assert(Pte::kPresent == 0x1 && Pte::kWritable == 0x2 && Pte::kUser == 0x4);
static_assert(Pte::kWriteThrough == 0x8 && Pte::kCacheDisable == 0x10);
static_assert(Pte::kAccessed == 0x20 && Pte::kDirty == 0x40 && Pte::kLarge == 0x80);
static_assert(Pte::kGlobal == 0x100 && Pte::kSoftwareMask == 0xe00);
static_assert(Pte::kNoExecute == 0x8000'0000'0000'0000);
static_assert((Pte::kAddrMask >> 12) == (uint64_t{1} << 40) - 1);  // bits 51:12
static_assert(Pte(0x1234'5000 | Pte::kPresent | Pte::kNoExecute).addr() == 0x1234'5000);

/// Leaf sizes. The value is the size in bytes.
enum class PageSize : uint64_t {
  k4K = uint64_t{1} << 12,
  k2M = uint64_t{1} << 21,
  k1G = uint64_t{1} << 30,
};

/// Levels, counted from the leaf: 1 = page table (PTE), 2 = page directory,
/// 3 = PDPT, 4 = PML4. A leaf of size s lives at level_of(s).
inline constexpr int kLevelPt = 1;
inline constexpr int kLevelPd = 2;
inline constexpr int kLevelPdpt = 3;
inline constexpr int kLevelPml4 = 4;

inline constexpr uint64_t kEntriesPerTable = 512;

/// Index into the table at `level` for `va`: bits 47:39, 38:30, 29:21, 20:12
/// for levels 4..1, [sdm3] 4.5 (figure 4-8).
constexpr unsigned table_index(uint64_t va, int level) {
  return static_cast<unsigned>((va >> (base::kPageShift + 9 * (level - 1))) & 0x1ff);
}
static_assert(table_index(0xffff'ffff'8000'0000, kLevelPml4) == 511);
static_assert(table_index(0xffff'ffff'8000'0000, kLevelPdpt) == 510);
static_assert(table_index(0xffff'8000'0000'0000, kLevelPml4) == 256);
static_assert(table_index(0x0000'0000'0020'1000, kLevelPd) == 1);
static_assert(table_index(0x0000'0000'0020'1000, kLevelPt) == 1);

/// Bytes mapped by one entry at `level` (1..3).
constexpr uint64_t level_span(int level) { return uint64_t{1} << (base::kPageShift + 9 * (level - 1)); }

/// The level at which a leaf of `size` lives, or 0 for a value that is not
/// a PageSize.
constexpr int level_of(PageSize size) {
  switch (size) {
    case PageSize::k4K:
      return kLevelPt;
    case PageSize::k2M:
      return kLevelPd;
    case PageSize::k1G:
      return kLevelPdpt;
  }
  return 0;
}
static_assert(level_span(kLevelPd) == static_cast<uint64_t>(PageSize::k2M));
static_assert(level_span(kLevelPdpt) == static_cast<uint64_t>(PageSize::k1G));

/// 48-bit linear addresses: bits 63:47 must all equal bit 47, [sdm3] 4.5
/// ("canonical"); anything else faults (#GP) and cannot be mapped.
constexpr bool is_canonical(uint64_t va) { return static_cast<uint64_t>(static_cast<int64_t>(va << 16) >> 16) == va; }
static_assert(is_canonical(0x0000'7fff'ffff'f000) && is_canonical(0xffff'8000'0000'0000));
static_assert(!is_canonical(0x0000'8000'0000'0000) && !is_canonical(0xfff7'8000'0000'0000));

/// Flags a caller may pass to map(). P and PS are the walker's business,
/// address bits belong to `pa`, and PAT is not supported yet (it sits at a
/// different bit for 4 KiB and large leaves).
inline constexpr uint64_t kMapFlagsAllowed = Pte::kWritable | Pte::kUser | Pte::kWriteThrough | Pte::kCacheDisable |
                                             Pte::kAccessed | Pte::kDirty | Pte::kGlobal | Pte::kSoftwareMask |
                                             Pte::kNoExecute;

/// What a virtual address maps to.
struct Translation {
  /// The physical address of `va` itself (leaf base + offset); for unmap(),
  /// the base of the leaf that was removed.
  base::PhysAddr phys;
  PageSize size;
  /// The whole leaf entry, for its flags (A/D as the hardware left them).
  Pte pte;
};

/// What PageTable needs from physical memory. `table(phys)` returns a
/// pointer through which the 512 entries of the 4 KiB table at `phys` can be
/// read and written (the kernel: the direct map; tests: a fake);
/// `alloc_table()` returns the physical address of a zeroed 4 KiB page or
/// kOutOfMemory; `free_table(phys)` takes back a page from alloc_table()
/// that was never linked into a tree.
template <typename M>
concept PageTableMemory = requires(M m, base::PhysAddr phys) {
  static_cast<uint64_t*>(m.table(phys));
  static_cast<base::Result<base::PhysAddr>>(m.alloc_table());
  m.free_table(phys);
};

/// A 4-level page table rooted at the PML4 at `root_phys`.
///
/// Context: thread context, with the owning address space's lock held (the
/// walker itself takes no locks; alloc_table() may take allocator locks, so
/// never from interrupt context). The walker does no TLB maintenance: after
/// unmap() the caller must invalidate the range (INVLPG / shootdown) before
/// the old frame is reused. map() only ever fills non-present entries, which
/// need no invalidation ([sdm3] 4.10.4.3: non-present entries are not cached).
///
/// Failures come back as an Error; reason() then names the specific cause.
template <PageTableMemory Mem>
class PageTable {
 public:
  /// `mem` is a cheap handle, copied in. `root_phys` must be a 4 KiB-aligned
  /// table (zeroed, or a valid PML4).
  constexpr PageTable(Mem mem, base::PhysAddr root_phys) : mem_(mem), root_phys_(root_phys) {}

  base::PhysAddr root_phys() const { return root_phys_; }

  /// Why the last failing call failed, for messages; nullptr if nothing has
  /// failed. Valid until the next call.
  const char* reason() const { return reason_; }

  /// The entry at `level` (1..4) that covers `va`. With `create`, missing
  /// intermediate tables down to `level` are allocated and linked; without,
  /// a missing one is kNotFound. A large leaf above `level` is kBusy (the
  /// walk would have to split it). kInvalidArgument for a non-canonical va
  /// or a bad level; kOutOfMemory from alloc_table(), in which case no entry
  /// has been changed (all tables are allocated before any is linked).
  base::Result<uint64_t*> walk(base::VirtAddr va, int level, bool create);

  /// The level-1 entry (PTE) for `va` when every table above it exists and
  /// no large leaf covers it, else nullptr: walk(va, kLevelPt, ...)'s common
  /// case as one short inline descent with no checks, for map/unmap loops.
  /// `va` must be canonical. On nullptr, walk() creates the missing tables
  /// or says why there is no such entry.
  uint64_t* find_pte(base::VirtAddr va_addr) const {
    const uint64_t va = va_addr.value();
    uint64_t* table = mem_.table(root_phys_);
    for (int l = kLevelPml4; l > kLevelPt; --l) {
      const Pte pte(load(&table[table_index(va, l)]));
      if (!pte.present() || pte.large()) return nullptr;
      table = mem_.table(pte.phys());
    }
    return &table[table_index(va, kLevelPt)];
  }

  /// Maps [va, va + size) to [pa, pa + size) with `flags` (a subset of
  /// kMapFlagsAllowed; P and, for large sizes, PS are added here).
  /// Intermediate tables are created as needed with RW|US set, so the leaf
  /// alone decides permissions ([sdm3] 4.6 combines levels with AND).
  /// Errors: kInvalidArgument for a non-canonical or misaligned va, a
  /// misaligned or >52-bit pa, bad flags or size, or va == 0 (the zero page
  /// stays unmapped so null dereferences fault); kAlreadyExists if a leaf of
  /// this size is already mapped at va; kBusy if a larger leaf covers va or a
  /// page table already occupies the slot of a large leaf (no silent split
  /// or overwrite); kOutOfMemory with the tree unchanged.
  base::Status map(base::VirtAddr va, base::PhysAddr pa, PageSize size, uint64_t flags);

  /// Removes the leaf that starts at `va`, whatever its size, and returns
  /// what it mapped (phys = leaf base). kNotFound if nothing is mapped at va;
  /// kBusy if va is inside a large leaf but not at its start (that would
  /// split it); kInvalidArgument if non-canonical. Emptied tables are kept.
  base::Result<Translation> unmap(base::VirtAddr va);

  /// The physical address `va` maps to, with the leaf size and entry
  /// (Biscuit's Vtop). kNotFound if unmapped, kInvalidArgument if
  /// non-canonical.
  base::Result<Translation> translate(base::VirtAddr va) const;

 private:
  // Reads and writes go through atomics: the CPU sets A/D bits in live
  // entries concurrently, and a store that publishes a new table must not
  // be torn or reordered before the table's contents.
  static uint64_t load(const uint64_t* e) { return __atomic_load_n(e, __ATOMIC_RELAXED); }
  static void store(uint64_t* e, uint64_t v) { __atomic_store_n(e, v, __ATOMIC_RELEASE); }

  base::Status fail(base::Error e, const char* why) const {
    reason_ = why;
    return e;
  }

  mutable Mem mem_;  // table() does not change the handle; translate() is const
  base::PhysAddr root_phys_;
  mutable const char* reason_ = nullptr;
};

// ---------------------------------------------------------------------------
// Implementation (a template: it must be visible to every instantiation).

template <PageTableMemory Mem>
base::Result<uint64_t*> PageTable<Mem>::walk(base::VirtAddr va_addr, int level, bool create) {
  const uint64_t va = va_addr.value();
  if (level < kLevelPt || level > kLevelPml4) return fail(base::Error::kInvalidArgument, "bad level").error();
  if (!is_canonical(va)) return fail(base::Error::kInvalidArgument, "non-canonical address").error();

  // Descend as far as the tree already goes.
  uint64_t* table = mem_.table(root_phys_);
  int l = kLevelPml4;
  for (; l > level; --l) {
    uint64_t* e = &table[table_index(va, l)];
    Pte pte(load(e));
    if (!pte.present()) break;
    if (pte.large()) {
      if (l == kLevelPml4) return fail(base::Error::kMalformed, "PS set in a PML4 entry").error();
      return fail(base::Error::kBusy, "a large page covers this address; refusing to split it").error();
    }
    table = mem_.table(pte.phys());
  }
  if (l == level) return &table[table_index(va, level)];
  if (!create) return fail(base::Error::kNotFound, "no page table for this address").error();

  // Levels l-1 .. level need new tables: one per level below l. Allocate them
  // all first so that OOM leaves the tree untouched, then link the chain
  // bottom-up and publish it with one store into the live entry at level l.
  const int needed = l - level;
  base::PhysAddr fresh[kLevelPml4 - 1] = {};
  for (int i = 0; i < needed; ++i) {
    base::Result<base::PhysAddr> p = mem_.alloc_table();
    if (!p.ok()) {
      for (int j = 0; j < i; ++j) mem_.free_table(fresh[j]);
      return fail(p.error(), "out of memory for a page-table page").error();
    }
    fresh[i] = p.value();  // fresh[i] is the table at level l - 1 - i
  }
  constexpr uint64_t kTableFlags = Pte::kPresent | Pte::kWritable | Pte::kUser;
  for (int i = needed - 1; i > 0; --i) {
    uint64_t* parent = mem_.table(fresh[i - 1]);
    store(&parent[table_index(va, l - i)], fresh[i].value() | kTableFlags);
  }
  store(&table[table_index(va, l)], fresh[0].value() | kTableFlags);
  return &mem_.table(fresh[needed - 1])[table_index(va, level)];
}

template <PageTableMemory Mem>
base::Status PageTable<Mem>::map(base::VirtAddr va_addr, base::PhysAddr pa_addr, PageSize size, uint64_t flags) {
  const uint64_t va = va_addr.value();
  const uint64_t pa = pa_addr.value();
  const int level = level_of(size);
  if (level == 0) return fail(base::Error::kInvalidArgument, "bad page size");
  const uint64_t bytes = static_cast<uint64_t>(size);
  if (!is_canonical(va)) return fail(base::Error::kInvalidArgument, "non-canonical address");
  if (!base::is_aligned(va, bytes)) return fail(base::Error::kInvalidArgument, "va not aligned to the page size");
  if (!base::is_aligned(pa, bytes)) return fail(base::Error::kInvalidArgument, "pa not aligned to the page size");
  if ((pa & ~Pte::kAddrMask) != 0) return fail(base::Error::kInvalidArgument, "pa beyond 52 bits");
  if ((flags & ~kMapFlagsAllowed) != 0) return fail(base::Error::kInvalidArgument, "flags outside kMapFlagsAllowed");
  // Aligned and non-zero means the range cannot contain page 0.
  if (va == 0) return fail(base::Error::kInvalidArgument, "refusing to map the zero page");

  base::Result<uint64_t*> e = walk(va_addr, level, /*create=*/true);
  if (!e.ok()) return e.error();  // reason_ set by walk
  Pte old(load(e.value()));
  if (old.present()) {
    if (level != kLevelPt && !old.large()) {
      return fail(base::Error::kBusy, "a page table occupies this large page's slot; refusing to overwrite it");
    }
    return fail(base::Error::kAlreadyExists, "address already mapped");
  }
  uint64_t leaf = pa | flags | Pte::kPresent;
  if (level != kLevelPt) leaf |= Pte::kLarge;
  store(e.value(), leaf);
  return base::Status::Ok();
}

template <PageTableMemory Mem>
base::Result<Translation> PageTable<Mem>::unmap(base::VirtAddr va_addr) {
  const uint64_t va = va_addr.value();
  if (!is_canonical(va)) return fail(base::Error::kInvalidArgument, "non-canonical address").error();
  // One descent, keeping the entry: unmap is on the kernel's map/unmap path.
  uint64_t* table = mem_.table(root_phys_);
  for (int l = kLevelPml4; l >= kLevelPt; --l) {
    uint64_t* e = &table[table_index(va, l)];
    Pte pte(load(e));
    if (!pte.present()) return fail(base::Error::kNotFound, "address not mapped").error();
    if (l == kLevelPt || pte.large()) {
      if (l == kLevelPml4) return fail(base::Error::kMalformed, "PS set in a PML4 entry").error();
      const uint64_t span = level_span(l);
      if (!base::is_aligned(va, span)) {
        return fail(base::Error::kBusy, "va is inside a large page, not at its start; refusing to split it").error();
      }
      // Exchange, not store: the returned entry carries the final A/D bits.
      Pte old(__atomic_exchange_n(e, uint64_t{0}, __ATOMIC_ACQ_REL));
      return Translation{base::PhysAddr(old.addr() & ~(span - 1)), static_cast<PageSize>(span), old};
    }
    table = mem_.table(pte.phys());
  }
  __builtin_unreachable();
}

template <PageTableMemory Mem>
base::Result<Translation> PageTable<Mem>::translate(base::VirtAddr va_addr) const {
  const uint64_t va = va_addr.value();
  if (!is_canonical(va)) return fail(base::Error::kInvalidArgument, "non-canonical address").error();
  const uint64_t* table = mem_.table(root_phys_);
  for (int l = kLevelPml4; l >= kLevelPt; --l) {
    Pte pte(load(&table[table_index(va, l)]));
    if (!pte.present()) return fail(base::Error::kNotFound, "address not mapped").error();
    if (l == kLevelPt || pte.large()) {
      if (l == kLevelPml4) return fail(base::Error::kMalformed, "PS set in a PML4 entry").error();
      const uint64_t span = level_span(l);
      // For a large leaf, bit 12 is PAT and the rest below `span` is zero.
      const uint64_t base_pa = pte.addr() & ~(span - 1);
      return Translation{base::PhysAddr(base_pa | (va & (span - 1))), static_cast<PageSize>(span), pte};
    }
    table = mem_.table(pte.phys());
  }
  __builtin_unreachable();
}

}  // namespace mm
