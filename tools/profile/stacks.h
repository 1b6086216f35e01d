// From samples and symbols to named stacks: the addresses to look up, the
// folded stacks flame-graph tools read ([flamegraph]: `root;...;leaf
// count`), and the top-N table of self and cumulative shares. Host only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/prof/sample_ring.h"
#include "tools/profile/symbolizer.h"

namespace profile {

/// Address to what the symbolizer said about it.
using SymbolTable = std::map<uint64_t, Symbol>;

/// The addresses a sample's pcs are looked up at, leaf first: pc0 as is,
/// each return address minus one, so that it lies in its call instruction
/// (prof::to_pprof_sample() does the same, and is what this calls).
std::vector<uint64_t> lookup_addresses(const prof::Sample& s);

/// Every distinct lookup address of `samples`, ascending.
std::vector<uint64_t> unique_addresses(const std::vector<prof::Sample>& samples);

/// A sample's frames by name, root first; an inlined function is a frame
/// of its own, above the function it was inlined into. An unknown address
/// is named "0x<hex>". ';' in a name becomes ':' (it separates frames).
std::vector<std::string> stack_names(const prof::Sample& s, const SymbolTable& symbols);

/// Folded stacks: each distinct stack (frames joined by ';', root first)
/// and how many samples had it. Ordered by stack, so output is sorted.
using Folded = std::map<std::string, uint64_t>;
Folded fold(const std::vector<prof::Sample>& samples, const SymbolTable& symbols);

/// `stack count` lines, one per stack, in the map's (sorted) order.
std::string folded_text(const Folded& folded);

/// One function's share: samples where it is the leaf (self) and samples
/// where it is anywhere on the stack, counted once however often it recurs
/// (cum).
struct TopRow {
  std::string function;
  uint64_t self = 0;
  uint64_t cum = 0;
};

/// Every function, by self descending, then cum descending, then name.
std::vector<TopRow> top_functions(const Folded& folded);

/// The table printed on stdout: a header line, then at most `n` rows of
/// `self%  cum%  function` (percentages of `total` samples).
std::string top_table(const std::vector<TopRow>& rows, uint64_t total, size_t n);

}  // namespace profile
