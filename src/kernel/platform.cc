// ACPI-based platform discovery (see platform.h).
#include "src/kernel/platform.h"

#include "src/mm/kernel_vm.h"

#include "src/arch/console.h"

namespace kernel {
namespace {

// Enough for the largest supported MAX_CPUS (256); entries beyond are
// counted as dropped and reported.
constinit arch::acpi::MadtArrays<256> madt_arrays{};

// Firmware tables anywhere in physical memory: the direct map where it
// covers them (ACPI tables are RAM, which it maps), else a fixmap; a range
// neither can map is reported unreadable by the parser.
const uint8_t* map_firmware(void*, base::PhysAddr phys, size_t len) {
  return static_cast<const uint8_t*>(mm::phys_window(phys, len));
}

// The FADT's reset register (written once, during boot discovery).
constinit arch::acpi::ResetRegister reset_reg{};
constinit bool have_reset_reg = false;
constinit const char* no_reset_reg_why = "ACPI tables not read";

void find_reset_register(const arch::acpi::RootTable& root) {
  arch::acpi::ParseError err;
  auto fadt = root.find_table("FACP", &err);
  if (!fadt.ok()) {
    no_reset_reg_why = fadt.error() == base::Error::kNotFound ? "no FADT" : "FADT unreadable";
    return;
  }
  auto reg = arch::acpi::parse_fadt_reset(fadt.value(), &err);
  if (!reg.ok()) {
    no_reset_reg_why = err.what != nullptr ? err.what : base::error_name(reg.error());
    return;
  }
  reset_reg = reg.value();
  have_reset_reg = true;
}

void find_pm_timer(const arch::acpi::RootTable& root, Platform* p) {
  arch::acpi::ParseError err;
  auto fadt = root.find_table("FACP", &err);
  if (!fadt.ok()) {
    p->no_pm_timer_why = fadt.error() == base::Error::kNotFound ? "no FADT" : "FADT unreadable";
    return;
  }
  auto timer = arch::acpi::parse_fadt_pm_timer(fadt.value(), &err);
  if (!timer.ok()) {
    p->no_pm_timer_why = err.what != nullptr ? err.what : base::error_name(timer.error());
    return;
  }
  p->pm_timer = timer.value();
  p->have_pm_timer = true;
}

void report(const char* step, base::Error e, const arch::acpi::ParseError& err) {
  arch::kprint("acpi: {}: {} ({} at {:#x}+{:#x}, value {:#x}); continuing with the boot CPU only\n", step,
               base::error_name(e), err.what ? err.what : "?", err.address, err.offset, err.value);
}

// A second MADT is unusual enough to name, and a skipped one must say why;
// the usual single valid MADT goes unmentioned.
void note_madt(void*, const arch::acpi::MadtVerdict& v) {
  if (!v.valid) {
    arch::kprint("acpi: MADT #{} at {:#x} skipped: {} ({} at +{:#x}, value {:#x})\n", v.index, v.address,
                 base::error_name(v.error), v.why.what ? v.why.what : "?", v.why.offset, v.why.value);
  } else if (!v.chosen) {
    arch::kprint("acpi: MADT #{} at {:#x} ({} CPUs) ignored: the first valid one, #{} at {:#x}, is used\n", v.index,
                 v.address, v.cpus, v.chosen_index, v.chosen_address);
  } else if (v.index > 0) {
    arch::kprint("acpi: MADT #{} at {:#x} ({} CPUs) used\n", v.index, v.address, v.cpus);
  }
}

}  // namespace

Platform discover_platform(const arch::mb2::BootInfo& info) {
  Platform p;
  arch::acpi::PhysMap mem{&map_firmware, nullptr};
  arch::acpi::ParseError err;
  base::Span<const uint8_t> tag = info.acpi_new_rsdp();
  if (tag.empty()) tag = info.acpi_old_rsdp();
  auto rsdp = arch::acpi::find_rsdp(tag, mem, &err);
  if (!rsdp.ok()) {
    report("no usable RSDP", rsdp.error(), err);
    return p;
  }
  auto root = arch::acpi::RootTable::open(rsdp.value(), mem, &err);
  if (!root.ok()) {
    report("root table", root.error(), err);
    return p;
  }
  find_reset_register(root.value());
  find_pm_timer(root.value(), &p);
  auto madt =
      arch::acpi::choose_madt(root.value(), madt_arrays.storage(), arch::acpi::MadtObserver{&note_madt, nullptr}, &err);
  if (!madt.ok()) {
    report("MADT", madt.error(), err);
    return p;
  }
  p.madt = madt.value();
  if (p.madt.cpus.dropped() > 0)
    arch::kprint("acpi: MADT lists {} CPUs; only the first {} are considered\n", p.madt.cpus.total(),
                 p.madt.cpus.size());
  if (p.madt.enabled_cpus() == 0) {
    arch::kprint("acpi: MADT lists no enabled CPU; continuing with the boot CPU only\n");
    return p;
  }
  p.from_acpi = true;
  p.lapic_phys = p.madt.local_apic_address;
  return p;
}

const arch::acpi::ResetRegister* reset_register(const char** why) {
  if (have_reset_reg) return &reset_reg;
  *why = no_reset_reg_why;
  return nullptr;
}

}  // namespace kernel
