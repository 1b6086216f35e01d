// The runtime's side of app.h: starting the application's thread, and its
// way to end the run.
#include "src/kernel/app.h"

#include "src/arch/console.h"
#include "src/arch/qemu_exit.h"
#include "src/base/assert.h"
#include "src/kernel/app_start.h"
#include "src/monitor/boot_options.h"
#include "src/monitor/monitor.h"
#include "src/sched/thread.h"

namespace kernel {

// Weak: undefined (null) in the runtime's own kernel, which has no
// application; an application's definition fills it in. app.h's own
// declaration stays strong, so that a second definition is a link error.
[[gnu::weak]] void app_main();  // NOLINT(readability-redundant-declaration): the weak reference, see above

namespace {

void run_app(void*) { app_main(); }

}  // namespace

void start_app(base::StrView cmdline) {
  if (&app_main == nullptr) return;
  // app=off: the application's commands and tests, without it running
  // beside them (and ending the run under them).
  if (monitor::boot_option_is(cmdline, "app", "off")) {
    arch::kprint("app: not started (app=off)\n");
    return;
  }
  base::Result<sched::Thread*> t = sched::spawn(run_app, nullptr, sched::ThreadOptions{.name = "app"});
  // At the end of boot nothing else holds memory: failing here is a bug.
  if (!t.ok()) PANIC("app: cannot start the application's thread: {}", base::error_name(t.error()));
  sched::detach(t.value());
  arch::kprint("app: started\n");
}

void app_power_off(bool passed) {
  if (!passed) arch::qemu_exit(arch::ExitCode::kFail);
  monitor::power_off();
}

}  // namespace kernel
