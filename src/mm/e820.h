// Boot memory map sanitizer: turns the firmware's raw e820 list (unsorted,
// overlapping, unaligned) into sorted typed ranges, then into the page-aligned
// usable ranges the page allocator may own. Runs before any allocator exists.
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"

namespace mm {

/// Address range types, [acpi] 15 (table "Address Range Types"). Any other
/// raw value (0, 6 and up: persistent memory, vendor types...) is treated as
/// kReserved: memory we do not understand must never reach the allocator.
enum class E820Type : uint32_t {
  kUsable = 1,
  kReserved = 2,
  kAcpiReclaimable = 3,
  kAcpiNvs = 4,
  kBadMemory = 5,
};

/// One raw entry as the firmware/bootloader reports it (multiboot2 mmap tag,
/// [mb2] 3.6.8). `type` is kept raw so unknown values survive until sanitize.
struct E820Entry {
  uint64_t base;
  uint64_t length;
  uint32_t type;
};

/// A half-open typed physical range [start, end). Physical addresses, like
/// PhysRange's: the sanitized map is where every later physical range comes
/// from, so a raw integer or a virtual address must not slip in here.
struct MemRange {
  base::PhysAddr start;
  base::PhysAddr end;
  // Initialized (PhysAddr is) so that a constinit BootMemoryMap stays a
  // constant; reserved is the safe reading of a range nobody described.
  E820Type type = E820Type::kReserved;

  constexpr uint64_t size() const { return end - start; }
};

/// A half-open untyped physical range [start, end): carve-outs and the
/// final usable ranges, which reach the page allocator and the direct map.
/// Physical addresses, so that a virtual one (the kernel image's link
/// address, a direct-map pointer) cannot be carved out by mistake.
struct PhysRange {
  base::PhysAddr start;
  base::PhysAddr end;

  constexpr uint64_t size() const { return end - start; }
};

/// Scratch element for the boundary sweep; callers only provide storage.
struct E820Boundary {
  uint64_t addr;
  uint8_t rank;
  bool opens;
};

/// Raw entries whose end lies beyond 2^64 are clipped to end here (see
/// e820.cc for why); so is the end of a carve-out.
inline constexpr uint64_t kPhysAddrEnd = ~uint64_t{0};

/// Resolves `raw` into a sorted list of non-overlapping, non-empty ranges in
/// `out`: where entries overlap the more restrictive type wins (bad > NVS >
/// reserved/unknown > ACPI reclaimable > usable), adjacent ranges of one
/// type are merged, zero-length entries dropped, wrapping entries clipped.
/// `scratch` needs two elements per non-empty entry. Returns the number of
/// ranges written, or kOutOfRange if `scratch` or `out` is too small (the
/// contents of `out` are then meaningless: nothing is silently dropped).
/// O(n log n) in the number of entries.
base::Result<size_t> sanitize_e820(base::Span<const E820Entry> raw, base::Span<E820Boundary> scratch,
                                   base::Span<MemRange> out);

/// Writes to `out`, sorted, the usable ranges of the sanitized `map` shrunk
/// inward to 4 KiB boundaries with every carve-out removed. Each carve-out
/// is widened outward to whole pages (a partly used page is not free) and
/// may split a range; carve-outs may overlap and come in any order; empty
/// ones are ignored. Returns the number of ranges written, kInvalidArgument
/// if a carve-out has start > end, or kOutOfRange if `out` is too small.
base::Result<size_t> usable_pages(base::Span<const MemRange> map, base::Span<const PhysRange> carve_outs,
                                  base::Span<PhysRange> out);

/// Total bytes of ranges of `type` in a sanitized map.
uint64_t total_bytes(base::Span<const MemRange> map, E820Type type);

/// Total bytes of `ranges`.
uint64_t total_bytes(base::Span<const PhysRange> ranges);

/// The end of the highest usable range in a sanitized map, 0 if none.
/// This, not the map's highest address, bounds what the allocator must
/// describe: QEMU reserves a range near 1 TiB even on a 32 MiB machine.
base::PhysAddr usable_end(base::Span<const MemRange> map);

/// The end of the last of sorted `ranges`, 0 if there are none.
base::PhysAddr usable_end(base::Span<const PhysRange> ranges);

/// The boot memory map with its storage: up to kMaxEntries raw entries and
/// kMaxRanges output ranges of each kind. Large (about 48 bytes per entry
/// and range): make it a static, not a stack variable, in the kernel.
template <size_t kMaxEntries, size_t kMaxRanges>
class BootMemoryMap {
 public:
  /// Sanitizes `raw`, then computes the usable page ranges minus `carve_outs`
  /// (the kernel image, boot information, modules, the AP trampoline page,
  /// the first 1 MiB...). On error the map is left empty.
  base::Status init(base::Span<const E820Entry> raw, base::Span<const PhysRange> carve_outs) {
    map_size_ = 0;
    usable_size_ = 0;
    auto map = sanitize_e820(raw, base::Span<E820Boundary>(scratch_), base::Span<MemRange>(map_));
    if (!map.ok()) return map.error();
    auto usable =
        usable_pages(base::Span<const MemRange>(map_, map.value()), carve_outs, base::Span<PhysRange>(usable_));
    if (!usable.ok()) return usable.error();
    map_size_ = map.value();
    usable_size_ = usable.value();
    return base::Status::Ok();
  }

  /// The sanitized map, every type, sorted.
  base::Span<const MemRange> map() const { return {map_, map_size_}; }
  /// The page-aligned usable ranges after carving, sorted; iterate with
  /// range-for.
  base::Span<const PhysRange> usable() const { return {usable_, usable_size_}; }
  /// Type-1 bytes after sanitizing, before page-shrinking and carving.
  uint64_t usable_bytes_sanitized() const { return total_bytes(map(), E820Type::kUsable); }
  /// Bytes the page allocator may own: after shrinking and carving.
  uint64_t usable_bytes() const { return total_bytes(usable()); }
  /// End of the highest usable page (0 if none); not the map's top.
  base::PhysAddr highest_usable_end() const { return usable_end(usable()); }

 private:
  E820Boundary scratch_[2 * kMaxEntries];
  MemRange map_[kMaxRanges];
  PhysRange usable_[kMaxRanges];
  size_t map_size_ = 0;
  size_t usable_size_ = 0;
};

}  // namespace mm
