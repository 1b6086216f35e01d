// This CPU's local APIC (see local_apic.h): mode choice and the handlers
// of the LAPIC's own vectors.
#include "src/arch/local_apic.h"

#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/arch/pic8259.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"

namespace arch {
namespace {

void on_nmi(TrapFrame&) { ++this_cpu().nmis_received; }

// [sdm3] 10.9: a spurious interrupt is not in service; no EOI.
void on_spurious(TrapFrame&) {}

// The reschedule IPI only has to end a HLT; the idle loop does the rest.
void on_kick(TrapFrame&) { lapic_eoi(); }

void on_lapic_error(TrapFrame&) {
  uint32_t esr = with_lapic([](auto& l) { return l.read_error_status(); });
  kprint("lapic: error on cpu {}: ESR={:#x}\n", this_cpu().index.value, esr);
  lapic_eoi();
}

}  // namespace

void lapic_enable_mode_this_cpu() {
  if (internal::x2apic_mode) wrmsr(kIa32ApicBase, apic_base_x2apic(rdmsr(kIa32ApicBase)));
}

void lapic_init_boot(bool x2apic, base::VirtAddr xapic_va, base::PhysAddr lapic_phys) {
  internal::x2apic_mode = x2apic;
  if (!x2apic) internal::xapic_page = base::as_ptr<volatile uint32_t>(xapic_va);
  lapic_enable_mode_this_cpu();

  pic8259_remap_and_mask(PortIo{});
  set_trap_handler(Vector(kVectorPicBase + 7), on_spurious);
  set_trap_handler(Vector(kVectorPicBase + 15), on_spurious);
  set_trap_handler(kVectorNmi, on_nmi);
  set_trap_handler(kVectorSpurious, on_spurious);
  set_trap_handler(kVectorLapicError, on_lapic_error);
  set_trap_handler(kVectorIpiReschedule, on_kick);

  // [sdm3] 10.4.8: an integrated APIC reports version 0x1X; anything else
  // (an 82489DX, or no APIC answering at all) cannot run this kernel.
  LapicVersion version = with_lapic([](auto& l) { return l.version(); });
  if (version.version < 0x10 || version.version > 0x1f)
    PANIC("local APIC version {:#x} at {:#x}: not an integrated xAPIC/x2APIC", version.version, lapic_phys.value());
  with_lapic([](auto& l) {
    l.enable(kVectorSpurious);
    return 0;
  });
}

void lapic_setup_this_cpu() {
  with_lapic([](auto& l) {
    l.set_task_priority(0);
    l.set_error_vector(kVectorLapicError);
    l.enable(kVectorSpurious);
    (void)l.read_error_status();
    return 0;
  });
}

ApicId lapic_id() {
  return with_lapic([](auto& l) { return l.id(); });
}

}  // namespace arch
