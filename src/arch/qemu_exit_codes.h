// The isa-debug-exit device's port and the codes the kernel writes to it:
// constants only, so the assembly (through asm_offsets.h), host programs
// and tests share the one definition.
#pragma once

#include "src/base/types.h"

namespace arch {

/// QEMU's `-device isa-debug-exit,iobase=0xf4,iosize=0x04`: a write of v
/// makes QEMU exit with status (v << 1) | 1.
inline constexpr uint16_t kDebugExitPort = 0xf4;

/// Status codes the boot-test harness and tools/qemu.sh understand: QEMU
/// exits 33 on pass and 35 on failure. Values 0 and 1 would give 1 and 3,
/// and QEMU itself exits 1 when it cannot start (a bad -cpu, no KVM), which
/// a pass must never look like; a triple fault under -no-reboot exits 0.
/// kLoaderFailed (37) is GRUB's, not the kernel's: the ISO's grub.cfg
/// writes it when it cannot load the kernel (tools/make_iso.sh), so that a
/// machine too small for the image ends the run instead of waiting at
/// GRUB's menu.
enum class ExitCode : uint32_t { kPass = 0x10, kFail = 0x11, kLoaderFailed = 0x12 };
inline constexpr int kQemuStatusPass = (0x10 << 1) | 1;
inline constexpr int kQemuStatusFail = (0x11 << 1) | 1;
inline constexpr int kQemuStatusLoaderFailed = (0x12 << 1) | 1;

}  // namespace arch
