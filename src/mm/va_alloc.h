// Kernel virtual-address range allocator: hands out page-aligned ranges of a
// fixed window (kernel thread stacks with guard pages, large heap objects)
// from power-of-two size classes. Pure logic over a page-source callback.
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace mm {

/// Largest size-class order: 2^24 pages = 64 GiB. init() lowers it until
/// every class fits its share of the window (1 TiB gives orders 0..23).
inline constexpr unsigned kVaMaxOrder = 24;
inline constexpr unsigned kVaNumOrders = kVaMaxOrder + 1;

/// Slots per class are capped at 2^24 (the two-level bitmap's reach): the
/// part of a sub-window beyond that is never handed out. 2^24 slots of the
/// smallest class is 64 GiB, more than any sub-window of a 1 TiB window.
inline constexpr uint64_t kVaMaxSlotsPerClass = uint64_t{1} << 24;

/// Where the allocator gets its metadata pages (free-stack chunks, bitmap
/// pages). alloc_page returns the address of a writable 4 KiB page (the
/// kernel: a page from the page allocator, through the direct map) or an
/// error; its contents need not be zeroed. Both are called with the caller's
/// lock held, so they must not call back into this allocator.
struct VaPageSource {
  base::Result<base::VirtAddr> (*alloc_page)(void* ctx);
  void (*free_page)(void* ctx, base::VirtAddr page);
  void* ctx;
};

/// Counters of one size class.
struct VaClassStats {
  uint64_t class_bytes;  ///< Size of each range (page << order).
  uint64_t capacity;     ///< Slots the class's sub-window holds.
  uint64_t in_use;       ///< Ranges handed out and not freed.
  uint64_t free_slots;   ///< Freed ranges waiting on the free stack.
  uint64_t high_water;   ///< Slots ever carved from the sub-window (the bump pointer).
  uint64_t orphaned;     ///< Freed slots not reusable until trim() (page source failed).
};

/// Totals over all classes.
struct VaStats {
  unsigned num_classes;     ///< Orders 0..num_classes-1.
  uint64_t in_use;          ///< Ranges handed out.
  uint64_t bytes_reserved;  ///< Sum of their class sizes.
  uint64_t metadata_pages;  ///< Pages currently held from the page source.
};

/// Segregated power-of-two allocator. The window [base, base+size) is cut
/// into num_classes equal sub-windows (the last also takes the rounding
/// remainder), sub-window k holding ranges of page << k bytes. Each class
/// carves new slots with a bump pointer and
/// reuses freed ones LIFO from a free stack kept in chunk pages; a bitmap
/// of in-use slots (allocated lazily, two levels of pages) makes every free
/// checkable exactly. alloc() and free() are O(1). Metadata is 4 bytes per
/// free slot plus 1 bit per slot below the high-water mark, never
/// proportional to the window.
///
/// Every returned range is aligned to its class size (slot 0 of each class
/// is aligned up to it), so e.g. a 2 MiB object can use a 2 MiB mapping.
///
/// Not thread-safe and takes no lock: the caller serializes every call (the
/// kernel wraps it in a spinlock). alloc(), free() and trim() may call the
/// page source, so they run in thread context or wherever the page source
/// may be called under that lock; never from NMI. The other members only
/// read and may be called from any context that holds the lock.
///
/// Errors never panic: they return an Error and set last_error() to a
/// static message. A corrupted free stack (a popped slot already in use)
/// is a broken invariant and panics.
class VaAllocator {
 public:
  /// Manages [base, base+size): both page aligned, size > 0, not wrapping
  /// past 2^64 (ending exactly at 2^64 is fine). Uses orders up to
  /// max_order, lowered until the largest class's sub-window holds at
  /// least one aligned slot. Call once, on a fresh allocator. Takes no
  /// pages. kInvalidArgument on a bad window, page source or max_order.
  base::Status init(base::VirtAddr base, uint64_t size, const VaPageSource& source, unsigned max_order = kVaMaxOrder);

  /// A range of class_bytes(bytes) bytes, aligned to that size. O(1).
  /// kInvalidArgument if bytes is 0 or above the largest class;
  /// kOutOfMemory if the class's sub-window is used up with no freed slot,
  /// or a bitmap page was needed and the page source failed (nothing
  /// changes then).
  base::Result<base::VirtAddr> alloc(uint64_t bytes);

  /// Returns a range from alloc(bytes) (any `bytes` of the same class).
  /// O(1). kInvalidArgument, changing nothing, if `va` is outside the
  /// window, not the start of a slot, in a sub-window whose class is not
  /// class_bytes(bytes), never handed out, or already free.
  /// Never fails for lack of memory: if the free stack needs a chunk page
  /// and the page source fails, the slot is marked free but orphaned (not
  /// reused; still caught on a second free) until trim().
  base::Status free(base::VirtAddr va, uint64_t bytes);

  /// The size alloc(bytes) hands out: bytes rounded up to page << order.
  /// kInvalidArgument for 0 or above the largest class.
  base::Result<uint64_t> class_bytes(uint64_t bytes) const;

  /// Gives back to the page source every metadata page it can: for each
  /// class with nothing in use, its free stack and bitmap (its bump pointer
  /// restarts at 0, reclaiming orphans), and the spare chunk. Cost is
  /// O(num_classes * 512 + pages released), so not for hot paths: call it
  /// on memory pressure or at teardown.
  void trim();

  /// Counters of class `order` (all zero past num_classes). O(1).
  VaClassStats class_stats(unsigned order) const;
  /// Totals. O(num_classes).
  VaStats stats() const;

  base::VirtAddr base() const { return base::VirtAddr(base_); }
  uint64_t size() const { return size_; }
  unsigned num_classes() const { return num_classes_; }

  /// The message of the last failed call (static storage), or nullptr.
  const char* last_error() const { return last_error_; }

 private:
  struct Chunk;  // A page of free-slot indices; see va_alloc.cc.

  struct SizeClass {
    uint64_t start = 0;     // VA of slot 0, aligned to the class size.
    uint64_t capacity = 0;  // Slots in the sub-window (<= kVaMaxSlotsPerClass).
    uint64_t bump = 0;      // Slots [0, bump) were handed out at least once.
    uint64_t in_use = 0;
    uint64_t free_slots = 0;
    uint64_t orphaned = 0;
    Chunk* stack = nullptr;       // Top chunk of the free stack; chunks are never empty.
    uint64_t** bitmap = nullptr;  // Root page: leaf pointers; non-null iff bump > 0.
  };

  base::Result<unsigned> order_of(uint64_t bytes) const;
  base::Result<uintptr_t> get_page();
  void put_page(void* page);
  bool push_free(SizeClass& c, uint64_t slot);
  uint64_t pop_free(SizeClass& c);
  base::Status ensure_leaf(SizeClass& c, uint64_t slot);
  static uint64_t& bit_word(const SizeClass& c, uint64_t slot);

  uint64_t base_ = 0;
  uint64_t size_ = 0;
  uint64_t sub_bytes_ = 0;  // Bytes per sub-window; the last one also takes the remainder.
  unsigned num_classes_ = 0;
  VaPageSource source_{};
  SizeClass classes_[kVaNumOrders];
  Chunk* spare_ = nullptr;  // One empty chunk kept so a stack at a chunk boundary does not thrash.
  uint64_t metadata_pages_ = 0;
  const char* last_error_ = nullptr;
};

}  // namespace mm
