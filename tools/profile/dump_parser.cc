// parse_dump: see dump_parser.h and docs/profile_dump_format.md.
#include "tools/profile/dump_parser.h"

#include <charconv>
#include <optional>

namespace profile {
namespace {

constexpr std::string_view kMarker = "prof-dump ";

// "prof-dump <word>" alone or followed by fields: a marker line, well
// formed or not (a bare "prof-dump end" is a malformed end, not noise).
bool is_marker(std::string_view line, std::string_view word) {
  if (line.substr(0, kMarker.size()) != kMarker) return false;
  const std::string_view rest = line.substr(kMarker.size());
  return rest.substr(0, word.size()) == word && (rest.size() == word.size() || rest[word.size()] == ' ');
}

struct Line {
  std::string_view text;  // without the line ending
  size_t number;          // 1-based
};

// Splits at '\n' and drops one trailing '\r' (the console writes CRLF).
std::vector<Line> split_lines(std::string_view log) {
  std::vector<Line> lines;
  size_t pos = 0, number = 1;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    if (nl == std::string_view::npos) nl = log.size();
    std::string_view l = log.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back({l, number++});
    pos = nl + 1;
  }
  return lines;
}

// Fields separated by single spaces: an empty field (two spaces, or a
// leading or trailing space) is kept, so the caller rejects it.
std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (true) {
    const size_t sp = s.find(' ', pos);
    f.push_back(s.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos));
    if (sp == std::string_view::npos) return f;
    pos = sp + 1;
  }
}

// A whole decimal or hex field; no sign, no prefix, no overflow.
std::optional<uint64_t> parse_uint(std::string_view s, int base) {
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    const bool digit = c >= '0' && c <= '9';
    const bool hex = c >= 'a' && c <= 'f';  // lowercase only, as the format says
    if (!digit && !(base == 16 && hex)) return std::nullopt;
  }
  uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// `key=<decimal>` exactly.
std::optional<uint64_t> keyed_uint(std::string_view field, std::string_view key) {
  if (field.size() <= key.size() + 1 || field.substr(0, key.size()) != key || field[key.size()] != '=') {
    return std::nullopt;
  }
  return parse_uint(field.substr(key.size() + 1), 10);
}

std::string at(size_t line) { return "line " + std::to_string(line) + ": "; }

bool parse_begin(const Line& l, Capture* c, std::string* error) {
  const auto f = split_fields(l.text);
  // prof-dump begin v1 build-id=<hex|none> hz=<N> period_ns=<N> cpus=<N>
  if (f.size() >= 3 && f[2] != "v1") {
    *error = at(l.number) + "unsupported dump version '" + std::string(f[2]) + "' (this tool reads v1)";
    return false;
  }
  const auto bad = [&] {
    *error = at(l.number) +
             "malformed begin line (want 'prof-dump begin v1 build-id=<hex|none> "
             "hz=<N> period_ns=<N> cpus=<N>'): " +
             std::string(l.text);
    return false;
  };
  if (f.size() != 7 || f[3].substr(0, 9) != "build-id=") return bad();
  const std::string_view id = f[3].substr(9);
  if (id == "none") {
    c->build_id.clear();
  } else if (id.empty() || id.size() % 2 != 0 || id.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return bad();
  } else {
    c->build_id = std::string(id);
  }
  const auto hz = keyed_uint(f[4], "hz");
  const auto period = keyed_uint(f[5], "period_ns");
  const auto cpus = keyed_uint(f[6], "cpus");
  if (!hz || !period || !cpus || *hz == 0 || *period == 0 || *cpus == 0 || *cpus > UINT32_MAX) {
    return bad();
  }
  c->hz = *hz;
  c->period_ns = *period;
  c->cpus = static_cast<uint32_t>(*cpus);
  return true;
}

std::optional<prof::SampleMode> parse_mode(std::string_view s) {
  if (s == "thread") return prof::SampleMode::kThread;
  if (s == "interrupt") return prof::SampleMode::kInterrupt;
  if (s == "idle") return prof::SampleMode::kIdle;
  return std::nullopt;
}

// `<from>><to>` or `<from>><to>!` (mispredicted), each lowercase hex.
std::optional<prof::SampleBranch> parse_branch(std::string_view f) {
  prof::SampleBranch b;
  if (!f.empty() && f.back() == '!') {
    b.mispredicted = true;
    f.remove_suffix(1);
  }
  const size_t gt = f.find('>');
  // No '>' (npos) is past 16 too.
  if (gt > 16 || f.size() - gt - 1 > 16) return std::nullopt;
  const auto from = parse_uint(f.substr(0, gt), 16);
  const auto to = parse_uint(f.substr(gt + 1), 16);
  if (!from || !to) return std::nullopt;
  b.from = *from;
  b.to = *to;
  return b;
}

// s <cpu> <tid> <mode> <event> <timestamp> <pc0> [<pc1> ...] [lbr <from>><to>[!] ...]
bool parse_sample(const Line& l, const Capture& c, prof::Sample* s, std::string* error) {
  const auto f = split_fields(l.text);
  const auto bad = [&](const std::string& why) {
    *error = at(l.number) + "malformed sample line (" + why + "): " + std::string(l.text);
    return false;
  };
  if (f.size() < 7) return bad("want 's <cpu> <tid> <mode> <event> <timestamp> <pc0> [<pc1> ...] [lbr ...]'");
  // The pcs end where the optional LBR part begins.
  size_t pcs_end = 6;
  while (pcs_end < f.size() && f[pcs_end] != "lbr") ++pcs_end;
  if (pcs_end == 6) return bad("no pc before 'lbr'");
  if (pcs_end - 6 > prof::kMaxSamplePcs) {
    return bad(std::to_string(pcs_end - 6) + " pcs, at most " + std::to_string(prof::kMaxSamplePcs));
  }
  if (pcs_end < f.size()) {
    const size_t nb = f.size() - pcs_end - 1;
    if (nb == 0) return bad("'lbr' with no branch after it");
    if (nb > prof::kMaxSampleBranches) {
      return bad(std::to_string(nb) + " branches, at most " + std::to_string(prof::kMaxSampleBranches));
    }
  }
  const auto cpu = parse_uint(f[1], 10);
  if (!cpu || *cpu >= c.cpus) return bad("cpu not a decimal below cpus=" + std::to_string(c.cpus));
  const auto tid = parse_uint(f[2], 10);
  if (!tid) return bad("tid not a decimal");
  const auto mode = parse_mode(f[3]);
  if (!mode) return bad("mode not thread, interrupt or idle");
  const auto event = parse_uint(f[4], 10);
  if (!event || *event > 255) return bad("event not a decimal 0..255");
  const auto ts = parse_uint(f[5], 10);
  if (!ts) return bad("timestamp not a decimal");
  *s = prof::Sample{};
  s->header.cpu = static_cast<uint32_t>(*cpu);
  s->header.tid = *tid;
  s->header.timestamp = *ts;
  s->header.flags = prof::sample_flags::make(*mode, false);
  s->header.event = static_cast<uint8_t>(*event);
  for (size_t i = 6; i < pcs_end; ++i) {
    const auto pc = f[i].size() <= 16 ? parse_uint(f[i], 16) : std::nullopt;
    if (!pc) return bad("pc " + std::to_string(i - 6) + " not lowercase hex without 0x");
    s->pcs[s->n_pcs++] = *pc;
  }
  for (size_t i = pcs_end + 1; i < f.size(); ++i) {
    const auto b = parse_branch(f[i]);
    if (!b) {
      return bad("branch " + std::to_string(i - pcs_end - 1) +
                 " not '<from>><to>' or '<from>><to>!' in lowercase hex without 0x");
    }
    s->branches[s->n_branches++] = *b;
  }
  if (s->n_branches != 0) s->header.flags |= prof::sample_flags::kBranches;
  return true;
}

bool parse_end(const Line& l, uint64_t* samples, uint64_t* dropped, std::string* error) {
  const auto f = split_fields(l.text);
  std::optional<uint64_t> n, d;
  if (f.size() == 4) {
    n = keyed_uint(f[2], "samples");
    d = keyed_uint(f[3], "dropped");
  }
  if (!n || !d) {
    *error = at(l.number) + "malformed end line (want 'prof-dump end samples=<N> dropped=<N>'): " + std::string(l.text);
    return false;
  }
  *samples = *n;
  *dropped = *d;
  return true;
}

}  // namespace

bool parse_dump(std::string_view log, Capture* out, std::string* error) {
  const std::vector<Line> lines = split_lines(log);
  // The last complete pair: the last end line, and the last begin before it.
  // Earlier captures (a `prof dump` typed twice) are ignored whole, so a
  // damaged old one does not spoil a good new one.
  size_t end = lines.size(), begin = lines.size();
  for (size_t i = lines.size(); i-- > 0;) {
    const std::string_view t = lines[i].text;
    if (end == lines.size() && is_marker(t, "end")) end = i;
    if (end != lines.size() && i < end && is_marker(t, "begin")) {
      begin = i;
      break;
    }
  }
  size_t last_begin = lines.size();
  for (size_t i = 0; i < lines.size(); ++i)
    if (is_marker(lines[i].text, "begin")) last_begin = i;
  if (begin == lines.size()) {
    if (last_begin != lines.size()) {
      *error = "capture incomplete: no 'prof-dump end' line after the begin line at line " +
               std::to_string(lines[last_begin].number) + " (the kernel stopped mid-dump?)";
    } else {
      *error = "no profile dump in the log: no 'prof-dump begin' line";
    }
    return false;
  }
  Capture c;
  c.begin_line = lines[begin].number;
  c.end_line = lines[end].number;
  if (last_begin > end) c.ignored_begin_line = lines[last_begin].number;
  if (!parse_begin(lines[begin], &c, error)) return false;
  for (size_t i = begin + 1; i < end; ++i) {
    const Line& l = lines[i];
    if (l.text.substr(0, 2) == "s ") {
      prof::Sample s;
      if (!parse_sample(l, c, &s, error)) return false;
      c.samples.push_back(s);
    } else if (l.text.substr(0, kMarker.size()) == kMarker) {
      *error = at(l.number) + "unexpected '" + std::string(l.text) + "' inside the capture begun at line " +
               std::to_string(c.begin_line);
      return false;
    }
    // Anything else is other kernel output, which may interleave.
  }
  uint64_t want = 0;
  if (!parse_end(lines[end], &want, &c.dropped, error)) return false;
  if (c.samples.size() != want) {
    *error = "capture incomplete: got " + std::to_string(c.samples.size()) + " of " + std::to_string(want) +
             " samples (lines " + std::to_string(c.begin_line) + "-" + std::to_string(c.end_line) + ")";
    return false;
  }
  *out = std::move(c);
  return true;
}

}  // namespace profile
