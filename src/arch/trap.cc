// IDT and GDT setup for the boot CPU, and the C++ side of trap dispatch.
#include "src/arch/trap.h"

#include "src/arch/descriptor.h"
#include "src/arch/lazy_tlb.h"
#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/tss.h"
#include "src/base/assert.h"

extern "C" const uint64_t trap_stub_table[256];

namespace arch {
namespace {

alignas(16) constinit IdtGate idt[256]{};
constinit TrapHandler handlers[256]{};
constinit TrapHandler unhandled = nullptr;

// Null, kernel code, kernel data, user data, user code, then one 16-byte
// TSS descriptor per CPU (filled by tss_install).
constexpr size_t kGdtEntries = kFirstTssSelector / 8 + 2 * kMaxCpus;
alignas(16) constinit uint64_t gdt[kGdtEntries] = {
    0,
    segment_descriptor(true, 0),
    segment_descriptor(false, 0),
    segment_descriptor(false, 3),
    segment_descriptor(true, 3),
};
static_assert(kFirstTssSelector / 8 == 5);

// The gate's IST slot for vectors that must not run on a possibly broken
// stack.
unsigned ist_for(unsigned vector) {
  switch (vector) {
    case kVectorNmi.value:
      return kIstNmi;
    case kVectorDoubleFault.value:
      return kIstDoubleFault;
    case kVectorMachineCheck.value:
      return kIstMachineCheck;
    case kVectorPageFault.value:
      return kIstPageFault;
    default:
      return 0;
  }
}

}  // namespace

const char* vector_name(Vector vector) {
  const uint8_t v = vector.value;
  static constexpr const char* kNames[32] = {
      "divide error",
      "debug",
      "NMI",
      "breakpoint",
      "overflow",
      "BOUND range exceeded",
      "invalid opcode",
      "device not available",
      "double fault",
      "coprocessor segment overrun",
      "invalid TSS",
      "segment not present",
      "stack-segment fault",
      "general protection",
      "page fault",
      "reserved 15",
      "x87 floating-point error",
      "alignment check",
      "machine check",
      "SIMD floating-point",
      "virtualization",
      "control protection",
      "reserved 22",
      "reserved 23",
      "reserved 24",
      "reserved 25",
      "reserved 26",
      "reserved 27",
      "hypervisor injection",
      "VMM communication",
      "security",
      "reserved 31",
  };
  return v < 32 ? kNames[v] : "interrupt";
}

void set_trap_handler(Vector vector, TrapHandler fn) { handlers[vector.value] = fn; }
TrapHandler trap_handler(Vector vector) { return handlers[vector.value]; }
void set_unhandled_trap_handler(TrapHandler fn) { unhandled = fn; }

void report_unhandled_trap(TrapFrame& frame) {
  if (unhandled != nullptr) return unhandled(frame);
  for (;;) asm volatile("cli; hlt");
}

void idt_init() {
  for (unsigned v = 0; v < 256; ++v) {
    // #BP is reachable with INT3 from any privilege level ([sdm3] 6.12.1.1).
    idt[v] = interrupt_gate(trap_stub_table[v], ist_for(v), v == kVectorBreakpoint.value ? 3 : 0);
  }
  idt_load();
}

void idt_load() {
  DescriptorTablePointer p{sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
  asm volatile("lidt %0" ::"m"(p));
}

void tss_install(CpuIndex cpu, Tss* tss) {
  const uint32_t index = cpu.value;
  ASSERT_MSG(index < kMaxCpus, "tss_install: cpu {} beyond MAX_CPUS", index);
  tss->iomap_base = sizeof(Tss);
  SystemDescriptor d = tss_descriptor(reinterpret_cast<uint64_t>(tss), kTssLimit);
  size_t slot = kFirstTssSelector / 8 + 2 * index;
  gdt[slot] = d.low;
  gdt[slot + 1] = d.high;
  uint16_t selector = static_cast<uint16_t>(slot * 8);
  asm volatile("ltr %0" ::"r"(selector) : "memory");
}

void gdt_init() {
  DescriptorTablePointer p{sizeof(gdt) - 1, reinterpret_cast<uint64_t>(gdt)};
  asm volatile(
      "lgdt %0\n"
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"  // reload CS with a far return [sdm3] 3.4.3
      "1:\n"
      "movw %w2, %%ds\n"
      "movw %w2, %%es\n"
      "movw %w2, %%ss\n"
      :
      : "m"(p), "i"(uint64_t{kKernelCodeSelector}), "r"(uint32_t{kKernelDataSelector})
      : "rax", "memory");
}

}  // namespace arch

extern "C" void trap_dispatch(arch::TrapFrame* frame) {
  // First: a CPU woken from a lazy halt flushes a TLB that shootdowns
  // skipped before any handler (an NMI's too) touches a kernel address
  // (lazy_tlb.h says why the handlers could otherwise see a stale one).
  arch::PerCpu& cpu = arch::this_cpu();
  arch::lazy_tlb_exit(cpu.index);
  const arch::Vector vector = arch::frame_vector(*frame);
  arch::TrapHandler fn = arch::handlers[vector.value];
  if (fn == nullptr) fn = arch::unhandled;
  if (fn != nullptr && vector == arch::kVectorNmi) {
    // An NMI may land anywhere, this very function included: it must not
    // touch the state below, and its handler allocates nothing.
    fn(*frame);
    return;
  }
  if (fn != nullptr) {
    // Heap allocations in a handler are the CPU's, not the interrupted
    // thread's reservation. A handler that switched threads comes back
    // with heap_charge already set for this thread by the switch, perhaps
    // on another CPU: restore only what this CPU's block still holds.
    mm::HeapCharge* interrupted = cpu.heap_charge;
    cpu.heap_charge = cpu.heap_cpu_charge;
    fn(*frame);
    arch::PerCpu& now = arch::this_cpu();
    if (&now == &cpu && now.heap_charge == now.heap_cpu_charge) now.heap_charge = interrupted;
    return;
  }
  // No report path installed yet (a fault during earliest boot): stop here.
  for (;;) asm volatile("cli; hlt");
}
