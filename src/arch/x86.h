// Thin wrappers over x86 instructions: port I/O, CPUID, control registers,
// MSRs, interrupt flag (their bits are in x86_regs.h). Kernel platform only
// (inline assembly); the logic built on top takes an I/O provider as a
// template parameter so host tests can substitute fakes.
#pragma once

#include "src/arch/x86_regs.h"
#include "src/base/addr.h"
#include "src/base/types.h"

namespace arch {

inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
inline uint8_t inb(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

inline uint32_t inl(uint16_t port) {
  uint32_t v;
  asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

/// Port I/O as a provider type for templated drivers (Uart16550<PortIo>).
struct PortIo {
  void out8(uint16_t port, uint8_t v) const { outb(port, v); }
  void out16(uint16_t port, uint16_t v) const { outw(port, v); }
  uint8_t in8(uint16_t port) const { return inb(port); }
  uint32_t in32(uint16_t port) const { return inl(port); }
  void relax() const { asm volatile("pause" ::: "memory"); }
};

struct CpuidRegs {
  uint32_t eax, ebx, ecx, edx;
};
inline CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidRegs r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

inline uint64_t read_cr0() {
  uint64_t v;
  asm volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}
inline uint64_t read_cr2() {
  uint64_t v;
  asm volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
inline uint64_t read_cr3() {
  uint64_t v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
inline uint64_t read_cr4() {
  uint64_t v;
  asm volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}
inline void write_cr0(uint64_t v) { asm volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
inline void write_cr3(uint64_t v) { asm volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
inline void write_cr4(uint64_t v) { asm volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
/// Drops the TLB entries for the page holding `va` on this CPU, global
/// ones included ([sdm3] 4.10.4.1).
inline void invlpg(base::VirtAddr va) { asm volatile("invlpg (%0)" ::"r"(va.value()) : "memory"); }

/// Lets this CPU execute SSE instructions ([sdm3] 13.1.3): CR0.EM clear
/// (no x87 emulation trap), CR0.MP set, CR4.OSFXSR (the OS saves state with
/// FXSAVE) and CR4.OSXMMEXCPT (SIMD exceptions raise #XM, not #UD). The
/// kernel itself is built without SSE; only SimdRegion code uses it.
inline void enable_sse() {
  write_cr0((read_cr0() & ~kCr0Em) | kCr0Mp);
  write_cr4(read_cr4() | kCr4Osfxsr | kCr4Osxmmexcpt);
}

/// XCR0 ([sdm3] 2.6); only with CR4.OSXSAVE set, else #UD.
inline uint64_t xgetbv0() {
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t{hi} << 32) | lo;
}
inline void xsetbv0(uint64_t v) {
  asm volatile("xsetbv" ::"c"(0), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)) : "memory");
}

/// Lets this CPU execute AVX instructions ([sdm1] 13.3, 14.3; [sdm3] 2.5,
/// 2.6): CR4.OSXSAVE, then XCR0 = x87|SSE|AVX (`xcr0`, whose bits the
/// caller checked against CPUID leaf 0xD). Call after enable_sse, on every
/// CPU, only where the CPU supports XSAVE and AVX. The kernel never
/// executes XSAVE: vector registers are used only inside SimdRegions, which
/// keep preemption off, and interrupt handlers are built without SSE/AVX,
/// so no switch or handler ever has vector state to save.
inline void enable_avx_state(uint64_t xcr0) {
  write_cr4(read_cr4() | kCr4Osxsave);
  xsetbv0(xcr0);
}

/// XCR0 as enabled on this CPU: 0 while CR4.OSXSAVE is clear (XGETBV
/// would fault).
inline uint64_t enabled_xcr0() { return (read_cr4() & kCr4Osxsave) ? xgetbv0() : 0; }

/// Drops every TLB entry on this CPU, global ones too: toggling CR4.PGE
/// flushes all ([sdm3] 4.10.4.1). Interrupts must be off (CR4 is read,
/// then written twice).
inline void flush_tlb_all() {
  uint64_t cr4 = read_cr4();
  if (cr4 & kCr4Pge) {
    write_cr4(cr4 & ~kCr4Pge);
    write_cr4(cr4);
  } else {
    write_cr3(read_cr3());
  }
}

inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)));
}

inline uint64_t rdtsc() {
  // 64-bit outputs: in 64-bit mode RDTSC clears the high halves of RAX and
  // RDX ([sdm2] RDTSC), so the low half needs no zero-extension, one
  // instruction fewer on every clock read (a context switch makes one).
  uint64_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (hi << 32) | lo;
}

inline void cpu_relax() { asm volatile("pause" ::: "memory"); }
inline void cli() { asm volatile("cli" ::: "memory"); }
inline void sti() { asm volatile("sti" ::: "memory"); }
inline void hlt() { asm volatile("hlt" ::: "memory"); }

/// Disables interrupts and returns RFLAGS as it was, for irq_restore: the
/// cheap save/restore pair for short per-CPU critical sections that take no
/// lock (SpinLock nests through push_cli instead).
inline uint64_t irq_save() {
  uint64_t flags;
  asm volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
  return flags;
}
inline void irq_restore(uint64_t flags) {
  if (flags & kRflagsIf) sti();
}

/// Stops this CPU for good: interrupts off, halted (NMIs resume the hlt,
/// hence the loop).
[[noreturn]] inline void halt_forever() {
  for (;;) asm volatile("cli; hlt" ::: "memory");
}

}  // namespace arch
