// QEMU's firmware configuration device (fw_cfg), I/O-port interface:
// selector at 0x510 (16-bit), data at 0x511 (8-bit) [qemu-fw-cfg]. The
// kernel reads one file from it, `opt/biscotti/cmdline`, which QEMU's
// `-fw_cfg name=opt/biscotti/cmdline,string=...` supplies: extra kernel
// arguments without rebuilding the ISO. Templated on the port provider so
// the directory walk runs in host tests. Thread context, boot only.
#pragma once

#include "src/base/str.h"
#include "src/base/types.h"

namespace arch {

template <typename Io>
class FwCfg {
 public:
  static constexpr uint16_t kSelectorPort = 0x510, kDataPort = 0x511;
  static constexpr uint16_t kSignatureKey = 0x0000, kFileDirKey = 0x0019;

  explicit FwCfg(Io io) : io_(io) {}

  /// True if the device answers with its "QEMU" signature.
  bool present() {
    select(kSignatureKey);
    char sig[4];
    read(sig, 4);
    return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
  }

  /// Copies file `name` into buf (at most cap bytes) and returns its full
  /// size, or -1 if the device or the file is absent. Reads no more than
  /// the file holds. Names and sizes are big-endian in the directory.
  int64_t read_file(base::StrView name, char* buf, size_t cap) {
    if (!present()) return -1;
    select(kFileDirKey);
    uint32_t count = read_be32();
    for (uint32_t i = 0; i < count && i < 4096; ++i) {
      uint32_t size = read_be32();
      uint16_t key = static_cast<uint16_t>(read_be16());
      read_be16();  // reserved
      char file[56];
      read(file, sizeof(file));
      file[55] = '\0';
      if (base::StrView(file) == name) {
        select(key);
        read(buf, size < cap ? size : cap);
        return size;
      }
    }
    return -1;
  }

 private:
  void select(uint16_t key) { io_.out16(kSelectorPort, key); }
  void read(char* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(io_.in8(kDataPort));
  }
  uint32_t read_be16() {
    uint32_t hi = io_.in8(kDataPort);
    return (hi << 8) | io_.in8(kDataPort);
  }
  uint32_t read_be32() {
    uint32_t hi = read_be16();
    return (hi << 16) | read_be16();
  }

  Io io_;
};

}  // namespace arch
