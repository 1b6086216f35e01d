// SMP bring-up: starts every enabled CPU of the MADT with INIT-SIPI-SIPI
// through the real-mode trampoline (ap_trampoline.S), gives each its stack
// and per-CPU block, and waits — with a timeout, never forever — until each
// has loaded its descriptor tables and enabled its LAPIC. Boot CPU, thread
// context, interrupts as the caller has them.
#pragma once

#include "src/arch/percpu.h"
#include "src/base/span.h"
#include "src/base/types.h"

namespace arch {

/// Physical page the trampoline is copied to (SIPI vector 0x08).
inline constexpr uint64_t kApTrampolinePhys = 0x8000;

/// Upper bound on CPUs, the build setting --//src/arch:max_cpus (1..256,
/// default 64), which defines BISCOTTI_MAX_CPUS.
#ifndef BISCOTTI_MAX_CPUS
#error "BISCOTTI_MAX_CPUS comes from //src/arch:max_cpus; depend on //src/arch:smp"
#endif
inline constexpr uint32_t kMaxCpus = BISCOTTI_MAX_CPUS;
static_assert(kMaxCpus >= 1 && kMaxCpus <= 256);

/// Every CPU's block, indexed by CPU index; null past cpu_count().
PerCpu* cpu(uint32_t index);
uint32_t cpu_count();

}  // namespace arch
