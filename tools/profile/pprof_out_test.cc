// Tests for pprof_gz: the gzip member holds a profile whose samples carry
// the kernel's values and labels, whose locations are looked up at return
// address - 1 with inlined frames as extra lines, and whose mapping names
// the ELF and the capture's build id.
#include "tools/profile/pprof_out.h"
#include "tools/profile/gunzip_stored_for_tests.h"

#include <gtest/gtest.h>

#include <map>

#include "src/prof/testing/profile_decoder.h"

namespace profile {
namespace {

prof::Sample sample(uint32_t cpu, uint64_t tid, prof::SampleMode mode, uint64_t ts,
                    std::initializer_list<uint64_t> pcs) {
  prof::Sample s;
  s.header.cpu = cpu;
  s.header.tid = tid;
  s.header.timestamp = ts;
  s.header.flags = prof::sample_flags::make(mode, false);
  for (uint64_t pc : pcs) s.pcs[s.n_pcs++] = pc;
  return s;
}

TEST(PprofOut, SamplesLabelsInlinedFramesAndMapping) {
  Capture c;
  c.build_id = "abcd";
  c.hz = 1000;
  c.period_ns = 1'000'000;
  c.cpus = 2;
  c.samples = {
      sample(0, 5, prof::SampleMode::kThread, 1'000, {0xffff'ffff'8010'0000, 0xffff'ffff'8020'0011}),
      sample(1, 0, prof::SampleMode::kIdle, 3'001'000, {0xffff'ffff'8030'0000}),
  };
  SymbolTable t;
  t[0xffff'ffff'8010'0000] = Symbol{{{"memcpy", "string.h", 7}, {"copy_page", "mm.cc", 40}}};
  t[0xffff'ffff'8020'0010] = Symbol{{{"fork", "fork.cc", 12}}};  // the return address - 1
  ElfInfo elf;
  elf.build_id = "abcd";
  elf.text_start = 0xffff'ffff'8010'0000;
  elf.text_limit = 0xffff'ffff'8020'0000 + 0x1000;
  elf.text_offset = 0x2000;
  std::vector<uint8_t> gz;
  std::string error;
  ASSERT_TRUE(pprof_gz(c, t, elf, "kernel.elf", &gz, &error)) << error;
  const auto p = prof::testing::decode(gunzip_stored_for_tests(gz));
  ASSERT_TRUE(p.has_value());

  EXPECT_EQ(p->period, 1'000'000);
  EXPECT_EQ(p->duration_nanos, 3'000'000 + 1'000'000);
  ASSERT_EQ(p->samples.size(), 2u);
  EXPECT_EQ(p->samples[0].values, (std::vector<int64_t>{1, 1'000'000}));
  std::map<std::string, std::string> labels;
  for (const auto& l : p->samples[1].labels) labels[l.key] = l.str.empty() ? std::to_string(l.num) : l.str;
  EXPECT_EQ(labels, (std::map<std::string, std::string>{{"cpu", "1"}, {"thread", "0"}, {"mode", "idle"}}));

  std::map<uint64_t, const prof::testing::DecodedLocation*> loc;
  for (const auto& l : p->locations) loc[l.id] = &l;
  std::map<uint64_t, std::string> fn;
  for (const auto& f : p->functions) fn[f.id] = p->str(f.name);
  const auto& s0 = p->samples[0].location_ids;
  ASSERT_EQ(s0.size(), 2u);
  const auto* leaf = loc.at(s0[0]);
  EXPECT_EQ(leaf->address, 0xffff'ffff'8010'0000u);
  ASSERT_EQ(leaf->lines.size(), 2u);
  EXPECT_EQ(fn.at(leaf->lines[0].function_id), "memcpy");
  EXPECT_EQ(fn.at(leaf->lines[1].function_id), "copy_page");
  EXPECT_EQ(leaf->mapping_id, 1u);
  const auto* caller = loc.at(s0[1]);
  EXPECT_EQ(caller->address, 0xffff'ffff'8020'0010u);
  ASSERT_EQ(caller->lines.size(), 1u);
  EXPECT_EQ(fn.at(caller->lines[0].function_id), "fork");
  EXPECT_EQ(caller->lines[0].line, 12);
  // Unknown to the symbolizer, and outside the mapping: an address only.
  const auto* unknown = loc.at(p->samples[1].location_ids.at(0));
  EXPECT_TRUE(unknown->lines.empty());
  EXPECT_EQ(unknown->mapping_id, 0u);

  ASSERT_EQ(p->mappings.size(), 1u);
  EXPECT_EQ(p->str(p->mappings[0].filename), "kernel.elf");
  EXPECT_EQ(p->str(p->mappings[0].build_id), "abcd");
  EXPECT_EQ(p->mappings[0].memory_start, elf.text_start);
  EXPECT_EQ(p->mappings[0].file_offset, 0x2000u);
  EXPECT_TRUE(p->mappings[0].has_functions);
}

TEST(PprofOut, SamplesAlikeAreMerged) {
  Capture c;
  c.period_ns = 1'000;
  c.cpus = 2;
  const auto t = prof::SampleMode::kThread;
  c.samples = {
      sample(0, 5, t, 1, {0x10, 0x21}),
      sample(0, 5, t, 2, {0x10, 0x21}),
      sample(1, 5, t, 3, {0x10, 0x21}),                             // another CPU
      sample(0, 5, prof::SampleMode::kInterrupt, 4, {0x10, 0x21}),  // another mode
      sample(0, 5, t, 5, {0x10, 0x22}),                             // another stack
      sample(0, 5, t, 6, {0x10, 0x21}),
  };
  std::vector<uint8_t> gz;
  std::string error;
  ASSERT_TRUE(pprof_gz(c, {}, ElfInfo{}, "kernel.elf", &gz, &error)) << error;
  const auto p = prof::testing::decode(gunzip_stored_for_tests(gz));
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->samples.size(), 4u);
  EXPECT_EQ(p->samples[0].values, (std::vector<int64_t>{3, 3'000}));
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(p->samples[i].values, (std::vector<int64_t>{1, 1'000}));
  EXPECT_EQ(p->duration_nanos, 5 + 1'000);
}

TEST(PprofOut, EmptyCapture) {
  Capture c;
  c.hz = 100;
  c.period_ns = 10'000'000;
  c.cpus = 1;
  std::vector<uint8_t> gz;
  std::string error;
  ASSERT_TRUE(pprof_gz(c, {}, ElfInfo{}, "kernel.elf", &gz, &error)) << error;
  const auto p = prof::testing::decode(gunzip_stored_for_tests(gz));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->samples.empty());
  EXPECT_EQ(p->duration_nanos, 0);
  EXPECT_TRUE(p->mappings.empty());  // no text range known
}

}  // namespace
}  // namespace profile
