// A fake CPUID source for host tests, loaded from the dumps in testdata/ (boot/,
// cpuid/). Like QEMU, basic leaves above the maximum answer with the maximum's
// data (the trap decoders must avoid); every query is recorded.
#pragma once

#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "src/arch/x86.h"
#include "src/base/testing/testdata.h"

namespace arch::testing {

class FakeCpuid {
 public:
  void set(uint32_t leaf, uint32_t subleaf, CpuidRegs r) { table_[{leaf, subleaf}] = r; }
  /// The stored answer, all zero if none (for tests that edit one register).
  CpuidRegs get(uint32_t leaf, uint32_t subleaf) const {
    auto it = table_.find({leaf, subleaf});
    return it == table_.end() ? CpuidRegs{} : it->second;
  }

  /// The CPUID provider interface the logic under test calls.
  CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf) const {
    queried_.insert(leaf);
    if (auto it = table_.find({leaf, subleaf}); it != table_.end()) return it->second;
    const uint32_t max = get(0, 0).eax;
    if (leaf < 0x4000'0000 && leaf > max && table_.count({max, 0})) return get(max, 0);
    missing_.insert(leaf);
    return CpuidRegs{};
  }

  /// Every leaf asked for, and those the table had no answer for.
  const std::set<uint32_t>& queried() const { return queried_; }
  const std::set<uint32_t>& missing() const { return missing_; }

  /// Parses a dump's text; returns the number of value lines, or -1 (and
  /// stops) at the first line that is neither a value nor a comment.
  int parse(const std::string& text) {
    std::istringstream in(text);
    int lines = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      unsigned leaf, subleaf, a, b, c, d;
      if (std::sscanf(line.c_str(), "%x %x %x %x %x %x", &leaf, &subleaf, &a, &b, &c, &d) != 6) return -1;
      set(leaf, subleaf, CpuidRegs{a, b, c, d});
      ++lines;
    }
    return lines;
  }

  /// A fake loaded from a dump checked into the repository (e.g.
  /// "testdata/cpuid/intel-core-i7-6700k.cpuid.txt"); `lines` gets parse()'s
  /// result (0 if the file is missing or empty).
  static FakeCpuid from_testdata(const std::string& repo_relative_path, int* lines) {
    std::vector<uint8_t> bytes = base::testing::read_testdata(repo_relative_path);
    FakeCpuid fake;
    *lines = fake.parse(std::string(bytes.begin(), bytes.end()));
    return fake;
  }

 private:
  std::map<std::pair<uint32_t, uint32_t>, CpuidRegs> table_;
  // The log of a const query interface (providers are passed by const&).
  mutable std::set<uint32_t> queried_, missing_;
};

}  // namespace arch::testing
