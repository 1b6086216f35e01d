// Tests for the named stacks: lookup at return address - 1, inlined frames
// as their own frames, unknown addresses, folding and the top table.
#include "tools/profile/stacks.h"

#include <gtest/gtest.h>

namespace profile {
namespace {

prof::Sample sample(std::initializer_list<uint64_t> pcs) {
  prof::Sample s;
  for (uint64_t pc : pcs) s.pcs[s.n_pcs++] = pc;
  return s;
}

Symbol fn(std::initializer_list<const char*> innermost_first) {
  Symbol s;
  for (const char* n : innermost_first) s.frames.push_back({n, "f.cc", 1});
  return s;
}

TEST(Stacks, ReturnAddressesAreLookedUpOneByteBack) {
  const prof::Sample s = sample({0x1000, 0x2005, 0x3009});
  EXPECT_EQ(lookup_addresses(s), (std::vector<uint64_t>{0x1000, 0x2004, 0x3008}));
  EXPECT_EQ(unique_addresses({s, sample({0x2004, 0x2005})}), (std::vector<uint64_t>{0x1000, 0x2004, 0x3008}));
}

TEST(Stacks, NamesRootFirstWithInlinedFrames) {
  const SymbolTable t = {
      {0x1000, fn({"memcpy", "copy_page"})},  // memcpy inlined into copy_page
      {0x2004, fn({"fork"})},
      {0x3008, Symbol{}},  // the symbolizer did not know it
  };
  EXPECT_EQ(stack_names(sample({0x1000, 0x2005, 0x3009}), t),
            (std::vector<std::string>{"0x3008", "fork", "copy_page", "memcpy"}));
  // Not in the table at all: also named by address.
  EXPECT_EQ(stack_names(sample({0x5000}), t), (std::vector<std::string>{"0x5000"}));
  // ';' separates folded frames, so it may not appear in a name.
  const SymbolTable odd = {{0x10, fn({"a;b"})}};
  EXPECT_EQ(stack_names(sample({0x10}), odd), (std::vector<std::string>{"a:b"}));
}

TEST(Stacks, FoldAndTop) {
  const SymbolTable t = {
      {0x100, fn({"spin"})},
      {0x200, fn({"work"})},
      {0x300, fn({"main"})},
      {0x400, fn({"recurse"})},
  };
  std::vector<prof::Sample> samples;
  for (int i = 0; i < 6; ++i) samples.push_back(sample({0x100, 0x201, 0x301}));  // main;work;spin
  for (int i = 0; i < 3; ++i) samples.push_back(sample({0x200, 0x301}));         // main;work
  samples.push_back(sample({0x400, 0x401, 0x401, 0x301}));                       // main;recurse;recurse;recurse
  const Folded f = fold(samples, t);
  EXPECT_EQ(folded_text(f),
            "main;recurse;recurse;recurse 1\n"
            "main;work 3\n"
            "main;work;spin 6\n");
  const std::vector<TopRow> top = top_functions(f);
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[0].function, "spin");
  EXPECT_EQ(top[0].self, 6u);
  EXPECT_EQ(top[0].cum, 6u);
  EXPECT_EQ(top[1].function, "work");
  EXPECT_EQ(top[1].self, 3u);
  EXPECT_EQ(top[1].cum, 9u);
  EXPECT_EQ(top[2].function, "recurse");
  EXPECT_EQ(top[2].cum, 1u);  // recursion counts once per sample
  EXPECT_EQ(top[3].function, "main");
  EXPECT_EQ(top[3].self, 0u);
  EXPECT_EQ(top[3].cum, 10u);
  EXPECT_EQ(top_table(top, 10, 2),
            "  self%    cum%  function\n"
            "  60.00   60.00  spin\n"
            "  30.00   90.00  work\n");
}

}  // namespace
}  // namespace profile
