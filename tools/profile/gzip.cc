// gzip_stored and crc32: see gzip.h.
#include "tools/profile/gzip.h"

#include <array>

namespace profile {
namespace {

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb8'8320u ^ (c >> 1) : c >> 1;
    t[n] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

void put_le(std::vector<uint8_t>& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

uint32_t crc32(std::span<const uint8_t> data, uint32_t crc) {
  // [gzip] 8: the register starts at all ones and is inverted at the end;
  // continuing means undoing that final inversion first.
  uint32_t c = crc ^ 0xffff'ffffu;
  for (uint8_t b : data) c = kCrcTable[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffff'ffffu;
}

std::vector<uint8_t> gzip_stored(std::span<const uint8_t> data) {
  constexpr size_t kMaxStored = 65535;  // [deflate] 3.2.4: LEN is 16 bits
  std::vector<uint8_t> out;
  out.reserve(data.size() + data.size() / kMaxStored * 5 + 32);
  // [gzip] 2.3.1: ID1 ID2, CM = 8 (deflate), FLG = 0, MTIME = 0 (none),
  // XFL = 0, OS = 255 (unknown).
  const uint8_t header[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
  out.insert(out.end(), std::begin(header), std::end(header));
  size_t pos = 0;
  do {
    const size_t n = std::min(kMaxStored, data.size() - pos);
    const bool final = pos + n == data.size();
    // [deflate] 3.2.3: BFINAL (1 bit), BTYPE = 00 (2 bits); a stored block
    // then skips to the byte boundary, so the header is one whole byte.
    out.push_back(final ? 1 : 0);
    // [deflate] 3.2.4: LEN and its one's complement NLEN, little-endian.
    put_le(out, static_cast<uint32_t>(n), 2);
    put_le(out, static_cast<uint32_t>(~n & 0xffff), 2);
    out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(pos),
               data.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
  } while (pos < data.size());
  // [gzip] 2.3.1: CRC32, then ISIZE = the input size modulo 2^32.
  put_le(out, crc32(data), 4);
  put_le(out, static_cast<uint32_t>(data.size()), 4);
  return out;
}

}  // namespace profile
