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
  auto inside = [&](uint64_t base, uint64_t size) { return va >= base && va - base <= size && bytes <= size - (va - base); };
  if (!inside(kVaWindowBase, kVaWindowBytes) && !inside(kFixmapBase, kFixmapBytes)) return base::Error::kOutOfRange;
  return base::Status::Ok();
}

uint64_t leaf_flags(uint32_t perms) {
  return kernel_leaf_flags((perms & kPermWrite) != 0, (perms & kPermExec) != 0);
}

// Unmaps [va, va + bytes), which the caller checked is mapped, under the lock.
void unmap_locked(uint64_t va, uint64_t bytes, UnmapBatch* batch) {
  KernelPageTable& pt = kernel_page_table();
  for (uint64_t off = 0; off < bytes; off += base::kPageSize) {
    base::Result<Translation> t = pt.unmap(va + off);
    ASSERT_MSG(t.ok(), "unmap_range: {:#x} vanished under the lock: {}", va + off, pt.reason());
    batch->add_range(va + off, 1);
    if (t.value().pte.raw() & kOwned) batch->add_frame(t.value().phys);
  }
}

// Maps the pages with frames from `frame(off)` (0 for a fresh page); all or
// nothing.
template <typename Frame>
base::Status map_pages(uint64_t va, uint64_t bytes, uint32_t perms, Frame frame) {
  base::Status s = check_range(va, bytes);
  if (!s.ok()) return s;
  const uint64_t flags = leaf_flags(perms);
  uint64_t done = 0;
  base::Status result = base::Status::Ok();
  for (; done < bytes; done += base::kPageSize) {
    uint64_t pa = frame(done);
    uint64_t owned = 0;
    if (pa == 0) {
      base::Result<uint64_t> p = page_alloc(0, kAllocZero);
      if (!p.ok()) {
        result = p.error();
        break;
      }
      pa = p.value();
      owned = kOwned;
    }
    arch::SpinLockGuard g(kernel_vm_lock());
    base::Status m = kernel_page_table().map(va + done, pa, PageSize::k4K, flags | owned);
    if (!m.ok()) {
      if (owned) page_free(pa, 0);
      result = m.error();
      break;
    }
  }
  if (!result.ok() && done > 0) {
    // Never visible to anyone else yet, but the batch frees the frames.
    UnmapBatch batch;
    {
      arch::SpinLockGuard g(kernel_vm_lock());
      unmap_locked(va, done, &batch);
    }
    batch.flush();
  }
  return result;
}

}  // namespace

UnmapBatch::~UnmapBatch() { ASSERT_MSG(ranges_.empty() && num_frames_ == 0, "UnmapBatch destroyed before flush()"); }

void UnmapBatch::add_frame(uint64_t pa) {
  if (num_frames_ == kMaxFrames) flush();
  frames_[num_frames_++] = pa;
}

void UnmapBatch::flush() {
  tlb_shootdown_all(ranges_);
  ranges_.clear();
  for (uint32_t i = 0; i < num_frames_; ++i) page_free(frames_[i], 0);
  num_frames_ = 0;
}

base::Status alloc_map(uint64_t va, uint32_t perms) { return alloc_map_range(va, base::kPageSize, perms); }

base::Status alloc_map_range(uint64_t va, uint64_t bytes, uint32_t perms) {
  return map_pages(va, bytes, perms, [](uint64_t) { return uint64_t{0}; });
}

base::Status map_range(uint64_t va, uint64_t pa, uint64_t bytes, uint32_t perms) {
  if (pa == 0 || !base::is_aligned(pa, base::kPageSize)) return base::Error::kInvalidArgument;
  return map_pages(va, bytes, perms, [pa](uint64_t off) { return pa + off; });
}

base::Status unmap_range(uint64_t va, uint64_t bytes, UnmapBatch* batch) {
  base::Status s = check_range(va, bytes);
  if (!s.ok()) return s;
  UnmapBatch own;
  {
    arch::SpinLockGuard g(kernel_vm_lock());
    KernelPageTable& pt = kernel_page_table();
    for (uint64_t off = 0; off < bytes; off += base::kPageSize) {
      base::Result<Translation> t = pt.translate(va + off);
      if (!t.ok() || t.value().size != PageSize::k4K) return base::Error::kNotFound;
    }
    unmap_locked(va, bytes, batch ? batch : &own);
  }
  own.flush();
  return base::Status::Ok();
}

base::Status protect_range(uint64_t va, uint64_t bytes, uint32_t perms) {
  base::Status s = check_range(va, bytes);
  if (!s.ok()) return s;
  TlbRanges ranges;
  {
    arch::SpinLockGuard g(kernel_vm_lock());
    KernelPageTable& pt = kernel_page_table();
    for (uint64_t off = 0; off < bytes; off += base::kPageSize) {
      base::Result<uint64_t*> e = pt.walk(va + off, kLevelPt, /*create=*/false);
      if (!e.ok() || !Pte(*e.value()).present()) return base::Error::kNotFound;
    }
    constexpr uint64_t kPermBits = Pte::kWritable | Pte::kNoExecute;
    const uint64_t flags = leaf_flags(perms) & kPermBits;
    for (uint64_t off = 0; off < bytes; off += base::kPageSize) {
      uint64_t* e = pt.walk(va + off, kLevelPt, false).value();
      // Atomic read-modify-write: the CPU may set A/D in this entry meanwhile.
      uint64_t old = __atomic_load_n(e, __ATOMIC_RELAXED);
      while (!__atomic_compare_exchange_n(e, &old, (old & ~kPermBits) | flags, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED)) {
      }
    }
    ranges.add(va, bytes / base::kPageSize);
  }
  tlb_shootdown_all(ranges);
  return base::Status::Ok();
}

base::Result<uint64_t> kernel_translate(uint64_t va) {
  arch::SpinLockGuard g(kernel_vm_lock());
  KernelPageTable& pt = kernel_page_table();
  base::Result<Translation> t = pt.translate(va);
  if (!t.ok()) return t.error();
  return t.value().phys;
}

}  // namespace mm
