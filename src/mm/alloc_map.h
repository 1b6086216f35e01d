// Kernel mappings in the VA window and the fixmap: map fresh pages
// (alloc_map), map given frames (map_range), unmap (freeing the frames the
// mapping owned), change permissions — each with the TLB shootdown it
// needs, batched. The VA allocator hands out the ranges. Kernel only.
// Thread context (they allocate and shoot down); never with a spinlock held.
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/tlb_ranges.h"

namespace mm {

/// Permissions of a kernel mapping. Kernel mappings are always global and
/// never user-accessible; without kExec they are NX (when the CPU has NX).
enum MapPerm : uint32_t {
  kPermRead = 0,
  kPermWrite = 1u << 0,
  kPermExec = 1u << 1,
};

/// Collects the invalidations and the frames to free of several unmaps, so
/// that they cost one shootdown. Frames are freed only after the shootdown
/// (another CPU may still write through a stale entry until then).
class UnmapBatch {
 public:
  UnmapBatch() = default;
  UnmapBatch(const UnmapBatch&) = delete;
  UnmapBatch& operator=(const UnmapBatch&) = delete;
  ~UnmapBatch();

  /// Shoots down what was collected and frees the frames.
  void flush();

  // For unmap_range, which flushes (with the page-table lock released) when
  // frames_full().
  void add_range(uint64_t va, uint64_t pages) { ranges_.add(va, pages); }
  void add_frame(uint64_t pa);
  bool frames_full() const { return num_frames_ == kMaxFrames; }
  uint64_t frames_room() const { return kMaxFrames - num_frames_; }

 private:
  static constexpr uint32_t kMaxFrames = 64;
  TlbRanges ranges_;
  uint64_t frames_[kMaxFrames];  // [0, num_frames_) valid: not zeroed, a batch is built on every unmap
  uint32_t num_frames_ = 0;
};

/// Maps a fresh zeroed page at `va` (page-aligned). The mapping owns it:
/// unmap_range frees it. Errors: kInvalidArgument (misaligned), kOutOfRange
/// (outside the VA window and fixmap), kAlreadyExists (mapped), kOutOfMemory.
base::Status alloc_map(uint64_t va, uint32_t perms);

/// alloc_map for every page of [va, va + bytes). All or nothing: on an
/// error the pages mapped so far are unmapped and freed again.
base::Status alloc_map_range(uint64_t va, uint64_t bytes, uint32_t perms);

/// Maps [va, va + bytes) to the frames at `pa` (not owned: unmap_range
/// leaves them alone). All or nothing, errors as alloc_map.
base::Status map_range(uint64_t va, uint64_t pa, uint64_t bytes, uint32_t perms);

/// Unmaps every page of [va, va + bytes); frames the mapping owned are
/// freed once no CPU can still reach them. kNotFound (and nothing changed)
/// if any page of the range is unmapped; kInvalidArgument / kOutOfRange as
/// above. With `batch`, the shootdown is left to batch->flush().
base::Status unmap_range(uint64_t va, uint64_t bytes, UnmapBatch* batch = nullptr);

/// Sets the permissions of every page of [va, va + bytes) (all mapped, else
/// kNotFound and nothing changed), then shoots down the old entries.
base::Status protect_range(uint64_t va, uint64_t bytes, uint32_t perms);

/// The physical address `va` maps to (any kernel address), or kNotFound.
base::Result<uint64_t> kernel_translate(uint64_t va);

}  // namespace mm
