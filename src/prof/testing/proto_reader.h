// A minimal protocol buffers wire-format reader for host tests: splits a
// message into its fields so a test can check what an encoder wrote without
// linking a protobuf library. Host only (std containers). Follows
// [protobuf-enc] "Message Structure", "Base 128 Varints", "Length-Delimited
// Records" and "Packed Repeated Fields".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace prof::testing {

struct ProtoField {
  uint32_t number = 0;
  uint32_t wire_type = 0;  // 0 varint, 2 length-delimited; others rejected
  uint64_t varint = 0;     // wire type 0
  std::string_view bytes;  // wire type 2
};

/// Reads one varint at `*pos`, advancing it; nullopt if truncated or longer
/// than 10 bytes.
inline std::optional<uint64_t> read_varint(std::string_view data, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*pos >= data.size()) return std::nullopt;
    const uint8_t b = static_cast<uint8_t>(data[(*pos)++]);
    v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return v;
  }
  return std::nullopt;
}

/// Every field of a message, in order; nullopt if malformed.
inline std::optional<std::vector<ProtoField>> parse_message(std::string_view data) {
  std::vector<ProtoField> fields;
  size_t pos = 0;
  while (pos < data.size()) {
    const auto key = read_varint(data, &pos);
    if (!key) return std::nullopt;
    ProtoField f;
    f.number = static_cast<uint32_t>(*key >> 3);
    f.wire_type = static_cast<uint32_t>(*key & 7);
    if (f.number == 0) return std::nullopt;
    if (f.wire_type == 0) {
      const auto v = read_varint(data, &pos);
      if (!v) return std::nullopt;
      f.varint = *v;
    } else if (f.wire_type == 2) {
      const auto len = read_varint(data, &pos);
      if (!len || *len > data.size() - pos) return std::nullopt;
      f.bytes = data.substr(pos, *len);
      pos += *len;
    } else {
      return std::nullopt;  // the encoders under test never write these
    }
    fields.push_back(f);
  }
  return fields;
}

/// The elements of a repeated varint field, accepting both the packed form
/// (one length-delimited record) and the unpacked one (one field per
/// element), as a conforming parser must. Appends to `*out`; false if
/// malformed.
inline bool append_repeated_varint(const ProtoField& f, std::vector<uint64_t>* out) {
  if (f.wire_type == 0) {
    out->push_back(f.varint);
    return true;
  }
  size_t pos = 0;
  while (pos < f.bytes.size()) {
    const auto v = read_varint(f.bytes, &pos);
    if (!v) return false;
    out->push_back(*v);
  }
  return true;
}

}  // namespace prof::testing
