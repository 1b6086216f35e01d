// Encodings of x86-64 segment descriptors and IDT gates ([sdm3] 3.4.5,
// 7.2.3, 6.14.1). Pure constexpr logic: host tests check every field, and
// static_asserts pin the layouts.
#pragma once

#include "src/base/types.h"

namespace arch {

/// GDT selectors. The order is fixed by SYSCALL/SYSRET conventions for the
/// user segments that come later ([sdm3] 5.8.8): kernel code, kernel data,
/// user data, user code; the per-CPU TSS descriptors (16 bytes each) follow.
inline constexpr uint16_t kKernelCodeSelector = 0x08;
inline constexpr uint16_t kKernelDataSelector = 0x10;
inline constexpr uint16_t kUserDataSelector = 0x18 | 3;
inline constexpr uint16_t kUserCodeSelector = 0x20 | 3;
inline constexpr uint16_t kFirstTssSelector = 0x28;

/// An 8-byte code or data segment descriptor [sdm3] 3.4.5. In 64-bit mode
/// base and limit are ignored for code/data; we still encode a flat 4 GiB.
constexpr uint64_t segment_descriptor(bool code, unsigned dpl) {
  uint64_t d = 0;
  d |= 0xffffull;                           // limit 15:0
  d |= 0xfull << 48;                        // limit 19:16
  d |= uint64_t{code ? 0xau : 0x2u} << 40;  // type: code exec/read, or data read/write
  d |= 1ull << 44;                          // S: code or data
  d |= uint64_t{dpl & 3} << 45;             // DPL
  d |= 1ull << 47;                          // P
  d |= uint64_t{code ? 1u : 0u} << 53;      // L: 64-bit code
  d |= uint64_t{code ? 0u : 1u} << 54;      // D/B: 32-bit stack for data (ignored in 64-bit)
  d |= 1ull << 55;                          // G: 4 KiB granularity
  return d;
}

/// The two quadwords of a 64-bit TSS descriptor [sdm3] 7.2.3 (type 9,
/// available). `limit` is the TSS size minus one: it must be exact, since an
/// I/O-bitmap offset at or beyond it is what says "no I/O bitmap".
struct SystemDescriptor {
  uint64_t low;
  uint64_t high;
};
constexpr SystemDescriptor tss_descriptor(uint64_t base, uint32_t limit) {
  uint64_t lo = 0;
  lo |= limit & 0xffffull;
  lo |= (base & 0xffffffull) << 16;
  lo |= 0x9ull << 40;  // type: 64-bit TSS, available
  lo |= 1ull << 47;    // P
  lo |= uint64_t{(limit >> 16) & 0xf} << 48;
  lo |= ((base >> 24) & 0xffull) << 56;
  return SystemDescriptor{lo, base >> 32};
}

/// A 16-byte interrupt gate [sdm3] 6.14.1.
struct IdtGate {
  uint16_t offset_lo;
  uint16_t selector;
  uint8_t ist;        // bits 2:0: interrupt stack table index (0 = none)
  uint8_t type_attr;  // P, DPL, type (0xe interrupt gate)
  uint16_t offset_mid;
  uint32_t offset_hi;
  uint32_t reserved;
};
static_assert(sizeof(IdtGate) == 16, "[sdm3] 6.14.1: 64-bit IDT gates are 16 bytes");

/// An interrupt gate (IF cleared on entry) to `handler` on the kernel code
/// segment; dpl 3 lets user code raise it with INT n (for #BP, later).
constexpr IdtGate interrupt_gate(uint64_t handler, unsigned ist, unsigned dpl) {
  return IdtGate{
      static_cast<uint16_t>(handler & 0xffff),
      kKernelCodeSelector,
      static_cast<uint8_t>(ist & 7),
      static_cast<uint8_t>(0x80 | ((dpl & 3) << 5) | 0xe),
      static_cast<uint16_t>((handler >> 16) & 0xffff),
      static_cast<uint32_t>(handler >> 32),
      0,
  };
}

constexpr uint64_t gate_offset(const IdtGate& g) {
  return uint64_t{g.offset_lo} | (uint64_t{g.offset_mid} << 16) | (uint64_t{g.offset_hi} << 32);
}

/// The operand of LGDT/LIDT [sdm3] 2.4.1.
struct [[gnu::packed]] DescriptorTablePointer {
  uint16_t limit;
  uint64_t base;
};
static_assert(sizeof(DescriptorTablePointer) == 10);

}  // namespace arch
