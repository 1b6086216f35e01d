// The kernel's virtual layout and the direct map: all RAM mapped at one
// fixed offset, so any physical page is reachable by an addition. The plan
// (which large pages to map) is pure logic, host-tested; kernel_vm builds it.
#pragma once

#include "src/arch/kernel_layout.h"
#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"
#include "src/mm/e820.h"

namespace mm {

// Kernel half of the 48-bit address space ([sdm3] 4.5: canonical addresses
// from 0xffff'8000'0000'0000). Each region is PML4-aligned (512 GiB) so
// that regions never share a top-level table entry.
/// Direct map: physical address p at kDirectMapBase + p, up to 64 TiB.
inline constexpr uint64_t kDirectMapBase = 0xffff'8000'0000'0000;
inline constexpr uint64_t kDirectMapMaxBytes = uint64_t{64} << 40;
/// The kernel VA allocator's window: thread stacks, large heap objects.
inline constexpr uint64_t kVaWindowBase = 0xffff'c000'0000'0000;
inline constexpr uint64_t kVaWindowBytes = uint64_t{1} << 40;
/// Device registers and firmware tables outside the direct map, mapped
/// once and kept (a bump allocator: devices do not go away).
inline constexpr uint64_t kFixmapBase = 0xffff'fe00'0000'0000;
inline constexpr uint64_t kFixmapBytes = uint64_t{1} << 30;
/// The kernel image (-mcmodel=kernel: the top 2 GiB), where arch links it.
inline constexpr uint64_t kKernelImageBase = arch::kKernelVma;

static_assert(kDirectMapBase + kDirectMapMaxBytes <= kVaWindowBase);
static_assert(kVaWindowBase + kVaWindowBytes <= kFixmapBase);
static_assert(kFixmapBase + kFixmapBytes <= kKernelImageBase);

/// The direct-map address of physical `pa`. Valid only for RAM the direct
/// map covers (see plan_direct_map) once kernel_vm is up.
inline void* phys_to_virt(base::PhysAddr pa) { return reinterpret_cast<void*>(kDirectMapBase + pa.value()); }

/// The physical address behind direct-map address `va`.
inline base::PhysAddr direct_virt_to_phys(const void* va) {
  return base::PhysAddr(reinterpret_cast<uint64_t>(va) - kDirectMapBase);
}

/// True for the e820 types the direct map covers: memory that is RAM, even
/// if firmware still uses it (ACPI tables and NVS). Reserved ranges are
/// device holes or ROM and must not get write-back cacheable aliases.
constexpr bool is_ram_type(E820Type t) {
  return t == E820Type::kUsable || t == E820Type::kAcpiReclaimable || t == E820Type::kAcpiNvs;
}

/// Writes to `out` the runs of `page_bytes`-aligned blocks (a 2 MiB or
/// 1 GiB page size) that overlap a RAM range of the sanitized `map`
/// (sorted, disjoint), merged where adjacent. A block partly covering a hole
/// is mapped whole: the hole's bytes are never accessed through it, and
/// PC chipsets' MTRRs keep device holes uncacheable ([sdm3] 11.11).
/// Returns the number of runs, kInvalidArgument if `page_bytes` is not a
/// power of two of at least 4 KiB, kOutOfRange if `out` is too small or RAM
/// reaches past kDirectMapMaxBytes. O(map entries).
base::Result<size_t> plan_direct_map(base::Span<const MemRange> map, uint64_t page_bytes, base::Span<PhysRange> out);

}  // namespace mm
