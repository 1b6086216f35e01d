// See safe_access.h. Each probe is one instruction with a fixup entry: if
// it faults, the handler resumes at the label after the "ok = 1" store, so
// `ok` keeps its initial 0.
#include "src/mm/safe_access.h"

#include "src/arch/fixup.h"

// The probe `insn` (operands named as below), then the success store.
#define SAFE_PROBE(insn) "1: " insn "\n   movq $1, %[ok]\n2:\n" FIXUP_ENTRY("1b", "2b")

namespace mm {

[[gnu::noinline]] base::Result<uint64_t> safe_read64(base::VirtAddr addr) {
  uint64_t value = 0, ok = 0;
  asm volatile(SAFE_PROBE("movq (%[addr]), %[value]")
               : [value] "+r"(value), [ok] "+r"(ok)
               : [addr] "r"(addr.value())
               : "memory");
  if (!ok) return base::Error::kFault;
  return value;
}

[[gnu::noinline]] base::Status safe_write64(base::VirtAddr addr, uint64_t value) {
  uint64_t ok = 0;
  asm volatile(SAFE_PROBE("movq %[value], (%[addr])")
               : [ok] "+r"(ok)
               : [addr] "r"(addr.value()), [value] "r"(value)
               : "memory");
  if (!ok) return base::Error::kFault;
  return base::Status::Ok();
}

[[gnu::noinline]] base::Result<uint8_t> safe_read8(base::VirtAddr addr) {
  uint64_t value = 0, ok = 0;
  asm volatile(SAFE_PROBE("movzbq (%[addr]), %[value]")
               : [value] "+r"(value), [ok] "+r"(ok)
               : [addr] "r"(addr.value())
               : "memory");
  if (!ok) return base::Error::kFault;
  return static_cast<uint8_t>(value);
}

}  // namespace mm
