// Tests for to_pprof_sample: values, labels, and return addresses moved
// into their call instruction while the interrupted RIP stays as it was.
#include "src/prof/sample_pprof.h"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "src/prof/testing/profile_decoder.h"

namespace prof {
namespace {

std::string str(base::StrView s) { return std::string(s.data(), s.size()); }

TEST(SamplePprof, ConvertsOneSample) {
  Sample s;
  s.header.cpu = 3;
  s.header.tid = 77;
  s.header.flags = sample_flags::make(SampleMode::kInterrupt, false);
  s.n_pcs = 3;
  s.pcs[0] = 0xffff'ffff'8010'0010;  // RIP: exact
  s.pcs[1] = 0xffff'ffff'8010'1005;  // return addresses
  s.pcs[2] = 0xffff'ffff'8020'0000;
  PprofSampleStorage storage;
  const PprofSample p = to_pprof_sample(s, 1'000'000, &storage);
  ASSERT_EQ(p.pcs.size(), 3u);
  EXPECT_EQ(p.pcs[0], 0xffff'ffff'8010'0010u);
  EXPECT_EQ(p.pcs[1], 0xffff'ffff'8010'1004u);
  EXPECT_EQ(p.pcs[2], 0xffff'ffff'8020'0000u - 1);
  ASSERT_EQ(p.values.size(), 2u);
  EXPECT_EQ(p.values[0], 1);
  EXPECT_EQ(p.values[1], 1'000'000);
  ASSERT_EQ(p.labels.size(), 3u);
  EXPECT_EQ(str(p.labels[0].key), "cpu");
  EXPECT_EQ(p.labels[0].num, 3);
  EXPECT_TRUE(p.labels[0].str.empty());
  EXPECT_EQ(str(p.labels[1].key), "thread");
  EXPECT_EQ(p.labels[1].num, 77);
  EXPECT_EQ(str(p.labels[2].key), "mode");
  EXPECT_EQ(str(p.labels[2].str), "interrupt");
  EXPECT_EQ(std::size(kKernelSampleTypes), p.values.size()) << "one value per sample type";
}

TEST(SamplePprof, EmptyStackAndModeNames) {
  Sample s;
  s.n_pcs = 0;
  PprofSampleStorage storage;
  EXPECT_TRUE(to_pprof_sample(s, 10, &storage).pcs.empty());
  EXPECT_EQ(std::string(sample_mode_name(SampleMode::kThread)), "thread");
  EXPECT_EQ(std::string(sample_mode_name(SampleMode::kIdle)), "idle");
}

bool append_to_vector(void* ctx, const uint8_t* data, size_t n) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), data, data + n);
  return true;
}

// Symbols by exact address; the return addresses below are one past these.
const std::map<uint64_t, std::string> kNames = {{0x1010, "spin"}, {0x2004, "run_workload"}, {0x3008, "kmain"}};

bool symbolize(void*, uint64_t addr, PprofSymbol* out) {
  auto it = kNames.find(addr);
  if (it == kNames.end()) return false;
  out->function = base::StrView(it->second.data(), it->second.size());
  return true;
}

// The whole path the kernel will take: samples pushed into a ring, drained,
// converted and encoded; the decoded profile names the functions of the
// call sites and carries the cpu, thread and mode labels.
TEST(SamplePprof, RingToProfile) {
  SampleRing<1024> ring;
  const uint64_t pcs[] = {0x1010, 0x2005, 0x3009};  // RIP, then return addresses
  for (uint32_t cpu = 0; cpu < 4; ++cpu) {
    SampleHeader h;
    h.cpu = cpu;
    h.tid = 100 + cpu;
    h.flags = sample_flags::make(cpu == 3 ? SampleMode::kIdle : SampleMode::kThread, false);
    ASSERT_TRUE(ring.push(h, pcs, 3));
  }
  std::vector<PprofSampleStorage> storage(4);
  std::vector<PprofSample> samples;
  Sample s;
  while (ring.pop(&s)) samples.push_back(to_pprof_sample(s, 1'000'000, &storage[samples.size()]));
  ASSERT_EQ(samples.size(), 4u);

  PprofProfile prof;
  prof.sample_types = kKernelSampleTypes;
  prof.period_type = kKernelPeriodType;
  prof.period = 1'000'000;
  prof.samples = base::Span<const PprofSample>(samples.data(), samples.size());
  std::vector<uint8_t> scratch(pprof_scratch_bytes(prof)), out;
  ASSERT_TRUE(encode_pprof(prof, PprofSymbolizer{nullptr, symbolize},
                           base::Span<uint8_t>(scratch.data(), scratch.size()), ByteSink{&out, append_to_vector})
                  .ok());
  const auto p = testing::decode(out);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->samples.size(), 4u);
  EXPECT_EQ(p->locations.size(), 3u) << "one location per address across all CPUs";
  std::map<uint64_t, std::string> name_of_location;
  for (const auto& l : p->locations) {
    ASSERT_EQ(l.lines.size(), 1u) << "every address symbolized";
    for (const auto& f : p->functions)
      if (f.id == l.lines[0].function_id) name_of_location[l.id] = p->str(f.name);
  }
  for (size_t i = 0; i < 4; ++i) {
    const auto& ds = p->samples[i];
    ASSERT_EQ(ds.location_ids.size(), 3u);
    EXPECT_EQ(name_of_location[ds.location_ids[0]], "spin");
    EXPECT_EQ(name_of_location[ds.location_ids[1]], "run_workload");
    EXPECT_EQ(name_of_location[ds.location_ids[2]], "kmain");
    EXPECT_EQ(ds.values, (std::vector<int64_t>{1, 1'000'000}));
    ASSERT_EQ(ds.labels.size(), 3u);
    EXPECT_EQ(ds.labels[0].key, "cpu");
    EXPECT_EQ(ds.labels[0].num, static_cast<int64_t>(i));
    EXPECT_EQ(ds.labels[1].key, "thread");
    EXPECT_EQ(ds.labels[1].num, static_cast<int64_t>(100 + i));
    EXPECT_EQ(ds.labels[2].key, "mode");
    EXPECT_EQ(ds.labels[2].str, i == 3 ? "idle" : "thread");
  }
}

}  // namespace
}  // namespace prof
