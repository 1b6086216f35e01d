// Fault-tolerant probes of kernel memory: a read or write that returns an
// error instead of panicking when the address is unmapped, non-canonical or
// not writable (an exception fixup, src/arch/fixup.h). For the backtrace
// unwinder, diagnostics and tests. Any context, NMI included.
#pragma once

#include "src/base/result.h"
#include "src/base/types.h"

namespace mm {

/// The 8 bytes at `addr`, or kFault if reading them faults.
base::Result<uint64_t> safe_read64(uint64_t addr);

/// Writes `value` to the 8 bytes at `addr`; kFault (and nothing written)
/// if that faults.
base::Status safe_write64(uint64_t addr, uint64_t value);

/// The byte at `addr`, or kFault.
base::Result<uint8_t> safe_read8(uint64_t addr);

}  // namespace mm
