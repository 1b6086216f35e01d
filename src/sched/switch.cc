// switch_context and the new-thread trampoline (see switch.h).
#include "src/sched/switch.h"

#include "src/sched/saved_stack.h"

namespace sched {

static_assert(__builtin_offsetof(Thread, saved_rsp) == 0, "switch_context stores RSP at 0(%rdi)");
static_assert(__builtin_offsetof(Thread, on_cpu) == 8, "switch_context clears on_cpu at 8(%rdi)");

// Frame switch_context pops: rbp, return address (saved_stack.h, which
// reads it back for reports, names the words).
static_assert(kSwitchFrameWords == 2 && kSavedRbpWord == 0 && kSavedReturnWord == 1);

// x86 stores are not reordered with older stores ([sdm3] 8.2.2), so the
// store of saved_rsp is visible before on_cpu = 0: a CPU that acquire-reads
// on_cpu == 0 then reads the right saved_rsp.
asm(R"(
        .text
        .globl switch_context
        .type switch_context, @function
        .balign 16
switch_context:
        pushq %rbp
        movq %rsp, 0(%rdi)
        movq 0(%rsi), %rsp
        movl $0, 8(%rdi)
        movq %rdi, %rax
        popq %rbp
        ret
        .size switch_context, . - switch_context

        .globl thread_entry_trampoline
        .type thread_entry_trampoline, @function
        .balign 16
thread_entry_trampoline:
        // RSP is 16-aligned here (initial_stack); the call pushes the
        // return address as the ABI expects at a function's entry.
        movq %rax, %rdi
        call thread_first_run
        ud2
        .size thread_entry_trampoline, . - thread_entry_trampoline
)");

extern "C" char thread_entry_trampoline[];

uint64_t initial_stack(uint64_t stack_hi) {
  uint64_t top = stack_hi & ~uint64_t{15};
  auto* words = reinterpret_cast<uint64_t*>(top) - kSwitchFrameWords;
  words[0] = 0;  // rbp = 0 ends backtraces
  words[kSwitchFrameWords - 1] = reinterpret_cast<uint64_t>(thread_entry_trampoline);
  return reinterpret_cast<uint64_t>(words);
}

}  // namespace sched
