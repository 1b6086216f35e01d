// The kernel's interrupt vector assignments, and Vector, the type they
// have. Exceptions are 0-31 ([sdm3] 6.3.1, trap.h); the rest are ours.
// Higher vectors have higher priority at the LAPIC (the class is
// vector >> 4, [sdm3] 10.8.3.1), so IPIs that must not wait sit at the top.
#pragma once

#include "src/base/types.h"

namespace arch {

/// An interrupt vector, the IDT slot an interrupt or exception lands in
/// ([sdm3] 6.2): what the IDT, the LAPIC's LVT and ICR and the IOAPIC's
/// redirection entries take. A type of its own, so that an IRQ line, an
/// IOAPIC pin or a CPU number cannot be passed where a vector belongs (all
/// small integers); `.value` is the way back, for descriptor and register
/// fields and the trap frame the stubs push.
struct Vector {
  constexpr Vector() = default;
  constexpr explicit Vector(uint8_t v) : value(v) {}
  constexpr bool operator==(const Vector&) const = default;

  uint8_t value = 0;
};

inline constexpr uint8_t kIsaIrqVectorBase = 0x20;  // ISA IRQ n through the IOAPIC: 0x20 + n

/// The vector ISA IRQ `irq` (0..15) is routed to.
constexpr Vector isa_irq_vector(uint8_t irq) { return Vector(static_cast<uint8_t>(kIsaIrqVectorBase + irq)); }

inline constexpr Vector kVectorPitTimer = isa_irq_vector(0);  // ISA IRQ 0, when the PIT ticks instead
inline constexpr Vector kVectorLapicTimer{0x40};
inline constexpr Vector kVectorProfTimer{0x50};    // the PIT, when prof samples from a maskable interrupt
inline constexpr Vector kVectorIpiTest{0xe0};      // diagnostics and in-kernel tests
inline constexpr Vector kVectorIpiRtDrain{0xe4};   // rt: give this CPU's heap credit back to the budget
inline constexpr Vector kVectorIpiProfTick{0xe8};  // prof's timer path: the boot CPU passes each tick on
inline constexpr Vector kVectorIpiReschedule{0xf0};
inline constexpr Vector kVectorIpiTlbShootdown{0xf1};
inline constexpr Vector kVectorIpiPerfMask{0xf2};
inline constexpr Vector kVectorLapicError{0xfe};
inline constexpr Vector kVectorSpurious{0xff};  // low nibble all ones, as P6-era APICs require

}  // namespace arch
