// The call chain of a thread that is switched out (blocked, sleeping or
// runnable but not on a CPU), from the frame switch_context (switch.cc)
// left on its stack: for reports of threads that do not make progress,
// where the CPUs' own backtraces show only who runs. Pure logic over a
// word reader, host-tested; any context (no lock, no allocation).
#pragma once

#include "src/base/types.h"

namespace sched {

/// switch_context's frame at the saved RSP: rbp, then the return address
/// into the function that switched away (the callee-saved registers are
/// saved, if at all, by the caller's own frame: switch_threads' clobbers).
inline constexpr size_t kSavedRbpWord = 0;
inline constexpr size_t kSavedReturnWord = 1;
inline constexpr size_t kSwitchFrameWords = 2;

/// Appends to pcs[0..max) the return addresses of the chain that starts at
/// `saved_rsp`: switch_context's return address, then each frame's
/// ([rbp + 8], following [rbp]), innermost first. Reads only 8-byte words
/// inside [lo, hi) through read(addr); stops at a zero RBP or return
/// address (the chain's root), a frame outside the stack, a misaligned one
/// or one not above the last (a thread that started running meanwhile
/// leaves garbage: the walk ends, never faults or loops). Returns how many.
template <typename ReadWord>
size_t saved_stack_pcs(uint64_t saved_rsp, uint64_t lo, uint64_t hi, ReadWord read, uint64_t* pcs, size_t max) {
  if (saved_rsp < lo || saved_rsp > hi || hi - saved_rsp < kSwitchFrameWords * 8 || (saved_rsp & 7) != 0) return 0;
  size_t n = 0;
  uint64_t pc = read(saved_rsp + kSavedReturnWord * 8);
  uint64_t rbp = read(saved_rsp + kSavedRbpWord * 8);
  uint64_t floor = saved_rsp + kSwitchFrameWords * 8;  // a frame must lie above the last
  while (n < max && pc != 0) {
    pcs[n++] = pc;
    if (rbp == 0 || (rbp & 7) != 0 || rbp < floor || rbp > hi || hi - rbp < 16) break;
    pc = read(rbp + 8);
    floor = rbp + 16;
    rbp = read(rbp);
  }
  return n;
}

}  // namespace sched
