// Page -> span lookup for the kernel heap (kfree's first step): a
// three-level radix tree keyed by the 36-bit page number of a 48-bit
// address. Missing subtrees point at shared empty nodes instead of null, so
// a lookup is exactly three dependent loads: no branch, no lock. Nodes
// (32 KiB each) come lazily from the heap's page source.
#pragma once

#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/heap_page_source.h"

namespace mm {

struct HeapSpan;

/// Maps every page of every span the heap holds to the span's record, and
/// every other page to the `none` record given to init().
///
/// Keys are address bits 47..12; bits above are ignored, so a
/// non-canonical or (with LA57) 57-bit address aliases a 48-bit one. That
/// is harmless here because every user of a hit checks that the address
/// lies inside the span it found.
///
/// lookup() is lock-free and callable from any context that may touch the
/// heap; everything else needs the caller's heap lock.
class HeapPageMap {
 public:
  static constexpr unsigned kLevelBits = 12;
  static constexpr size_t kFanout = size_t{1} << kLevelBits;
  static constexpr size_t kNodePages = kFanout * sizeof(void*) / base::kPageSize;
  static constexpr unsigned kKeyBits = 3 * kLevelBits;  // 48 - 12
  static constexpr uint64_t kKeyMask = (uint64_t{1} << kKeyBits) - 1;

  struct Node {
    base::Atomic<void*> slot[kFanout];
  };
  static_assert(sizeof(Node) == kNodePages * base::kPageSize);

  /// Allocates the root and the two shared empty nodes (96 KiB). Unmapped
  /// pages will look up as `none`. kOutOfMemory if the source has no pages.
  base::Status init(const HeapPageSource* source, HeapSpan* none);
  /// Returns every node to the page source.
  void destroy();

  /// The root, for a caller that keeps a copy to save a load per lookup:
  /// it never changes between init() and destroy().
  const Node* root() const { return root_; }

  /// The record for the page holding `addr` (`none` if unmapped).
  static HeapSpan* lookup_in(const Node* root, uintptr_t addr) {
    uint64_t key = (addr >> base::kPageShift) & kKeyMask;
    // Acquire pairs with the release in set()/ensure_leaf(): a node's
    // initialized slots are visible before the pointer to it (and on x86
    // these are plain loads).
    auto* mid = static_cast<const Node*>(root->slot[key >> (2 * kLevelBits)].load(base::MemoryOrder::kAcquire));
    auto* leaf =
        static_cast<const Node*>(mid->slot[(key >> kLevelBits) & (kFanout - 1)].load(base::MemoryOrder::kAcquire));
    return static_cast<HeapSpan*>(leaf->slot[key & (kFanout - 1)].load(base::MemoryOrder::kAcquire));
  }
  HeapSpan* lookup(uintptr_t addr) const { return lookup_in(root_, addr); }

  /// Records `span` for `pages` pages from `base` (page aligned). Allocates
  /// missing nodes first, so on kOutOfMemory no entry has changed.
  base::Status set(uintptr_t base, size_t pages, HeapSpan* span);
  /// Resets to `none` the entries of the range that still point at `span`
  /// (another span may have taken some of those pages over since).
  void clear_if(uintptr_t base, size_t pages, const HeapSpan* span);

  /// Pages of nodes held from the page source.
  uint64_t node_pages() const { return node_pages_; }

 private:
  base::Result<Node*> new_node(void* fill);
  /// The leaf for `key`, allocating it (and its parent) if missing.
  base::Result<Node*> ensure_leaf(uint64_t key);
  /// The leaf for `key`, or nullptr if it is the shared empty one.
  Node* leaf_of(uint64_t key) const;

  Node* root_ = nullptr;
  Node* empty_mid_ = nullptr;   // Every slot: empty_leaf_.
  Node* empty_leaf_ = nullptr;  // Every slot: none_.
  HeapSpan* none_ = nullptr;
  const HeapPageSource* source_ = nullptr;
  uint64_t node_pages_ = 0;
};

}  // namespace mm
