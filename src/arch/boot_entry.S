// The kernel's first instructions: the multiboot2 (and multiboot1) headers
// and the 32-bit entry that checks how it was started, builds temporary page
// tables, enables long mode and jumps to the higher-half kmain. The .boot
// sections run where they are loaded, at physical addresses; everything
// else is linked at KERNEL_VMA (arch::kKernelVma, kernel_layout.h).
// [mb2] 3.1 (header), 3.2 (machine state); [sdm3] 9.8.5 (entering IA-32e).

#include "src/arch/asm_offsets.h"

#define MB2_MAGIC 0xe85250d6
#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define MB1_MAGIC 0x1badb002
#define COM1 0x3f8

// ---------------------------------------------------------------------------
// Headers. The multiboot2 header must lie in the first 32 KiB of the file,
// 8-byte aligned [mb2] 3.1.1; the multiboot1 header (first 8 KiB, 4-byte
// aligned) exists so that a multiboot1-only loader still reaches our entry
// and gets a clear message instead of silence.
        .section .multiboot, "a"
        .balign 8
mb2_header:
        .long MB2_MAGIC
        .long 0                                   // architecture: i386 protected mode
        .long mb2_header_end - mb2_header
        .long -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
        // End tag [mb2] 3.1.3: no other tags; GRUB loads the ELF segments.
        .word 0
        .word 0
        .long 8
mb2_header_end:
        .balign 4
mb1_header:
        .long MB1_MAGIC
        .long 0
        .long -(MB1_MAGIC)

// ---------------------------------------------------------------------------
        .section .boot.text, "ax"
        .code32
        .globl boot_entry32
boot_entry32:
        cli
        cld
        movl %eax, %esi                          // the loader's magic; rdtsc clobbers EAX
        rdtsc                                    // the boot-time benchmark's zero
        movl %eax, boot_entry_tsc - KERNEL_VMA
        movl %edx, boot_entry_tsc + 4 - KERNEL_VMA
        movl %esi, %eax
        movl $boot_stack_top - KERNEL_VMA, %esp
        cmpl $MB2_BOOTLOADER_MAGIC, %eax
        jne not_multiboot2
        movl %ebx, boot_mbi_phys - KERNEL_VMA

        // Long mode needs CPUID leaf 0x80000001 EDX bit 29 [sdm2] CPUID.
        movl $0x80000000, %eax
        cpuid
        cmpl $0x80000001, %eax
        jb no_long_mode
        movl $0x80000001, %eax
        cpuid
        btl $29, %edx
        jnc no_long_mode

        // Temporary page tables (in .bss, zeroed here rather than trusting
        // the loader): identity map of the first 4 GiB with 2 MiB pages
        // (boot information, MMIO) and the kernel window at -2 GiB mapping
        // physical 0..2 GiB. mm replaces them with the real direct map.
        movl $boot_page_tables - KERNEL_VMA, %edi
        movl $(7 * 4096 / 4), %ecx
        xorl %eax, %eax
        rep stosl

        // PD entries: 2048 x 2 MiB, present | writable | PS.
        movl $boot_pd - KERNEL_VMA, %edi
        xorl %ecx, %ecx
1:      movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax
        movl %eax, (%edi,%ecx,8)
        movl %ecx, %eax
        shrl $11, %eax                   // high dword of (ecx << 21)
        movl %eax, 4(%edi,%ecx,8)
        incl %ecx
        cmpl $2048, %ecx
        jne 1b

        // Low PDPT: entries 0..3 point at the four PDs.
        movl $boot_pdpt_low - KERNEL_VMA, %edi
        movl $boot_pd - KERNEL_VMA + 3, %eax
        movl %eax, 0(%edi)
        addl $4096, %eax
        movl %eax, 8(%edi)
        addl $4096, %eax
        movl %eax, 16(%edi)
        addl $4096, %eax
        movl %eax, 24(%edi)
        // High PDPT: entries 510, 511 (-2 GiB, -1 GiB) -> the first two PDs.
        movl $boot_pdpt_high - KERNEL_VMA, %edi
        movl $boot_pd - KERNEL_VMA + 3, %eax
        movl %eax, 510 * 8(%edi)
        addl $4096, %eax
        movl %eax, 511 * 8(%edi)
        // PML4: entry 0 -> low PDPT, entry 511 -> high PDPT.
        movl $boot_pml4 - KERNEL_VMA, %edi
        movl $boot_pdpt_low - KERNEL_VMA + 3, %eax
        movl %eax, 0(%edi)
        movl $boot_pdpt_high - KERNEL_VMA + 3, %eax
        movl %eax, 511 * 8(%edi)

        // [sdm3] 9.8.5: PAE on, CR3, EFER.LME, then paging.
        movl %cr4, %eax
        orl $CR4_PAE, %eax
        movl %eax, %cr4
        movl $boot_pml4 - KERNEL_VMA, %eax
        movl %eax, %cr3
        movl $IA32_EFER, %ecx
        rdmsr
        orl $EFER_LME, %eax
        wrmsr
        movl %cr0, %eax
        orl $(CR0_PG | CR0_WP | CR0_PE), %eax
        movl %eax, %cr0

        lgdt boot_gdt_pointer
        ljmp $0x08, $long_mode_entry

// Not started by a multiboot2 loader: say so on COM1 and end the run.
not_multiboot2:
        movl $msg_not_mb2, %esi
        jmp fail32
no_long_mode:
        movl $msg_no_long_mode, %esi
fail32:
        // COM1 115200 8N1, polled ([16550] registers: 1 IER, 3 LCR, 0/1 divisor).
        movw $COM1 + 1, %dx
        movb $0, %al
        outb %al, %dx
        movw $COM1 + 3, %dx
        movb $0x80, %al
        outb %al, %dx
        movw $COM1, %dx
        movb $1, %al
        outb %al, %dx
        movw $COM1 + 1, %dx
        movb $0, %al
        outb %al, %dx
        movw $COM1 + 3, %dx
        movb $3, %al
        outb %al, %dx
2:      movb (%esi), %al
        testb %al, %al
        jz 4f
        movw $COM1 + 5, %dx
3:      pause
        inb %dx, %al
        testb $0x20, %al
        jz 3b
        movb (%esi), %al
        movw $COM1, %dx
        outb %al, %dx
        incl %esi
        jmp 2b
4:      movw $DEBUG_EXIT_PORT, %dx
        movl $DEBUG_EXIT_FAIL, %eax
        outl %eax, %dx
5:      hlt
        jmp 5b

        .code64
long_mode_entry:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        xorw %ax, %ax
        movw %ax, %fs
        movw %ax, %gs
        movabsq $higher_half_entry, %rax
        jmp *%rax

        .section .boot.rodata, "a"
msg_not_mb2:
        .asciz "biscotti: not started by a multiboot2 loader (EAX lacks 0x36d76289); boot it with GRUB's multiboot2 command\r\n"
msg_no_long_mode:
        .asciz "biscotti: this CPU has no long mode (CPUID 0x80000001 EDX bit 29); biscotti needs an x86-64 CPU\r\n"
        .balign 8
boot_gdt:
        .quad 0
        .quad 0x00af9a000000ffff         // 64-bit kernel code (see descriptor.h)
        .quad 0x00cf92000000ffff         // kernel data
boot_gdt_end:
boot_gdt_pointer:
        .word boot_gdt_end - boot_gdt - 1
        .long boot_gdt

// ---------------------------------------------------------------------------
        .text
higher_half_entry:
        movabsq $boot_stack_top, %rsp
        xorl %ebp, %ebp                  // backtraces stop at a zero frame pointer
        movl boot_mbi_phys(%rip), %edi
        call kmain
        ud2

// The link address as an absolute symbol: kernel.ld cannot include a
// header, so it takes its KERNEL_VMA from here.
        .globl boot_kernel_vma
        .set boot_kernel_vma, KERNEL_VMA

        .bss
        .balign 4096
        .globl boot_page_tables
boot_page_tables:
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4 * 4096
        .balign 8
boot_mbi_phys:  .skip 8
        .globl boot_entry_tsc
boot_entry_tsc: .skip 8

// The boot CPU's stack, with a guard page below it that
// arch::stacks_unmap_guards (stacks.h) unmaps, so an overflow faults instead of corrupting what lies below.
        .section .bss.stacks, "aw", @nobits
        .balign 4096
        .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
        .skip 4096
boot_stack_bottom:
        .skip 16384
boot_stack_top:
