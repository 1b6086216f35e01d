// Tests for the llvm-symbolizer step: its JSON answers parsed from recorded
// output, and a real run over a host binary with an inlined function.
#include "tools/profile/symbolizer.h"

#include <gtest/gtest.h>

#include "tools/profile/elf_info.h"
#include "tools/profile/testing_paths.h"

namespace profile {
namespace {

TEST(Symbolizer, ParsesInlinedAndUnknownAddresses) {
  // Recorded from llvm-symbolizer-14 --inlines --output-style=JSON.
  const std::string out =
      R"j({"Address":"0x1130","ModuleName":"/tmp/a","Symbol":[{"Column":74,"Discriminator":0,"FileName":"/tmp/a.cc","FunctionName":"inner(int)","Line":1,"StartAddress":"0x1130","StartFileName":"/tmp/a.cc","StartLine":1},{"Column":53,"Discriminator":0,"FileName":"/tmp/a.cc","FunctionName":"outer(int)","Line":2,"StartAddress":"0x1130","StartFileName":"/tmp/a.cc","StartLine":2}]})j"
      "\n"
      R"j({"Address":"0xffffffff801021f0","ModuleName":"kernel.elf","Symbol":[{"Column":0,"Discriminator":0,"FileName":"","FunctionName":"kmain","Line":0,"StartAddress":"0xffffffff801021f0","StartFileName":"","StartLine":0}]})j"
      "\n"
      R"j({"Address":"0x1234","ModuleName":"kernel.elf","Symbol":[{"Column":0,"Discriminator":0,"FileName":"??","FunctionName":"??","Line":0,"StartAddress":"","StartFileName":"","StartLine":0}]})j"
      "\n";
  std::vector<Symbol> syms;
  std::string error;
  ASSERT_TRUE(parse_symbolizer_output(out, {0x1130, 0xffff'ffff'8010'21f0, 0x1234}, &syms, &error)) << error;
  ASSERT_EQ(syms.size(), 3u);
  ASSERT_EQ(syms[0].frames.size(), 2u);
  EXPECT_EQ(syms[0].frames[0].function, "inner(int)");
  EXPECT_EQ(syms[0].frames[0].file, "/tmp/a.cc");
  EXPECT_EQ(syms[0].frames[0].line, 1);
  EXPECT_EQ(syms[0].frames[1].function, "outer(int)");
  EXPECT_EQ(syms[0].frames[1].line, 2);
  ASSERT_EQ(syms[1].frames.size(), 1u);
  EXPECT_EQ(syms[1].frames[0].function, "kmain");
  EXPECT_EQ(syms[1].frames[0].file, "");
  EXPECT_EQ(syms[1].frames[0].line, 0);
  EXPECT_TRUE(syms[2].frames.empty());
}

TEST(Symbolizer, RefusesBadOutput) {
  const std::string one = R"j({"Address":"0x10","Symbol":[]})j"
                          "\n";
  std::vector<Symbol> syms;
  std::string error;
  EXPECT_FALSE(parse_symbolizer_output(one, {0x10, 0x20}, &syms, &error));
  EXPECT_EQ(error, "llvm-symbolizer answered 1 of 2 addresses");
  EXPECT_FALSE(parse_symbolizer_output(one + one, {0x10}, &syms, &error));
  EXPECT_EQ(error, "llvm-symbolizer output line 2: more answers than the 1 addresses asked");
  EXPECT_FALSE(parse_symbolizer_output(one, {0x11}, &syms, &error));
  EXPECT_EQ(error, "llvm-symbolizer output line 1: answers for another address than 0x11");
  EXPECT_FALSE(parse_symbolizer_output("0x10\n", {0x10}, &syms, &error));
  EXPECT_EQ(error.rfind("llvm-symbolizer output line 1: JSON: ", 0), 0u) << error;
  EXPECT_FALSE(parse_symbolizer_output(
      R"j({"Address":"0x10","Error":{"Message":"No such file or directory"},"ModuleName":"/x"})j", {0x10}, &syms,
      &error));
  EXPECT_EQ(error, "llvm-symbolizer output line 1: llvm-symbolizer: No such file or directory (/x)");
}

TEST(Symbolizer, RunsLlvmSymbolizerOverARealBinary) {
  const std::string elf = testing::runfile(testing::kFixture);
  ElfInfo info;
  std::string error;
  ASSERT_TRUE(read_elf(elf, &info, &error)) << error;
  uint64_t outer = 0;
  for (const auto& f : info.functions)
    if (f.name == "profile_fixture_outer") outer = f.value;
  ASSERT_NE(outer, 0u);
  std::vector<Symbol> syms;
  ASSERT_TRUE(run_symbolizer("llvm-symbolizer-14", elf, {outer, 0x10}, &syms, &error)) << error;
  ASSERT_EQ(syms.size(), 2u);
  // The first instruction of outer is the inlined leaf's arithmetic.
  ASSERT_EQ(syms[0].frames.size(), 2u);
  // (DWARF names an extern "C" function of a C++ file with its parameters.)
  EXPECT_EQ(syms[0].frames[0].function.rfind("profile_fixture_leaf", 0), 0u);
  EXPECT_EQ(syms[0].frames[1].function.rfind("profile_fixture_outer", 0), 0u);
  for (const Frame& f : syms[0].frames) {
    EXPECT_NE(f.file.find("symbolizer_fixture.cc"), std::string::npos) << f.file;
    EXPECT_GT(f.line, 0);
  }
  EXPECT_TRUE(syms[1].frames.empty());

  EXPECT_FALSE(run_symbolizer("no-such-symbolizer", elf, {outer}, &syms, &error));
  EXPECT_EQ(error.rfind("cannot run no-such-symbolizer: ", 0), 0u) << error;
  EXPECT_FALSE(run_symbolizer("llvm-symbolizer-14", "/nonexistent.elf", {outer}, &syms, &error));
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
}

}  // namespace
}  // namespace profile
