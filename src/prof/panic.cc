// The kernel's panic backend for base::panic_message: message, backtrace,
// failure exit. A panic while panicking stops at once.
#include "src/arch/console.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/prof/crash_report.h"

namespace base {

void panic_message(const char* file, int line, const char* msg) {
  static constinit bool panicking = false;
  arch::cli();
  if (panicking) prof::fail_stop();
  panicking = true;
  arch::kprint("\nPANIC at {}:{}: {}\n", file, line, msg);
  prof::print_backtrace(reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
  prof::fail_stop();
}

}  // namespace base
