// IPIs by CPU index (see ipi.h): the index's APIC id, then the ICR with
// interrupts off so that the LAPIC stays this CPU's across the write.
#include "src/arch/ipi.h"

#include "src/arch/local_apic.h"
#include "src/arch/percpu.h"
#include "src/arch/smp_boot.h"
#include "src/arch/vectors.h"

namespace arch {

base::Status send_ipi(CpuIndex index, Vector vector) {
  ApicId id;
  if (!cpu_apic_id(index, &id)) return base::Error::kInvalidArgument;
  push_cli();
  base::Status s = with_lapic([&](auto& l) { return l.send_fixed(id, vector); });
  pop_cli();
  return s;
}

base::Status send_nmi(CpuIndex index) {
  ApicId id;
  if (!cpu_apic_id_any(index, &id)) return base::Error::kInvalidArgument;
  push_cli();
  base::Status s = with_lapic([&](auto& l) { return l.send_nmi(id); });
  pop_cli();
  return s;
}

base::Status send_nmi_from_nmi(CpuIndex index) {
  ApicId id;
  if (!cpu_apic_id_any(index, &id)) return base::Error::kInvalidArgument;
  // No push_cli: in NMI context interrupts are already blocked, and in a
  // panic they are off; the send itself is NMI-safe.
  return with_lapic([&](auto& l) { return l.send_nmi_from_nmi(id); });
}

void kick_cpu(CpuIndex index) { (void)send_ipi(index, kVectorIpiReschedule); }

}  // namespace arch
