// Tests for the monitor's hex address parser.
#include "src/prof/hex_address.h"

#include <gtest/gtest.h>

namespace prof {
namespace {

uint64_t parsed(const char* s) {
  uint64_t v = 0xdead;
  EXPECT_TRUE(parse_hex_address(s, &v)) << s;
  return v;
}

bool refused(const char* s) {
  uint64_t v = 0xdead;
  const bool ok = parse_hex_address(s, &v);
  EXPECT_EQ(v, 0xdeadu) << "written on failure: " << s;
  return !ok;
}

TEST(HexAddress, Parses) {
  EXPECT_EQ(parsed("ffffffff80101000"), 0xffff'ffff'8010'1000u);
  EXPECT_EQ(parsed("0xFFFFFFFF80101000"), 0xffff'ffff'8010'1000u);
  EXPECT_EQ(parsed("0X1a"), 0x1au);
  EXPECT_EQ(parsed("  0  "), 0u);
  EXPECT_EQ(parsed("0000000000000000000000001"),
            1u);  // leading zeros are not significant
}

TEST(HexAddress, Refuses) {
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("   "));
  EXPECT_TRUE(refused("0x"));
  EXPECT_TRUE(refused("12g4"));
  EXPECT_TRUE(refused("-1"));
  EXPECT_TRUE(refused("0x 12"));
  EXPECT_TRUE(refused("1 2"));
  EXPECT_TRUE(refused("1ffffffffffffffff"));  // 17 digits
}

static_assert([] {
  uint64_t v = 0;
  return parse_hex_address("0x10", &v) && v == 16;
}());

}  // namespace
}  // namespace prof
