// A local APIC's id ([sdm3] 10.4.6, 10.12.5.1): what IPIs and IOAPIC
// routes are addressed to. It is not a CPU index, the kernel's dense
// 0..n-1 numbering of the CPUs that came online (per-CPU blocks, run
// queues, `ipi.h`): the MADT lists APIC ids with gaps and in any order, so
// the two are different numbers for the same CPU. A distinct type keeps
// one from being passed where the other belongs; arch::cpu_apic_id maps
// an index to its id.
#pragma once

#include "src/base/types.h"

namespace arch {

struct ApicId {
  constexpr ApicId() = default;
  constexpr explicit ApicId(uint32_t v) : value(v) {}
  constexpr bool operator==(const ApicId&) const = default;

  /// Whether it fits an xAPIC's 8-bit destination field ([sdm3] 10.6.2.1).
  constexpr bool fits_xapic() const { return value <= 0xff; }

  uint32_t value = 0;
};

}  // namespace arch
