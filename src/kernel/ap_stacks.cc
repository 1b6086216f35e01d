// The APs' stacks (see ap_stacks.h).
#include "src/kernel/ap_stacks.h"

#include "src/arch/ap_stack_layout.h"
#include "src/arch/console.h"
#include "src/arch/smp.h"
#include "src/arch/stacks.h"
#include "src/base/assert.h"
#include "src/mm/alloc_map.h"
#include "src/mm/kva.h"

namespace kernel {
namespace {

// Unmaps (and frees) the pieces mapped before piece `piece` of slot `slot`.
void unmap_before(uint64_t region, uint32_t slot, size_t piece) {
  for (uint32_t i = 0; i <= slot; ++i) {
    for (size_t k = 0; k < (i < slot ? arch::kApStackPieceCount : piece); ++k) {
      const uint64_t lo = arch::ap_stack_lo(region, i, k);
      base::Status s = mm::unmap_range(base::VirtAddr(lo), arch::kApStackPieces[k].bytes);
      ASSERT_MSG(s.ok(), "smp: unmapping an AP stack at {:#x}: {}", lo, base::error_name(s.error()));
    }
  }
}

// Maps every piece of every slot, writable, leaving the guard pages
// between them unmapped. All or nothing.
base::Status map_pieces(uint64_t region, uint32_t aps) {
  for (uint32_t slot = 0; slot < aps; ++slot) {
    for (size_t k = 0; k < arch::kApStackPieceCount; ++k) {
      const uint64_t lo = arch::ap_stack_lo(region, slot, k);
      base::Status s = mm::alloc_map_range(base::VirtAddr(lo), arch::kApStackPieces[k].bytes, mm::kPermWrite);
      if (!s.ok()) {
        unmap_before(region, slot, k);
        return s;
      }
    }
  }
  return base::Status::Ok();
}

}  // namespace

uint32_t aps_listed(const arch::acpi::Madt& madt, uint32_t boot_apic_id) {
  uint32_t n = 0;
  for (const auto& c : madt.cpus) n += c.enabled && c.apic_id != boot_apic_id;
  return n < arch::kMaxCpus - 1 ? n : arch::kMaxCpus - 1;
}

void map_ap_stacks(uint32_t aps) {
  if (aps == 0) return;
  const uint64_t bytes = arch::ap_stack_region_bytes(aps);
  base::Result<base::VirtAddr> region = mm::kva_alloc(bytes);
  base::Status s = region.ok() ? map_pieces(region.value().value(), aps) : base::Status(region.error());
  if (s.ok()) {
    arch::stacks_set_ap_region(region.value().value(), aps);
    return;
  }
  if (region.ok()) {
    base::Status f = mm::kva_free(region.value(), bytes);
    ASSERT_MSG(f.ok(), "smp: freeing the AP stacks' range: {}", base::error_name(f.error()));
  }
  arch::kprint("smp: cannot map the stacks of {} APs ({} KiB): {}; only the boot CPU starts\n", aps,
               aps * (arch::ap_stack_slot_mapped_bytes() >> 10), base::error_name(s.error()));
}

}  // namespace kernel
