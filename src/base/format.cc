// The formatting engine behind base::format.
#include "src/base/format.h"

namespace base {
namespace {

struct Spec {
  bool left = false;
  bool alt = false;
  bool zero = false;
  size_t width = 0;
  char conv = 0;  // 0, 'x', 'X', 'd', 'c', 'p'
};

// Parses the text between ':' and '}'. Unknown characters end the spec;
// a malformed spec still prints the argument with what was understood.
Spec parse_spec(StrView s) {
  Spec spec;
  size_t i = 0;
  if (i < s.size() && s[i] == '<') spec.left = true, ++i;
  if (i < s.size() && s[i] == '#') spec.alt = true, ++i;
  if (i < s.size() && s[i] == '0') spec.zero = true, ++i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') spec.width = spec.width * 10 + (s[i++] - '0');
  if (i < s.size()) spec.conv = s[i];
  return spec;
}

class Writer {
 public:
  explicit Writer(Sink sink) : sink_(sink) {}
  void put(const char* p, size_t n) {
    if (n == 0) return;
    sink_.write(sink_.ctx, p, n);
    count_ += n;
  }
  void repeat(char c, size_t n) {
    char run[16];
    for (auto& r : run) r = c;
    while (n > 0) {
      size_t k = n < sizeof(run) ? n : sizeof(run);
      put(run, k);
      n -= k;
    }
  }
  // Emits prefix + body padded to spec.width. Zero padding goes between the
  // prefix and the digits, as printf does.
  void padded(const Spec& spec, StrView prefix, StrView body) {
    size_t len = prefix.size() + body.size();
    size_t pad = spec.width > len ? spec.width - len : 0;
    if (spec.left) {
      put(prefix.data(), prefix.size());
      put(body.data(), body.size());
      repeat(' ', pad);
    } else if (spec.zero) {
      put(prefix.data(), prefix.size());
      repeat('0', pad);
      put(body.data(), body.size());
    } else {
      repeat(' ', pad);
      put(prefix.data(), prefix.size());
      put(body.data(), body.size());
    }
  }
  size_t count() const { return count_; }

 private:
  Sink sink_;
  size_t count_ = 0;
};

// Digits of v in `base` (10 or 16), written backwards into the end of buf.
StrView digits(uint64_t v, unsigned base, bool upper, char (&buf)[24]) {
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  size_t i = sizeof(buf);
  do {
    buf[--i] = set[v % base];
    v /= base;
  } while (v != 0);
  return StrView(buf + i, sizeof(buf) - i);
}

void emit(Writer& w, const Spec& spec, const FormatArg& arg) {
  char buf[24];
  using Kind = FormatArg::Kind;
  switch (arg.kind) {
    case Kind::kStr:
      w.padded(Spec{spec.left, false, false, spec.width, 0}, "", StrView(arg.str.data, arg.str.size));
      return;
    case Kind::kBool:
      w.padded(spec, "", arg.u ? "true" : "false");
      return;
    case Kind::kChar:
      if (spec.conv != 'x' && spec.conv != 'X' && spec.conv != 'd') {
        char c = static_cast<char>(arg.u);
        w.padded(spec, "", StrView(&c, 1));
        return;
      }
      break;
    case Kind::kPtr: {
      Spec p = spec;
      p.zero = true;
      if (p.width < 18) p.width = 18;
      w.padded(p, "0x", digits(reinterpret_cast<uintptr_t>(arg.p), 16, false, buf));
      return;
    }
    default:
      break;
  }
  bool hex = spec.conv == 'x' || spec.conv == 'X' || spec.conv == 'p';
  if (spec.conv == 'c') {
    char c = static_cast<char>(arg.u);
    w.padded(spec, "", StrView(&c, 1));
    return;
  }
  if (arg.kind == Kind::kSigned && !hex && arg.s < 0) {
    // Negate in unsigned arithmetic so INT64_MIN is exact.
    uint64_t mag = 0 - static_cast<uint64_t>(arg.s);
    w.padded(spec, "-", digits(mag, 10, false, buf));
    return;
  }
  uint64_t v = arg.u;  // for kSigned in hex: two's complement, as printf
  StrView prefix = hex && spec.alt ? StrView("0x") : StrView("");
  w.padded(spec, prefix, digits(v, hex ? 16 : 10, spec.conv == 'X', buf));
}

}  // namespace

size_t vformat(Sink sink, StrView fmt, const FormatArg* args, size_t nargs) {
  Writer w(sink);
  size_t next = 0;
  size_t i = 0;
  while (i < fmt.size()) {
    size_t open = i;
    while (open < fmt.size() && fmt[open] != '{' && fmt[open] != '}') ++open;
    w.put(fmt.data() + i, open - i);
    if (open == fmt.size()) break;
    if (open + 1 < fmt.size() && fmt[open + 1] == fmt[open]) {  // "{{" or "}}"
      w.put(fmt.data() + open, 1);
      i = open + 2;
      continue;
    }
    if (fmt[open] == '}') {  // stray '}': print it
      w.put("}", 1);
      i = open + 1;
      continue;
    }
    size_t close = fmt.find('}', open);
    if (close == StrView::npos) {  // unterminated: print the rest literally
      w.put(fmt.data() + open, fmt.size() - open);
      break;
    }
    StrView inside = fmt.substr(open + 1, close - open - 1);
    Spec spec = inside.size() > 0 && inside[0] == ':' ? parse_spec(inside.substr(1)) : Spec{};
    if (next < nargs) {
      emit(w, spec, args[next++]);
    } else {
      w.put("{?}", 3);
    }
    i = close + 1;
  }
  return w.count();
}

void BufferSink::write_thunk(void* ctx, const char* bytes, size_t n) {
  auto* self = static_cast<BufferSink*>(ctx);
  for (size_t k = 0; k < n; ++k, ++self->len_) {
    if (self->len_ + 1 < self->cap_) {
      self->buf_[self->len_] = bytes[k];
      self->buf_[self->len_ + 1] = '\0';
    }
  }
}

}  // namespace base
