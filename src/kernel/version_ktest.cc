// In-kernel test of the image itself: the linker script keeps the GNU
// build-id note the banner prints.
#include "src/ktest/ktest.h"

extern "C" const uint32_t __build_id_note[];

namespace {

KTEST(kernel, build_id_present) {
  KEXPECT_EQ(__build_id_note[2], 3u);   // NT_GNU_BUILD_ID
  KEXPECT_EQ(__build_id_note[1], 20u);  // sha1
}

}  // namespace
