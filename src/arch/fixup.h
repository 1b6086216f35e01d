// The exception fixup table: instructions allowed to fault, each with the
// address to resume at instead of reporting the fault. Entries are emitted
// beside the instruction (FIXUP_ENTRY) into the .fixup_table section, which
// the linker script brackets with __fixup_start/__fixup_end. Kernel only;
// find_fixup is callable from any exception handler (no locks).
#pragma once

#include "src/base/types.h"

namespace arch {
struct FixupEntry;
}  // namespace arch

extern "C" const arch::FixupEntry __fixup_start[], __fixup_end[];

namespace arch {

struct FixupEntry {
  uint64_t fault_rip;   ///< The instruction that may fault.
  uint64_t resume_rip;  ///< Where execution continues if it does.
};
static_assert(sizeof(FixupEntry) == 16);

/// In inline assembly: records that the instruction at local label `from`
/// resumes at local label `to` if it faults.
#define FIXUP_ENTRY(from, to) ".pushsection .fixup_table, \"a\"\n.balign 8\n.quad " from ", " to "\n.popsection\n"

/// The resume address for a fault at `rip`, or 0 if `rip` may not fault.
/// A linear scan: the table holds the handful of probe instructions, not
/// one entry per caller.
inline uint64_t find_fixup(uint64_t rip) {
  for (const FixupEntry* e = __fixup_start; e != __fixup_end; ++e)
    if (e->fault_rip == rip) return e->resume_rip;
  return 0;
}

}  // namespace arch
