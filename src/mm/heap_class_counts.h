// One counter per heap size class: the unit in which the heap charges
// allocations to an account and rt makes, holds and compares reservations
// (rt::Objs is this type). Any context.
#pragma once

#include "src/base/types.h"
#include "src/mm/heap_size_classes.h"

namespace mm {

/// Counters of heap objects, one per size class. 32-byte aligned so that
/// AVX2 loads whole 8-counter rows and SSE2 4-counter rows, never split
/// across a cache line.
struct alignas(32) HeapClassCounts {
  uint32_t n[kHeapNumClasses];

  constexpr uint32_t& operator[](size_t i) { return n[i]; }
  constexpr uint32_t operator[](size_t i) const { return n[i]; }
  bool operator==(const HeapClassCounts&) const = default;
};
static_assert(sizeof(HeapClassCounts) == kHeapNumClasses * sizeof(uint32_t), "no padding: vector code covers it all");
static_assert(alignof(HeapClassCounts) == 32, "AVX2 rows are 32 bytes");

/// An account's per-class counters (see heap_charge.h), laid out together
/// so vector code can start or settle one in a pass (rt's ObjsAccount).
struct HeapAccountCounts {
  HeapClassCounts limit{};  ///< Objects the holder may have allocated, per class.
  HeapClassCounts used{};   ///< Allocated minus freed under this account.
  HeapClassCounts peak{};   ///< Highest `used` since the account started.
};

/// Bytes of `counts` objects of each class (each at its class size).
inline uint64_t class_counts_bytes(const HeapClassCounts& counts) {
  uint64_t bytes = 0;
  for (unsigned c = 0; c < kHeapNumClasses; ++c) bytes += uint64_t{counts[c]} * heap_class(c).size;
  return bytes;
}

}  // namespace mm
