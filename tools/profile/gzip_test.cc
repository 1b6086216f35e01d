// Tests for gzip_stored: the CRC-32 check value, a decoder written from
// [gzip] and [deflate] that accepts stored blocks only, and gzip(1) itself.
#include "tools/profile/gzip.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace profile {
namespace {

uint32_t le(const std::vector<uint8_t>& b, size_t pos, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint32_t{b.at(pos + i)} << (8 * i);
  return v;
}

// Returns the member's data; fails the test on any deviation.
std::vector<uint8_t> gunzip_stored(const std::vector<uint8_t>& gz, size_t* blocks) {
  std::vector<uint8_t> out;
  EXPECT_GE(gz.size(), 18u);
  EXPECT_EQ(gz[0], 0x1f);
  EXPECT_EQ(gz[1], 0x8b);
  EXPECT_EQ(gz[2], 8);  // deflate
  EXPECT_EQ(gz[3], 0);  // no optional fields
  size_t pos = 10;
  *blocks = 0;
  while (true) {
    const uint8_t h = gz.at(pos++);
    EXPECT_EQ(h & 6, 0) << "not a stored block";
    const uint32_t len = le(gz, pos, 2), nlen = le(gz, pos + 2, 2);
    EXPECT_EQ(len ^ 0xffff, nlen);
    pos += 4;
    out.insert(out.end(), gz.begin() + pos, gz.begin() + pos + len);
    pos += len;
    ++*blocks;
    if (h & 1) break;
  }
  EXPECT_EQ(le(gz, pos, 4), crc32(out));
  EXPECT_EQ(le(gz, pos + 4, 4), static_cast<uint32_t>(out.size()));
  EXPECT_EQ(pos + 8, gz.size()) << "bytes after the trailer";
  return out;
}

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + (i >> 9));
  return v;
}

TEST(Gzip, Crc32CheckValue) {
  // The standard check value: CRC-32 of "123456789".
  const std::string s = "123456789";
  const std::span<const uint8_t> b(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  EXPECT_EQ(crc32(b), 0xcbf4'3926u);
  EXPECT_EQ(crc32(b.subspan(4), crc32(b.subspan(0, 4))), 0xcbf4'3926u);  // continued
  EXPECT_EQ(crc32({}), 0u);
}

TEST(Gzip, RoundTripsAcrossBlockBoundaries) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{200'000}}) {
    SCOPED_TRACE(n);
    const std::vector<uint8_t> data = pattern(n);
    size_t blocks = 0;
    EXPECT_EQ(gunzip_stored(gzip_stored(data), &blocks), data);
    EXPECT_EQ(blocks, n == 0 ? 1 : (n + 65534) / 65535);
  }
  // Deterministic: equal data, equal bytes.
  EXPECT_EQ(gzip_stored(pattern(1000)), gzip_stored(pattern(1000)));
}

TEST(Gzip, GzipToolAcceptsIt) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string path = std::string(tmp) + "/data.gz";
  const std::vector<uint8_t> data = pattern(150'000);
  const std::vector<uint8_t> gz = gzip_stored(data);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(gz.data()), static_cast<std::streamsize>(gz.size()));
  FILE* p = popen(("gzip -dc '" + path + "'").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::vector<uint8_t> out;
  uint8_t buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.insert(out.end(), buf, buf + n);
  EXPECT_EQ(pclose(p), 0) << "gzip -dc failed";
  EXPECT_EQ(out, data);
}

}  // namespace
}  // namespace profile
