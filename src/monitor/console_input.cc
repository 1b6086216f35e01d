// The monitor's console input (see console_input.h).
#include "src/monitor/console_input.h"

#include "src/arch/console.h"
#include "src/arch/irq_routing.h"
#include "src/arch/local_apic.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/base/atomic.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace monitor {
namespace {

// The thread waiting for input, or null. Written by that thread before it
// checks for input; read by the interrupt after it filled the ring.
constinit base::Atomic<sched::Thread*> reader{nullptr};

void on_receive(arch::TrapFrame&) {
  arch::console_receive();
  // Store-load order against the reader's: it publishes itself and then
  // checks the ring; this fills the ring and then reads it. One of the two
  // sees the other ([sdm3] 9.2.3.4: a fence, since a store may pass a load).
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  sched::Thread* t = reader.load(base::MemoryOrder::kAcquire);
  if (t != nullptr) sched::wake(t);
  arch::lapic_eoi();
}

}  // namespace

void console_input_init() {
  // COM1 is ISA IRQ 4 on PC boards.
  constexpr uint8_t kCom1Irq = 4;
  constexpr arch::Vector kVector = arch::isa_irq_vector(kCom1Irq);
  if (!arch::route_isa_irq(kCom1Irq, kVector, arch::CpuIndex(0)).ok()) {
    arch::kprint("serial: no IOAPIC route for IRQ {}; input is polled\n", kCom1Irq);
    return;
  }
  arch::set_trap_handler(kVector, on_receive);
  arch::console_use_receive_interrupt();
  arch::kprint("serial: receive interrupts on IRQ {} -> vector {:#x}, cpu 0\n", kCom1Irq, kVector.value);
}

void wait_for_console_input() {
  if (!arch::console_receive_interrupt_on()) {
    sched::sleep_for(1'000'000);  // polled: console_try_read drains the UART
    return;
  }
  reader.store(sched::current(), base::MemoryOrder::kSeqCst);
  sched::block_until([] { return arch::console_input_pending(); });
  reader.store(nullptr, base::MemoryOrder::kRelease);
}

}  // namespace monitor
