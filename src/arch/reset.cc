// Machine reset (see reset.h).
#include "src/arch/reset.h"

#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/x86.h"

namespace arch {
namespace {

// How long each step gets to take effect before the next is tried. A reset
// is immediate on QEMU; real chipsets take microseconds.
constexpr uint64_t kSettleNs = 100'000'000;

void settle() {
  const uint64_t until = nanotime() + kSettleNs;
  while (nanotime() < until) asm volatile("pause");
}

// [acpi] 4.8.3.6: write RESET_VALUE to RESET_REG. Returns false (with the
// reason printed) for a register this kernel cannot write.
bool acpi_reset(const acpi::ResetRegister& r) {
  using GA = acpi::GenericAddress;
  switch (r.reg.space_id) {
    case GA::kSystemIo:
      if (r.reg.address > 0xffff) break;
      kprint("reboot: writing {:#x} to the ACPI reset register (I/O port {:#x})\n", r.value, r.reg.address);
      outb(static_cast<uint16_t>(r.reg.address), r.value);
      return true;
    case GA::kPciConfig: {
      // Bus 0 ([acpi] 5.2.3.2); configuration mechanism #1 (PCI Local Bus
      // 3.0, 3.2.2.3.2): enable bit, device, function, dword register at
      // 0xCF8, the byte through 0xCFC plus its offset in the dword.
      const uint32_t device = static_cast<uint32_t>(r.reg.address >> 32) & 0xffff;
      const uint32_t function = static_cast<uint32_t>(r.reg.address >> 16) & 0xffff;
      const uint32_t offset = static_cast<uint32_t>(r.reg.address) & 0xffff;
      if (device > 31 || function > 7 || offset > 0xff) break;
      kprint("reboot: writing {:#x} to the ACPI reset register (PCI 00:{:02x}.{} offset {:#x})\n", r.value, device,
             function, offset);
      outl(0xcf8, 0x8000'0000u | device << 11 | function << 8 | (offset & 0xfc));
      outb(static_cast<uint16_t>(0xcfc + (offset & 3)), r.value);
      return true;
    }
    default:
      break;
  }
  kprint("reboot: ACPI reset register in address space {} at {:#x}: not supported here, skipped\n", r.reg.space_id,
         r.reg.address);
  return false;
}

// The 8042's output port bit 0 is the CPU reset line; command 0xFE pulses
// it. The command goes in when the input buffer is empty (status bit 1).
void keyboard_controller_reset() {
  constexpr uint16_t kStatus = 0x64, kCommand = 0x64;
  kprint("reboot: pulsing the reset line through the keyboard controller (port 0x64 <- 0xfe)\n");
  const uint64_t until = nanotime() + kSettleNs;
  while ((inb(kStatus) & 0x2) != 0 && nanotime() < until) asm volatile("pause");
  outb(kCommand, 0xfe);
}

// [sdm3] 6.15 (interrupt 8): an exception while delivering a double fault
// shuts the processor down, and the chipset turns shutdown into a reset. An
// IDT of limit 0 makes every vector fault.
[[noreturn]] void triple_fault() {
  kprint("reboot: triple fault (an empty IDT, then int3)\n");
  struct [[gnu::packed]] {
    uint16_t limit;
    uint64_t base;
  } empty{0, 0};
  asm volatile("cli; lidt %0; int3" ::"m"(empty) : "memory");
  halt_forever();
}

}  // namespace

void reset_machine(const acpi::ResetRegister* acpi, const char* no_acpi_reason) {
  if (acpi != nullptr) {
    if (acpi_reset(*acpi)) {
      settle();
      kprint("reboot: still running after the ACPI reset\n");
    }
  } else {
    kprint("reboot: no ACPI reset register ({})\n", no_acpi_reason);
  }
  keyboard_controller_reset();
  settle();
  kprint("reboot: still running after the keyboard controller reset\n");
  triple_fault();
}

}  // namespace arch
