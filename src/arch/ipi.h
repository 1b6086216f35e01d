// Inter-processor interrupts to a CPU by index: fixed vectors (the
// reschedule kick, TLB shootdowns, tests) and NMIs. Kernel only.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/arch/vectors.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace arch {

/// A fixed IPI at `vector` to CPU `index`; kInvalidArgument for a CPU that
/// never started. Any context but NMI.
base::Status send_ipi(CpuIndex index, Vector vector);

/// An NMI to CPU `index`. Any context but NMI.
base::Status send_nmi(CpuIndex index);

/// An NMI to CPU `index` from NMI context (the profiler's fan-out, stopping
/// the world from a panic that may itself be inside an NMI): safe against
/// this CPU's own send being interrupted half way (Lapic::send_nmi_from_nmi).
/// kInvalidArgument for a CPU that never started. NMI context, or any
/// context with interrupts off.
base::Status send_nmi_from_nmi(CpuIndex index);

/// The reschedule IPI to CPU `index`: its handler only EOIs, which ends a
/// HLT. Any context but NMI.
void kick_cpu(CpuIndex index);

}  // namespace arch
