// Fault-tolerant probes of kernel memory: a read or write that returns an
// error instead of panicking when the address is unmapped, non-canonical or
// not writable (an exception fixup, src/arch/fixup.h). For the backtrace
// unwinder, diagnostics and tests. Any context, NMI included.
#pragma once

#include "src/arch/fixup.h"
#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace mm {

/// The 8 bytes at `addr`, or kFault if reading them faults.
base::Result<uint64_t> safe_read64(base::VirtAddr addr);

/// Writes `value` to the 8 bytes at `addr`; kFault (and nothing written)
/// if that faults.
base::Status safe_write64(base::VirtAddr addr, uint64_t value);

/// The byte at `addr`, or kFault.
base::Result<uint8_t> safe_read8(base::VirtAddr addr);

/// The 4 bytes at `addr` (4-aligned: within one page), or kFault. Inline,
/// for the futex's read of its word under a bucket lock on every wait.
/// Each inlined copy adds an entry to the fixup table, which a fault scans
/// linearly (fixup.h): keep the call sites to a handful.
inline base::Result<uint32_t> safe_read32_inline(const uint32_t* addr) {
  uint32_t value = 0;
  uint32_t ok = 0;
  // If the load faults, the handler resumes at 2:, after the "ok = 1".
  asm volatile(
      "1: movl (%[addr]), %[value]\n"
      "   movl $1, %[ok]\n"
      "2:\n" FIXUP_ENTRY("1b", "2b")
      : [value] "+r"(value), [ok] "+r"(ok)
      : [addr] "r"(addr)
      : "memory");
  if (!ok) return base::Error::kFault;
  return value;
}

}  // namespace mm
