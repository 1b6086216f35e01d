// The context switch: callee-saved registers and the stack pointer, nothing
// else. The System V ABI lets a called function clobber every other
// general register, and kernel code has no vector or x87 state (see
// simd.h), so this is the whole thread context for a voluntary switch; a
// preempted thread's other registers sit in the trap frame on its stack.
#pragma once

#include "src/base/types.h"
#include "src/sched/thread.h"

namespace sched {

/// Saves rbp on prev's stack and RSP in prev->saved_rsp, loads
/// next->saved_rsp, clears prev->on_cpu — only now, once off prev's stack,
/// so the CPU that picks prev next can never run on a stack this CPU still
/// uses — and returns into next. Returns (in next's context, to whoever
/// switched to it) the thread switched away from. Interrupts off. The
/// other callee-saved registers (rbx, r12-r15) are not saved here: call
/// it only through switch_threads, which tells the compiler they do not
/// survive, so each switch site saves just those it uses (most of them its
/// own prologue saves anyway), 10 instructions fewer a switch.
extern "C" Thread* switch_context(Thread* prev, Thread* next);

/// The call of switch_context, as an asm statement that clobbers every
/// register the System V ABI lets a call clobber and the callee-saved ones
/// switch_context leaves to its caller. No vector register is listed:
/// kernel code is built without SSE (simd.h).
[[gnu::always_inline]] inline Thread* switch_threads(Thread* prev, Thread* next) {
  Thread* from;
  asm volatile("call switch_context"
               : "=a"(from), "+D"(prev), "+S"(next)
               :
               : "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "cc", "memory");
  return from;
}

/// Prepares a new thread's stack so that the first switch_context into it
/// "returns" into thread_entry_trampoline, which calls
/// thread_first_run(prev) with rbp = 0 (the end of every backtrace).
/// Returns the initial saved RSP.
uint64_t initial_stack(uint64_t stack_hi);

/// Called once on every new thread's stack, interrupts off: finishes the
/// switch that started it, enables interrupts and runs the thread's
/// function, then exits. Defined in thread.cc.
extern "C" [[noreturn]] void thread_first_run(Thread* prev);

}  // namespace sched
