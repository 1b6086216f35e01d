// Test-only: the data of a gzip member made of stored deflate blocks, what
// gzip_stored writes ([gzip] 2.3: a 10-byte header; [deflate] 3.2.4: each
// block a header byte, LEN, NLEN, then LEN bytes). No checks: gzip_test
// checks the format itself, field by field; the profile tests only need
// the bytes back.
#pragma once

#include <cstdint>
#include <vector>

namespace profile {

inline std::vector<uint8_t> gunzip_stored_for_tests(const std::vector<uint8_t>& gz) {
  std::vector<uint8_t> out;
  size_t pos = 10;
  while (pos + 5 <= gz.size()) {
    const uint8_t h = gz[pos];
    const size_t len = gz[pos + 1] | (gz[pos + 2] << 8);
    if (pos + 5 + len > gz.size()) break;
    out.insert(out.end(), gz.begin() + pos + 5, gz.begin() + pos + 5 + len);
    pos += 5 + len;
    if (h & 1) break;  // BFINAL
  }
  return out;
}

}  // namespace profile
