// VA range allocator implementation. Per class: a bump pointer over the
// sub-window, a LIFO stack of freed slot indices in chunk pages, and a
// two-level bitmap (root page of leaf pointers, leaf pages of bits) marking
// slots in use, so free() can reject double frees exactly.
#include "src/mm/va_alloc.h"

#include "src/base/assert.h"

namespace mm {

using base::Error;
using base::kPageShift;
using base::kPageSize;
using base::Result;
using base::Status;

// One page of the free stack. Slot indices are below 2^24, so 4 bytes each:
// 1021 per page after the link and count.
struct VaAllocator::Chunk {
  static constexpr uint32_t kSlots = (kPageSize - sizeof(void*) - sizeof(uint32_t)) / 4;  // room after next, count
  Chunk* next;
  uint32_t count;
  uint32_t slots[kSlots];
};

namespace {

constexpr uint64_t kLeafShift = kPageShift + 3;  // Bits in a page: 2^15 slots per leaf.
constexpr uint64_t kSlotsPerLeaf = uint64_t{1} << kLeafShift;
constexpr uint64_t kLeavesPerRoot = kPageSize / sizeof(uint64_t*);
static_assert(kSlotsPerLeaf * kLeavesPerRoot == kVaMaxSlotsPerClass);
static_assert(kVaMaxSlotsPerClass <= uint64_t{1} << 32, "chunks store 32-bit slot indices");

constexpr uint64_t order_size(unsigned order) { return kPageSize << order; }

// Slots of `bytes` (a power of two) aligned to `bytes` inside [lo, lo+len);
// lo+len may be exactly 2^64. Sets *first to the first slot's address.
uint64_t aligned_slots(uint64_t lo, uint64_t len, uint64_t bytes, uint64_t* first) {
  // Near 2^64 `a` wraps to 0; then a - lo is 2^64 - lo >= len (mod 2^64),
  // so the one check covers it.
  uint64_t a = base::align_up(lo, bytes);
  if (a - lo >= len) return 0;
  *first = a;
  return (len - (a - lo)) / bytes;
}

}  // namespace

Status VaAllocator::init(base::VirtAddr start, uint64_t size, const VaPageSource& source, unsigned max_order) {
  const uint64_t base = start.value();
  if (metadata_pages_ != 0 || num_classes_ != 0) {
    last_error_ = "init: allocator already initialized";
    return Error::kInvalidArgument;
  }
  if (size == 0 || !base::is_aligned(base, kPageSize) || !base::is_aligned(size, kPageSize) || size - 1 > ~base) {
    last_error_ = "init: window must be page aligned, non-empty and not wrap";
    return Error::kInvalidArgument;
  }
  if (source.alloc_page == nullptr || source.free_page == nullptr || max_order > kVaMaxOrder) {
    last_error_ = "init: page source incomplete or max_order above kVaMaxOrder";
    return Error::kInvalidArgument;
  }
  // The most classes whose largest member still gets one aligned slot. Lower
  // classes then fit too: their sub-windows are at least as big and their
  // alignment waste smaller. Order 0 always fits, so num_classes >= 1.
  for (unsigned top = max_order + 1; top-- > 0;) {
    uint64_t sub = base::align_down(size / (top + 1), kPageSize);
    uint64_t first;
    if (sub != 0 && aligned_slots(base + top * sub, size - top * sub, order_size(top), &first)) {
      num_classes_ = top + 1;
      sub_bytes_ = sub;
      break;
    }
  }
  base_ = base;
  size_ = size;
  source_ = source;
  for (unsigned k = 0; k < num_classes_; ++k) {
    SizeClass& c = classes_[k];
    c = SizeClass();
    // The last class also takes the rounding remainder at the window's end.
    uint64_t len = k + 1 == num_classes_ ? size - k * sub_bytes_ : sub_bytes_;
    uint64_t n = aligned_slots(base + k * sub_bytes_, len, order_size(k), &c.start);
    ASSERT_MSG(n != 0, "va_alloc: class {} has no slot", k);
    c.capacity = n < kVaMaxSlotsPerClass ? n : kVaMaxSlotsPerClass;
  }
  return Status::Ok();
}

Result<unsigned> VaAllocator::order_of(uint64_t bytes) const {
  if (bytes == 0 || num_classes_ == 0 || bytes > order_size(num_classes_ - 1)) {
    return Error::kInvalidArgument;
  }
  uint64_t pages = (bytes + kPageSize - 1) >> kPageShift;
  if (pages == 1) return 0u;
  return static_cast<unsigned>(64 - __builtin_clzll(pages - 1));
}

Result<uint64_t> VaAllocator::class_bytes(uint64_t bytes) const {
  Result<unsigned> o = order_of(bytes);
  if (!o.ok()) return o.error();
  return order_size(o.value());
}

Result<uintptr_t> VaAllocator::get_page() {
  Result<base::VirtAddr> p = source_.alloc_page(source_.ctx);
  if (!p.ok()) return p.error();
  ++metadata_pages_;
  return p.value().value();
}

void VaAllocator::put_page(void* page) {
  DEBUG_ASSERT(metadata_pages_ != 0);
  --metadata_pages_;
  source_.free_page(source_.ctx, base::virt_of(page));
}

uint64_t& VaAllocator::bit_word(const SizeClass& c, uint64_t slot) {
  return c.bitmap[slot >> kLeafShift][(slot & (kSlotsPerLeaf - 1)) / 64];
}

Status VaAllocator::ensure_leaf(SizeClass& c, uint64_t slot) {
  uint64_t** root = c.bitmap;
  bool new_root = false;
  if (root == nullptr) {
    Result<uintptr_t> p = get_page();
    if (!p.ok()) return Error::kOutOfMemory;
    root = reinterpret_cast<uint64_t**>(p.value());
    __builtin_memset(root, 0, kPageSize);
    new_root = true;
  }
  uint64_t*& leaf = root[slot >> kLeafShift];
  if (leaf == nullptr) {
    Result<uintptr_t> p = get_page();
    if (!p.ok()) {
      // Keep "bitmap non-null iff bump > 0" so trim() finds every page.
      if (new_root) put_page(root);
      return Error::kOutOfMemory;
    }
    leaf = reinterpret_cast<uint64_t*>(p.value());
    __builtin_memset(leaf, 0, kPageSize);
  }
  c.bitmap = root;
  return Status::Ok();
}

bool VaAllocator::push_free(SizeClass& c, uint64_t slot) {
  static_assert(sizeof(Chunk) == kPageSize);  // Here: Chunk is private to the class.
  Chunk* top = c.stack;
  if (top == nullptr || top->count == Chunk::kSlots) {
    Chunk* fresh = spare_;
    if (fresh != nullptr) {
      spare_ = nullptr;
    } else {
      Result<uintptr_t> p = get_page();
      if (!p.ok()) return false;
      fresh = reinterpret_cast<Chunk*>(p.value());
    }
    fresh->next = top;
    fresh->count = 0;
    c.stack = top = fresh;
  }
  top->slots[top->count++] = static_cast<uint32_t>(slot);
  ++c.free_slots;
  return true;
}

uint64_t VaAllocator::pop_free(SizeClass& c) {
  Chunk* top = c.stack;
  uint64_t slot = top->slots[--top->count];
  --c.free_slots;
  if (top->count == 0) {
    c.stack = top->next;
    if (spare_ == nullptr) {
      spare_ = top;
    } else {
      put_page(top);
    }
  }
  return slot;
}

Result<base::VirtAddr> VaAllocator::alloc(uint64_t bytes) {
  Result<unsigned> o = order_of(bytes);
  if (!o.ok()) {
    last_error_ = "alloc: size is 0 or above the largest class";
    return Error::kInvalidArgument;
  }
  SizeClass& c = classes_[o.value()];
  uint64_t slot;
  if (c.stack != nullptr) {
    slot = pop_free(c);
  } else if (c.bump < c.capacity) {
    if (!ensure_leaf(c, c.bump).ok()) {
      last_error_ = "alloc: page source failed for a bitmap page";
      return Error::kOutOfMemory;
    }
    slot = c.bump++;
  } else {
    last_error_ = "alloc: size class exhausted";
    return Error::kOutOfMemory;
  }
  uint64_t& word = bit_word(c, slot);
  uint64_t mask = uint64_t{1} << (slot % 64);
  ASSERT_MSG((word & mask) == 0, "va_alloc: free stack of order {} holds in-use slot {}", o.value(), slot);
  word |= mask;
  ++c.in_use;
  return base::VirtAddr(c.start + (slot << (kPageShift + o.value())));
}

Status VaAllocator::free(base::VirtAddr addr, uint64_t bytes) {
  const uint64_t va = addr.value();
  uint64_t off = va - base_;  // Wraps to a huge value below base.
  if (num_classes_ == 0 || off >= size_) {
    last_error_ = "free: address outside the window";
    return Error::kInvalidArgument;
  }
  uint64_t k = off / sub_bytes_;
  if (k >= num_classes_) k = num_classes_ - 1;  // The remainder belongs to the last class.
  Result<unsigned> o = order_of(bytes);
  if (!o.ok() || o.value() != k) {
    last_error_ = "free: size does not match the class of the address's sub-window";
    return Error::kInvalidArgument;
  }
  SizeClass& c = classes_[k];
  if (va < c.start || !base::is_aligned(va, order_size(o.value()))) {
    last_error_ = "free: address is not the start of a slot";
    return Error::kInvalidArgument;
  }
  uint64_t slot = (va - c.start) >> (kPageShift + o.value());
  if (slot >= c.bump) {
    last_error_ = "free: address was never allocated";
    return Error::kInvalidArgument;
  }
  uint64_t& word = bit_word(c, slot);
  uint64_t mask = uint64_t{1} << (slot % 64);
  if ((word & mask) == 0) {
    last_error_ = "free: double free";
    return Error::kInvalidArgument;
  }
  word &= ~mask;
  --c.in_use;
  // A free that fails is worse than lost VA (the caller, e.g. thread exit,
  // usually cannot recover), and the window is large: orphan the slot.
  if (!push_free(c, slot)) ++c.orphaned;
  return Status::Ok();
}

void VaAllocator::trim() {
  for (unsigned k = 0; k < num_classes_; ++k) {
    SizeClass& c = classes_[k];
    if (c.in_use != 0 || c.bitmap == nullptr) continue;
    while (c.stack != nullptr) {
      Chunk* next = c.stack->next;
      put_page(c.stack);
      c.stack = next;
    }
    // Leaves exist exactly for the slots below the bump pointer.
    uint64_t leaves = (c.bump + kSlotsPerLeaf - 1) >> kLeafShift;
    for (uint64_t i = 0; i < leaves; ++i) put_page(c.bitmap[i]);
    put_page(c.bitmap);
    c.bitmap = nullptr;
    c.bump = c.free_slots = c.orphaned = 0;
  }
  if (spare_ != nullptr) {
    put_page(spare_);
    spare_ = nullptr;
  }
}

VaClassStats VaAllocator::class_stats(unsigned order) const {
  if (order >= num_classes_) return {};
  const SizeClass& c = classes_[order];
  return {order_size(order), c.capacity, c.in_use, c.free_slots, c.bump, c.orphaned};
}

VaStats VaAllocator::stats() const {
  VaStats s{num_classes_, 0, 0, metadata_pages_};
  for (unsigned k = 0; k < num_classes_; ++k) {
    s.in_use += classes_[k].in_use;
    s.bytes_reserved += classes_[k].in_use * order_size(k);
  }
  return s;
}

}  // namespace mm
