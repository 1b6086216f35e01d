#include "src/kernel/build_id.h"

#include <gtest/gtest.h>

namespace kernel {
namespace {

// A note as lld writes it: "GNU\0" and a 20-byte SHA-1.
struct Note {
  uint32_t namesz = 4, descsz = 20, type = kNtGnuBuildId;
  char name[4] = {'G', 'N', 'U', '\0'};
  uint8_t desc[20];
};

TEST(BuildId, ReadsTheIdAfterTheName) {
  Note n;
  for (int i = 0; i < 20; ++i) n.desc[i] = static_cast<uint8_t>(0xa0 + i);
  base::Span<const uint8_t> id = build_id_of(reinterpret_cast<const uint32_t*>(&n));
  ASSERT_EQ(id.size(), 20u);
  EXPECT_EQ(id[0], 0xa0);
  EXPECT_EQ(id[19], 0xb3);
}

TEST(BuildId, RefusesWhatIsNotASaneBuildIdNote) {
  Note n;
  n.type = 1;  // NT_GNU_ABI_TAG
  EXPECT_EQ(build_id_of(reinterpret_cast<const uint32_t*>(&n)).size(), 0u);
  n = Note{};
  n.descsz = 0;
  EXPECT_EQ(build_id_of(reinterpret_cast<const uint32_t*>(&n)).size(), 0u);
  n = Note{};
  n.descsz = kMaxBuildIdBytes + 1;
  EXPECT_EQ(build_id_of(reinterpret_cast<const uint32_t*>(&n)).size(), 0u);
}

}  // namespace
}  // namespace kernel
