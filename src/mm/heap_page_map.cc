// The heap's page -> span radix map: node allocation, range updates and
// teardown (lookup is inline in the header).
#include "src/mm/heap_page_map.h"

namespace mm {

using base::MemoryOrder;

base::Result<HeapPageMap::Node*> HeapPageMap::new_node(void* fill) {
  base::Result<uintptr_t> r = source_->alloc_pages(kNodePages);
  if (!r.ok()) return r.error();
  // The page source does not zero; a node is only published after this.
  Node* n = reinterpret_cast<Node*>(r.value());
  for (auto& s : n->slot) s.store(fill, MemoryOrder::kRelaxed);
  node_pages_ += kNodePages;
  return n;
}

base::Status HeapPageMap::init(const HeapPageSource* source, HeapSpan* none) {
  source_ = source;
  none_ = none;
  node_pages_ = 0;
  base::Result<Node*> leaf = new_node(none);
  if (!leaf.ok()) return leaf.error();
  base::Result<Node*> mid = new_node(leaf.value());
  base::Result<Node*> root = mid.ok() ? new_node(mid.value()) : mid;
  if (!root.ok()) {
    if (mid.ok()) source_->free_pages(reinterpret_cast<uintptr_t>(mid.value()), kNodePages);
    source_->free_pages(reinterpret_cast<uintptr_t>(leaf.value()), kNodePages);
    node_pages_ = 0;
    return root.error();
  }
  empty_leaf_ = leaf.value();
  empty_mid_ = mid.value();
  root_ = root.value();
  return base::Status::Ok();
}

void HeapPageMap::destroy() {
  if (root_ == nullptr) return;
  auto free_node = [this](Node* n) { source_->free_pages(reinterpret_cast<uintptr_t>(n), kNodePages); };
  for (auto& rs : root_->slot) {
    Node* mid = static_cast<Node*>(rs.load(MemoryOrder::kRelaxed));
    if (mid == empty_mid_) continue;
    for (auto& ms : mid->slot) {
      Node* leaf = static_cast<Node*>(ms.load(MemoryOrder::kRelaxed));
      if (leaf != empty_leaf_) free_node(leaf);
    }
    free_node(mid);
  }
  free_node(root_);
  free_node(empty_mid_);
  free_node(empty_leaf_);
  root_ = empty_mid_ = empty_leaf_ = nullptr;
  node_pages_ = 0;
}

base::Result<HeapPageMap::Node*> HeapPageMap::ensure_leaf(uint64_t key) {
  base::Atomic<void*>& rs = root_->slot[key >> (2 * kLevelBits)];
  Node* mid = static_cast<Node*>(rs.load(MemoryOrder::kRelaxed));
  if (mid == empty_mid_) {
    base::Result<Node*> r = new_node(empty_leaf_);
    if (!r.ok()) return r.error();
    mid = r.value();
    // Release: lock-free lookups must see the filled slots (see lookup_in()).
    rs.store(mid, MemoryOrder::kRelease);
  }
  base::Atomic<void*>& ms = mid->slot[(key >> kLevelBits) & (kFanout - 1)];
  Node* leaf = static_cast<Node*>(ms.load(MemoryOrder::kRelaxed));
  if (leaf == empty_leaf_) {
    base::Result<Node*> r = new_node(none_);
    if (!r.ok()) return r.error();
    leaf = r.value();
    ms.store(leaf, MemoryOrder::kRelease);
  }
  return leaf;
}

HeapPageMap::Node* HeapPageMap::leaf_of(uint64_t key) const {
  Node* mid = static_cast<Node*>(root_->slot[key >> (2 * kLevelBits)].load(MemoryOrder::kRelaxed));
  Node* leaf = static_cast<Node*>(mid->slot[(key >> kLevelBits) & (kFanout - 1)].load(MemoryOrder::kRelaxed));
  return leaf == empty_leaf_ ? nullptr : leaf;
}

base::Status HeapPageMap::set(uintptr_t base, size_t pages, HeapSpan* span) {
  uint64_t first = (base >> base::kPageShift) & kKeyMask;
  // Pass 1: make every leaf the range touches exist (one check per leaf).
  for (uint64_t key = first; key < first + pages; key = (key | (kFanout - 1)) + 1) {
    base::Result<Node*> r = ensure_leaf(key);
    if (!r.ok()) return r.error();
  }
  // Pass 2 cannot fail. Release publishes the span record's fields to
  // lock-free lookups (they are also ordered by the heap's locks).
  Node* leaf = nullptr;
  for (uint64_t key = first; key < first + pages; ++key) {
    if (leaf == nullptr || (key & (kFanout - 1)) == 0) leaf = leaf_of(key);
    leaf->slot[key & (kFanout - 1)].store(span, MemoryOrder::kRelease);
  }
  return base::Status::Ok();
}

void HeapPageMap::clear_if(uintptr_t base, size_t pages, const HeapSpan* span) {
  uint64_t first = (base >> base::kPageShift) & kKeyMask;
  for (uint64_t key = first; key < first + pages; ++key) {
    Node* leaf = leaf_of(key);
    if (leaf == nullptr) continue;
    base::Atomic<void*>& s = leaf->slot[key & (kFanout - 1)];
    if (s.load(MemoryOrder::kRelaxed) == span) s.store(none_, MemoryOrder::kRelaxed);
  }
}

}  // namespace mm
