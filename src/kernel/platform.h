// Platform discovery at boot: the ACPI MADT's CPUs, IOAPICs and interrupt
// overrides, and the FADT's reset register and PM timer. A missing or malformed table is reported and the kernel falls
// back to the boot CPU alone. Boot (thread context, one CPU).
#pragma once

#include "src/arch/acpi.h"
#include "src/arch/multiboot2.h"

namespace kernel {

/// What the MADT said, or the single-CPU fallback.
struct Platform {
  bool from_acpi = false;
  arch::acpi::Madt madt;              // lists empty in the fallback
  uint64_t lapic_phys = 0xfee0'0000;  // [sdm3] 10.4.1: the reset default
  // The FADT's PM timer, calibration's second clock; else why there is none.
  bool have_pm_timer = false;
  arch::acpi::PmTimerBlock pm_timer;
  const char* no_pm_timer_why = "no ACPI tables";
};

/// Reads ACPI through mm::phys_window (the direct map, or a fixmap for
/// tables outside it), so call it after mm::vm_init. Never panics.
Platform discover_platform(const arch::mb2::BootInfo& info);

/// The FADT's reset register found by discover_platform, for `reboot`; null
/// when there is none, with *why saying why (never null then). Any context
/// after discovery.
const arch::acpi::ResetRegister* reset_register(const char** why);

}  // namespace kernel
