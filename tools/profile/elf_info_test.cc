// Tests for parse_elf on a real host binary (the symbolizer fixture, linked
// with a build id), cross-checked with llvm-readelf and llvm-nm, and on
// damaged copies of it.
#include "tools/profile/elf_info.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tools/profile/testing_paths.h"

namespace profile {
namespace {

std::string run(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p != nullptr && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p != nullptr) EXPECT_EQ(pclose(p), 0) << cmd;
  return out;
}

std::string fixture_bytes() {
  std::ifstream f(testing::runfile(testing::kFixture), std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ElfInfo, BuildIdTextAndSymbolsOfARealBinary) {
  const std::string path = testing::runfile(testing::kFixture);
  ElfInfo info;
  std::string error;
  ASSERT_TRUE(read_elf(path, &info, &error)) << error;
  // llvm-readelf prints "Build ID: <hex>".
  const std::string notes = run("llvm-readelf-14 -n '" + path + "'");
  const size_t at = notes.find("Build ID: ");
  ASSERT_NE(at, std::string::npos) << notes;
  EXPECT_EQ(info.build_id, notes.substr(at + 10, 40));
  EXPECT_EQ(info.build_id.size(), 40u);  // sha1

  uint64_t outer = 0;
  for (const auto& f : info.functions)
    if (f.name == "profile_fixture_outer") outer = f.value;
  ASSERT_NE(outer, 0u);
  const std::string nm = run("llvm-nm-14 '" + path + "' | grep ' profile_fixture_outer$'");
  EXPECT_EQ(std::stoull(nm.substr(0, 16), nullptr, 16), outer);
  EXPECT_GE(outer, info.text_start);
  EXPECT_LT(outer, info.text_limit);
}

TEST(ElfInfo, RefusesDamagedFiles) {
  const std::string good = fixture_bytes();
  ASSERT_GT(good.size(), 64u);
  ElfInfo info;
  std::string error;
  EXPECT_FALSE(parse_elf(good.substr(0, 63), &info, &error));
  EXPECT_EQ(error, "not an ELF64 little-endian file");
  std::string s = good;
  s[4] = 1;  // ELFCLASS32
  EXPECT_FALSE(parse_elf(s, &info, &error));
  // The section header table moved past the end of the file.
  s = good;
  for (int i = 0; i < 8; ++i) s[40 + i] = static_cast<char>(0xff);
  EXPECT_FALSE(parse_elf(s, &info, &error));
  EXPECT_EQ(error, "ELF: program or section header table out of the file");
  // Cut short: the section table (at the end, for lld) is gone.
  EXPECT_FALSE(parse_elf(good.substr(0, good.size() - 100), &info, &error));
  EXPECT_FALSE(read_elf("/nonexistent/kernel.elf", &info, &error));
  EXPECT_EQ(error, "cannot open /nonexistent/kernel.elf");
}

}  // namespace
}  // namespace profile
