// See snapshot.h.
#include "src/prof/snapshot.h"

#include "src/arch/clock.h"
#include "src/arch/ipi.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/prof/interrupted_mode.h"
#include "src/prof/kernel_unwind.h"
#include "src/prof/sample_pprof.h"
#include "src/sched/thread.h"

namespace prof {

void capture_snapshot(const arch::TrapFrame& f, CpuSnapshot* out) {
  arch::PerCpu& cpu = arch::this_cpu();
  out->frame = f;
  out->n_pcs = static_cast<uint8_t>(unwind_from_trap(f, out->pcs, kMaxSamplePcs, &out->end));
  out->mode = interrupted_mode(cpu, out->pcs, out->n_pcs);
  const sched::Thread* t = cpu.current_thread;
  out->tid = t != nullptr ? t->tid : 0;
  for (size_t i = 0; i < sizeof out->thread; ++i)
    out->thread[i] = t != nullptr && i + 1 < sizeof out->thread ? t->name[i] : '\0';
}

void print_snapshot(base::Sink out, uint32_t cpu, const CpuSnapshot& s) {
  const arch::TrapFrame& f = s.frame;
  base::format(out, "cpu {}: thread {} \"{}\" ({}), interrupts {}\n", cpu, s.tid, static_cast<const char*>(s.thread),
               sample_mode_name(s.mode), (f.rflags & arch::kRflagsIf) != 0 ? "on" : "off");
  base::format(out, "  rip={:#018x} rsp={:#018x} rflags={:#010x}\n", f.rip, f.rsp, f.rflags);
  base::format(out, "  rax={:#018x} rbx={:#018x} rcx={:#018x}\n", f.rax, f.rbx, f.rcx);
  base::format(out, "  rdx={:#018x} rsi={:#018x} rdi={:#018x}\n", f.rdx, f.rsi, f.rdi);
  base::format(out, "  rbp={:#018x} r8 ={:#018x} r9 ={:#018x}\n", f.rbp, f.r8, f.r9);
  base::format(out, "  r10={:#018x} r11={:#018x} r12={:#018x}\n", f.r10, f.r11, f.r12);
  base::format(out, "  r13={:#018x} r14={:#018x} r15={:#018x}\n", f.r13, f.r14, f.r15);
  base::format(out, "backtrace:\n");
  for (size_t i = 0; i < s.n_pcs; ++i) {
    char sym[kSymbolTextBytes];
    base::format(out, "  #{:<2} {:#018x} {}\n", i, s.pcs[i],
                 format_symbol(s.pcs[i], unwound_pc_kind(s.pcs, i), sym, sizeof sym));
  }
  base::format(out, "  ({})\n", walk_end_name(s.end));
}

base::Status request_snapshot(uint32_t cpu, uint64_t bound_ns) {
  CpuProf* p = cpu_prof(cpu);
  if (p == nullptr || (cpu != 0 && !arch::ap_is_online(arch::CpuIndex(cpu)))) return base::Error::kInvalidArgument;
  // One asker at a time (bt_command's lock), so a plain counter numbers the
  // requests; 0 is never one.
  static constinit uint32_t last_request = 0;
  if (++last_request == 0) ++last_request;
  const uint32_t request = last_request;
  p->snapshot_wanted.store(request, base::MemoryOrder::kRelease);
  if (base::Status s = arch::send_nmi(arch::CpuIndex(cpu)); !s.ok()) {
    p->snapshot_wanted.store(0, base::MemoryOrder::kRelaxed);
    return s;
  }
  // A spin, not a sleep: the answer comes from an NMI within microseconds,
  // and this may be the CPU asked (its NMI then lands in this loop).
  const uint64_t deadline = arch::nanotime() + bound_ns;
  while (p->snapshot_answered.load(base::MemoryOrder::kAcquire) != request) {
    if (arch::nanotime() >= deadline) {
      // Withdraw it: an NMI that comes later finds none, or answers with
      // this number, which no later request carries.
      uint32_t expected = request;
      (void)p->snapshot_wanted.compare_exchange(expected, 0, base::MemoryOrder::kRelaxed, base::MemoryOrder::kRelaxed);
      if (p->snapshot_answered.load(base::MemoryOrder::kAcquire) == request) break;  // it answered just now
      return base::Error::kTimedOut;
    }
    arch::cpu_relax();
  }
  return base::Status::Ok();
}

}  // namespace prof
