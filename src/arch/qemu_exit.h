// Ends a QEMU run through the isa-debug-exit device (qemu_exit_codes.h).
// Without the device the write is ignored and the caller halts instead.
#pragma once

#include "src/arch/qemu_exit_codes.h"
#include "src/arch/x86.h"

namespace arch {

[[noreturn]] inline void qemu_exit(ExitCode code) {
  outl(kDebugExitPort, static_cast<uint32_t>(code));
  halt_forever();
}

}  // namespace arch
