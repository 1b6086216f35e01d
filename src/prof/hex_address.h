// Parses an address typed at the monitor (`sym ffffffff80101000`): hex
// digits with an optional 0x, at most 64 bits. Pure; any context.
#pragma once

#include "src/base/str.h"
#include "src/base/types.h"

namespace prof {

/// The value of `text` (surrounding spaces allowed), or false when it is
/// empty, holds a non-hex character or more than 16 significant digits.
constexpr bool parse_hex_address(base::StrView text, uint64_t* out) {
  size_t b = 0;
  size_t e = text.size();
  while (b < e && text[b] == ' ') ++b;
  while (e > b && text[e - 1] == ' ') --e;
  if (e - b >= 2 && text[b] == '0' && (text[b + 1] == 'x' || text[b + 1] == 'X')) b += 2;
  if (b == e) return false;
  uint64_t v = 0;
  for (size_t i = b; i < e; ++i) {
    const char c = text[i];
    uint64_t d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(static_cast<unsigned char>(c)) - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(static_cast<unsigned char>(c)) - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<uint64_t>(static_cast<unsigned char>(c)) - 'A' + 10;
    } else {
      return false;
    }
    if (v >> 60 != 0) return false;  // a 17th significant digit
    v = v << 4 | d;
  }
  *out = v;
  return true;
}

}  // namespace prof
