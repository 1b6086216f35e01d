// The CPU limit (the MAX_CPUS build setting) and the real-mode AP
// trampoline (ap_trampoline.S), which runs from kApTrampolinePhys
// (kernel_layout.h); smp_boot.h starts the CPUs.
#pragma once

#include "src/arch/kernel_layout.h"  // kApTrampolinePhys
#include "src/arch/percpu.h"
#include "src/base/span.h"
#include "src/base/types.h"

namespace arch {

/// Upper bound on CPUs, the build setting --//src/arch:max_cpus (1..256,
/// default 64), which defines BISCOTTI_MAX_CPUS.
#ifndef BISCOTTI_MAX_CPUS
#error "BISCOTTI_MAX_CPUS comes from //src/arch:max_cpus; depend on //src/arch:smp"
#endif
inline constexpr uint32_t kMaxCpus = BISCOTTI_MAX_CPUS;
static_assert(kMaxCpus >= 1 && kMaxCpus <= 256);

}  // namespace arch
