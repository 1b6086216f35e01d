// Small helpers the torture's churns share: a per-thread xorshift stream,
// the CPU a thread runs on, and busy work between PAUSEs. Kernel only.
#pragma once
#include "src/arch/percpu.h"
#include "src/arch/x86.h"
#include "src/base/types.h"

namespace torture {

/// xorshift64 ([Marsaglia 2003]); `s` must not be 0.
inline uint64_t next(uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}
inline uint64_t below(uint64_t& s, uint64_t n) { return next(s) % n; }

/// The CPU running the caller now (it may move right after).
inline uint32_t cpu_now() {
  const uint64_t f = arch::irq_save();
  const uint32_t i = arch::this_cpu().index.value;
  arch::irq_restore(f);
  return i;
}

/// A dependent chain of `rounds` adds: work to do between two PAUSEs of a
/// spin, since under -icount QEMU hands over to another vCPU at each PAUSE
/// and a tight PAUSE loop spends the run switching vCPUs.
inline void burn(uint64_t rounds) {
  uint64_t x = 0;
  for (uint64_t i = 0; i < rounds; ++i) asm volatile("add %1, %0" : "+r"(x) : "r"(i));
}

}  // namespace torture
