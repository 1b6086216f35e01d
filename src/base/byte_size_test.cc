#include "src/base/byte_size.h"

#include <gtest/gtest.h>

namespace base {
namespace {

uint64_t ok(const char* s) {
  Result<uint64_t> r = parse_byte_size(StrView(s));
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? r.value() : 0;
}

Error err(const char* s) {
  Result<uint64_t> r = parse_byte_size(StrView(s));
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? Error::kFault : r.error();
}

TEST(ParseByteSize, DigitsAndSuffixes) {
  EXPECT_EQ(ok("0"), 0u);
  EXPECT_EQ(ok("4096"), 4096u);
  EXPECT_EQ(ok("64K"), 64u << 10);
  EXPECT_EQ(ok("96M"), 96u << 20);
  EXPECT_EQ(ok("3G"), uint64_t{3} << 30);
}

TEST(ParseByteSize, RejectsWhatIsNotACount) {
  EXPECT_EQ(err(""), Error::kInvalidArgument);
  EXPECT_EQ(err("M"), Error::kInvalidArgument);
  EXPECT_EQ(err("-1"), Error::kInvalidArgument);
  EXPECT_EQ(err("12k"), Error::kInvalidArgument);
  EXPECT_EQ(err("12MB"), Error::kInvalidArgument);
  EXPECT_EQ(err("1 G"), Error::kInvalidArgument);
}

TEST(ParseByteSize, RejectsOverflow) {
  EXPECT_EQ(ok("9223372036854775808"), uint64_t{1} << 63);
  EXPECT_EQ(err("9223372036854775809"), Error::kOutOfRange);
  EXPECT_EQ(err("99999999999999999999"), Error::kOutOfRange);
  EXPECT_EQ(ok("8589934592G"), uint64_t{1} << 63);
  EXPECT_EQ(err("8589934593G"), Error::kOutOfRange);
}

}  // namespace
}  // namespace base
