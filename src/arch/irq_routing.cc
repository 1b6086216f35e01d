// IOAPIC set-up and ISA IRQ routing (see irq_routing.h).
#include "src/arch/irq_routing.h"

#include "src/arch/ioapic.h"
#include "src/arch/smp_boot.h"
#include "src/arch/spinlock.h"
#include "src/base/assert.h"

namespace arch {
namespace {

// Selecting a register and reading its window are two accesses: one lock
// keeps CPUs from interleaving them. It guards the devices' registers, not
// a variable: ioapic_at, their only way in, REQUIRES it.
constinit SpinLock ioapic_lock;
constinit const acpi::Madt* madt_ = nullptr;
// Each IOAPIC's register window, by MADT order.
constinit base::VirtAddr ioapic_va_[kMaxIoApics]{};

IoApic<IoApicMmio> ioapic_at(size_t i) REQUIRES(ioapic_lock) {
  return IoApic<IoApicMmio>(IoApicMmio{base::as_ptr<volatile uint32_t>(ioapic_va_[i])});
}

}  // namespace

void irq_routing_init(const acpi::Madt& madt, base::Span<const base::VirtAddr> ioapic_va) {
  ASSERT_MSG(madt.ioapics.size() <= kMaxIoApics && ioapic_va.size() == madt.ioapics.size(),
             "irq: {} IOAPICs, {} mapped, at most {}", madt.ioapics.size(), ioapic_va.size(), kMaxIoApics);
  madt_ = &madt;
  for (size_t i = 0; i < madt.ioapics.size(); ++i) {
    ioapic_va_[i] = ioapic_va[i];
    SpinLockGuard guard(ioapic_lock);
    auto dev = ioapic_at(i);
    dev.mask_all();
  }
}

namespace {

// Finds the IOAPIC serving ISA `irq`'s GSI and calls fn(ioapic, pin, route)
// under the lock; kNotFound when none does (or there is no MADT).
template <typename Fn>
base::Status with_isa_pin(uint8_t irq, Fn fn) {
  if (madt_ == nullptr) return base::Error::kNotFound;
  const auto& madt = *madt_;
  IsaRoute r =
      isa_irq_route(irq, base::Span<const acpi::InterruptOverride>(madt.overrides.begin(), madt.overrides.size()));
  for (size_t i = 0; i < madt.ioapics.size(); ++i) {
    const auto& io = madt.ioapics[i];
    SpinLockGuard guard(ioapic_lock);
    auto dev = ioapic_at(i);
    if (r.gsi < io.gsi_base || r.gsi > io.gsi_base + dev.max_redirection_entry()) continue;
    fn(dev, r.gsi - io.gsi_base, r);
    return base::Status::Ok();
  }
  return base::Error::kNotFound;
}

}  // namespace

base::Status route_isa_irq(uint8_t irq, Vector vector, CpuIndex cpu) {
  return with_isa_pin(irq, [&](auto& dev, uint32_t pin, const IsaRoute& r) {
    dev.route(pin, vector, cpu_block(cpu).apic_id, r.active_low, r.level);
  });
}

base::Status route_isa_irq_nmi(uint8_t irq, CpuIndex cpu) {
  return with_isa_pin(irq, [&](auto& dev, uint32_t pin, const IsaRoute& r) {
    dev.route_nmi(pin, cpu_block(cpu).apic_id, r.active_low);
  });
}

base::Status mask_isa_irq(uint8_t irq) {
  return with_isa_pin(irq, [&](auto& dev, uint32_t pin, const IsaRoute&) { dev.mask(pin); });
}

}  // namespace arch
