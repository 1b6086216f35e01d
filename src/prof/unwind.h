// Frame-pointer unwinder across stacks. Every kernel function keeps RBP as
// a frame pointer (-fno-omit-frame-pointer), so [rbp] is the caller's RBP
// and [rbp + 8] the return address. A chain can leave one stack for
// another only where an interrupt or exception moved the CPU there: the
// NMI, #DF, #MC and #PF run on IST stacks ([sdm3] 6.14.5), and the trap
// frame they build (arch/trap_frame.h) holds the interrupted RIP and RBP.
// The walker recognises such a frame by its return address (the
// instruction after trap_entry.S's `call trap_dispatch`), records the
// interrupted RIP and continues from the interrupted RBP, on whatever
// known stack that is.
//
// Every frame ([rbp, rbp + 16)) and every trap frame must lie entirely in
// one known stack, and memory is read only there, so a walk never faults
// however corrupt the chain. Takes no locks and allocates nothing:
// callable from any context, NMI too.
#pragma once

#include "src/arch/trap_frame.h"
#include "src/base/types.h"
#include "src/prof/backtrace.h"

namespace prof {

/// Where the trap frame lies for a frame whose return address is
/// trap_common's call: trap_common pushes the general registers until RSP
/// is the TrapFrame's address (trap_entry.S checks that the registers end
/// at the vector, TF_VECTOR), then `call` pushes the return address and
/// trap_dispatch's prologue pushes RBP, which becomes its frame pointer.
/// So the TrapFrame starts 16 bytes above that frame pointer.
inline constexpr uint64_t kTrapFrameAboveFrame = 16;

/// A frame: the caller's RBP and the return address.
inline constexpr uint64_t kFrameBytes = 16;

/// The most stacks one walk crosses. A CPU runs on at most five at once
/// (its thread or kernel stack and its four IST stacks); more is a corrupt
/// chain wandering across other CPUs' stacks.
inline constexpr size_t kMaxUnwindStacks = 8;

/// What a walk may trust.
///  - find_stack(addr, StackBounds* out) -> bool: the usable part of the
///    known, mapped stack holding `addr` (guard pages excluded), or false.
///  - read(addr) -> uint64_t: a load; only called for 8 bytes inside bounds
///    find_stack returned.
///  - trap_return: the return address of trap_common's call (the symbol
///    trap_common_return in the kernel); 0 follows no trap frames.
template <typename FindStack, typename ReadWord>
struct UnwindEnv {
  FindStack find_stack;
  ReadWord read;
  uint64_t trap_return;
};

template <typename FindStack, typename ReadWord>
UnwindEnv(FindStack, ReadWord, uint64_t) -> UnwindEnv<FindStack, ReadWord>;

/// Appends to `pcs[n..max)` the return addresses of the chain starting at
/// `rbp`, innermost first, and through each trap frame the interrupted RIP
/// right after trap_common's return address (which stays, marking where
/// one context ends: the pcs before it ran in the handler). Returns the new
/// count and, in `end`, why the walk stopped:
///  - kZeroFrame: RBP 0, the end every thread's chain has, or a frame
///    whose return address is 0 (a root that pushed 0 for its caller);
///  - kMisaligned: RBP not 8-aligned;
///  - kOffStack: the frame is not entirely in a known stack;
///  - kNotAscending: within a stack, a frame not above the previous one (or
///    below the trap frame it was saved in) — a loop or garbage;
///  - kBadStackSwitch: a frame on another stack than the previous one not
///    through a trap frame, or back on a stack the walk already left, or
///    past kMaxUnwindStacks stacks;
///  - kBadTrapFrame: a trap frame not entirely in its stack, or whose saved
///    RBP is not the one trap_dispatch's frame saved;
///  - kFull: `max` pcs recorded and the chain goes on.
///
/// Why only a trap frame may switch stacks: kernel code moves to another
/// stack only through interrupt delivery, which leaves a trap frame, or
/// through sched's switch_context, whose chains never cross (a thread's
/// chain ends with RBP 0 at the top of its own stack). A saved RBP on
/// another stack is stale or corrupt, and a switch back to a stack the walk
/// left could loop, since ascending order holds only within one stack.
template <typename Env>
size_t unwind_frames(const Env& env, uint64_t rbp, uint64_t* pcs, size_t n, size_t max, WalkEnd* end) {
  StackBounds visited[kMaxUnwindStacks];
  size_t n_visited = 0;
  StackBounds cur{0, 0};  // the stack of the previous frame; none before the first
  uint64_t floor = 0;     // the lowest RBP allowed next on `cur`
  bool via_trap = true;   // whether the next frame may be on another stack
  auto stop = [&](WalkEnd e) {
    *end = e;
    return n;
  };
  for (;;) {
    if (rbp == 0) return stop(WalkEnd::kZeroFrame);
    if (rbp % 8 != 0) return stop(WalkEnd::kMisaligned);
    StackBounds s;
    if (!env.find_stack(rbp, &s) || rbp < s.lo || rbp >= s.hi || s.hi - rbp < kFrameBytes)
      return stop(WalkEnd::kOffStack);
    if (s.lo == cur.lo && s.hi == cur.hi) {
      if (rbp < floor) return stop(WalkEnd::kNotAscending);
    } else {
      if (!via_trap || n_visited == kMaxUnwindStacks) return stop(WalkEnd::kBadStackSwitch);
      for (size_t i = 0; i < n_visited; ++i)
        if (visited[i].lo == s.lo && visited[i].hi == s.hi) return stop(WalkEnd::kBadStackSwitch);
      visited[n_visited++] = s;
      cur = s;
    }
    if (n == max) return stop(WalkEnd::kFull);
    uint64_t next = env.read(rbp);
    uint64_t ret = env.read(rbp + 8);
    // A zero return address is a stack's root too: an entry that pushed
    // 0 for its caller (the APs' ap_entry) rather than leaving RBP 0.
    if (ret == 0) return stop(WalkEnd::kZeroFrame);
    pcs[n++] = ret;
    if (env.trap_return == 0 || ret != env.trap_return) {
      floor = rbp + kFrameBytes;
      via_trap = false;
      rbp = next;
      continue;
    }
    // trap_dispatch's frame: the trap frame lies right above it.
    uint64_t tf = rbp + kTrapFrameAboveFrame;
    if (s.hi - rbp < kTrapFrameAboveFrame + sizeof(arch::TrapFrame)) return stop(WalkEnd::kBadTrapFrame);
    // trap_common leaves RBP alone, so trap_dispatch saved the interrupted
    // RBP too: a mismatch means this return address is a stale coincidence.
    if (env.read(tf + __builtin_offsetof(arch::TrapFrame, rbp)) != next) return stop(WalkEnd::kBadTrapFrame);
    if (n == max) return stop(WalkEnd::kFull);
    pcs[n++] = env.read(tf + __builtin_offsetof(arch::TrapFrame, rip));
    // Interrupts without IST push their frame on the interrupted stack
    // itself, below the interrupted RSP ([sdm3] 6.14.2), so a chain
    // continuing there continues above the trap frame.
    floor = tf + sizeof(arch::TrapFrame);
    via_trap = true;
    rbp = next;
  }
}

/// Walks from an interrupted or current context: `pc` first, then the
/// chain from `rbp` (see unwind_frames).
template <typename Env>
size_t unwind_from(const Env& env, uint64_t pc, uint64_t rbp, uint64_t* pcs, size_t max, WalkEnd* end) {
  if (max == 0) {
    *end = WalkEnd::kFull;
    return 0;
  }
  pcs[0] = pc;
  return unwind_frames(env, rbp, pcs, 1, max, end);
}

/// Walks from a trap frame (the interrupted RIP, then its chain): what the
/// NMI sampler and the crash report do with the frame they are handed. The
/// interrupted RBP may lie on another stack than `f`. An interrupt taken
/// in a function's prologue, before it set RBP, skips that function's
/// caller (its return address is at RSP, not in the chain).
template <typename Env>
size_t unwind_trap(const Env& env, const arch::TrapFrame& f, uint64_t* pcs, size_t max, WalkEnd* end) {
  return unwind_from(env, f.rip, f.rbp, pcs, max, end);
}

}  // namespace prof
