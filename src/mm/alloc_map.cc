// See alloc_map.h.
#include "src/mm/alloc_map.h"

#include "src/base/assert.h"
#include "src/mm/direct_map.h"
#include "src/mm/kernel_vm.h"
#include "src/mm/page_alloc.h"
#include "src/mm/tlb.h"

namespace mm {
namespace {

// Software bit 9 of a leaf ([sdm3] 4.5: bits 11:9 are ignored): the frame
// belongs to the mapping and is freed with it.
constexpr uint64_t kOwned = uint64_t{1} << 9;

base::Status check_range(uint64_t va, uint64_t bytes) {
  if (bytes == 0 || !base::is_aligned(va, base::kPageSize) || !base::is_aligned(bytes, base::kPageSize))
    return base::Error::kInvalidArgument;
  auto inside = [&](uint64_t base, uint64_t size) {
    return va >= base && va - base <= size && bytes <= size - (va - base);
  };
  if (!inside(kVaWindowBase, kVaWindowBytes) && !inside(kFixmapBase, kFixmapBytes)) return base::Error::kOutOfRange;
  return base::Status::Ok();
}

uint64_t leaf_flags(MapPerm perms) {
  return kernel_leaf_flags(has_perm(perms, MapPerm::kWrite), has_perm(perms, MapPerm::kExec));
}

uint64_t load_pte(const uint64_t* e) { return __atomic_load_n(e, __ATOMIC_RELAXED); }

// A one-entry software paging-structure cache (the hardware's are [sdm3]
// 4.10.3): the page table that maps the 2 MiB region last mapped or
// unmapped here. Once found it stays right: kernel page tables are never
// freed, and a directory entry that references a table never changes
// (map() only fills non-present entries, unmap() removes leaves only;
// vm_drop_identity unlinks the low 512 GiB, which check_range keeps out of
// here). Guarded by the vm lock.
constinit uint64_t cached_region GUARDED_BY(internal::vm_lock) = ~uint64_t{0};  // va >> 21
constinit uint64_t* cached_table GUARDED_BY(internal::vm_lock) = nullptr;

// PageTable::find_pte through the cache; a table found is remembered.
uint64_t* find_pte(KernelPageTable& pt, uint64_t va) REQUIRES(internal::vm_lock) {
  const uint64_t region = va >> (base::kPageShift + 9);
  if (region == cached_region) return cached_table + table_index(va, kLevelPt);
  uint64_t* e = pt.find_pte(base::VirtAddr(va));
  if (e != nullptr) {
    cached_region = region;
    cached_table = e - table_index(va, kLevelPt);
  }
  return e;
}

// Calls fn(entry) for the 4 KiB leaf entry of each page of [va, va + bytes)
// in order, walking from the root once per page table rather than once per
// page (one table's 512 entries map 2 MiB of consecutive addresses, [sdm3]
// 4.5). `first`, if given, is the entry of `va` from an earlier walk under
// the same hold of the lock (tables are never freed, so it is still valid).
// Stops when fn returns false, returning the bytes before that page; walk
// errors as PageTable::walk (with `create`, missing tables are allocated).
template <typename Fn>
base::Result<uint64_t> for_each_pte(KernelPageTable& pt, uint64_t va, uint64_t bytes, bool create, uint64_t* first,
                                    Fn fn) REQUIRES(internal::vm_lock) {
  constexpr uint64_t kTableSpan = level_span(kLevelPd);
  uint64_t done = 0;
  while (done < bytes) {
    const uint64_t at = va + done;
    uint64_t* e = first != nullptr ? first : find_pte(pt, at);
    first = nullptr;
    if (__builtin_expect(e == nullptr, 0)) {
      base::Result<uint64_t*> w = pt.walk(base::VirtAddr(at), kLevelPt, create);
      if (!w.ok()) return w.error();
      e = w.value();
    }
    // This table's entries, to its end or the range's (in (0, 2 MiB]).
    uint64_t left = kTableSpan - (at & (kTableSpan - 1));
    if (left > bytes - done) left = bytes - done;
    for (; left > 0; left -= base::kPageSize, done += base::kPageSize, ++e) {
      if (!fn(e)) return done;
    }
  }
  return done;
}

// Clears the leaves of [va, va + bytes), all mapped as 4 KiB pages (checked
// under this hold of the lock), into `batch`. Stops early, returning the
// bytes done, once the batch holds all the frames it can: the caller then
// flushes it with the lock released (a shootdown waits for every online CPU,
// and one spinning on this lock has interrupts off) and comes back for the
// rest.
uint64_t unmap_locked(KernelPageTable& pt, uint64_t va, uint64_t bytes, uint64_t* first, UnmapBatch& batch)
    REQUIRES(internal::vm_lock) {
  uint64_t at = va;
  base::Result<uint64_t> done = for_each_pte(pt, va, bytes, /*create=*/false, first, [&](uint64_t* e) {
    if (batch.frames_full()) return false;
    // Exchange, not store: the returned entry carries the final A/D bits.
    const Pte old(__atomic_exchange_n(e, uint64_t{0}, __ATOMIC_ACQ_REL));
    ASSERT_MSG(old.present(), "unmap_range: {:#x} vanished under the lock", at);
    batch.add_range(base::VirtAddr(at), 1);
    if (old.raw() & kOwned) batch.add_frame(base::PhysAddr(old.addr()));
    at += base::kPageSize;
    return true;
  });
  ASSERT_MSG(done.ok(), "unmap_range: a page table of [{:#x}, {:#x}) vanished under the lock", va, va + bytes);
  return done.value();
}

// Unmaps [va, va + bytes), known to be mapped, through `batch`; `first` as
// for_each_pte. Called with the lock held through `g`; returns with it held,
// but drops it around each flush a long range needs (through the caller's
// guard, which the thread-safety analysis cannot follow into a callee).
void unmap_pages(KernelVmGuard& g, uint64_t va, uint64_t bytes, uint64_t* first, UnmapBatch& batch)
    REQUIRES(internal::vm_lock) NO_THREAD_SAFETY_ANALYSIS {
  for (;;) {
    const uint64_t done = unmap_locked(kernel_page_table(), va, bytes, first, batch);
    if (__builtin_expect(done == bytes, 1)) return;
    va += done;
    bytes -= done;
    first = nullptr;
    g.unlock();
    batch.flush();
    g.lock();
  }
}

// True if [va, va + bytes) lies in the span of one page table (2 MiB,
// aligned): its leaf entries are then consecutive in that table.
bool in_one_table(uint64_t va, uint64_t bytes) {
  constexpr uint64_t kTableSpan = level_span(kLevelPd);
  return bytes <= kTableSpan - (va & (kTableSpan - 1));
}

// map_range of [va, va + bytes) within one page table: with the lock held,
// every entry is checked free before any is written, so all or nothing
// needs no undo, and the table is found with one descent.
base::Status map_frames_one_table(uint64_t va, uint64_t bytes, uint64_t pa, uint64_t flags) {
  KernelVmGuard g(kernel_vm_lock());
  KernelPageTable& pt = kernel_page_table();
  uint64_t* e = find_pte(pt, va);
  if (__builtin_expect(e == nullptr, 0)) {
    base::Result<uint64_t*> w = pt.walk(base::VirtAddr(va), kLevelPt, /*create=*/true);
    if (!w.ok()) return w.error();
    e = w.value();
  }
  const uint64_t n = bytes >> base::kPageShift;
  for (uint64_t i = 0; i < n; ++i) {
    if (Pte(load_pte(&e[i])).present()) return base::Error::kAlreadyExists;
  }
  // Release: what the caller wrote to the frames before the entries that
  // reach them. New entries need no invalidation ([sdm3] 4.10.4.3).
  for (uint64_t i = 0; i < n; ++i) __atomic_store_n(&e[i], (pa + (i << base::kPageShift)) | flags, __ATOMIC_RELEASE);
  return base::Status::Ok();
}

// Fresh frames are allocated and zeroed before the lock is taken, this many
// per hold: zeroing under a lock held with interrupts off would keep them
// off for the whole range.
constexpr uint64_t kFreshChunk = 16;

// Which frames map_pages maps.
enum class Frames : bool { kGiven, kFresh };

// Maps the pages of [va, va + bytes) to the frames at `pa` onward
// (kGiven), or to fresh zeroed frames the mapping owns (kFresh, `pa`
// unused). All or nothing.
base::Status map_pages(uint64_t va, uint64_t bytes, MapPerm perms, Frames frames, uint64_t pa) {
  base::Status s = check_range(va, bytes);
  if (!s.ok()) return s;
  const bool fresh_frames = frames == Frames::kFresh;
  const uint64_t flags = leaf_flags(perms) | Pte::kPresent | (fresh_frames ? kOwned : 0);
  if (!fresh_frames && in_one_table(va, bytes)) return map_frames_one_table(va, bytes, pa, flags);
  uint64_t done = 0;
  base::Status result = base::Status::Ok();
  while (done < bytes && result.ok()) {
    uint64_t pages = (bytes - done) >> base::kPageShift;
    uint64_t fresh[kFreshChunk];
    if (fresh_frames) {
      if (pages > kFreshChunk) pages = kFreshChunk;
      for (uint64_t i = 0; i < pages; ++i) {
        base::Result<base::PhysAddr> f = page_alloc(0, kAllocZero);
        if (!f.ok()) {
          result = f.error();
          pages = i;
          break;
        }
        fresh[i] = f.value().value();  // bound for a page-table entry
      }
    }
    uint64_t mapped = 0;
    if (pages > 0) {
      KernelVmGuard g(kernel_vm_lock());
      base::Result<uint64_t> m = for_each_pte(
          kernel_page_table(), va + done, pages << base::kPageShift, /*create=*/true, nullptr, [&](uint64_t* e) {
            if (Pte(load_pte(e)).present()) return false;  // map() only fills non-present entries
            const uint64_t frame = fresh_frames ? fresh[mapped] : pa + done + (mapped << base::kPageShift);
            // Release: a fresh frame's zeroes before the entry that reaches them.
            __atomic_store_n(e, frame | flags, __ATOMIC_RELEASE);
            ++mapped;
            return true;
          });
      if (!m.ok()) {
        result = m.error();
      } else if (mapped < pages) {
        result = base::Error::kAlreadyExists;
      }
    }
    if (fresh_frames) {
      for (uint64_t i = mapped; i < pages; ++i) page_free(base::PhysAddr(fresh[i]), 0);
    }
    done += mapped << base::kPageShift;
  }
  if (!result.ok() && done > 0) {
    // Never visible to anyone else yet, but the batch frees the frames, and
    // a CPU may have cached the entries: new entries need no invalidation
    // ([sdm3] 4.10.4.3), removed ones do.
    UnmapBatch batch;
    {
      KernelVmGuard g(kernel_vm_lock());
      unmap_pages(g, va, done, nullptr, batch);
    }
    batch.flush();
  }
  return result;
}

}  // namespace

UnmapBatch::~UnmapBatch() { ASSERT_MSG(ranges_.empty() && num_frames_ == 0, "UnmapBatch destroyed before flush()"); }

void UnmapBatch::add_frame(base::PhysAddr pa) {
  ASSERT_MSG(!frames_full(), "UnmapBatch: more than {} frames before a flush", kMaxFrames);
  frames_[num_frames_++] = pa.value();
}

void UnmapBatch::flush() {
  tlb_shootdown_all(ranges_);
  ranges_.clear();
  for (uint32_t i = 0; i < num_frames_; ++i) page_free(base::PhysAddr(frames_[i]), 0);
  num_frames_ = 0;
}

base::Status alloc_map(base::VirtAddr va, MapPerm perms) { return alloc_map_range(va, base::kPageSize, perms); }

base::Status alloc_map_range(base::VirtAddr va, uint64_t bytes, MapPerm perms) {
  return map_pages(va.value(), bytes, perms, Frames::kFresh, 0);
}

base::Status map_range(base::VirtAddr va_addr, base::PhysAddr pa_addr, uint64_t bytes, MapPerm perms) {
  const uint64_t pa = pa_addr.value();
  if (!pa_addr.page_aligned()) return base::Error::kInvalidArgument;
  // Every frame's address must fit the entry's address bits (51:12); a zero
  // `bytes` is check_range's kInvalidArgument, not a wrap here.
  if (pa > Pte::kAddrMask || (bytes != 0 && bytes - base::kPageSize > Pte::kAddrMask - pa))
    return base::Error::kInvalidArgument;
  return map_pages(va_addr.value(), bytes, perms, Frames::kGiven, pa);
}

base::Status unmap_range(base::VirtAddr va_addr, uint64_t bytes, UnmapBatch* batch) {
  const uint64_t va = va_addr.value();
  base::Status s = check_range(va, bytes);
  if (!s.ok()) return s;
  UnmapBatch own;
  UnmapBatch& b = batch ? *batch : own;
  {
    KernelVmGuard g(kernel_vm_lock());
    KernelPageTable& pt = kernel_page_table();
    const uint64_t n = bytes >> base::kPageShift;
    uint64_t* e = in_one_table(va, bytes) && n <= b.frames_room() ? find_pte(pt, va) : nullptr;
    if (e != nullptr) {
      // The common case, one page table's entries with room for their
      // frames in the batch: check, then clear them in place.
      for (uint64_t i = 0; i < n; ++i) {
        if (!Pte(load_pte(&e[i])).present()) return base::Error::kNotFound;
      }
      for (uint64_t i = 0; i < n; ++i) {
        // Exchange, not store: the returned entry carries the final A/D bits.
        const Pte old(__atomic_exchange_n(&e[i], uint64_t{0}, __ATOMIC_ACQ_REL));
        if (old.raw() & kOwned) b.add_frame(base::PhysAddr(old.addr()));
      }
      b.add_range(va_addr, n);
      g.unlock();
      own.flush();
      return base::Status::Ok();
    }
    // All or nothing: every page must be mapped before any is removed. The
    // check's first entry spares the unmap a second walk.
    uint64_t* first = nullptr;
    base::Result<uint64_t> mapped = for_each_pte(pt, va, bytes, /*create=*/false, nullptr, [&](uint64_t* e) {
      if (first == nullptr) first = e;
      return Pte(load_pte(e)).present();
    });
    if (!mapped.ok() || mapped.value() != bytes) return base::Error::kNotFound;
    unmap_pages(g, va, bytes, first, b);
  }
  own.flush();
  return base::Status::Ok();
}

base::Status protect_range(base::VirtAddr va_addr, uint64_t bytes, MapPerm perms) {
  const uint64_t va = va_addr.value();
  base::Status s = check_range(va, bytes);
  if (!s.ok()) return s;
  TlbRanges ranges;
  {
    KernelVmGuard g(kernel_vm_lock());
    KernelPageTable& pt = kernel_page_table();
    for (uint64_t off = 0; off < bytes; off += base::kPageSize) {
      base::Result<uint64_t*> e = pt.walk(va_addr + off, kLevelPt, /*create=*/false);
      if (!e.ok() || !Pte(*e.value()).present()) return base::Error::kNotFound;
    }
    constexpr uint64_t kPermBits = Pte::kWritable | Pte::kNoExecute;
    const uint64_t flags = leaf_flags(perms) & kPermBits;
    for (uint64_t off = 0; off < bytes; off += base::kPageSize) {
      uint64_t* e = pt.walk(va_addr + off, kLevelPt, false).value();
      // Atomic read-modify-write: the CPU may set A/D in this entry meanwhile.
      uint64_t old = __atomic_load_n(e, __ATOMIC_RELAXED);
      while (!__atomic_compare_exchange_n(e, &old, (old & ~kPermBits) | flags, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED)) {
      }
    }
    ranges.add(va_addr, bytes / base::kPageSize);
  }
  tlb_shootdown_all(ranges);
  return base::Status::Ok();
}

base::Result<base::PhysAddr> kernel_translate(base::VirtAddr va) {
  KernelVmGuard g(kernel_vm_lock());
  KernelPageTable& pt = kernel_page_table();
  base::Result<Translation> t = pt.translate(va);
  if (!t.ok()) return t.error();
  return t.value().phys;
}

}  // namespace mm
