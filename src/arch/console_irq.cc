// Console input by interrupt (see console_irq.h).
#include "src/arch/console_irq.h"

#include "src/arch/console.h"
#include "src/arch/irq_routing.h"
#include "src/arch/local_apic.h"
#include "src/arch/vectors.h"

namespace arch {

void console_irq_init() {
  // COM1 is ISA IRQ 4 ([16550] on PC boards).
  constexpr uint8_t kCom1Irq = 4;
  constexpr uint8_t kVector = kVectorIrqBase + kCom1Irq;
  if (route_isa_irq(kCom1Irq, kVector, 0).ok()) {
    console_enable_receive_interrupt(kVector, lapic_eoi);
    kprint("serial: receive interrupts on IRQ {} -> vector {:#x}, cpu 0\n", kCom1Irq, kVector);
  } else {
    kprint("serial: no IOAPIC route for IRQ {}; input is polled\n", kCom1Irq);
  }
}

}  // namespace arch
