// kmain's half of app.h: starts the application's thread, if the kernel has
// an application (kernel::app_main defined). Thread context, at the end of
// boot.
#pragma once

namespace kernel {

void start_app();

}  // namespace kernel
