// Kernel virtual-address space allocator: hands out page-aligned ranges of
// a fixed window (thread stacks with their guard pages, large heap objects)
// in O(1), never scanning page tables or a list of ranges. Pure logic; the
// kernel wraps it in a lock (kva.h), host tests run it directly.
//
// Design: segregated power-of-two size classes. Class k holds ranges of 2^k
// pages in its own equal share of the window; it allocates by a bump
// pointer and reuses freed slots from a free stack. Rounding up wastes only
// virtual addresses (callers map just what they use). The free stack lives
// in "chunk" pages from a page source, so metadata grows with the number of
// free slots, never with the window. Exact double-free detection uses one
// bit per slot, in bitmap pages allocated on first use.
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"

namespace mm {

/// Writable, page-aligned pages for metadata (the kernel: the page
/// allocator through the direct map; tests: the host heap).
struct KvaPageSource {
  base::Result<uint64_t> (*alloc_page)(void* ctx);  ///< Address of a zeroed page.
  void (*free_page)(void* ctx, uint64_t page);
  void* ctx;
};

struct KvaClassStats {
  uint64_t in_use;      ///< Ranges handed out.
  uint64_t free_slots;  ///< Freed ranges waiting for reuse.
  uint64_t high_water;  ///< Slots ever bumped.
};

class KvaSpace {
 public:
  static constexpr unsigned kClasses = 24;  ///< 4 KiB .. 32 GiB

  /// The window [base, base + bytes): page-aligned, and bytes must give
  /// every class at least one slot of the largest size
  /// (bytes >= kClasses << (kClasses - 1 + 12)) — or be smaller, in which
  /// case the classes that do not fit are unavailable. kInvalidArgument on
  /// a misaligned window.
  base::Status init(uint64_t base, uint64_t bytes, KvaPageSource pages);

  /// A range of at least `bytes` (rounded up to 2^k pages), aligned to a
  /// page. kInvalidArgument for 0 or more than the largest class;
  /// kOutOfMemory if the class is exhausted or metadata cannot be had.
  base::Result<uint64_t> alloc(uint64_t bytes);

  /// Returns a range from alloc(bytes) (the same `bytes`, or any size of
  /// the same class). kInvalidArgument, with nothing changed, for an
  /// address outside the window, not the start of a slot of the class
  /// `bytes` selects, never handed out, or already free (double free);
  /// kOutOfMemory if the free stack needs a chunk and none can be had.
  base::Status free(uint64_t va, uint64_t bytes);

  /// The size alloc(bytes) really reserves (0 if it would fail).
  static uint64_t class_bytes(uint64_t bytes);

  KvaClassStats stats(unsigned cls) const;
  /// Metadata pages held (chunks and bitmaps).
  uint64_t metadata_pages() const { return metadata_pages_; }
  /// Gives back every metadata page (the allocator is unusable afterwards).
  void destroy();

  const char* last_error() const { return last_error_; }

 private:
  // A page of free slot numbers, chained.
  struct Chunk {
    Chunk* next;
    uint64_t count;
    uint64_t slots[(base::kPageSize - 16) / 8];
  };
  static_assert(sizeof(Chunk) == base::kPageSize);
  static constexpr uint64_t kBitsPerPage = base::kPageSize * 8;
  static constexpr unsigned kMaxBitmapPages = 256;

  struct Class {
    uint64_t base = 0;       // first address of the class's share
    uint64_t slots = 0;      // slots that fit in the share
    uint64_t bumped = 0;     // slots handed out at least once
    uint64_t in_use = 0;
    uint64_t free_count = 0;
    Chunk* free = nullptr;   // top chunk of the free stack
    Chunk* spare = nullptr;  // one empty chunk kept against alloc/free churn
    uint64_t* bitmap[kMaxBitmapPages] = {};
  };

  static int class_of(uint64_t bytes);
  uint64_t* bitmap_word(Class& c, uint64_t slot, bool create);
  base::Status fail(base::Error e, const char* why) {
    last_error_ = why;
    return e;
  }
  base::Result<uint64_t> page();
  void unpage(void* p);

  Class classes_[kClasses];
  KvaPageSource pages_{};
  uint64_t base_ = 0, bytes_ = 0;
  uint64_t metadata_pages_ = 0;
  const char* last_error_ = nullptr;
};

}  // namespace mm
