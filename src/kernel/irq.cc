// IOAPIC set-up and ISA IRQ routing (see irq.h).
#include "src/kernel/irq.h"

#include "src/arch/console.h"
#include "src/arch/ioapic.h"
#include "src/arch/smp_boot.h"
#include "src/arch/spinlock.h"
#include "src/mm/kernel_vm.h"

namespace kernel {
namespace {

// Selecting a register and reading its window are two accesses: one lock
// keeps CPUs from interleaving them.
constinit arch::SpinLock ioapic_lock;
constinit const Platform* platform_ = nullptr;
// Each IOAPIC's registers in the fixmap, by MADT order.
constexpr size_t kMaxIoApics = 16;  // MadtArrays' default capacity
constinit uint64_t ioapic_va[kMaxIoApics]{};

arch::IoApic<arch::IoApicMmio> ioapic_at(size_t i) {
  return arch::IoApic<arch::IoApicMmio>(arch::IoApicMmio{reinterpret_cast<volatile uint32_t*>(ioapic_va[i])});
}

}  // namespace

void irq_init(const Platform& platform) {
  platform_ = &platform;
  ASSERT_MSG(platform.madt.ioapics.size() <= kMaxIoApics, "more than {} IOAPICs", kMaxIoApics);
  for (size_t i = 0; i < platform.madt.ioapics.size(); ++i) {
    // [ioapic] 3.0: the register window is IOREGSEL and IOWIN, 0x20 bytes.
    base::Result<uint64_t> va = mm::fixmap(platform.madt.ioapics[i].address, 0x20, /*uncached=*/true);
    if (!va.ok()) PANIC("irq: cannot map the IOAPIC at {:#x}: {}", platform.madt.ioapics[i].address, base::error_name(va.error()));
    ioapic_va[i] = va.value();
    arch::SpinLockGuard guard(ioapic_lock);
    auto dev = ioapic_at(i);
    dev.mask_all();
  }
}

base::Status route_isa_irq(uint8_t irq, uint8_t vector, uint32_t cpu) {
  if (platform_ == nullptr || !platform_->from_acpi) return base::Error::kNotFound;
  const auto& madt = platform_->madt;
  arch::IsaRoute r = arch::isa_irq_route(
      irq, base::Span<const arch::acpi::InterruptOverride>(madt.overrides.begin(), madt.overrides.size()));
  for (size_t i = 0; i < madt.ioapics.size(); ++i) {
    const auto& io = madt.ioapics[i];
    arch::SpinLockGuard guard(ioapic_lock);
    auto dev = ioapic_at(i);
    if (r.gsi < io.gsi_base || r.gsi > io.gsi_base + dev.max_redirection_entry()) continue;
    dev.route(r.gsi - io.gsi_base, vector, arch::cpu_block(cpu).apic_id, r.active_low, r.level);
    return base::Status::Ok();
  }
  return base::Error::kNotFound;
}

}  // namespace kernel
