// Taking a CPU out of scheduling at run time and bringing it back, as
// Biscuit could: the CPU hands on its threads (unpinning those bound to
// it), its timers, cached pages and heap objects, stops its timer and
// halts; online again, it schedules as before. Thread context.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/sched/thread.h"

namespace sched {

/// Whether `cpu` schedules and takes new threads and affinities: started,
/// and neither offline nor on its way. Any context.
bool cpu_takes_threads(arch::CpuIndex cpu);

/// Whether `cpu` is offline (parked by cpu_offline). Any context.
bool cpu_is_offline(arch::CpuIndex cpu);

/// Why `cpu` cannot go offline now, or nullptr if it can: no such CPU, the
/// boot CPU, already offline or changing.
const char* offline_refusal(arch::CpuIndex cpu);

/// Takes `cpu` offline and returns once it is parked. Every thread bound to
/// it is unpinned (affinity "any") and reported to `unpinned` (under the
/// thread-list lock: it must not block); threads queued there move to the
/// global queue, its timers to CPU 0. Returns how many threads were
/// unpinned, or kInvalidArgument/kUnsupported/kBusy (offline_refusal says
/// why). The caller may itself run on `cpu`: it is moved off.
base::Result<size_t> cpu_offline(arch::CpuIndex cpu, void (*unpinned)(const Thread& t, void* arg) = nullptr,
                                 void* arg = nullptr);

/// Brings an offline `cpu` back into scheduling; returns once it schedules.
/// kInvalidArgument if it is not offline, kBusy while another CPU changes.
base::Status cpu_online(arch::CpuIndex cpu);

/// Work above sched that must follow a CPU out of scheduling and back in:
/// state only the CPU itself can change, such as prof's PMU counter, which
/// would otherwise keep counting (and interrupting) on a halted CPU and
/// never be armed on a returning one. A typed list owned by sched, so sched
/// calls up into prof without depending on it (DESIGN.md: no untyped
/// hooks pointing up). Each hook runs on the controlling thread; the CPU
/// is reachable by NMI throughout (a parked CPU still answers them).
struct CpuPresenceHook {
  /// After `cpu` is marked leaving (it takes no new threads or
  /// affinities from here on) and before the controller waits for it to
  /// park. Thread context; may block; must not take a CPU offline or
  /// online. Null for none.
  void (*leaving)(arch::CpuIndex cpu) = nullptr;
  /// Once `cpu` schedules again. The same context. Null for none.
  void (*returned)(arch::CpuIndex cpu) = nullptr;
  CpuPresenceHook* next = nullptr;  // the list's own
};

/// Adds `h` (static storage, never removed; registering one twice
/// panics). Thread context, at init, before any CPU goes offline.
void register_cpu_presence_hook(CpuPresenceHook* h);

/// Threads bound to `cpu` made unbound (affinity "any"), each reported to
/// fn under the thread-list lock (thread.cc).
size_t unpin_threads_bound_to(arch::CpuIndex cpu, void (*fn)(const Thread& t, void* arg), void* arg);

}  // namespace sched
