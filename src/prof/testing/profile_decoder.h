// Decodes pprof profile bytes into plain structs for host tests, by the
// field numbers of [pprof] proto/profile.proto (independently of the
// encoder's own constants, so a wrong number there shows up here). Host
// only; reports problems as gtest failures.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/prof/testing/proto_reader.h"

namespace prof::testing {

struct DecodedLabel {
  int64_t key_index = 0, str_index = 0, num_unit_index = 0;
  int64_t num = 0;
  std::string key, str, num_unit;  // the indices looked up in the string table
};
struct DecodedSample {
  std::vector<uint64_t> location_ids;
  std::vector<int64_t> values;
  std::vector<DecodedLabel> labels;
};
struct DecodedLine {
  uint64_t function_id = 0;
  int64_t line = 0;
};
struct DecodedLocation {
  uint64_t id = 0, mapping_id = 0, address = 0;
  std::vector<DecodedLine> lines;
};
struct DecodedFunction {
  uint64_t id = 0;
  int64_t name = 0, system_name = 0, filename = 0;
};
struct DecodedMapping {
  uint64_t id = 0, memory_start = 0, memory_limit = 0, file_offset = 0;
  int64_t filename = 0, build_id = 0;
  bool has_functions = false, has_filenames = false, has_line_numbers = false;
};
struct DecodedProfile {
  std::vector<std::pair<int64_t, int64_t>> sample_types;  // (type, unit) string indices
  std::vector<DecodedSample> samples;
  std::vector<DecodedMapping> mappings;
  std::vector<DecodedLocation> locations;
  std::vector<DecodedFunction> functions;
  std::vector<std::string> strings;
  int64_t time_nanos = 0, duration_nanos = 0, period = 0;
  std::pair<int64_t, int64_t> period_type{0, 0};

  /// strings[i], or a marker no test expects when `i` is out of range.
  std::string str(int64_t i) const {
    if (i < 0 || static_cast<size_t>(i) >= strings.size()) return "<bad string index>";
    return strings[static_cast<size_t>(i)];
  }
};

inline std::vector<ProtoField> fields_of(std::string_view bytes) {
  auto f = parse_message(bytes);
  EXPECT_TRUE(f.has_value()) << "malformed message";
  return f.value_or(std::vector<ProtoField>{});
}

inline std::pair<int64_t, int64_t> decode_value_type(std::string_view b) {
  std::pair<int64_t, int64_t> vt{0, 0};
  for (const ProtoField& f : fields_of(b)) {
    if (f.number == 1) vt.first = static_cast<int64_t>(f.varint);
    if (f.number == 2) vt.second = static_cast<int64_t>(f.varint);
  }
  return vt;
}

inline DecodedSample decode_sample(std::string_view b) {
  DecodedSample s;
  std::vector<uint64_t> values;
  for (const ProtoField& f : fields_of(b)) {
    if (f.number == 1) EXPECT_TRUE(append_repeated_varint(f, &s.location_ids));
    if (f.number == 2) EXPECT_TRUE(append_repeated_varint(f, &values));
    if (f.number == 3) {
      DecodedLabel l;
      for (const ProtoField& lf : fields_of(f.bytes)) {
        if (lf.number == 1) l.key_index = static_cast<int64_t>(lf.varint);
        if (lf.number == 2) l.str_index = static_cast<int64_t>(lf.varint);
        if (lf.number == 3) l.num = static_cast<int64_t>(lf.varint);
        if (lf.number == 4) l.num_unit_index = static_cast<int64_t>(lf.varint);
      }
      s.labels.push_back(l);
    }
  }
  for (uint64_t v : values) s.values.push_back(static_cast<int64_t>(v));
  return s;
}

/// The profile in `bytes`, or nullopt if its wire format is malformed
/// (gtest failures report unexpected fields and malformed submessages).
inline std::optional<DecodedProfile> decode(const std::vector<uint8_t>& bytes) {
  const auto top = parse_message(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!top) return std::nullopt;
  DecodedProfile p;
  for (const ProtoField& f : *top) {
    switch (f.number) {
      case 1:
        p.sample_types.push_back(decode_value_type(f.bytes));
        break;
      case 2:
        p.samples.push_back(decode_sample(f.bytes));
        break;
      case 3: {
        DecodedMapping m;
        for (const ProtoField& g : fields_of(f.bytes)) {
          switch (g.number) {
            case 1:
              m.id = g.varint;
              break;
            case 2:
              m.memory_start = g.varint;
              break;
            case 3:
              m.memory_limit = g.varint;
              break;
            case 4:
              m.file_offset = g.varint;
              break;
            case 5:
              m.filename = static_cast<int64_t>(g.varint);
              break;
            case 6:
              m.build_id = static_cast<int64_t>(g.varint);
              break;
            case 7:
              m.has_functions = g.varint != 0;
              break;
            case 8:
              m.has_filenames = g.varint != 0;
              break;
            case 9:
              m.has_line_numbers = g.varint != 0;
              break;
          }
        }
        p.mappings.push_back(m);
        break;
      }
      case 4: {
        DecodedLocation l;
        for (const ProtoField& g : fields_of(f.bytes)) {
          if (g.number == 1) l.id = g.varint;
          if (g.number == 2) l.mapping_id = g.varint;
          if (g.number == 3) l.address = g.varint;
          if (g.number == 4) {
            DecodedLine line;
            for (const ProtoField& h : fields_of(g.bytes)) {
              if (h.number == 1) line.function_id = h.varint;
              if (h.number == 2) line.line = static_cast<int64_t>(h.varint);
            }
            l.lines.push_back(line);
          }
        }
        p.locations.push_back(l);
        break;
      }
      case 5: {
        DecodedFunction fn;
        for (const ProtoField& g : fields_of(f.bytes)) {
          if (g.number == 1) fn.id = g.varint;
          if (g.number == 2) fn.name = static_cast<int64_t>(g.varint);
          if (g.number == 3) fn.system_name = static_cast<int64_t>(g.varint);
          if (g.number == 4) fn.filename = static_cast<int64_t>(g.varint);
        }
        p.functions.push_back(fn);
        break;
      }
      case 6:
        p.strings.emplace_back(f.bytes);
        break;
      case 9:
        p.time_nanos = static_cast<int64_t>(f.varint);
        break;
      case 10:
        p.duration_nanos = static_cast<int64_t>(f.varint);
        break;
      case 11:
        p.period_type = decode_value_type(f.bytes);
        break;
      case 12:
        p.period = static_cast<int64_t>(f.varint);
        break;
      default:
        ADD_FAILURE() << "unexpected Profile field " << f.number;
    }
  }
  // The string table may come after the samples: resolve labels last.
  for (DecodedSample& s : p.samples) {
    for (DecodedLabel& l : s.labels) {
      l.key = p.str(l.key_index);
      l.str = p.str(l.str_index);
      l.num_unit = p.str(l.num_unit_index);
    }
  }
  return p;
}

}  // namespace prof::testing
