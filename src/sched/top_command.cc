// `top [ROUNDS]`: a live view, refreshed each second until a key is pressed
// (or ROUNDS times, for scripts): each CPU's busy share and the threads
// that used the most CPU time in that second (idle threads left out: their
// time is the CPUs' idle share). A thread's time is counted when it is
// switched out, so one that ran long without a switch shows late.
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/monitor/command.h"
#include "src/sched/busiest_threads.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

// Static, as `threads`' copy: taken under the thread-list lock, where
// nothing may allocate, and too big for a thread stack. One thread runs
// monitor commands. Threads past kRows are left out of the view (said).
constexpr size_t kRows = 512;
constexpr size_t kShown = 10;
constexpr uint64_t kRefreshNs = 1'000'000'000;
constexpr uint64_t kPollNs = 50'000'000;
constexpr uint32_t kMaxRounds = 3600;

struct Look {
  ThreadTime rows[kRows];
  size_t n = 0;
  size_t left_out = 0;
  uint64_t at_ns = 0;
  uint64_t idle_ns[256] = {};  // per CPU, the first 256
};
constinit Look looks[2];
constinit ThreadTime deltas[kRows];

void take(Look* l) {
  l->n = 0;
  l->left_out = 0;
  for_each_thread(
      [](const Thread& t, void* arg) {
        auto* look = static_cast<Look*>(arg);
        // The idle threads' time is the CPUs' idle share, shown above.
        if (is_idle_thread(&t)) return;
        if (look->n == kRows) {
          ++look->left_out;
          return;
        }
        ThreadTime& r = look->rows[look->n++];
        r.tid = t.tid;
        static_assert(sizeof r.name == Thread::kNameLen);
        for (size_t i = 0; i < sizeof r.name; ++i) r.name[i] = t.name[i];
        r.name[sizeof r.name - 1] = '\0';
        r.run_ns = thread_stats(&t).run_ns;
      },
      l);
  l->at_ns = arch::nanotime();
  const uint32_t cpus = sched_cpus() < 256 ? sched_cpus() : 256;
  for (uint32_t cpu = 0; cpu < cpus; ++cpu) l->idle_ns[cpu] = cpu_stats(arch::CpuIndex(cpu)).idle_ns;
}

// A share, capped at all of it (the two clocks read a moment apart).
void print_share(uint64_t part, uint64_t whole) {
  arch::console_lock();
  base::format_percent(arch::console_sink(), part < whole ? part : whole, whole);
  arch::console_unlock();
}

// One second (or until a key): false when a key ended it.
bool wait_a_second() {
  const uint64_t end = arch::nanotime() + kRefreshNs;
  while (arch::nanotime() < end) {
    if (monitor::key_pressed()) return false;
    sleep_for(kPollNs);
  }
  return !monitor::key_pressed();
}

MONITOR_COMMAND(top, "[ROUNDS]", "CPU busy shares and the busiest threads, each second until a key (or ROUNDS times)") {
  uint32_t rounds = 0;  // 0: until a key
  for (char c : args) {
    if (c < '0' || c > '9' || rounds > kMaxRounds) {
      arch::kprint("usage: top [ROUNDS] (ROUNDS from 1 to {}; none: until a key is pressed)\n", kMaxRounds);
      return false;
    }
    rounds = rounds * 10 + static_cast<uint32_t>(c - '0');
  }
  if ((!args.empty() && rounds == 0) || rounds > kMaxRounds) {
    arch::kprint("usage: top [ROUNDS] (ROUNDS from 1 to {}; none: until a key is pressed)\n", kMaxRounds);
    return false;
  }
  Look* before = &looks[0];
  Look* after = &looks[1];
  take(before);
  sort_by_tid(before->rows, before->n);
  for (uint32_t round = 1; rounds == 0 || round <= rounds; ++round) {
    const bool go_on = wait_a_second();
    take(after);
    const uint64_t wall = after->at_ns - before->at_ns;
    arch::kprint("top: {}.{:02} s", wall / 1'000'000'000, wall / 10'000'000 % 100);
    if (rounds != 0) arch::kprint(" (round {} of {})", round, rounds);
    arch::kprint("\n cpu   busy\n");
    const uint32_t cpus = sched_cpus() < 256 ? sched_cpus() : 256;
    for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
      const uint64_t idle = after->idle_ns[cpu] - before->idle_ns[cpu];
      arch::kprint("{:4} ", cpu);
      print_share(idle < wall ? wall - idle : 0, wall);
      arch::kprint("\n");
    }
    // The deltas go into their own rows: `after`, sorted by tid, is the
    // next round's `before`.
    for (size_t i = 0; i < after->n; ++i) deltas[i] = after->rows[i];
    busiest_since(before->rows, before->n, deltas, after->n);
    arch::kprint("  tid  name                       cpu\n");
    for (size_t i = 0; i < after->n && i < kShown; ++i) {
      arch::kprint("{:5}  {:<24} ", deltas[i].tid, static_cast<const char*>(deltas[i].name));
      print_share(deltas[i].run_ns, wall);
      arch::kprint("\n");
    }
    if (after->left_out != 0) arch::kprint("  ({} threads past the view's {} left out)\n", after->left_out, kRows);
    if (!go_on) break;
    sort_by_tid(after->rows, after->n);
    Look* swap = before;
    before = after;
    after = swap;
  }
  return true;
}

}  // namespace
}  // namespace sched
