// See kva_space.h.
#include "src/mm/kva_space.h"

namespace mm {

using base::Error;
using base::Status;

int KvaSpace::class_of(uint64_t bytes) {
  if (bytes == 0) return -1;
  uint64_t pages = (bytes + base::kPageSize - 1) >> base::kPageShift;
  if (pages == 0) return -1;  // wrapped
  unsigned k = pages == 1 ? 0 : 64 - __builtin_clzll(pages - 1);
  return k < kClasses ? static_cast<int>(k) : -1;
}

uint64_t KvaSpace::class_bytes(uint64_t bytes) {
  int k = class_of(bytes);
  return k < 0 ? 0 : base::kPageSize << k;
}

Status KvaSpace::init(uint64_t base, uint64_t bytes, KvaPageSource pages) {
  if (!base::is_aligned(base, base::kPageSize) || !base::is_aligned(bytes, base::kPageSize) || bytes == 0 ||
      base + bytes - 1 < base)
    return fail(Error::kInvalidArgument, "init: window misaligned, empty or wrapping");
  base_ = base;
  bytes_ = bytes;
  pages_ = pages;
  // Equal shares, each aligned to the largest slot that fits in it, so
  // every slot is naturally aligned to its size when the window is.
  const uint64_t share = (bytes / kClasses) & ~(base::kPageSize - 1);
  for (unsigned k = 0; k < kClasses; ++k) {
    Class& c = classes_[k];
    c = Class{};
    const uint64_t slot = base::kPageSize << k;
    const uint64_t start = base + k * share, end = start + share;
    c.base = (start + slot - 1) & ~(slot - 1);
    c.slots = c.base < end ? (end - c.base) / slot : 0;
    // The bitmap radix must cover every slot.
    if (c.slots > kMaxBitmapPages * kBitsPerPage) c.slots = kMaxBitmapPages * kBitsPerPage;
  }
  return Status::Ok();
}

base::Result<uint64_t> KvaSpace::page() {
  base::Result<uint64_t> p = pages_.alloc_page(pages_.ctx);
  if (p.ok()) ++metadata_pages_;
  return p;
}

void KvaSpace::unpage(void* p) {
  pages_.free_page(pages_.ctx, reinterpret_cast<uint64_t>(p));
  --metadata_pages_;
}

uint64_t* KvaSpace::bitmap_word(Class& c, uint64_t slot, bool create) {
  uint64_t*& page_ptr = c.bitmap[slot / kBitsPerPage];
  if (page_ptr == nullptr) {
    if (!create) return nullptr;
    base::Result<uint64_t> p = page();
    if (!p.ok()) return nullptr;
    page_ptr = reinterpret_cast<uint64_t*>(p.value());
  }
  return &page_ptr[(slot % kBitsPerPage) / 64];
}

base::Result<uint64_t> KvaSpace::alloc(uint64_t bytes) {
  int k = class_of(bytes);
  if (k < 0) return fail(Error::kInvalidArgument, "alloc: size is 0 or above the largest class").error();
  Class& c = classes_[k];
  uint64_t slot;
  bool from_stack = c.free != nullptr;
  if (from_stack) {
    slot = c.free->slots[c.free->count - 1];
  } else {
    if (c.bumped == c.slots) return fail(Error::kOutOfMemory, "alloc: size class exhausted").error();
    slot = c.bumped;
  }
  // The bit's page first: failing here must leave everything unchanged.
  uint64_t* word = bitmap_word(c, slot, /*create=*/true);
  if (word == nullptr) return fail(Error::kOutOfMemory, "alloc: no page for the slot bitmap").error();
  *word |= uint64_t{1} << (slot % 64);
  if (from_stack) {
    Chunk* top = c.free;
    if (--top->count == 0) {
      c.free = top->next;
      if (c.spare == nullptr) {
        c.spare = top;
      } else {
        unpage(top);
      }
    }
    --c.free_count;
  } else {
    ++c.bumped;
  }
  ++c.in_use;
  return c.base + (slot << (base::kPageShift + k));
}

Status KvaSpace::free(uint64_t va, uint64_t bytes) {
  int k = class_of(bytes);
  if (k < 0) return fail(Error::kInvalidArgument, "free: size is 0 or above the largest class");
  if (va < base_ || va - base_ >= bytes_) return fail(Error::kInvalidArgument, "free: address outside the window");
  Class& c = classes_[k];
  const uint64_t shift = base::kPageShift + k;
  if (va < c.base || ((va - c.base) >> shift) >= c.bumped)
    return fail(Error::kInvalidArgument, "free: not a range of this size (wrong size or never allocated)");
  if (((va - c.base) & ((uint64_t{1} << shift) - 1)) != 0)
    return fail(Error::kInvalidArgument, "free: not the start of a range");
  const uint64_t slot = (va - c.base) >> shift;
  uint64_t* word = bitmap_word(c, slot, /*create=*/false);
  const uint64_t bit = uint64_t{1} << (slot % 64);
  if (word == nullptr || (*word & bit) == 0) return fail(Error::kInvalidArgument, "free: double free");
  if (c.free == nullptr || c.free->count == sizeof(c.free->slots) / 8) {
    Chunk* fresh = c.spare;
    if (fresh != nullptr) {
      c.spare = nullptr;
    } else {
      base::Result<uint64_t> p = page();
      if (!p.ok()) return fail(Error::kOutOfMemory, "free: no page for the free stack");
      fresh = reinterpret_cast<Chunk*>(p.value());
    }
    fresh->next = c.free;
    fresh->count = 0;
    c.free = fresh;
  }
  c.free->slots[c.free->count++] = slot;
  *word &= ~bit;
  ++c.free_count;
  --c.in_use;
  return Status::Ok();
}

KvaClassStats KvaSpace::stats(unsigned cls) const {
  if (cls >= kClasses) return {};
  const Class& c = classes_[cls];
  return KvaClassStats{c.in_use, c.free_count, c.bumped};
}

void KvaSpace::destroy() {
  for (Class& c : classes_) {
    while (c.free != nullptr) {
      Chunk* next = c.free->next;
      unpage(c.free);
      c.free = next;
    }
    if (c.spare) unpage(c.spare);
    c.spare = nullptr;
    for (uint64_t*& b : c.bitmap) {
      if (b) unpage(b);
      b = nullptr;
    }
  }
}

}  // namespace mm
