// The build id in the GNU note the linker writes (lld --build-id=sha1):
// an ELF note of namesz, descsz, type 3 (NT_GNU_BUILD_ID), the name "GNU\0"
// padded to four bytes, then the id. Pure logic, host-tested. Any context.
#pragma once

#include "src/base/span.h"
#include "src/base/types.h"

namespace kernel {

inline constexpr uint32_t kNtGnuBuildId = 3;
/// Longer ids than this are taken for a corrupt note.
inline constexpr uint32_t kMaxBuildIdBytes = 64;

/// The id's bytes, or an empty span if `note` is not a build-id note of a
/// sane size.
inline base::Span<const uint8_t> build_id_of(const uint32_t* note) {
  const uint32_t namesz = note[0], descsz = note[1], type = note[2];
  if (type != kNtGnuBuildId || descsz == 0 || descsz > kMaxBuildIdBytes || namesz > 16) return {};
  const auto* desc = reinterpret_cast<const uint8_t*>(&note[3]) + ((namesz + 3) & ~3u);
  return base::Span<const uint8_t>(desc, descsz);
}

}  // namespace kernel
