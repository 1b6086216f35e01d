// Atomic test-and-set / test-and-clear of one bit in a bitmap of 64-bit
// words, as a single locked instruction. Any context, NMI included.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"

namespace base {

// BTS/BTR with a register bit offset and a memory operand treat the memory
// as a bit string: the offset selects any bit from the operand onward, not
// just one in the addressed word ([sdm2] BTS, BTR: "bit base"; a 64-bit
// register offset ranges over -2^63 .. 2^63-1). So there is no word index
// or mask to compute, and the LOCK prefix makes the read-modify-write
// atomic with the old bit left in CF. Relaxed: the caller orders anything
// else through whatever handed it the object.
//
// The compiler-visible effect is "some word of the bitmap changed": the
// memory operand is the bitmap's first word plus a clobber, so no other
// access to the bitmap is cached across the instruction.

/// Sets bit `bit` of the bitmap starting at `words`; returns its old value.
inline bool atomic_test_and_set_bit(Atomic<uint64_t>* words, uint64_t bit) {
  bool was;
  asm volatile("lock btsq %2, %1" : "=@ccc"(was), "+m"(*reinterpret_cast<uint64_t*>(words)) : "r"(bit) : "memory");
  return was;
}

/// Clears bit `bit` of the bitmap starting at `words`; returns its old value.
inline bool atomic_test_and_clear_bit(Atomic<uint64_t>* words, uint64_t bit) {
  bool was;
  asm volatile("lock btrq %2, %1" : "=@ccc"(was), "+m"(*reinterpret_cast<uint64_t*>(words)) : "r"(bit) : "memory");
  return was;
}

}  // namespace base
