// I/O APIC logic [ioapic]: redirection-table programming through the
// IOREGSEL/IOWIN window, and ISA IRQ -> GSI routing from the MADT's
// interrupt source overrides [acpi] 5.2.12.5. Regs abstracts the two MMIO
// registers so host tests run the logic against a fake register file.
//
// Contexts: every IoApic access is an index write (IOREGSEL) followed by a
// data access (IOWIN), so two users interleaving on one IOAPIC corrupt each
// other. Call IoApic methods with interrupts disabled and under whatever lock
// serialises that IOAPIC (or during single-threaded boot); never from NMI
// context. isa_irq_route() and the encodings are pure: any context.
#pragma once

#include "src/arch/acpi.h"
#include "src/arch/apic_id.h"
#include "src/arch/vectors.h"
#include "src/base/assert.h"
#include "src/base/span.h"
#include "src/base/types.h"

namespace arch {

// ---------------------------------------------------------------------------
// Layout [ioapic] 3.0, 3.2: two 32-bit MMIO registers select and access the
// indirect registers.

/// Offsets in the MMIO window.
inline constexpr uint32_t kIoApicRegSel = 0x00;
inline constexpr uint32_t kIoApicWindow = 0x10;

/// Indirect register indices.
inline constexpr uint32_t kIoApicId = 0x00;
inline constexpr uint32_t kIoApicVersion = 0x01;
inline constexpr uint32_t kIoApicRedirBase = 0x10;

/// Default physical base of the first IOAPIC (the MADT's IoApic::address
/// is authoritative).
inline constexpr uint64_t kIoApicDefaultBase = 0xfec0'0000;

/// Highest pin whose two redirection registers an 8-bit IOREGSEL index can
/// reach (0x10 + 2 * 0x77 + 1 == 0xff). Real parts have 24 pins; QEMU 24.
inline constexpr uint32_t kIoApicMaxPin = 0x77;

/// Register index of pin `pin`'s low dword; the high dword is the next one.
constexpr uint32_t ioapic_redir_low(uint32_t pin) { return kIoApicRedirBase + 2 * pin; }
constexpr uint32_t ioapic_redir_high(uint32_t pin) { return ioapic_redir_low(pin) + 1; }
static_assert(ioapic_redir_low(0) == 0x10 && ioapic_redir_high(0) == 0x11);
static_assert(ioapic_redir_low(23) == 0x3e && ioapic_redir_high(kIoApicMaxPin) == 0xff);

/// Version register (index 0x01) [ioapic] 3.2.2: the maximum redirection
/// entry (pins - 1) is bits 23:16.
constexpr uint32_t ioapic_max_entry(uint32_t version_reg) { return (version_reg >> 16) & 0xff; }
static_assert(ioapic_max_entry(0x0017'0011) == 23, "82093AA: 24 entries, version 0x11");

// ---------------------------------------------------------------------------
// Redirection entry encoding [ioapic] 3.2.4. Delivery mode is fixed (000)
// for device interrupts and NMI (100) for the profiler's periodic source;
// destination mode is always physical (bit 11 clear): one CPU, named by its
// APIC id.

inline constexpr uint32_t kRedirDeliveryFixed = 0b000 << 8;
inline constexpr uint32_t kRedirDeliveryNmi = 0b100 << 8;
inline constexpr uint32_t kRedirActiveLow = 1u << 13;
inline constexpr uint32_t kRedirLevel = 1u << 15;
inline constexpr uint32_t kRedirMasked = 1u << 16;

/// Low dword: vector 7:0, delivery mode 10:8, polarity 13 (1 = active
/// low), trigger 15 (1 = level), mask 16. Read-only bits (delivery status
/// 12, remote IRR 14) are written as 0, which the IOAPIC ignores.
constexpr uint32_t redir_low(Vector vector, bool active_low, bool level, bool masked) {
  return vector.value | kRedirDeliveryFixed | (active_low ? kRedirActiveLow : 0) | (level ? kRedirLevel : 0) |
         (masked ? kRedirMasked : 0);
}
/// High dword: the physical destination APIC id in bits 63:56.
constexpr uint32_t redir_high(uint8_t dest_apic_id) { return uint32_t{dest_apic_id} << 24; }
/// An NMI entry: [ioapic] 3.2.4 ignores the vector for NMI delivery and
/// treats it as edge triggered whatever the trigger bit says, so the entry
/// is written edge-triggered with vector 0 and only the pin's polarity kept.
constexpr uint32_t redir_low_nmi(bool active_low, bool masked) {
  return kRedirDeliveryNmi | (active_low ? kRedirActiveLow : 0) | (masked ? kRedirMasked : 0);
}
static_assert(redir_low(Vector(0x20), false, false, false) == 0x0000'0020);
static_assert(redir_low_nmi(false, false) == 0x0000'0400 && redir_low_nmi(true, true) == 0x0001'2400);
static_assert(redir_low(Vector(0x29), true, true, false) == 0x0000'a029);
static_assert(redir_low(Vector(0), false, false, true) == 0x0001'0000);
static_assert(redir_high(3) == 0x0300'0000);

// ---------------------------------------------------------------------------
// ISA routing [acpi] 5.2.12.5.

/// Where an ISA IRQ arrives and how it is signalled.
struct IsaRoute {
  uint32_t gsi;
  bool active_low;
  bool level;
  constexpr bool operator==(const IsaRoute&) const = default;
};

/// The route of ISA `irq`: the interrupt source override for it (bus 0)
/// when the MADT has one, else identity-mapped. Polarity and trigger take
/// the override's MPS INTI flags; "conforms to the bus" (00) means the ISA
/// default, edge and active high. The reserved encoding (10) is also read
/// as the bus default: it is firmware error, and ISA's default is what the
/// legacy PIC would have delivered.
constexpr IsaRoute isa_irq_route(uint8_t irq, base::Span<const acpi::InterruptOverride> overrides) {
  for (const acpi::InterruptOverride& o : overrides) {
    if (o.bus != 0 || o.source_irq != irq) continue;
    return {o.gsi, o.polarity == acpi::Polarity::kActiveLow, o.trigger == acpi::Trigger::kLevel};
  }
  return {irq, false, false};
}
static_assert(isa_irq_route(4, {}) == IsaRoute{4, false, false});

// ---------------------------------------------------------------------------
// I/O: a Regs type provides
//   uint32_t read(uint32_t offset);  void write(uint32_t offset, uint32_t v);
// on the MMIO window, offsets kIoApicRegSel and kIoApicWindow.

/// The kernel provider: the IOAPIC's MMIO page mapped uncached at `base`.
/// Accesses are single aligned 32-bit loads and stores, the only width the
/// 82093AA accepts [ioapic] 3.0.
struct IoApicMmio {
  volatile uint32_t* base;

  uint32_t read(uint32_t offset) const { return base[offset / 4]; }
  void write(uint32_t offset, uint32_t v) const { base[offset / 4] = v; }
};

// ---------------------------------------------------------------------------
// Logic.

/// One IOAPIC. Pins are local to it: pin = GSI - acpi::IoApic::gsi_base.
template <typename Regs>
class IoApic {
 public:
  explicit constexpr IoApic(Regs regs) : regs_(regs) {}

  /// Highest pin number (pins - 1) [ioapic] 3.2.2.
  uint32_t max_redirection_entry() { return ioapic_max_entry(read_reg(kIoApicVersion)); }

  /// Masks every pin, writing each low dword as masked with everything else
  /// cleared (firmware may have left entries live; boot starts from none).
  /// The high dwords are left alone: a masked entry's destination is unused.
  void mask_all() {
    const uint32_t max = max_redirection_entry();
    for (uint32_t pin = 0; pin <= max && pin <= kIoApicMaxPin; ++pin) {
      write_reg(ioapic_redir_low(pin), redir_low(Vector(0), false, false, true));
    }
  }

  /// Routes `pin` to `vector` on the CPU with APIC id `dest`
  /// (physical, fixed delivery) and unmasks it. The caller checks `pin`
  /// against max_redirection_entry(). The high dword is written first: the
  /// entry becomes live only with the low write, so it never fires with a
  /// half-written destination. Vectors 0x10-0xfe are valid [ioapic] 3.2.4;
  /// destinations are 8-bit (higher APIC ids need interrupt remapping).
  void route(uint32_t pin, Vector vector, ApicId dest, bool active_low, bool level) {
    ASSERT_MSG(pin <= kIoApicMaxPin, "ioapic: pin {} out of range", pin);
    ASSERT_MSG(vector.value >= 0x10 && vector.value != 0xff, "ioapic: vector {:#x} reserved", vector.value);
    ASSERT_MSG(dest.fits_xapic(), "ioapic: APIC id {} does not fit 8 bits", dest.value);
    write_reg(ioapic_redir_high(pin), redir_high(static_cast<uint8_t>(dest.value)));
    write_reg(ioapic_redir_low(pin), redir_low(vector, active_low, level, false));
  }

  /// Routes `pin` as an NMI to the CPU with APIC id `dest` and
  /// unmasks it; the same order and checks as route().
  void route_nmi(uint32_t pin, ApicId dest, bool active_low) {
    ASSERT_MSG(pin <= kIoApicMaxPin, "ioapic: pin {} out of range", pin);
    ASSERT_MSG(dest.fits_xapic(), "ioapic: APIC id {} does not fit 8 bits", dest.value);
    write_reg(ioapic_redir_high(pin), redir_high(static_cast<uint8_t>(dest.value)));
    write_reg(ioapic_redir_low(pin), redir_low_nmi(active_low, false));
  }

  /// Masks `pin`, keeping the rest of its entry (read-modify-write of the
  /// low dword; the read-only status bits written back are ignored).
  void mask(uint32_t pin) {
    ASSERT_MSG(pin <= kIoApicMaxPin, "ioapic: pin {} out of range", pin);
    const uint32_t reg = ioapic_redir_low(pin);
    write_reg(reg, read_reg(reg) | kRedirMasked);
  }

 private:
  uint32_t read_reg(uint32_t index) {
    regs_.write(kIoApicRegSel, index);
    return regs_.read(kIoApicWindow);
  }
  void write_reg(uint32_t index, uint32_t v) {
    regs_.write(kIoApicRegSel, index);
    regs_.write(kIoApicWindow, v);
  }

  Regs regs_;
};

}  // namespace arch
