// Buddy allocator implementation. Metadata is one PhysPageMeta per page, kept
// outside the pages; free lists are doubly linked through it by page index so
// a buddy can be unlinked in O(1) when merging.
#include "src/mm/phys.h"

#include "src/base/assert.h"

namespace mm {

using base::Error;
using base::Result;
using base::Status;

namespace {

constexpr uint8_t kQuarantined = 1u << 3;

static_assert(sizeof(PhysPageMeta) == 12, "metadata budget is ~20 bytes per page");
static_assert(sizeof(PhysRangeInfo) % alignof(PhysPageMeta) == 0);

// Ranges with pages; malformed ones (end < start) count as empty here and are
// rejected by init.
size_t count_ranges(base::Span<const PhysRange> ranges, uint64_t* pages) {
  size_t n = 0;
  *pages = 0;
  for (const PhysRange& r : ranges) {
    if (r.end <= r.start) continue;
    ++n;
    *pages += (r.end - r.start) >> base::kPageShift;
  }
  return n;
}

// GiBs from the first non-empty range's start to the last one's end: the
// region table's entries. `*base` receives the first GiB's number.
uint64_t count_regions(base::Span<const PhysRange> ranges, uint64_t* base) {
  uint64_t first = 0, last = 0;
  bool any = false;
  for (const PhysRange& r : ranges) {
    if (r.end <= r.start) continue;
    if (!any) first = r.start.value() >> kPhysRegionShift;
    last = (r.end.value() - 1) >> kPhysRegionShift;
    any = true;
  }
  *base = first;
  return any ? last - first + 1 : 0;
}

}  // namespace

uint64_t phys_metadata_bytes(base::Span<const PhysRange> ranges) {
  uint64_t pages = 0, region_base = 0;
  size_t n = count_ranges(ranges, &pages);
  return n * sizeof(PhysRangeInfo) + pages * sizeof(PhysPageMeta) +
         count_regions(ranges, &region_base) * sizeof(uint32_t);
}

Status PhysAllocator::init(base::Span<const PhysRange> ranges, base::Span<uint8_t> metadata, PhysToPtr to_ptr,
                           void* ctx, PhysOptions options) {
  *this = PhysAllocator();
  base::PhysAddr prev_end;
  for (const PhysRange& r : ranges) {
    if (r.end < r.start || !r.start.page_aligned() || !r.end.page_aligned() || r.start < prev_end) {
      last_error_ = "init: ranges must be page-aligned, sorted and disjoint";
      return Error::kInvalidArgument;
    }
    if (r.end > r.start) prev_end = r.end;
  }
  uint64_t total_pages = 0;
  size_t n = count_ranges(ranges, &total_pages);
  // kNil is reserved as the list terminator.
  if (total_pages >= kNil) {
    last_error_ = "init: more than 2^32 - 1 pages";
    return Error::kOutOfRange;
  }
  if (options.poison && to_ptr == nullptr) {
    last_error_ = "init: poison mode needs a PhysToPtr";
    return Error::kInvalidArgument;
  }
  if (metadata.size() < phys_metadata_bytes(ranges) ||
      !base::is_aligned(reinterpret_cast<uintptr_t>(metadata.data()), 8)) {
    last_error_ = "init: metadata buffer too small or not 8-byte aligned";
    return Error::kInvalidArgument;
  }

  ranges_ = reinterpret_cast<PhysRangeInfo*>(metadata.data());
  pages_ = reinterpret_cast<PhysPageMeta*>(metadata.data() + n * sizeof(PhysRangeInfo));
  // After the pages: 12 bytes each keep it 4-byte aligned.
  region_first_ = reinterpret_cast<uint32_t*>(pages_ + total_pages);
  num_regions_ = count_regions(ranges, &region_base_);
  num_ranges_ = n;
  to_ptr_ = to_ptr;
  ctx_ = ctx;
  options_ = options;
  for (unsigned o = 0; o < kNumOrders; ++o) free_head_[o] = kNil;

  size_t i = 0;
  uint64_t first = 0;
  for (const PhysRange& r : ranges) {
    if (r.end <= r.start) continue;
    ranges_[i] = {r.start.value(), r.end.value(), first, r.start.value()};
    first += (r.end - r.start) >> base::kPageShift;
    ++i;
  }
  stats_.total_pages = total_pages;
  // Every page is free from the start, prepared or not: the counter says
  // what the machine has, and does not move as init proceeds (tests that
  // compare free pages before and after some work rely on that).
  stats_.free_pages = total_pages;

  // The region table, both sides ascending: O(ranges + regions).
  uint32_t k = 0;
  for (uint64_t g = 0; g < num_regions_; ++g) {
    const uint64_t start = (region_base_ + g) << kPhysRegionShift;
    while (k < num_ranges_ && ranges_[k].end <= start) ++k;
    region_first_[g] = k;
  }

  grow_range_ = 0;
  grow_next_ = num_ranges_ != 0 ? ranges_[0].start : 0;
  for (uint64_t want = options.init_pages; want != 0;) {
    const uint64_t got = grow(want);
    if (got == 0) break;
    want = got >= want ? 0 : want - got;
  }
  return Status::Ok();
}

uint64_t PhysAllocator::grow(uint64_t max_pages) {
  if (grow_range_ == num_ranges_ || max_pages == 0) return 0;
  PhysRangeInfo& r = ranges_[grow_range_];
  const uint64_t a = grow_next_;
  // End on a 2 MiB boundary (or the range's end): a block of any order and
  // its buddy then lie on the same side, so free() never reads a buddy's
  // unwritten metadata. `a` is the range's start or such a boundary.
  const uint64_t room = r.end - a;
  const uint64_t want = max_pages >= (room >> base::kPageShift) ? room : max_pages << base::kPageShift;
  uint64_t b = base::align_up(a + want, order_bytes(kMaxOrder));
  if (b > r.end || b < a) b = r.end;
  const uint64_t first = index_of(r, a);
  const uint64_t pages = (b - a) >> base::kPageShift;
  // Flags must be zero everywhere but on block heads: free() diagnostics
  // and buddy checks read arbitrary prepared pages. 12 bytes per page.
  __builtin_memset(pages_ + first, 0, pages * sizeof(PhysPageMeta));
  carve(r, a, b);
  if (b == r.end) {
    ++grow_range_;
    grow_next_ = grow_range_ < num_ranges_ ? ranges_[grow_range_].start : 0;
  } else {
    grow_next_ = b;
  }
  // Release: cache_page() reads them without the lock, then the metadata.
  __atomic_store_n(&r.ready_end, b, __ATOMIC_RELEASE);
  __atomic_store_n(&stats_.ready_pages, first + pages, __ATOMIC_RELEASE);
  return pages;
}

// Carves [start, end) of `r` into the largest naturally aligned blocks: at
// most kMaxOrder smaller blocks at each unaligned edge, 2 MiB blocks
// between, so this is O(kMaxOrder + pages / 512). With `end` on a 2 MiB
// boundary it picks the blocks one carve of the whole range would.
void PhysAllocator::carve(const PhysRangeInfo& r, uint64_t start, uint64_t end) {
  uint64_t a = start;
  while (a < end) {
    unsigned o = kMaxOrder;
    while (o > 0 && (!base::is_aligned(a, order_bytes(o)) || end - a < order_bytes(o))) --o;
    push_free(r, a, o, false);
    a += order_bytes(o);
  }
}

// find_range() when phys lies beyond the first range of its GiB: the
// ranges that follow in the same GiB, then a hole.
const PhysRangeInfo* PhysAllocator::find_range_after(uint64_t phys, const PhysRangeInfo* r) const {
  for (++r; r != ranges_ + num_ranges_; ++r) {
    if (phys < r->end) return phys >= r->start ? r : nullptr;
  }
  return nullptr;
}

const PhysRangeInfo* PhysAllocator::find_ready_range_slow(uint64_t phys) const {
  const PhysRangeInfo* r = find_range(phys);
  return r != nullptr && phys < __atomic_load_n(&r->ready_end, __ATOMIC_ACQUIRE) ? r : nullptr;
}

Status PhysAllocator::fail_lookup(uint64_t phys) {
  if (!base::is_aligned(phys, base::kPageSize) || find_range(phys) == nullptr) return fail_unmanaged();
  return fail_unready();
}

const PhysRangeInfo* PhysAllocator::range_of_index(uint32_t idx) const {
  // Last range with first_page <= idx; idx is always a valid page.
  size_t lo = 0, hi = num_ranges_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ranges_[mid].first_page <= idx) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return &ranges_[lo - 1];
}

void PhysAllocator::push_free(const PhysRangeInfo& r, uint64_t phys, unsigned order, bool poisoned) {
  uint32_t idx = static_cast<uint32_t>(index_of(r, phys));
  PhysPageMeta& m = pages_[idx];
  m.order = static_cast<uint8_t>(order);
  m.flags = static_cast<uint8_t>(kHeadFree | (poisoned ? kPoisoned : 0));
  m.prev = kNil;
  m.next = free_head_[order];
  if (m.next != kNil) pages_[m.next].prev = idx;
  free_head_[order] = idx;
  ++stats_.free_blocks[order];
}

void PhysAllocator::unlink_free(uint32_t idx, unsigned order) {
  PhysPageMeta& m = pages_[idx];
  if (m.prev != kNil) {
    pages_[m.prev].next = m.next;
  } else {
    free_head_[order] = m.next;
  }
  if (m.next != kNil) pages_[m.next].prev = m.prev;
  m.flags = 0;
  --stats_.free_blocks[order];
}

void PhysAllocator::fill(uint64_t phys, unsigned order, uint8_t byte) {
  // Per page: to_ptr only promises one page is contiguous.
  for (uint64_t p = phys; p < phys + order_bytes(order); p += base::kPageSize) {
    __builtin_memset(to_ptr_(ctx_, base::PhysAddr(p)), byte, base::kPageSize);
  }
}

bool PhysAllocator::check_poison(uint64_t phys, unsigned order) {
  uint64_t pattern;
  __builtin_memset(&pattern, kPoisonByte, sizeof(pattern));
  for (uint64_t p = phys; p < phys + order_bytes(order); p += base::kPageSize) {
    const uint8_t* page = to_ptr_(ctx_, base::PhysAddr(p));
    for (uint64_t off = 0; off < base::kPageSize; off += 8) {
      uint64_t word;
      __builtin_memcpy(&word, page + off, sizeof(word));
      if (word == pattern) continue;
      for (uint64_t b = 0; b < 8; ++b) {
        if (page[off + b] != kPoisonByte) {
          last_fault_addr_ = base::PhysAddr(p + off + b);
          break;
        }
      }
      return false;
    }
  }
  return true;
}

Result<base::PhysAddr> PhysAllocator::alloc(unsigned order, uint32_t flags) {
  if (order > kMaxOrder) {
    last_error_ = "alloc: order above kMaxOrder";
    return Error::kInvalidArgument;
  }
  if ((flags & kAllocZero) && to_ptr_ == nullptr) {
    last_error_ = "alloc: kAllocZero needs a PhysToPtr";
    return Error::kInvalidArgument;
  }
  unsigned o = order;
  while (o <= kMaxOrder && free_head_[o] == kNil) ++o;
  // Nothing prepared is large enough: prepare more rather than fail.
  while (o > kMaxOrder && grow(kPhysGrowPages) != 0) {
    ++stats_.grown_by_alloc;
    o = order;
    while (o <= kMaxOrder && free_head_[o] == kNil) ++o;
  }
  if (o > kMaxOrder) {
    last_error_ = "alloc: out of memory";
    return Error::kOutOfMemory;
  }
  uint32_t idx = free_head_[o];
  bool poisoned = (pages_[idx].flags & kPoisoned) != 0;
  unlink_free(idx, o);
  const PhysRangeInfo& r = *range_of_index(idx);
  uint64_t phys = r.start + ((idx - r.first_page) << base::kPageShift);
  // Keep the lower half, give back upper halves; they inherit the poison.
  while (o > order) {
    --o;
    push_free(r, phys + order_bytes(o), o, poisoned);
  }
  PhysPageMeta& m = pages_[idx];
  m.order = static_cast<uint8_t>(order);
  m.flags = kHeadAllocated;
  stats_.free_pages -= uint64_t{1} << order;

  if (options_.poison && poisoned && !check_poison(phys, order)) {
    // Someone wrote to this memory after freeing it. Withhold the block
    // (it cannot be trusted, and the writer may still hold it) and report.
    m.flags = kQuarantined;
    stats_.quarantined_pages += uint64_t{1} << order;
    ++stats_.poison_failures;
    last_error_ = "alloc: poison overwritten in a freed block (write after free)";
    return Error::kFault;
  }
  if (flags & kAllocZero) fill(phys, order, 0);
  return base::PhysAddr(phys);
}

Status PhysAllocator::fail_free(const PhysRangeInfo& r, uint64_t phys) {
  const PhysPageMeta& m = pages_[index_of(r, phys)];
  if (m.flags & kCached) {
    last_error_ = "free: double free (page is already in a page cache)";
  } else if (m.flags & kHeadAllocated) {
    last_error_ = "free: order differs from the allocation's";
  } else if (m.flags & kQuarantined) {
    last_error_ = "free: block was quarantined after a poison failure";
  } else if (m.flags & kHeadFree) {
    last_error_ = "free: double free (block is already free)";
  } else {
    // Every page is in exactly one block whose head is aligned to the block
    // size, so trying each alignment finds it. O(kMaxOrder).
    last_error_ = "free: page was never allocated";
    for (unsigned o = 1; o <= kMaxOrder; ++o) {
      uint64_t head = base::align_down(phys, order_bytes(o));
      if (head < r.start) break;
      const PhysPageMeta& h = pages_[index_of(r, head)];
      if (h.flags == 0 || head + order_bytes(h.order) <= phys) continue;
      last_error_ = (h.flags & kHeadFree) ? "free: page is already free (double free or never allocated)"
                                          : "free: page lies inside an allocated block, not at its start";
      break;
    }
  }
  return Error::kInvalidArgument;
}

Status PhysAllocator::fail_unready() {
  last_error_ = "free: page was never allocated (its metadata is not yet initialised)";
  return Error::kInvalidArgument;
}

Status PhysAllocator::fail_unmanaged() {
  last_error_ = "free: address not managed by this allocator";
  return Error::kInvalidArgument;
}

// cache_page() set kCached on a page whose flags were `old`, not an
// allocated order-0 head: take the mark off again unless it was there before.
Status PhysAllocator::fail_cache(const PhysRangeInfo& r, uint64_t phys, uint8_t old) {
  PhysPageMeta& m = pages_[index_of(r, phys)];
  if (!(old & kCached)) __atomic_fetch_and(&m.flags, static_cast<uint8_t>(~kCached), __ATOMIC_RELAXED);
  return fail_free(r, phys);
}

void PhysAllocator::uncache_page(base::PhysAddr pa) {
  const uint64_t phys = pa.value();
  const PhysRangeInfo* r = find_range(phys);
  ASSERT_MSG(r != nullptr, "uncache_page({:#x}): not a managed page", phys);
  ASSERT_MSG(index_of(*r, phys) < ready_index(), "uncache_page({:#x}): page's metadata not yet initialised", phys);
  PhysPageMeta& m = pages_[index_of(*r, phys)];
  uint8_t old = __atomic_fetch_and(&m.flags, static_cast<uint8_t>(~kCached), __ATOMIC_RELAXED);
  ASSERT_MSG(old == (kHeadAllocated | kCached), "uncache_page({:#x}): page was not cached (flags {:#x})", phys, old);
}

Status PhysAllocator::free(base::PhysAddr pa, unsigned order) {
  uint64_t phys = pa.value();  // Walks up to the merged block's head.
  if (order > kMaxOrder) {
    last_error_ = "free: order above kMaxOrder";
    return Error::kInvalidArgument;
  }
  if (!base::is_aligned(phys, base::kPageSize)) {
    last_error_ = "free: address not page-aligned";
    return Error::kInvalidArgument;
  }
  const PhysRangeInfo* rp = find_range(phys);
  if (rp == nullptr) {
    last_error_ = "free: address not managed by this allocator";
    return Error::kInvalidArgument;
  }
  const PhysRangeInfo& r = *rp;
  uint64_t idx = index_of(r, phys);
  if (idx >= ready_index()) return fail_unready();
  PhysPageMeta& m = pages_[idx];
  if (m.flags != kHeadAllocated || m.order != order) return fail_free(r, phys);

  const bool poisoned = options_.poison;
  if (poisoned) fill(phys, order, kPoisonByte);
  m.flags = 0;
  stats_.free_pages += uint64_t{1} << order;

  // Merge with the buddy while it is a whole free block of the same order.
  // Blocks never cross range edges, so a buddy outside the range is absent.
  while (order < kMaxOrder) {
    uint64_t buddy = phys ^ order_bytes(order);
    if (buddy < r.start || r.end - buddy < order_bytes(order)) break;
    uint32_t bidx = static_cast<uint32_t>(index_of(r, buddy));
    const PhysPageMeta& b = pages_[bidx];
    if (!(b.flags & kHeadFree) || b.order != order) break;
    // Keep the merged block uniformly poisoned so the check on the next
    // allocation covers this page: each unpoisoned block is filled at most
    // once before it is handed out again.
    if (poisoned && !(b.flags & kPoisoned)) fill(buddy, order, kPoisonByte);
    unlink_free(bidx, order);
    if (buddy < phys) phys = buddy;
    ++order;
  }
  push_free(r, phys, order, poisoned);
  return Status::Ok();
}

}  // namespace mm
