// Reads the GNU build-id note the linker placed at __build_id_note.
#include "src/kernel/version.h"

#include "src/arch/console.h"
#include "src/base/assert.h"
#include "src/base/types.h"
#include "src/kernel/build_id.h"

extern "C" const uint32_t __build_id_note[];

namespace kernel {

void print_version_line() {
  arch::kprint("{} {} build ", kName, kVersion);
  const base::Span<const uint8_t> id = build_id_of(__build_id_note);
  if (id.size() == 0) {
    arch::kprint("(none)\n");
    return;
  }
  for (uint8_t b : id) arch::kprint("{:02x}", b);
  // A debug kernel says so: its timings and code differ from a release's.
  arch::kprint(base::kDebugAsserts ? " (debug: DEBUG_ASSERT on)\n" : "\n");
}

}  // namespace kernel
