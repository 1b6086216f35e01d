// Interrupt and exception entry: one stub per vector (256) pushes a zero
// error code where the CPU pushes none ([sdm3] 6.13: vectors 8, 10-14, 17,
// 21, 29, 30 have one), then the vector, and jumps to trap_common, which
// saves the general registers into an arch::TrapFrame and calls
// trap_dispatch(TrapFrame*). trap_common sets up no frame of its own and
// leaves RBP alone, so trap_dispatch's frame saves the interrupted RBP.
#include "src/arch/asm_offsets.h"

        .text
        .globl trap_stub_table
        .section .rodata
        .balign 8
trap_stub_table:
        .text

.macro TRAP_STUB vec
        .balign 16
trap_stub_\vec:
.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
.else
        pushq $0
.endif
        pushq $\vec
        jmp trap_common
        .section .rodata
        .quad trap_stub_\vec
        .text
.endm

.altmacro
.set vec, 0
.rept 256
        TRAP_STUB %vec
        .set vec, vec + 1
.endr

        .balign 16
trap_common:
        pushq %rax
        pushq %rbx
        pushq %rcx
        pushq %rdx
        pushq %rsi
        pushq %rdi
        pushq %rbp
        pushq %r8
        pushq %r9
        pushq %r10
        pushq %r11
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        // RSP is now the TrapFrame's address: the 15 registers end where
        // the vector begins. prof/unwind.h relies on it to find the frame
        // above trap_dispatch's frame pointer.
.if TF_VECTOR != 15 * 8
        .error "trap_common's pushes must end at the TrapFrame's start"
.endif
        cld
        movq %rsp, %rdi
        call trap_dispatch
        // The return address of every trap_dispatch call: a frame-pointer
        // walk that meets it knows a TrapFrame lies right above the frame
        // (prof/unwind.h), holding the interrupted RIP and RBP.
        .globl trap_common_return
trap_common_return:
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %r11
        popq %r10
        popq %r9
        popq %r8
        popq %rbp
        popq %rdi
        popq %rsi
        popq %rdx
        popq %rcx
        popq %rbx
        popq %rax
        // Drop vector and error code: RSP now points at TF_VECTOR.
        addq $(TF_RIP - TF_VECTOR), %rsp
        iretq
