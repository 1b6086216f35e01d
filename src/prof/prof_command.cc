// `prof`: start and stop a profile of every CPU, show where the time went
// (`prof top`), and print the samples for the host tool (`prof dump`).
#include "src/arch/console.h"
#include "src/base/format.h"
#include "src/base/placement_new.h"
#include "src/kernel/build_id.h"
#include "src/mm/kmalloc.h"
#include "src/monitor/command.h"
#include "src/prof/dump_format.h"
#include "src/prof/function_tally.h"
#include "src/prof/kernel_symbols.h"
#include "src/prof/lbr.h"
#include "src/prof/periodic_nmi.h"
#include "src/prof/pmu_sampler.h"
#include "src/prof/pmu_sampling.h"
#include "src/prof/sampler.h"
#include "src/sched/sync.h"

extern "C" const uint32_t __build_id_note[];

namespace prof {
namespace {

using arch::kprint;
using base::StrView;

// One prof command at a time: start and stop reprogram the PIT.
constinit sched::Mutex prof_lock;

constexpr size_t kTopDefault = 20;
constexpr size_t kTallySlots = 8192;  // distinct functions `prof top` can tell apart

bool parse_decimal(StrView s, uint64_t max, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > max) return false;
  }
  *out = v;
  return true;
}

// The words of `args`, at most `max` (false if there are more).
size_t split_words(StrView args, StrView* words, size_t max, bool* too_many) {
  size_t n = 0;
  *too_many = false;
  base::for_each_field(args, ' ', [&](StrView w) {
    if (w.empty()) return true;
    if (n == max) {
      *too_many = true;
      return false;
    }
    words[n++] = w;
    return true;
  });
  return n;
}

const char* source_name(SampleEvent e) {
  if (is_pmu_event(e)) return "each CPU's PMU counter overflow NMI, counting";
  return e == SampleEvent::kTimer ? "the PIT's interrupt, passed on by IPI (timer path)"
                                  : "the periodic NMI from the PIT";
}

// The event a PMU profile counts, after source_name's "counting"; empty
// for the timer sources.
const char* counted_name(SampleEvent e) { return is_pmu_event(e) ? sample_event_name(static_cast<uint8_t>(e)) : ""; }

constexpr const char* kEvents = "nmi, timer, cycles, instructions, branch-misses, llc-misses";

// Why a PMU event cannot be sampled here.
void print_pmu_refusal(SampleEvent event) {
  const char* name = sample_event_name(static_cast<uint8_t>(event));
  const char* why = pmu_sampler_unavailable(pmu_event(event));
  if (why == nullptr) why = "unknown";
  if (boot_pmu().kind == PmuKind::kNone) {
    kprint("prof start: cannot sample {}: no PMU: {}; use nmi or timer\n", name, why);
    return;
  }
  char pmu[64];
  describe(boot_pmu(), pmu, sizeof pmu);
  kprint("prof start: cannot sample {} on this PMU ({}): {}\n", name, static_cast<const char*>(pmu), why);
}

bool start(const StrView* w, size_t n) REQUIRES(prof_lock) {
  uint64_t hz = kSamplerDefaultHz;
  SampleEvent event = SampleEvent::kNmiTimer;
  bool lbr = false;
  for (size_t i = 1; i < n; ++i) {
    if (w[i] == StrView("lbr")) {
      lbr = true;
      continue;
    }
    if (!parse_sample_event(w[i], &event) && (!parse_decimal(w[i], kPeriodicMaxHz, &hz) || hz < kPeriodicMinHz)) {
      kprint("prof start: '{}' is neither a rate ({} to {} Hz), an event ({}) nor lbr\n", w[i], kPeriodicMinHz,
             kPeriodicMaxHz, kEvents);
      return false;
    }
  }
  // The LBR first: where there is none (QEMU), that is the answer,
  // whichever event was asked.
  if (lbr && boot_lbr().kind == LbrKind::kNone) {
    char why[128];
    describe(boot_lbr(), why, sizeof why);
    kprint("prof start: cannot record branches (lbr): LBR: {}\n", static_cast<const char*>(why));
    return false;
  }
  if (lbr && !is_pmu_event(event)) {
    kprint(
        "prof start: lbr needs a PMU event (cycles, instructions, branch-misses, llc-misses): the stack is read "
        "frozen at the counter's overflow\n");
    return false;
  }
  base::Status s = sampler_start(static_cast<uint32_t>(hz), event, lbr);
  if (s.error() == base::Error::kBusy) {
    kprint("prof start: a profile is running (prof stop first)\n");
    return false;
  }
  if (s.error() == base::Error::kUnsupported && is_pmu_event(event)) {
    print_pmu_refusal(event);
    return false;
  }
  if (s.error() == base::Error::kUnsupported) {
    kprint("prof start: no periodic interrupt to sample from: {}\n", periodic_nmi_unavailable());
    return false;
  }
  if (s.error() == base::Error::kInvalidArgument && is_pmu_event(event)) {
    kprint("prof start: no counter reload gives {} Hz of {} (is the TSC rate known?)\n", hz,
           sample_event_name(static_cast<uint8_t>(event)));
    return false;
  }
  if (s.error() == base::Error::kOutOfMemory) {
    kprint("prof start: no memory for the sample rings ({} KiB per CPU)\n", sizeof(CpuRing) / 1024);
    return false;
  }
  if (!s.ok()) {
    kprint("prof start: {}\n", base::error_name(s.error()));
    return false;
  }
  const SamplerStatus st = sampler_status();
  kprint("prof: sampling {} CPUs at {} Hz (period {} ns) from {}{}{}{}\n", prof_cpus(), st.hz, st.period_ns,
         source_name(st.event), is_pmu_event(st.event) ? " " : "", counted_name(st.event),
         st.lbr ? ", with the LBR stack" : "");
  return true;
}

void print_status() REQUIRES(prof_lock) {
  const SamplerStatus st = sampler_status();
  if (!st.have_profile) {
    kprint("prof: no profile yet (prof start [HZ] [EVENT])\n");
    return;
  }
  kprint("prof: {} at {} Hz from {}{}{}{}; {} samples kept, {} dropped\n", st.running ? "sampling" : "stopped", st.hz,
         source_name(st.event), is_pmu_event(st.event) ? " " : "", counted_name(st.event),
         st.lbr ? ", with the LBR stack" : "", sampler_samples(), sampler_dropped());
}

bool top(size_t rows) REQUIRES(prof_lock) {
  if (!sampler_status().have_profile) {
    kprint("prof top: no profile (prof start first)\n");
    return false;
  }
  // kmalloc, not new[]: operator new panics when memory runs out, and a
  // monitor command should say so and carry on.
  void* mem = mm::kmalloc(kTallySlots * sizeof(TallyEntry));
  if (mem == nullptr) {
    kprint("prof top: no memory for the table ({} KiB)\n", kTallySlots * sizeof(TallyEntry) / 1024);
    return false;
  }
  auto* slots = static_cast<TallyEntry*>(mem);
  for (size_t i = 0; i < kTallySlots; ++i) new (&slots[i]) TallyEntry();
  FunctionTally tally(slots, kTallySlots);
  sampler_for_each([&](const Sample& s) {
    uint64_t functions[kMaxSamplePcs];
    for (size_t i = 0; i < s.n_pcs; ++i) {
      // An address no symbol covers is its own row.
      SymbolRef sym;
      const bool known = i == 0 ? symbolize(s.pcs[i], &sym) : symbolize_return_address(s.pcs[i], &sym);
      functions[i] = known ? sym.start : s.pcs[i];
    }
    tally.add(functions, s.n_pcs);
  });
  const size_t n = tally.sort();
  arch::console_lock();
  base::Sink out = arch::console_sink();
  base::format(out, "prof top: {} samples, {} functions", tally.samples(), n);
  if (tally.unplaced() != 0)
    base::format(out, " ({} samples had functions past the table's {})", tally.unplaced(), kTallySlots);
  base::format(out, "\n    self      cum  samples  function\n");
  for (size_t i = 0; i < n && i < rows; ++i) {
    base::format_percent(out, slots[i].self, tally.samples());
    base::format(out, " ");
    base::format_percent(out, slots[i].cum, tally.samples());
    base::format(out, " {:8}  ", slots[i].self);
    SymbolRef sym;
    char name[kSymbolTextBytes];
    if (symbolize(slots[i].function, &sym) && sym.offset == 0)
      base::format(out, "{}\n", readable_name(sym, name, sizeof name));
    else
      base::format(out, "{:#x}\n", slots[i].function);
  }
  arch::console_unlock();
  mm::kfree(slots);
  return true;
}

bool dump() REQUIRES(prof_lock) {
  const SamplerStatus st = sampler_status();
  if (!st.have_profile) {
    kprint("prof dump: no profile (prof start first)\n");
    return false;
  }
  char build_id[2 * kernel::kMaxBuildIdBytes + 1] = {};
  const base::Span<const uint8_t> id = kernel::build_id_of(__build_id_note);
  for (size_t i = 0; i < id.size(); ++i) base::format_to(build_id + 2 * i, 3, "{:02x}", id[i]);
  arch::console_lock();
  write_dump_begin(arch::console_sink_unwrapped(), DumpHeader{StrView(build_id), st.hz, st.period_ns, prof_cpus()});
  arch::console_unlock();
  // A line per sample, each under the console lock on its own: a dump of
  // thousands of lines must not hold the other CPUs' prints off (they wait
  // with interrupts off); the reader skips lines that are not samples.
  const uint64_t n = sampler_for_each([](const Sample& s) {
    arch::console_lock();
    write_dump_sample(arch::console_sink_unwrapped(), s);
    arch::console_unlock();
  });
  arch::console_lock();
  write_dump_end(arch::console_sink_unwrapped(), n, sampler_dropped());
  arch::console_unlock();
  return true;
}

MONITOR_COMMAND(prof, "[start [HZ] [EVENT] [lbr] | stop | top [N] | dump]",
                "profile every CPU: start (default 1000 Hz, EVENT nmi; or timer, or with a PMU cycles, instructions, "
                "branch-misses, llc-misses; lbr adds each PMI's LBR stack), stop, top functions, dump the samples") {
  StrView w[4];
  bool too_many = false;
  const size_t n = split_words(args, w, 4, &too_many);
  sched::MutexGuard guard(prof_lock);
  if (n == 0 && !too_many) {
    print_status();
    return true;
  }
  if (!too_many && w[0] == StrView("start")) return start(w, n);
  if (!too_many && n == 1 && w[0] == StrView("stop")) {
    if (!sampler_stop()) {
      kprint("prof stop: no profile is running\n");
      return false;
    }
    kprint("prof: stopped; {} samples kept, {} dropped\n", sampler_samples(), sampler_dropped());
    return true;
  }
  uint64_t rows = kTopDefault;
  if (!too_many && w[0] == StrView("top") && (n == 1 || parse_decimal(w[1], 100'000, &rows)) && n <= 2)
    return top(rows);
  if (!too_many && n == 1 && w[0] == StrView("dump")) return dump();
  kprint("usage: prof [start [HZ] [EVENT] [lbr] | stop | top [N] | dump] (HZ from {} to {}; EVENT one of {})\n",
         kPeriodicMinHz, kPeriodicMaxHz, kEvents);
  return false;
}

}  // namespace
}  // namespace prof
