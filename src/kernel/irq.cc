// IOAPIC set-up and ISA IRQ routing (see irq.h).
#include "src/kernel/irq.h"

#include "src/arch/boot_paging.h"
#include "src/arch/ioapic.h"
#include "src/arch/spinlock.h"
#include "src/kernel/console.h"
#include "src/kernel/cpus.h"

namespace kernel {
namespace {

// Selecting a register and reading its window are two accesses: one lock
// keeps CPUs from interleaving them.
constinit arch::SpinLock ioapic_lock;
constinit const Platform* platform_ = nullptr;

arch::IoApic<arch::IoApicMmio> ioapic_at(uint32_t address) {
  return arch::IoApic<arch::IoApicMmio>(arch::IoApicMmio{reinterpret_cast<volatile uint32_t*>(uint64_t{address})});
}

}  // namespace

void irq_init(const Platform& platform) {
  platform_ = &platform;
  for (const auto& io : platform.madt.ioapics) {
    arch::boot_map_uncached(io.address);
    arch::SpinLockGuard guard(ioapic_lock);
    auto dev = ioapic_at(io.address);
    dev.mask_all();
  }
}

base::Status route_isa_irq(uint8_t irq, uint8_t vector, uint32_t cpu) {
  if (platform_ == nullptr || !platform_->from_acpi) return base::Error::kNotFound;
  const auto& madt = platform_->madt;
  arch::IsaRoute r = arch::isa_irq_route(
      irq, base::Span<const arch::acpi::InterruptOverride>(madt.overrides.begin(), madt.overrides.size()));
  for (const auto& io : madt.ioapics) {
    arch::SpinLockGuard guard(ioapic_lock);
    auto dev = ioapic_at(io.address);
    if (r.gsi < io.gsi_base || r.gsi > io.gsi_base + dev.max_redirection_entry()) continue;
    dev.route(r.gsi - io.gsi_base, vector, cpu_block(cpu).apic_id, r.active_low, r.level);
    return base::Status::Ok();
  }
  return base::Error::kNotFound;
}

}  // namespace kernel
