// parse_json: a recursive-descent reader of RFC 8259's grammar.
#include "tools/profile/json.h"

#include <cstdlib>

namespace profile {

const JsonValue* JsonValue::get(std::string_view key) const {
  if (kind != Kind::kObject) return nullptr;
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &values[i];
  return nullptr;
}

namespace {

// Nesting beyond this is refused rather than recursed into (the input is a
// tool's output; this only guards the stack).
constexpr int kMaxDepth = 64;

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool document(JsonValue* out, std::string* error) {
    ws();
    if (!value(out, 0)) return fail(error);
    ws();
    if (pos_ != s_.size()) {
      why_ = "trailing characters";
      return fail(error);
    }
    return true;
  }

 private:
  bool fail(std::string* error) {
    *error = "JSON: " + why_ + " at byte " + std::to_string(pos_);
    return false;
  }
  bool err(const char* why) {
    why_ = why;
    return false;
  }
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return err("bad literal");
    pos_ += word.size();
    return true;
  }

  bool value(JsonValue* v, int depth) {
    if (depth > kMaxDepth) return err("nested too deeply");
    if (pos_ >= s_.size()) return err("unexpected end");
    switch (s_[pos_]) {
      case '{':
        return object(v, depth);
      case '[':
        return array(v, depth);
      case '"':
        v->kind = JsonValue::Kind::kString;
        return string(&v->string);
      case 't':
        v->kind = JsonValue::Kind::kBool;
        v->boolean = true;
        return literal("true");
      case 'f':
        v->kind = JsonValue::Kind::kBool;
        v->boolean = false;
        return literal("false");
      case 'n':
        v->kind = JsonValue::Kind::kNull;
        return literal("null");
      default:
        return number(v);
    }
  }

  bool object(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kObject;
    ++pos_;  // '{'
    ws();
    if (eat('}')) return true;
    while (true) {
      ws();
      std::string key;
      if (pos_ >= s_.size() || s_[pos_] != '"') return err("expected a member name");
      if (!string(&key)) return false;
      ws();
      if (!eat(':')) return err("expected ':'");
      ws();
      JsonValue member;
      if (!value(&member, depth + 1)) return false;
      v->keys.push_back(std::move(key));
      v->values.push_back(std::move(member));
      ws();
      if (eat('}')) return true;
      if (!eat(',')) return err("expected ',' or '}'");
    }
  }

  bool array(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kArray;
    ++pos_;  // '['
    ws();
    if (eat(']')) return true;
    while (true) {
      ws();
      JsonValue item;
      if (!value(&item, depth + 1)) return false;
      v->items.push_back(std::move(item));
      ws();
      if (eat(']')) return true;
      if (!eat(',')) return err("expected ',' or ']'");
    }
  }

  bool hex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return err("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return err("bad \\u escape");
    }
    *out = v;
    return true;
  }

  static void utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xc0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xe0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      *out += static_cast<char>(0xf0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  bool string(std::string* out) {
    ++pos_;  // '"'
    while (true) {
      if (pos_ >= s_.size()) return err("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return err("control character in string");
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (pos_ >= s_.size()) return err("unterminated string");
      switch (s_[pos_++]) {
        case '"':
          *out += '"';
          break;
        case '\\':
          *out += '\\';
          break;
        case '/':
          *out += '/';
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          // A UTF-16 surrogate pair encodes one code point above U+FFFF.
          if (cp >= 0xd800 && cp < 0xdc00) {
            uint32_t lo;
            if (!eat('\\') || !eat('u') || !hex4(&lo) || lo < 0xdc00 || lo >= 0xe000) return err("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return err("unpaired surrogate");
          }
          utf8(cp, out);
          break;
        }
        default:
          return err("bad escape");
      }
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number(JsonValue* v) {
    const size_t start = pos_;
    const auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    (void)eat('-');
    if (eat('0')) {
    } else if (!digits()) {
      return err("unexpected character");
    }
    if (eat('.') && !digits()) return err("bad number");
    if (eat('e') || eat('E')) {
      if (!eat('+')) (void)eat('-');
      if (!digits()) return err("bad number");
    }
    v->kind = JsonValue::Kind::kNumber;
    v->number = std::strtod(std::string(s_.substr(start, pos_ - start)).c_str(), nullptr);
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string why_;
};

}  // namespace

bool parse_json(std::string_view text, JsonValue* out, std::string* error) {
  *out = JsonValue{};
  return Reader(text).document(out, error);
}

}  // namespace profile
