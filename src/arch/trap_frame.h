// The uniform trap frame every interrupt and exception stub builds (see
// trap_entry.S) before calling trap_dispatch. Shared by C++ and, through the
// generated asm_offsets.h, by assembly.
#pragma once

#include "src/base/types.h"

namespace arch {

/// Pushed by the stub (general registers, vector, error code) and by the
/// CPU (rip .. ss) [sdm3] 6.14.2. Field order is push order reversed.
struct TrapFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector;
  uint64_t error_code;  // 0 for vectors where the CPU pushes none
  uint64_t rip, cs, rflags, rsp, ss;
};

static_assert(sizeof(TrapFrame) == 22 * 8, "trap_entry.S pushes 17 quadwords, the CPU 5");
static_assert(sizeof(TrapFrame) % 16 == 0,
              "the CPU 16-aligns RSP before pushing ([sdm3] 6.14.2); keeping the frame a multiple "
              "of 16 keeps the C call ABI-aligned");
static_assert(__builtin_offsetof(TrapFrame, vector) == 15 * 8);
static_assert(__builtin_offsetof(TrapFrame, rip) == 17 * 8);

}  // namespace arch
