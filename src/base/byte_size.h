// Parses a byte count as boot options and monitor commands take it:
// decimal digits with an optional K, M or G suffix (powers of 1024), e.g.
// "64M". Pure logic, host-tested. Any context.
#pragma once

#include "src/base/result.h"
#include "src/base/str.h"
#include "src/base/types.h"

namespace base {

/// The count `text` names; kInvalidArgument for anything else (empty, a
/// sign, other suffixes, trailing characters) and kOutOfRange past 2^63.
inline Result<uint64_t> parse_byte_size(StrView text) {
  if (text.size() == 0) return Error::kInvalidArgument;
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > ((uint64_t{1} << 63) - digit) / 10) return Error::kOutOfRange;
    value = value * 10 + digit;
  }
  if (i == 0) return Error::kInvalidArgument;
  unsigned shift = 0;
  if (i < text.size()) {
    switch (text[i]) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      default:
        return Error::kInvalidArgument;
    }
    if (++i != text.size()) return Error::kInvalidArgument;
  }
  if (value > ((uint64_t{1} << 63) >> shift)) return Error::kOutOfRange;
  return value << shift;
}

}  // namespace base
