// The legacy 8259A interrupt controllers: remapped away from the exception
// vectors (the BIOS leaves IRQ0 on vector 8, the double fault) and fully
// masked, because the IOAPIC delivers device interrupts ([8259A] ICW1-4).
// A masked 8259 can still raise a spurious IRQ 7 or 15; those arrive at
// kVectorPicBase + 7 / + 15 and are ignored. Templated on port I/O.
// Boot CPU, interrupts off.
#pragma once

#include "src/base/types.h"

namespace arch {

inline constexpr uint8_t kVectorPicBase = 0x50;  // 0x50-0x5f: nothing else lives there

template <typename Io>
void pic8259_remap_and_mask(Io io) {
  constexpr uint16_t kMasterCmd = 0x20, kMasterData = 0x21, kSlaveCmd = 0xa0, kSlaveData = 0xa1;
  io.out8(kMasterCmd, 0x11);  // ICW1: initialise, ICW4 follows, cascade mode
  io.out8(kSlaveCmd, 0x11);
  io.out8(kMasterData, kVectorPicBase);  // ICW2: vector base
  io.out8(kSlaveData, kVectorPicBase + 8);
  io.out8(kMasterData, 1 << 2);  // ICW3: slave on IRQ2
  io.out8(kSlaveData, 2);        //       slave identity
  io.out8(kMasterData, 0x01);    // ICW4: 8086 mode
  io.out8(kSlaveData, 0x01);
  io.out8(kMasterData, 0xff);  // OCW1: mask everything
  io.out8(kSlaveData, 0xff);
}

}  // namespace arch
