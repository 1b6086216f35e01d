#include "src/arch/pic8259.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace {

struct RecordingIo {
  std::vector<std::pair<uint16_t, uint8_t>>* log;
  void out8(uint16_t port, uint8_t v) const { log->push_back({port, v}); }
};

TEST(Pic8259, RemapsAwayFromExceptionsAndMasksAll) {
  std::vector<std::pair<uint16_t, uint8_t>> log;
  arch::pic8259_remap_and_mask(RecordingIo{&log});
  std::vector<std::pair<uint16_t, uint8_t>> want = {{0x20, 0x11}, {0xa0, 0x11}, {0x21, 0x50}, {0xa1, 0x58},
                                                    {0x21, 0x04}, {0xa1, 0x02}, {0x21, 0x01}, {0xa1, 0x01},
                                                    {0x21, 0xff}, {0xa1, 0xff}};
  EXPECT_EQ(log, want);
  EXPECT_GE(arch::kVectorPicBase, 32) << "must not overlap the exception vectors";
}

}  // namespace
