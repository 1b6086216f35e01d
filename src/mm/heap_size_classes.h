// The kernel heap's size classes: 24 classes from 8 B to 4 KiB, the span
// (page run) that carves each one, and an O(1) size -> class lookup. All
// constexpr; static_asserts pin the table's properties. Any context.
#pragma once

#include "src/base/types.h"

namespace mm {

inline constexpr unsigned kHeapNumClasses = 24;
/// Largest small object; anything bigger is a page-granular large object.
inline constexpr size_t kHeapMaxSmallSize = 4096;
/// A span's bitmaps are fixed arrays in its record (outside the span), so
/// a span holds at most this many objects.
inline constexpr uint32_t kHeapMaxSpanObjects = 512;
/// Spans are at most one huge page (2 MiB) of 4 KiB pages.
inline constexpr uint32_t kHeapMaxSpanPages = 512;
/// Pointers a per-CPU cache can hold per class (its per-class cap is lower
/// for big classes: see HeapClass::cache_cap).
inline constexpr uint32_t kHeapCacheMaxSlots = 32;

/// One size class.
///
/// Alignment rule: objects are carved at span_base + k * size and spans
/// are page aligned, so every object is aligned to the largest power of two
/// dividing its class size (`align`). All sizes are multiples of 8, and of
/// 16 from 16 up, so every object is 8-byte aligned and objects of 16 bytes
/// or more are 16-byte aligned; power-of-two classes (8 .. 4096) are
/// naturally aligned, e.g. kmalloc(4096) returns a whole page.
struct HeapClass {
  uint32_t size;        ///< Object size in bytes.
  uint32_t span_pages;  ///< Pages per span: a power of two.
  uint32_t objects;     ///< Objects per span: span bytes / size.
  uint32_t div_magic;   ///< offset / size == (offset * div_magic) >> 32 within a span.
  uint32_t align;       ///< Guaranteed alignment of every object.
  uint32_t cache_cap;   ///< Per-CPU cache capacity; refills and drains move half.
};

namespace internal {

inline constexpr uint32_t kHeapClassSizes[kHeapNumClasses] = {
    8,   16,  32,  48,  64,  80,   96,   128,  160,  192,  256,  320,
    384, 448, 512, 640, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096,
};

/// A span holds at least this many objects, so the big classes do not
/// fetch a span from the page source for every other allocation.
inline constexpr uint32_t kHeapMinSpanObjects = 8;
/// Bytes of objects a per-CPU cache keeps per class (before clamping).
inline constexpr uint32_t kHeapCacheBytes = 16 * 1024;

constexpr HeapClass make_heap_class(uint32_t size) {
  HeapClass c{};
  c.size = size;
  // Smallest power-of-two span with >= kHeapMinSpanObjects objects and a
  // tail (bytes no object fits in) of at most 1/8 of the span.
  for (uint32_t pages = 1; pages <= kHeapMaxSpanPages; pages *= 2) {
    uint32_t bytes = pages * static_cast<uint32_t>(base::kPageSize);
    uint32_t n = bytes / size;
    if (n >= kHeapMinSpanObjects && (bytes - n * size) * 8 <= bytes) {
      c.span_pages = pages;
      c.objects = n;
      break;
    }
  }
  // Go's divMagic: exact for offset * size < 2^32 (checked below).
  c.div_magic = 0xFFFF'FFFFu / size + 1;
  c.align = size & (~size + 1);
  uint32_t cap = kHeapCacheBytes / size;
  cap = cap > kHeapCacheMaxSlots ? kHeapCacheMaxSlots : (cap < 4 ? 4 : cap);
  c.cache_cap = cap & ~1u;  // even, so a refill or drain is exactly half
  return c;
}

struct HeapClassTable {
  HeapClass c[kHeapNumClasses];
};

constexpr HeapClassTable make_heap_class_table() {
  HeapClassTable t{};
  for (unsigned i = 0; i < kHeapNumClasses; ++i) t.c[i] = make_heap_class(kHeapClassSizes[i]);
  return t;
}

// One lookup table indexed by (size + 7) / 8: 513 bytes, so the fast path
// has no second branch (Go splits it at 1024 to save memory).
inline constexpr size_t kHeapClassLookupLen = kHeapMaxSmallSize / 8 + 1;

struct HeapClassLookup {
  uint8_t cls[kHeapClassLookupLen];
};

constexpr HeapClassLookup make_heap_class_lookup() {
  HeapClassLookup l{};
  uint8_t cls = 0;
  for (size_t i = 0; i < kHeapClassLookupLen; ++i) {
    while (kHeapClassSizes[cls] < i * 8) ++cls;
    l.cls[i] = cls;
  }
  return l;
}

inline constexpr HeapClassTable kHeapClassTable = make_heap_class_table();
inline constexpr HeapClassLookup kHeapClassLookup = make_heap_class_lookup();

constexpr bool heap_class_table_ok() {
  for (unsigned i = 0; i < kHeapNumClasses; ++i) {
    const HeapClass& c = kHeapClassTable.c[i];
    uint64_t bytes = uint64_t{c.span_pages} * base::kPageSize;
    if (i > 0 && c.size <= kHeapClassTable.c[i - 1].size) return false;  // increasing
    if (c.size % 8 != 0 || (c.size >= 16 && c.size % 16 != 0)) return false;
    if (c.span_pages == 0 || !base::is_pow2(c.span_pages)) return false;
    if (c.objects < kHeapMinSpanObjects || c.objects > kHeapMaxSpanObjects) return false;
    if ((bytes - uint64_t{c.objects} * c.size) * 8 > bytes) return false;  // tail <= 12.5%
    // The magic division is exact for every offset < bytes when
    // bytes * size <= 2^32 (the rounding error stays below 1/size).
    if (bytes * c.size > (uint64_t{1} << 32)) return false;
    if (c.align < 8 || (c.size >= 16 && c.align < 16) || c.size % c.align != 0) return false;
    if (c.cache_cap < 2 || c.cache_cap % 2 != 0 || c.cache_cap > kHeapCacheMaxSlots) return false;
  }
  return true;
}

}  // namespace internal

static_assert(internal::kHeapClassSizes[kHeapNumClasses - 1] == kHeapMaxSmallSize);
static_assert(internal::heap_class_table_ok(), "heap size class table violates its rules");

/// The class table entry for `cls` < kHeapNumClasses.
constexpr const HeapClass& heap_class(unsigned cls) { return internal::kHeapClassTable.c[cls]; }

/// The smallest class holding `size` bytes, for size <= kHeapMaxSmallSize
/// (size 0 maps to the 8-byte class). O(1): one table load.
constexpr unsigned size_to_class(size_t size) { return internal::kHeapClassLookup.cls[(size + 7) >> 3]; }

static_assert(size_to_class(0) == 0 && size_to_class(8) == 0 && size_to_class(9) == 1);
static_assert(size_to_class(1024) == 17 && size_to_class(1025) == 18);
static_assert(size_to_class(kHeapMaxSmallSize) == kHeapNumClasses - 1);
static_assert(heap_class(0).align == 8 && heap_class(3).align == 16 && heap_class(23).align == 4096);

}  // namespace mm
