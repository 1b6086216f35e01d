// This CPU's local APIC in the mode chosen at boot (x2APIC when the CPU has
// it, else xAPIC through its MMIO page): enabling it, EOI, and the handlers
// of the vectors the LAPIC itself raises. Kernel only.
#pragma once

#include "src/arch/lapic.h"
#include "src/base/addr.h"
#include "src/base/types.h"

namespace arch {

/// The LAPIC timer's divider, for calibration and every timer mode alike.
inline constexpr TimerDivide kTimerDivide = TimerDivide::kBy16;

namespace internal {
inline constinit bool x2apic_mode = false;
inline constinit volatile uint32_t* xapic_page = nullptr;
}  // namespace internal

/// Runs f(lapic) on this CPU's LAPIC in the boot-chosen mode. Any context;
/// the caller keeps the CPU (interrupts or preemption off) across it.
template <typename F>
auto with_lapic(F f) {
  if (internal::x2apic_mode) {
    Lapic<X2apicMsr<>> l(X2apicMsr<>{});
    return f(l);
  }
  Lapic<XapicMmio> l(XapicMmio{internal::xapic_page});
  return f(l);
}

/// Chooses the mode (x2APIC when `x2apic`, else xAPIC at `xapic_va`, the
/// register page at `lapic_phys` already mapped uncached; the physical
/// address is for the messages), switches the boot CPU to it,
/// checks the LAPIC is an integrated one, masks the 8259s and installs the
/// spurious, NMI, error and reschedule handlers. Boot CPU, interrupts off.
void lapic_init_boot(bool x2apic, base::VirtAddr xapic_va, base::PhysAddr lapic_phys);

/// True when the LAPICs run in x2APIC mode.
inline bool lapic_x2apic_mode() { return internal::x2apic_mode; }

/// Puts this CPU's LAPIC in the boot-chosen mode (an AP starts in xAPIC).
void lapic_enable_mode_this_cpu();

/// Enables this CPU's LAPIC: all priorities accepted, errors reported.
/// Interrupts off.
void lapic_setup_this_cpu();

/// This CPU's APIC id.
ApicId lapic_id();

/// End of interrupt on this CPU's LAPIC. Interrupt context.
inline void lapic_eoi() {
  with_lapic([](auto& l) {
    l.eoi();
    return 0;
  });
}

}  // namespace arch
