// Kernel mappings in the VA window and the fixmap: map fresh pages
// (alloc_map), map given frames (map_range), unmap (freeing the frames the
// mapping owned), change permissions — each with the TLB shootdown it
// needs, batched. The VA allocator hands out the ranges. Kernel only.
// Thread context (they allocate and shoot down); never with a spinlock held.
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/mm/tlb_ranges.h"

namespace mm {

/// Permissions of a kernel mapping. Kernel mappings are always global and
/// never user-accessible; without kExec they are NX (when the CPU has NX).
/// Scoped, so a stray integer (a byte count, an address) is not taken for
/// one; combine with |.
enum class MapPerm : uint32_t {
  kRead = 0,
  kWrite = 1u << 0,
  kExec = 1u << 1,
};
inline constexpr MapPerm kPermRead = MapPerm::kRead;
inline constexpr MapPerm kPermWrite = MapPerm::kWrite;
inline constexpr MapPerm kPermExec = MapPerm::kExec;

constexpr MapPerm operator|(MapPerm a, MapPerm b) {
  return static_cast<MapPerm>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}
/// Whether `set` includes every permission of `p`.
constexpr bool has_perm(MapPerm set, MapPerm p) {
  return (static_cast<uint32_t>(set) & static_cast<uint32_t>(p)) == static_cast<uint32_t>(p);
}

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
  void add_range(base::VirtAddr va, uint64_t pages) { ranges_.add(va, pages); }
  void add_frame(base::PhysAddr pa);
  bool frames_full() const { return num_frames_ == kMaxFrames; }
  uint64_t frames_room() const { return kMaxFrames - num_frames_; }

 private:
  static constexpr uint32_t kMaxFrames = 64;
  TlbRanges ranges_;
  // [0, num_frames_) valid: not zeroed, a batch is built on every unmap.
  // Raw values, as a base::PhysAddr array would be zeroed on construction.
  uint64_t frames_[kMaxFrames];
  uint32_t num_frames_ = 0;
};

/// Maps a fresh zeroed page at `va` (page-aligned). The mapping owns it:
/// unmap_range frees it. Errors: kInvalidArgument (misaligned), kOutOfRange
/// (outside the VA window and fixmap), kAlreadyExists (mapped), kOutOfMemory.
base::Status alloc_map(base::VirtAddr va, MapPerm perms);

/// alloc_map for every page of [va, va + bytes). All or nothing: on an
/// error the pages mapped so far are unmapped and freed again.
base::Status alloc_map_range(base::VirtAddr va, uint64_t bytes, MapPerm perms);

/// Maps [va, va + bytes) to the frames at `pa` onward (not owned:
/// unmap_range leaves them alone). Any page-aligned `pa` the entries can
/// hold, frame 0 included: fresh frames are alloc_map_range's, not a
/// special `pa`. All or nothing, errors as alloc_map.
base::Status map_range(base::VirtAddr va, base::PhysAddr pa, uint64_t bytes, MapPerm perms);

/// Unmaps every page of [va, va + bytes); frames the mapping owned are
/// freed once no CPU can still reach them. kNotFound (and nothing changed)
/// if any page of the range is unmapped; kInvalidArgument / kOutOfRange as
/// above. With `batch`, the shootdown is left to batch->flush().
base::Status unmap_range(base::VirtAddr va, uint64_t bytes, UnmapBatch* batch = nullptr);

/// Sets the permissions of every page of [va, va + bytes) (all mapped, else
/// kNotFound and nothing changed), then shoots down the old entries.
base::Status protect_range(base::VirtAddr va, uint64_t bytes, MapPerm perms);

/// The physical address `va` maps to (any kernel address), or kNotFound.
base::Result<base::PhysAddr> kernel_translate(base::VirtAddr va);

}  // namespace mm
