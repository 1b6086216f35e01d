// kmain's half of app.h: starts the application's thread, if the kernel has
// an application (kernel::app_main defined) and the command line does not
// say `app=off`. Thread context, at the end of boot.
#pragma once

#include "src/base/str.h"

namespace kernel {

void start_app(base::StrView cmdline);

}  // namespace kernel
