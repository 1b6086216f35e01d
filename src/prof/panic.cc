// The kernel's panic backend for base::panic_message: message, backtrace,
// failure exit. A panic while panicking stops at once.
#include "src/arch/console.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/prof/crash_report.h"
#include "src/prof/stop_world.h"

namespace base {

void panic_message(const char* file, int line, const char* msg) {
  static constinit bool panicking = false;
  arch::cli();
  if (panicking) prof::fail_stop();
  panicking = true;
  // The other CPUs stop where they are (and show where, below), and the
  // console is this CPU's even if one of them held it.
  prof::stop_other_cpus();
  arch::kprint("\nPANIC at {}:{}: {}\n", file, line, msg);
  prof::print_backtrace(reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
  prof::print_stopped_cpus(arch::console_sink());
  prof::fail_stop();
}

}  // namespace base
