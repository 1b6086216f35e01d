// A CPU index: the kernel's dense 0..n-1 number for the CPUs it started
// (0 = the boot CPU, the rest in MADT order). Per-CPU blocks, run queues,
// IPIs by CPU and pinning are indexed by it. It is not an APIC id
// (apic_id.h), the number the hardware addresses interrupts to: the MADT
// lists those with gaps and in any order. A distinct type keeps one from
// being passed where the other belongs; arch::cpu_apic_id maps an index to
// its id. Pure logic, host-tested (strong_types_test.cc). Any context.
#pragma once

#include "src/base/types.h"

namespace arch {

struct CpuIndex {
  constexpr CpuIndex() = default;
  constexpr explicit CpuIndex(uint32_t v) : value(v) {}
  constexpr bool operator==(const CpuIndex&) const = default;

  uint32_t value = 0;
};

}  // namespace arch
