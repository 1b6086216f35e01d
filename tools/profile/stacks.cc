// Named stacks, folded stacks and the top table: see stacks.h.
#include "tools/profile/stacks.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "src/prof/sample_pprof.h"

namespace profile {

std::vector<uint64_t> lookup_addresses(const prof::Sample& s) {
  prof::PprofSampleStorage storage;
  const prof::PprofSample p = to_pprof_sample(s, 0, &storage);
  return std::vector<uint64_t>(p.pcs.begin(), p.pcs.end());
}

std::vector<uint64_t> unique_addresses(const std::vector<prof::Sample>& samples) {
  std::set<uint64_t> set;
  for (const prof::Sample& s : samples) {
    for (uint64_t a : lookup_addresses(s)) set.insert(a);
    // LBR branches are looked up as they are (to_pprof_branch_sample).
    for (size_t i = 0; i < s.n_branches; ++i) {
      set.insert(s.branches[i].from);
      set.insert(s.branches[i].to);
    }
  }
  return std::vector<uint64_t>(set.begin(), set.end());
}

std::vector<std::string> stack_names(const prof::Sample& s, const SymbolTable& symbols) {
  const std::vector<uint64_t> addrs = lookup_addresses(s);
  std::vector<std::string> names;
  // Outermost pc first; within one pc, its frames are innermost first.
  for (auto a = addrs.rbegin(); a != addrs.rend(); ++a) {
    const auto it = symbols.find(*a);
    if (it == symbols.end() || it->second.frames.empty()) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(*a));
      names.emplace_back(buf);
      continue;
    }
    const std::vector<Frame>& frames = it->second.frames;
    for (auto f = frames.rbegin(); f != frames.rend(); ++f) {
      std::string n = f->function;
      std::replace(n.begin(), n.end(), ';', ':');
      names.push_back(std::move(n));
    }
  }
  return names;
}

Folded fold(const std::vector<prof::Sample>& samples, const SymbolTable& symbols) {
  Folded folded;
  for (const prof::Sample& s : samples) {
    std::string key;
    for (const std::string& n : stack_names(s, symbols)) {
      if (!key.empty()) key += ';';
      key += n;
    }
    ++folded[key];
  }
  return folded;
}

std::string folded_text(const Folded& folded) {
  std::string out;
  for (const auto& [stack, count] : folded) out += stack + " " + std::to_string(count) + "\n";
  return out;
}

std::vector<TopRow> top_functions(const Folded& folded) {
  std::map<std::string, TopRow> rows;
  for (const auto& [stack, count] : folded) {
    std::set<std::string_view> seen;
    size_t pos = 0;
    std::string_view leaf;
    while (true) {
      const size_t semi = stack.find(';', pos);
      const std::string_view name =
          std::string_view(stack).substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
      if (seen.insert(name).second) {
        TopRow& r = rows[std::string(name)];
        r.function = name;
        r.cum += count;
      }
      leaf = name;
      if (semi == std::string::npos) break;
      pos = semi + 1;
    }
    rows[std::string(leaf)].self += count;
  }
  std::vector<TopRow> out;
  out.reserve(rows.size());
  for (auto& [name, row] : rows) out.push_back(std::move(row));
  std::stable_sort(out.begin(), out.end(), [](const TopRow& a, const TopRow& b) {
    if (a.self != b.self) return a.self > b.self;
    return a.cum > b.cum;  // names already ascending: stable_sort keeps them
  });
  return out;
}

std::string top_table(const std::vector<TopRow>& rows, uint64_t total, size_t n) {
  std::string out = "  self%    cum%  function\n";
  const double t = total == 0 ? 1 : static_cast<double>(total);
  for (size_t i = 0; i < rows.size() && i < n; ++i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%7.2f %7.2f  ", 100.0 * static_cast<double>(rows[i].self) / t,
                  100.0 * static_cast<double>(rows[i].cum) / t);
    out += buf + rows[i].function + "\n";
  }
  return out;
}

}  // namespace profile
