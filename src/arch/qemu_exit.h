// Ends a QEMU run through the isa-debug-exit device (iobase 0xf4): QEMU
// exits with status (code << 1) | 1. Without the device the write is
// ignored and the caller halts instead.
#pragma once

#include "src/arch/x86.h"

namespace arch {

inline constexpr uint16_t kDebugExitPort = 0xf4;

/// Status codes the boot-test harness understands: QEMU exits 1 on pass and
/// 3 on failure (a triple fault with -no-reboot exits 0, distinct from both).
enum class ExitCode : uint32_t { kPass = 0, kFail = 1 };

[[noreturn]] inline void qemu_exit(ExitCode code) {
  outl(kDebugExitPort, static_cast<uint32_t>(code));
  halt_forever();
}

}  // namespace arch
