// In-kernel tests of the descriptor tables as loaded: the segment
// registers hold the kernel selectors and every IDT vector has a gate.
#include "src/arch/descriptor.h"
#include "src/ktest/ktest.h"

namespace {

KTEST(arch, segments_loaded) {
  uint16_t cs, ds, ss;
  asm volatile("mov %%cs, %0; mov %%ds, %1; mov %%ss, %2" : "=r"(cs), "=r"(ds), "=r"(ss));
  KEXPECT_EQ(cs, arch::kKernelCodeSelector);
  KEXPECT_EQ(ds, arch::kKernelDataSelector);
  KEXPECT_EQ(ss, arch::kKernelDataSelector);
}

KTEST(arch, idt_covers_every_vector) {
  arch::DescriptorTablePointer p;
  asm volatile("sidt %0" : "=m"(p));
  KASSERT_EQ(p.limit, 256 * sizeof(arch::IdtGate) - 1);
  const auto* gates = reinterpret_cast<const arch::IdtGate*>(p.base);
  for (unsigned v = 0; v < 256; ++v) {
    KASSERT_EQ(gates[v].type_attr & 0x8f, 0x8e);  // present 64-bit interrupt gate
    KASSERT_EQ(gates[v].selector, arch::kKernelCodeSelector);
    KASSERT_NE(arch::gate_offset(gates[v]), 0u);
  }
}

}  // namespace
