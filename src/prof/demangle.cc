// See demangle.h. Grammar read ([itanium-abi] 5.1.2-5.1.5):
//   <mangled-name> ::= _Z [L] <name> [<parameters>]
//   <name>         ::= <source-name> | St <source-name>
//                    | N [<CV-qualifiers>] [<ref-qualifier>] <component>+ E
//   <component>    ::= <source-name> | C1 | C2 | C3 | D0 | D1 | D2
//   <source-name>  ::= <positive length number> <identifier>
// The parameters that follow are not printed.
#include "src/prof/demangle.h"

namespace prof {
namespace {

using base::StrView;

class Writer {
 public:
  Writer(char* out, size_t cap) : out_(out), cap_(cap) {}
  bool put(StrView s) {
    if (len_ + s.size() + 1 > cap_) return false;
    for (char c : s) out_[len_++] = c;
    return true;
  }
  size_t finish() {
    out_[len_] = 0;
    return len_;
  }

 private:
  char* out_;
  size_t cap_;
  size_t len_ = 0;
};

// <source-name> at text[*pos]: the identifier, or an empty view if there is
// none (a non-digit, a bad length).
StrView source_name(StrView text, size_t* pos) {
  size_t i = *pos, n = 0;
  if (i >= text.size() || text[i] < '1' || text[i] > '9') return StrView();
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    n = n * 10 + static_cast<size_t>(text[i] - '0');
    if (n > text.size()) return StrView();
    ++i;
  }
  if (n == 0 || n > text.size() - i) return StrView();
  *pos = i + n;
  return text.substr(i, n);
}

// A component's printed form: "(anonymous namespace)" for the ABI's
// anonymous-namespace name ([itanium-abi] 5.1.5.2: _GLOBAL__N).
StrView printed(StrView id) { return id.starts_with(StrView("_GLOBAL__N")) ? StrView("(anonymous namespace)") : id; }

}  // namespace

size_t demangle_function_name(StrView m, char* out, size_t cap) {
  if (cap == 0 || !m.starts_with(StrView("_Z"))) return 0;
  size_t i = 2;
  if (i < m.size() && m[i] == 'L') ++i;  // internal linkage
  // Pieces go straight into `out`; a name that turns out unreadable part
  // way returns 0, which tells the caller to ignore what was written.
  Writer w(out, cap);
  if (i < m.size() && m[i] == 'N') {
    ++i;
    while (i < m.size() && (m[i] == 'r' || m[i] == 'V' || m[i] == 'K' || m[i] == 'R' || m[i] == 'O')) ++i;
    StrView last;
    bool first = true;
    for (;;) {
      if (i >= m.size()) return 0;
      if (m[i] == 'E') {
        ++i;
        break;
      }
      StrView piece;
      char ctor_dtor[64];
      if ((m[i] == 'C' || m[i] == 'D') && i + 1 < m.size() && m[i + 1] >= '0' && m[i + 1] <= '3' && !last.empty()) {
        // A constructor or destructor: the class's own name again.
        if (m[i] == 'C') {
          piece = last;
        } else {
          if (last.size() + 1 > sizeof ctor_dtor) return 0;
          ctor_dtor[0] = '~';
          for (size_t k = 0; k < last.size(); ++k) ctor_dtor[k + 1] = last[k];
          piece = StrView(ctor_dtor, last.size() + 1);
        }
        i += 2;
      } else {
        piece = source_name(m, &i);
        if (piece.empty()) return 0;  // a template, a substitution, an operator...
        last = piece;
        piece = printed(piece);
      }
      if ((!first && !w.put(StrView("::"))) || !w.put(piece)) return 0;
      first = false;
    }
    if (first) return 0;
    return w.finish();
  }
  if (m.size() - i >= 2 && m[i] == 'S' && m[i + 1] == 't') {
    i += 2;
    if (!w.put(StrView("std::"))) return 0;
  }
  StrView id = source_name(m, &i);
  if (id.empty() || !w.put(printed(id))) return 0;
  // A template's arguments follow an unscoped name with I: not read.
  if (i < m.size() && m[i] == 'I') return 0;
  return w.finish();
}

}  // namespace prof
