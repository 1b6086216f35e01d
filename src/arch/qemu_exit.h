// Ends a QEMU run through the isa-debug-exit device (iobase 0xf4): QEMU
// exits with status (code << 1) | 1. Without the device the write is
// ignored and the caller halts instead.
#pragma once

#include "src/arch/x86.h"

namespace arch {

inline constexpr uint16_t kDebugExitPort = 0xf4;

/// Status codes the boot-test harness and tools/qemu.sh understand: QEMU
/// exits 33 on pass and 35 on failure. Values 0 and 1 would give 1 and 3,
/// and QEMU itself exits 1 when it cannot start (a bad -cpu, no KVM), which
/// a pass must never look like; a triple fault under -no-reboot exits 0.
enum class ExitCode : uint32_t { kPass = 0x10, kFail = 0x11 };
inline constexpr int kQemuStatusPass = (0x10 << 1) | 1;
inline constexpr int kQemuStatusFail = (0x11 << 1) | 1;

[[noreturn]] inline void qemu_exit(ExitCode code) {
  outl(kDebugExitPort, static_cast<uint32_t>(code));
  halt_forever();
}

}  // namespace arch
