// Application-processor start-up code. The BSP copies the bytes between
// ap_trampoline_start and ap_trampoline_end to kApTrampolinePhys
// (AP_TRAMPOLINE_PHYS here; below 1 MiB as a SIPI requires: the vector is
// the page number, [sdm3] 8.4.4.1) and fills the slots at the end. Each AP
// arrives in real mode at CS:IP = 0x0800:0000, enters protected mode, then
// long mode with the BSP's page tables, takes an arrival ticket, and jumps
// to the 64-bit entry on the stack the BSP prepared for that ticket.

#include "src/arch/asm_offsets.h"

#define ADDR(label) (AP_TRAMPOLINE_PHYS + (label) - ap_trampoline_start)

        .section .rodata.ap_trampoline, "a"
        .globl ap_trampoline_start, ap_trampoline_end
        .globl ap_tramp_cr3, ap_tramp_efer, ap_tramp_stacks, ap_tramp_entry, ap_tramp_ticket
        .balign 16
        .code16
ap_trampoline_start:
        cli
        cld
        movw %cs, %ax
        movw %ax, %ds
        lgdtl ap_tramp_gdt_pointer - ap_trampoline_start
        movl %cr0, %eax
        orl $CR0_PE, %eax
        movl %eax, %cr0
        ljmpl $0x08, $ADDR(ap_pm32)

        .code32
ap_pm32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movl %cr4, %eax
        orl $CR4_PAE, %eax
        movl %eax, %cr4
        movl ADDR(ap_tramp_cr3), %eax
        movl %eax, %cr3
        movl $IA32_EFER, %ecx              // the BSP's value (LME, NXE)
        movl ADDR(ap_tramp_efer), %eax
        xorl %edx, %edx
        wrmsr
        movl %cr0, %eax
        orl $(CR0_PG | CR0_WP), %eax
        movl %eax, %cr0
        ljmpl $0x18, $ADDR(ap_lm64)

        .code64
ap_lm64:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        // Arrival order picks the stack: APs may start together.
        movl $1, %eax
        lock xaddl %eax, ADDR(ap_tramp_ticket)
        movl %eax, %edi                    // first argument: the ticket
        movq ADDR(ap_tramp_stacks), %rsi
        movq (%rsi,%rax,8), %rsp
        xorl %ebp, %ebp                    // backtraces stop here
        pushq $0                           // as if called: ABI stack alignment
        movq ADDR(ap_tramp_entry), %rax
        jmp *%rax

        .balign 8
ap_tramp_gdt:
        .quad 0
        .quad 0x00cf9a000000ffff           // 0x08: 32-bit code
        .quad 0x00cf92000000ffff           // 0x10: data
        .quad 0x00af9a000000ffff           // 0x18: 64-bit code
ap_tramp_gdt_end:
ap_tramp_gdt_pointer:
        .word ap_tramp_gdt_end - ap_tramp_gdt - 1
        .long ADDR(ap_tramp_gdt)
        .balign 8
ap_tramp_stacks: .quad 0                   // virtual address of an array of stack tops, by ticket
ap_tramp_entry:  .quad 0                   // void entry(uint32_t ticket), noreturn
ap_tramp_cr3:    .long 0
ap_tramp_efer:   .long 0
ap_tramp_ticket: .long 0
ap_trampoline_end:
