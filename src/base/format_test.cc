#include "src/base/format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

template <typename... Args>
std::string F(const char* fmt, const Args&... args) {
  char buf[128];
  size_t n = base::format_to(buf, sizeof(buf), fmt, args...);
  EXPECT_EQ(n, std::string(buf).size()) << "untruncated length matches";
  return buf;
}

enum class Color : uint8_t { kRed = 3 };

struct Strong {
  uint64_t raw() const { return 42; }
};

TEST(Format, Integers) {
  EXPECT_EQ(F("{}", 0), "0");
  EXPECT_EQ(F("{} {}", -5, 7u), "-5 7");
  EXPECT_EQ(F("{}", INT64_MIN), "-9223372036854775808");
  EXPECT_EQ(F("{}", UINT64_MAX), "18446744073709551615");
  EXPECT_EQ(F("{:x}", 255), "ff");
  EXPECT_EQ(F("{:X}", 255), "FF");
  EXPECT_EQ(F("{:#x}", 0xfee00000u), "0xfee00000");
  EXPECT_EQ(F("{:#018x}", 0x1234u), "0x0000000000001234");
  EXPECT_EQ(F("{:x}", -1), "ffffffffffffffff");
}

TEST(Format, Widths) {
  EXPECT_EQ(F("[{:5}]", 42), "[   42]");
  EXPECT_EQ(F("[{:<5}]", 42), "[42   ]");
  EXPECT_EQ(F("[{:05}]", -42), "[-0042]");
  EXPECT_EQ(F("[{:6}]", "ab"), "[    ab]");
  EXPECT_EQ(F("[{:<6}]", "ab"), "[ab    ]");
  EXPECT_EQ(F("[{:2}]", "abcdef"), "[abcdef]");
}

TEST(Format, OtherKinds) {
  EXPECT_EQ(F("{}", 'z'), "z");
  EXPECT_EQ(F("{}", true), "true");
  EXPECT_EQ(F("{}", static_cast<const char*>(nullptr)), "(null)");
  EXPECT_EQ(F("{}", reinterpret_cast<void*>(0xabc)), "0x0000000000000abc");
  EXPECT_EQ(F("{}", Color::kRed), "3");
  EXPECT_EQ(F("{}", Strong{}), "42");
  EXPECT_EQ(F("{}", base::StrView("hello", 3)), "hel");
}

TEST(Format, BracesAndMismatches) {
  EXPECT_EQ(F("{{}} {}", 1), "{} 1");
  EXPECT_EQ(F("{} {}", 1), "1 {?}");
  EXPECT_EQ(F("{}", 1, 2), "1");
  EXPECT_EQ(F("a}b", 1), "a}b");
  EXPECT_EQ(F("x{", 1), "x{");
}

TEST(Format, TruncationKeepsCountAndTerminator) {
  char buf[6];
  size_t n = base::format_to(buf, sizeof(buf), "{}", 1234567890);
  EXPECT_EQ(n, 10u);
  EXPECT_STREQ(buf, "12345");
  char none[1];
  EXPECT_EQ(base::format_to(none, 1, "abc"), 3u);
  EXPECT_STREQ(none, "");
}

}  // namespace

namespace {

TEST(Format, Percent) {
  char buf[32];
  auto pct = [&](uint64_t part, uint64_t whole) {
    base::BufferSink b(buf, sizeof buf);
    base::format_percent(b.sink(), part, whole);
    return std::string(buf, b.length());
  };
  EXPECT_EQ(pct(682, 1000), "   68.2%");
  EXPECT_EQ(pct(1, 3), "   33.3%");
  EXPECT_EQ(pct(2, 3), "   66.7%") << "rounded, not cut";
  EXPECT_EQ(pct(5, 5), "  100.0%");
  EXPECT_EQ(pct(0, 0), "    0.0%");
  EXPECT_EQ(pct(3, 2), "  150.0%") << "a part above the whole is shown as it is";
}

}  // namespace
