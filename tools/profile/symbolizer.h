// Addresses to functions, files and lines with llvm-symbolizer, run once
// over every unique address of a profile against the kernel ELF, with
// inlined frames ([llvm-symbolizer]: --inlines --output-style=JSON). Host
// only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace profile {

/// One function at an address: where the address lies in it.
struct Frame {
  std::string function;  // demangled
  std::string file;      // empty when unknown
  int64_t line = 0;      // 0 when unknown
};

/// What is known about one address: frames innermost first, the last being
/// the function the code was compiled into (the others were inlined into
/// it). Empty when the address is unknown.
struct Symbol {
  std::vector<Frame> frames;
};

/// Parses llvm-symbolizer's JSON output (one object per line, in input
/// order) for `addrs`. False with a message if a line is not JSON, the
/// count differs, or an object names another address.
bool parse_symbolizer_output(std::string_view output, const std::vector<uint64_t>& addrs, std::vector<Symbol>* symbols,
                             std::string* error);

/// Runs `tool` (a path, or a name looked up on PATH, e.g.
/// "llvm-symbolizer-14") over `addrs` against `elf`: one process, the
/// addresses on its standard input. `symbols` gets one entry per address.
bool run_symbolizer(const std::string& tool, const std::string& elf, const std::vector<uint64_t>& addrs,
                    std::vector<Symbol>* symbols, std::string* error);

}  // namespace profile
