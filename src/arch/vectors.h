// The kernel's interrupt vector assignments. Exceptions are 0-31
// ([sdm3] 6.3.1); the rest are ours. Higher vectors have higher priority at
// the LAPIC (the class is vector >> 4, [sdm3] 10.8.3.1), so IPIs that must
// not wait sit at the top.
#pragma once

#include "src/base/types.h"

namespace arch {

inline constexpr uint8_t kVectorIrqBase = 0x20;                 // ISA IRQ n through the IOAPIC: 0x20 + n
inline constexpr uint8_t kVectorPitTimer = kVectorIrqBase + 0;  // ISA IRQ 0, when the PIT ticks instead
inline constexpr uint8_t kVectorLapicTimer = 0x40;
inline constexpr uint8_t kVectorProfTimer = 0x50;    // the PIT, when prof samples from a maskable interrupt
inline constexpr uint8_t kVectorIpiTest = 0xe0;      // diagnostics and in-kernel tests
inline constexpr uint8_t kVectorIpiRtDrain = 0xe4;   // rt: give this CPU's heap credit back to the budget
inline constexpr uint8_t kVectorIpiProfTick = 0xe8;  // prof's timer path: the boot CPU passes each tick on
inline constexpr uint8_t kVectorIpiReschedule = 0xf0;
inline constexpr uint8_t kVectorIpiTlbShootdown = 0xf1;
inline constexpr uint8_t kVectorIpiPerfMask = 0xf2;
inline constexpr uint8_t kVectorLapicError = 0xfe;
inline constexpr uint8_t kVectorSpurious = 0xff;  // low nibble all ones, as P6-era APICs require

}  // namespace arch
