// A small JSON reader (RFC 8259) for llvm-symbolizer's --output-style=JSON:
// whole values into a tree, strict syntax, errors with a byte offset. Host
// only; no streaming, no duplicate-key policy beyond "first wins".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace profile {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> items;  // kArray
  // kObject: member names and values, in input order (two vectors: a pair
  // holding a JsonValue cannot be declared inside JsonValue).
  std::vector<std::string> keys;
  std::vector<JsonValue> values;

  /// The member named `key` of an object, or nullptr (also for non-objects).
  const JsonValue* get(std::string_view key) const;
};

/// Parses one JSON value filling all of `text` (surrounding whitespace
/// allowed). False with a message naming the byte offset on any error.
bool parse_json(std::string_view text, JsonValue* out, std::string* error);

}  // namespace profile
