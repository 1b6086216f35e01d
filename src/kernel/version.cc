// Reads the GNU build-id note the linker placed at __build_id_note.
#include "src/kernel/version.h"

#include "src/arch/console.h"
#include "src/base/assert.h"
#include "src/base/types.h"

extern "C" const uint32_t __build_id_note[];

namespace kernel {

void print_version_line() {
  // ELF note: namesz, descsz, type (3 = NT_GNU_BUILD_ID), "GNU\0", desc.
  const uint32_t namesz = __build_id_note[0], descsz = __build_id_note[1];
  const auto* desc = reinterpret_cast<const uint8_t*>(&__build_id_note[3]) + ((namesz + 3) & ~3u);
  arch::kprint("{} {} build ", kName, kVersion);
  if (__build_id_note[2] != 3 || descsz == 0 || descsz > 64) {
    arch::kprint("(none)\n");
    return;
  }
  for (uint32_t i = 0; i < descsz; ++i) arch::kprint("{:02x}", desc[i]);
  // A debug kernel says so: its timings and code differ from a release's.
  arch::kprint(base::kDebugAsserts ? " (debug: DEBUG_ASSERT on)\n" : "\n");
}

}  // namespace kernel
