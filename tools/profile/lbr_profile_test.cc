// The LBR stack end to end on the host (QEMU has no LBR to boot it on): a
// PMI on the fake MSR bank (Skylake's 32 records, frozen at the PMI)
// becomes a sample with the branches, goes through a sample ring, out as
// `prof dump` text, back in through the dump parser, and into the pprof
// profile as kind=lbr samples -- the path a real capture takes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "src/arch/lapic.h"
#include "src/arch/testing/fake_msr.h"
#include "src/prof/dump_format.h"
#include "src/prof/pmu_sampling.h"
#include "src/prof/sample_ring.h"
#include "src/prof/testing/pmu_fixtures.h"
#include "src/prof/testing/profile_decoder.h"
#include "tools/profile/dump_parser.h"
#include "tools/profile/pprof_out.h"
#include "tools/profile/stacks.h"

namespace profile {
namespace {

using arch::testing::FakeMsr;
using arch::testing::FakeMsrBank;
using X2Lapic = arch::Lapic<arch::X2apicMsr<FakeMsr>>;

const char* kSkylake = "testdata/cpuid/intel-core-i7-6700k.cpuid.txt";
constexpr uint64_t kBit63 = uint64_t{1} << 63;

base::Sink string_sink(std::string* s) {
  return base::Sink{[](void* ctx, const char* b, size_t n) { static_cast<std::string*>(ctx)->append(b, n); }, s};
}

// Stored-block gzip only (what gzip_stored writes).
std::vector<uint8_t> gunzip_stored(const std::vector<uint8_t>& gz) {
  std::vector<uint8_t> out;
  size_t pos = 10;
  while (pos < gz.size()) {
    const uint8_t h = gz[pos];
    const size_t len = gz[pos + 1] | (gz[pos + 2] << 8);
    out.insert(out.end(), gz.begin() + pos + 5, gz.begin() + pos + 5 + len);
    pos += 5 + len;
    if (h & 1) break;
  }
  return out;
}

TEST(LbrProfile, PmiToDumpToParserToPprof) {
  // The CPU: Skylake's PMU and LBR, sampling cycles with the LBR on.
  const prof::PmuInfo pmu = prof::testing::pmu_of(kSkylake);
  const prof::LbrInfo lbr = prof::testing::lbr_of(kSkylake, prof::testing::kSkylakePerfCapabilities);
  FakeMsrBank bank;
  bank.set(prof::kIa32Debugctl, 0);
  X2Lapic lapic(arch::X2apicMsr<FakeMsr>{FakeMsr{&bank}});
  prof::CpuPmuSampler<FakeMsr> cpu;
  cpu.init(pmu, FakeMsr{&bank}, prof::XorShift64(1, 0), &lbr);
  ASSERT_TRUE(cpu.arm(lapic, {prof::Event::kCycles, prof::CountMode::kBoth, 1000, 1000}).ok());

  // Four branches recorded, TOS at record 3: 0 is the oldest. Record 2 is
  // mispredicted; the records never written stay zero and are skipped.
  const uint64_t from[4] = {0xffffffff80100010, 0xffffffff80100020, 0xffffffff80100030, 0xffffffff80100040};
  const uint64_t to[4] = {0xffffffff80200010, 0xffffffff80200020, 0xffffffff80200030, 0xffffffff80200040};
  for (uint32_t i = 0; i < 32; ++i) {
    bank.set(0x680 + i, i < 4 ? from[i] : 0);
    bank.set(0x6c0 + i, i < 4 ? to[i] : 0);
    bank.set(0xdc0 + i, i == 2 ? kBit63 : 0);
  }
  bank.set(prof::kMsrLastbranchTos, 3);
  bank.set(prof::kIa32PerfGlobalStatus, 1 | prof::kGlobalLbrFrz | prof::kGlobalCtrFrz);

  // The PMI, as sampler_pmi takes it.
  prof::SampleBranch br[prof::kMaxSampleBranches];
  size_t n = 0;
  ASSERT_EQ(cpu.on_nmi(lapic, br, prof::kMaxSampleBranches, &n), (prof::OverflowSet{1}));
  ASSERT_EQ(n, 4u);
  prof::SampleRing<1024> ring;
  prof::SampleHeader h;
  h.cpu = 1;
  h.tid = 42;
  h.timestamp = 5000;
  h.flags = prof::sample_flags::make(prof::SampleMode::kThread, false);
  h.event = static_cast<uint8_t>(prof::SampleEvent::kCycles);
  const uint64_t pcs[2] = {0xffffffff80200041, 0xffffffff80300100};
  ASSERT_TRUE(ring.push(h, pcs, 2, br, n));
  ASSERT_TRUE(ring.push(h, pcs, 2));  // a sample without branches beside it

  // Out as `prof dump` prints it.
  std::string log = "boot\n";
  prof::write_dump_begin(string_sink(&log), prof::DumpHeader{"", 1000, 333'333, 2});
  const size_t count = ring.for_each([&](const prof::Sample& s) { prof::write_dump_sample(string_sink(&log), s); });
  prof::write_dump_end(string_sink(&log), count, 0);
  EXPECT_NE(log.find("s 1 42 thread 2 5000 ffffffff80200041 ffffffff80300100 lbr ffffffff80100040>ffffffff80200040 "
                     "ffffffff80100030>ffffffff80200030!"
                     " ffffffff80100020>ffffffff80200020 ffffffff80100010>ffffffff80200010\n"),
            std::string::npos)
      << log;

  // In through the parser: the branches newest first, as read.
  Capture c;
  std::string error;
  ASSERT_TRUE(parse_dump(log, &c, &error)) << error;
  ASSERT_EQ(c.samples.size(), 2u);
  ASSERT_EQ(c.samples[0].n_branches, 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.samples[0].branches[i], (prof::SampleBranch{from[3 - i], to[3 - i], 3 - i == 2})) << i;
  }
  EXPECT_EQ(c.samples[1].n_branches, 0u);
  // Every branch address is looked up (as is: a branch, not a return).
  const std::vector<uint64_t> addrs = unique_addresses(c.samples);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::binary_search(addrs.begin(), addrs.end(), from[i])) << i;
    EXPECT_TRUE(std::binary_search(addrs.begin(), addrs.end(), to[i])) << i;
  }
  // Folded stacks are time: the branches add no stack.
  EXPECT_EQ(fold(c.samples, {}).size(), 1u);

  // Into pprof: the stacks as before (merged: 2 samples, 2 periods), and
  // one kind=lbr sample per branch, [to, from], counting 1 and no time.
  SymbolTable symbols;
  symbols[0xffffffff80200040] = Symbol{{{"target_fn", "t.cc", 3}}};
  symbols[0xffffffff80100040] = Symbol{{{"source_fn", "s.cc", 9}}};
  std::vector<uint8_t> gz;
  ASSERT_TRUE(pprof_gz(c, symbols, ElfInfo{}, "kernel.elf", &gz, &error)) << error;
  const auto p = prof::testing::decode(gunzip_stored(gz));
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->samples.size(), 5u);
  EXPECT_EQ(p->samples[0].values, (std::vector<int64_t>{2, 2 * 333'333}));
  std::map<uint64_t, uint64_t> addr_of;
  std::map<uint64_t, std::string> fn;
  for (const auto& f : p->functions) fn[f.id] = p->str(f.name);
  std::map<uint64_t, std::string> fn_of_loc;
  for (const auto& l : p->locations) {
    addr_of[l.id] = l.address;
    if (!l.lines.empty()) fn_of_loc[l.id] = fn.at(l.lines[0].function_id);
  }
  for (size_t i = 1; i < 5; ++i) {
    const auto& s = p->samples[i];
    const size_t b = 3 - (i - 1);  // newest first, as in the dump
    SCOPED_TRACE(i);
    EXPECT_EQ(s.values, (std::vector<int64_t>{1, 0}));
    ASSERT_EQ(s.location_ids.size(), 2u);
    EXPECT_EQ(addr_of.at(s.location_ids[0]), to[b]);    // leaf: the target
    EXPECT_EQ(addr_of.at(s.location_ids[1]), from[b]);  // caller: the branch
    std::map<std::string, std::string> labels;
    for (const auto& l : s.labels) labels[l.key] = l.str.empty() ? std::to_string(l.num) : l.str;
    EXPECT_EQ(labels, (std::map<std::string, std::string>{{"cpu", "1"},
                                                          {"thread", "42"},
                                                          {"mode", "thread"},
                                                          {"kind", "lbr"},
                                                          {"mispredicted", b == 2 ? "yes" : "no"}}));
  }
  // The newest branch, symbolized: an edge source_fn -> target_fn.
  EXPECT_EQ(fn_of_loc.at(p->samples[1].location_ids[0]), "target_fn");
  EXPECT_EQ(fn_of_loc.at(p->samples[1].location_ids[1]), "source_fn");
}

}  // namespace
}  // namespace profile
