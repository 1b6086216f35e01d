// Tests for encode_pprof: the output is decoded with a hand-written
// wire-format reader and checked against [pprof] proto/profile.proto --
// sample values, location dedup by address, function dedup by name, the
// string table ("" first, no duplicates), labels, the mapping, and that
// addresses and names round-trip.
#include "src/prof/pprof.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "src/prof/testing/profile_decoder.h"

namespace prof {
namespace {

using testing::decode;
using testing::DecodedFunction;
using testing::DecodedLocation;
using testing::DecodedMapping;
using testing::DecodedSample;

// ---- encoding helpers ----

bool append_to_vector(void* ctx, const uint8_t* data, size_t n) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), data, data + n);
  return true;
}

struct FakeSymbol {
  std::string function, file;
  int64_t line;
};
using SymbolMap = std::map<uint64_t, FakeSymbol>;

struct SymbolizerState {
  const SymbolMap* symbols;
  std::vector<uint64_t> asked;  // each address the encoder looked up
};

bool symbolize(void* ctx, uint64_t addr, PprofSymbol* out) {
  auto* st = static_cast<SymbolizerState*>(ctx);
  st->asked.push_back(addr);
  auto it = st->symbols->find(addr);
  if (it == st->symbols->end()) return false;
  out->function = base::StrView(it->second.function.data(), it->second.function.size());
  out->file = base::StrView(it->second.file.data(), it->second.file.size());
  out->line = it->second.line;
  return true;
}

struct Encoded {
  base::Status status;
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> asked;
};

Encoded encode(const PprofProfile& p, const SymbolMap& symbols) {
  SymbolizerState st{&symbols, {}};
  std::vector<uint8_t> scratch(pprof_scratch_bytes(p));
  Encoded e;
  e.status = encode_pprof(p, PprofSymbolizer{&st, symbolize}, base::Span<uint8_t>(scratch.data(), scratch.size()),
                          ByteSink{&e.bytes, append_to_vector});
  e.asked = st.asked;
  return e;
}

const PprofValueType kTypes[] = {{"samples", "count"}, {"cpu", "nanoseconds"}};

// Three kernel functions; `spin` has two addresses (two pcs inside it).
const SymbolMap kSymbols = {
    {0xffff'ffff'8010'0010, {"spin", "src/work.cc", 12}},
    {0xffff'ffff'8010'0020, {"spin", "src/work.cc", 14}},
    {0xffff'ffff'8010'1000, {"run_workload", "src/work.cc", 40}},
    {0xffff'ffff'8020'0000, {"kmain", "src/kernel/kmain.cc", 100}},
    // Same name, different file: a second function.
    {0xffff'ffff'8030'0000, {"helper", "src/a.cc", 5}},
    {0xffff'ffff'8030'1000, {"helper", "src/b.cc", 6}},
};

TEST(Pprof, SamplesLocationsFunctionsAndStringsRoundTrip) {
  const uint64_t stack_a[] = {0xffff'ffff'8010'0010, 0xffff'ffff'8010'1000, 0xffff'ffff'8020'0000};
  const uint64_t stack_b[] = {0xffff'ffff'8010'0020, 0xffff'ffff'8010'1000, 0xffff'ffff'8020'0000};
  const uint64_t stack_c[] = {0xffff'ffff'8030'0000, 0xffff'ffff'8030'1000,
                              0xdead'0000};  // last one unknown to the symbolizer
  const int64_t values_a[] = {7, 7'000'000};
  const int64_t values_b[] = {3, 3'000'000};
  const int64_t values_c[] = {1, 1'000'000};
  const PprofLabel labels_a[] = {{.key = "cpu", .num = 1}, {.key = "mode", .str = "thread"}};
  const PprofLabel labels_b[] = {{.key = "cpu", .num = 0}, {.key = "mode", .str = "interrupt"}};
  const PprofLabel labels_c[] = {{.key = "tid", .num = 42, .num_unit = "id"}};
  const PprofSample samples[] = {
      {.pcs = stack_a, .values = values_a, .labels = labels_a},
      {.pcs = stack_b, .values = values_b, .labels = labels_b},
      {.pcs = stack_c, .values = values_c, .labels = labels_c},
  };
  PprofProfile prof;
  prof.sample_types = kTypes;
  prof.samples = samples;
  prof.period_type = {"cpu", "nanoseconds"};
  prof.period = 1'000'000;
  prof.time_nanos = 1'700'000'000'000'000'000;
  prof.duration_nanos = 10'000'000'000;

  const Encoded e = encode(prof, kSymbols);
  ASSERT_TRUE(e.status.ok());
  const auto p = decode(e.bytes);
  ASSERT_TRUE(p.has_value());

  // String table: "" first, then no duplicates.
  ASSERT_FALSE(p->strings.empty());
  EXPECT_EQ(p->strings[0], "");
  EXPECT_EQ(std::set<std::string>(p->strings.begin(), p->strings.end()).size(), p->strings.size());

  // Sample types and period.
  ASSERT_EQ(p->sample_types.size(), 2u);
  EXPECT_EQ(p->str(p->sample_types[0].first), "samples");
  EXPECT_EQ(p->str(p->sample_types[0].second), "count");
  EXPECT_EQ(p->str(p->sample_types[1].first), "cpu");
  EXPECT_EQ(p->str(p->sample_types[1].second), "nanoseconds");
  EXPECT_EQ(p->str(p->period_type.first), "cpu");
  EXPECT_EQ(p->str(p->period_type.second), "nanoseconds");
  EXPECT_EQ(p->period, 1'000'000);
  EXPECT_EQ(p->time_nanos, prof.time_nanos);
  EXPECT_EQ(p->duration_nanos, prof.duration_nanos);
  EXPECT_TRUE(p->mappings.empty()) << "no mapping was given";

  // Locations: one per distinct address (8 pcs, 7 distinct), ids 1..n.
  ASSERT_EQ(p->locations.size(), 7u);
  std::map<uint64_t, const DecodedLocation*> loc_by_id;
  std::set<uint64_t> addresses;
  for (const DecodedLocation& l : p->locations) {
    EXPECT_NE(l.id, 0u);
    EXPECT_TRUE(loc_by_id.emplace(l.id, &l).second) << "duplicate location id " << l.id;
    EXPECT_TRUE(addresses.insert(l.address).second) << "duplicate address " << l.address;
    EXPECT_EQ(l.mapping_id, 0u);
  }
  std::map<uint64_t, const DecodedFunction*> fn_by_id;
  for (const DecodedFunction& f : p->functions) {
    EXPECT_TRUE(fn_by_id.emplace(f.id, &f).second) << "duplicate function id " << f.id;
    EXPECT_EQ(f.system_name, f.name);
  }
  // Functions: spin, run_workload, kmain, helper@a, helper@b.
  EXPECT_EQ(p->functions.size(), 5u);

  // Each sample's stack maps back to the pcs given, leaf first, and each
  // symbolized location to its name, file and line.
  const PprofSample* want[] = {&samples[0], &samples[1], &samples[2]};
  ASSERT_EQ(p->samples.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const DecodedSample& s = p->samples[i];
    ASSERT_EQ(s.location_ids.size(), want[i]->pcs.size());
    for (size_t j = 0; j < s.location_ids.size(); ++j) {
      const DecodedLocation* l = loc_by_id.at(s.location_ids[j]);
      EXPECT_EQ(l->address, want[i]->pcs[j]);
      auto sym = kSymbols.find(l->address);
      if (sym == kSymbols.end()) {
        EXPECT_TRUE(l->lines.empty()) << "unknown address gets no line";
        continue;
      }
      ASSERT_EQ(l->lines.size(), 1u);
      EXPECT_EQ(l->lines[0].line, sym->second.line);
      const DecodedFunction* f = fn_by_id.at(l->lines[0].function_id);
      EXPECT_EQ(p->str(f->name), sym->second.function);
      EXPECT_EQ(p->str(f->filename), sym->second.file);
    }
    ASSERT_EQ(s.values.size(), 2u);
    EXPECT_EQ(s.values[0], want[i]->values[0]);
    EXPECT_EQ(s.values[1], want[i]->values[1]);
    ASSERT_EQ(s.labels.size(), want[i]->labels.size());
    for (size_t j = 0; j < s.labels.size(); ++j) {
      const PprofLabel& wl = want[i]->labels[j];
      EXPECT_EQ(s.labels[j].key, std::string(wl.key.data(), wl.key.size()));
      EXPECT_EQ(s.labels[j].str, std::string(wl.str.data(), wl.str.size()));
      EXPECT_EQ(s.labels[j].num, wl.num);
      EXPECT_EQ(s.labels[j].num_unit, std::string(wl.num_unit.data(), wl.num_unit.size()));
    }
  }
  // The two spin addresses share one function; helper@a and helper@b do not.
  const auto fn_of = [&](uint64_t addr) {
    for (const DecodedLocation& l : p->locations)
      if (l.address == addr) return l.lines.at(0).function_id;
    return uint64_t{0};
  };
  EXPECT_EQ(fn_of(0xffff'ffff'8010'0010), fn_of(0xffff'ffff'8010'0020));
  EXPECT_NE(fn_of(0xffff'ffff'8030'0000), fn_of(0xffff'ffff'8030'1000));

  // Each distinct address was symbolized exactly once.
  EXPECT_EQ(e.asked.size(), 7u);
  EXPECT_EQ(std::set<uint64_t>(e.asked.begin(), e.asked.end()).size(), 7u);
}

TEST(Pprof, SampleCountsSumOverManySamples) {
  // 1000 samples over 10 stacks that share their callers: dedup keeps the
  // location count at the number of distinct addresses.
  std::vector<std::vector<uint64_t>> stacks;
  for (uint64_t leaf = 0; leaf < 10; ++leaf) stacks.push_back({0x1000 + leaf * 16, 0x2000, 0x3000});
  std::vector<std::vector<int64_t>> values;
  std::vector<PprofSample> samples;
  values.reserve(1000);
  for (int i = 0; i < 1000; ++i) values.push_back({i % 10 == 0 ? 2 : 1});
  for (int i = 0; i < 1000; ++i)
    samples.push_back({.pcs = {stacks[i % 10].data(), 3}, .values = {values[i].data(), 1}});
  const PprofValueType types[] = {{"samples", "count"}};
  PprofProfile prof;
  prof.sample_types = types;
  prof.samples = {samples.data(), samples.size()};
  prof.period_type = {"cpu", "nanoseconds"};
  prof.period = 1'000'000;
  const Encoded e = encode(prof, SymbolMap{});
  ASSERT_TRUE(e.status.ok());
  const auto p = decode(e.bytes);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->samples.size(), 1000u);
  EXPECT_EQ(p->locations.size(), 12u);
  EXPECT_TRUE(p->functions.empty());
  int64_t total = 0;
  for (const DecodedSample& s : p->samples) total += s.values.at(0);
  EXPECT_EQ(total, 1100);
}

TEST(Pprof, MappingCoversKernelAddressesOnly) {
  const uint64_t stack[] = {0xffff'ffff'8010'0010, 0x1234};
  const int64_t values[] = {1, 1000};
  const PprofSample samples[] = {{.pcs = stack, .values = values}};
  PprofProfile prof;
  prof.sample_types = kTypes;
  prof.samples = samples;
  prof.period_type = {"cpu", "nanoseconds"};
  prof.mapping = {.memory_start = 0xffff'ffff'8000'0000,
                  .memory_limit = 0xffff'ffff'c000'0000,
                  .file_offset = 0x1000,
                  .filename = "kernel.elf",
                  .build_id = "abc123"};
  const Encoded e = encode(prof, kSymbols);
  ASSERT_TRUE(e.status.ok());
  const auto p = decode(e.bytes);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->mappings.size(), 1u);
  const DecodedMapping& m = p->mappings[0];
  EXPECT_EQ(m.id, 1u);
  EXPECT_EQ(m.memory_start, prof.mapping.memory_start);
  EXPECT_EQ(m.memory_limit, prof.mapping.memory_limit);
  EXPECT_EQ(m.file_offset, 0x1000u);
  EXPECT_EQ(p->str(m.filename), "kernel.elf");
  EXPECT_EQ(p->str(m.build_id), "abc123");
  EXPECT_TRUE(m.has_functions);
  EXPECT_TRUE(m.has_filenames);
  EXPECT_TRUE(m.has_line_numbers);
  ASSERT_EQ(p->locations.size(), 2u);
  for (const DecodedLocation& l : p->locations)
    EXPECT_EQ(l.mapping_id, l.address == 0x1234 ? 0u : 1u) << std::hex << l.address;
}

// An address inside inlined code: `memcpy` inlined into `copy_page`, which
// was inlined into `fork`. The location gets three lines, innermost first.
struct InlineSymbolizer {
  std::vector<PprofInlinedFrame> frames;
  size_t calls = 0;
};

bool symbolize_inlined(void* ctx, uint64_t addr, PprofSymbol* out) {
  auto* st = static_cast<InlineSymbolizer*>(ctx);
  ++st->calls;
  if (addr != 0x1000) return false;
  out->function = "fork";
  out->file = "src/fork.cc";
  out->line = 30;
  out->inlined = base::Span<const PprofInlinedFrame>(st->frames.data(), st->frames.size());
  return true;
}

TEST(Pprof, InlinedFramesBecomeLinesInnermostFirst) {
  const uint64_t stack[] = {0x1000, 0x2000};
  const int64_t values[] = {1};
  const PprofSample samples[] = {{.pcs = stack, .values = values}};
  const PprofValueType one_type[] = {{"samples", "count"}};
  PprofProfile prof;
  prof.sample_types = one_type;
  prof.samples = samples;
  prof.max_inlined_frames = 2;
  InlineSymbolizer st{.frames = {{"memcpy", "src/string.h", 7}, {"copy_page", "src/mm.h", 12}}};
  std::vector<uint8_t> out;
  std::vector<uint8_t> scratch(pprof_scratch_bytes(prof));
  ASSERT_TRUE(encode_pprof(prof, PprofSymbolizer{&st, symbolize_inlined},
                           base::Span<uint8_t>(scratch.data(), scratch.size()), ByteSink{&out, append_to_vector})
                  .ok());
  const auto p = decode(out);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->locations.size(), 2u);
  const DecodedLocation& l = p->locations[0].address == 0x1000 ? p->locations[0] : p->locations[1];
  ASSERT_EQ(l.lines.size(), 3u);
  std::map<uint64_t, const DecodedFunction*> fn_by_id;
  for (const DecodedFunction& f : p->functions) fn_by_id[f.id] = &f;
  const char* want_fn[] = {"memcpy", "copy_page", "fork"};
  const char* want_file[] = {"src/string.h", "src/mm.h", "src/fork.cc"};
  const int64_t want_line[] = {7, 12, 30};
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(fn_by_id.count(l.lines[i].function_id));
    const DecodedFunction* f = fn_by_id.at(l.lines[i].function_id);
    EXPECT_EQ(p->str(f->name), want_fn[i]);
    EXPECT_EQ(p->str(f->filename), want_file[i]);
    EXPECT_EQ(l.lines[i].line, want_line[i]);
  }
  EXPECT_EQ(p->functions.size(), 3u);

  // More inlined frames than the profile was sized for: refused.
  prof.max_inlined_frames = 1;
  out.clear();
  scratch.assign(pprof_scratch_bytes(prof), 0);
  EXPECT_EQ(encode_pprof(prof, PprofSymbolizer{&st, symbolize_inlined},
                         base::Span<uint8_t>(scratch.data(), scratch.size()), ByteSink{&out, append_to_vector})
                .error(),
            base::Error::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

// Many distinct inlined functions at many addresses: the function and
// string tables, sized by max_inlined_frames, hold them all.
TEST(Pprof, InlinedFramesFillTheirTables) {
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) names.push_back("f" + std::to_string(i));
  struct State {
    const std::vector<std::string>* names;
    std::vector<PprofInlinedFrame> frames;
  } st{&names, {}};
  auto sym = [](void* ctx, uint64_t addr, PprofSymbol* out) {
    auto* s = static_cast<State*>(ctx);
    // Address a: inlined frames f(4a)..f(4a+2), outer function f(4a+3).
    const size_t a = addr - 1;
    s->frames.clear();
    for (size_t k = 0; k < 3; ++k) {
      const std::string& n = (*s->names)[4 * a + k];
      s->frames.push_back({.function = base::StrView(n.data(), n.size()), .file = "x.cc"});
    }
    const std::string& outer = (*s->names)[4 * a + 3];
    out->function = base::StrView(outer.data(), outer.size());
    out->file = "y.cc";
    // The encoder copies the span's contents before the next call.
    out->inlined = base::Span<const PprofInlinedFrame>(s->frames.data(), s->frames.size());
    return true;
  };
  std::vector<uint64_t> stack;
  for (uint64_t a = 1; a <= 50; ++a) stack.push_back(a);
  const int64_t values[] = {1};
  const PprofSample samples[] = {{.pcs = {stack.data(), stack.size()}, .values = values}};
  const PprofValueType one_type[] = {{"samples", "count"}};
  PprofProfile prof;
  prof.sample_types = one_type;
  prof.samples = samples;
  prof.max_inlined_frames = 3;
  std::vector<uint8_t> out;
  std::vector<uint8_t> scratch(pprof_scratch_bytes(prof));
  ASSERT_TRUE(encode_pprof(prof, PprofSymbolizer{&st, sym}, base::Span<uint8_t>(scratch.data(), scratch.size()),
                           ByteSink{&out, append_to_vector})
                  .ok());
  const auto p = decode(out);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->functions.size(), 200u);
  for (const DecodedLocation& l : p->locations) EXPECT_EQ(l.lines.size(), 4u);
}

TEST(Pprof, EmptyProfileStillHasTypesAndEmptyString) {
  PprofProfile prof;
  prof.sample_types = kTypes;
  prof.period_type = {"cpu", "nanoseconds"};
  const Encoded e = encode(prof, kSymbols);
  ASSERT_TRUE(e.status.ok());
  const auto p = decode(e.bytes);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->samples.empty());
  EXPECT_EQ(p->sample_types.size(), 2u);
  ASSERT_FALSE(p->strings.empty());
  EXPECT_EQ(p->strings[0], "");
}

TEST(Pprof, Errors) {
  const uint64_t stack[] = {0x1000};
  const int64_t one_value[] = {1};
  const PprofSample samples[] = {{.pcs = stack, .values = one_value}};
  PprofProfile prof;
  prof.sample_types = kTypes;  // two types, but the sample has one value
  prof.samples = samples;
  EXPECT_EQ(encode(prof, kSymbols).status.error(), base::Error::kInvalidArgument);

  const PprofValueType one_type[] = {{"samples", "count"}};
  prof.sample_types = one_type;
  std::vector<uint8_t> out;
  std::vector<uint8_t> small(pprof_scratch_bytes(prof) - 8);
  EXPECT_EQ(encode_pprof(prof, PprofSymbolizer{}, base::Span<uint8_t>(small.data(), small.size()),
                         ByteSink{&out, append_to_vector})
                .error(),
            base::Error::kOutOfRange);

  // Any alignment of the scratch area works when it has the asked size.
  std::vector<uint8_t> big(pprof_scratch_bytes(prof) + 3);
  for (size_t skew = 0; skew < 4; ++skew) {
    out.clear();
    EXPECT_TRUE(encode_pprof(prof, PprofSymbolizer{}, base::Span<uint8_t>(big.data() + skew, pprof_scratch_bytes(prof)),
                             ByteSink{&out, append_to_vector})
                    .ok())
        << skew;
  }

  ByteSink refuse{nullptr, [](void*, const uint8_t*, size_t) { return false; }};
  std::vector<uint8_t> scratch(pprof_scratch_bytes(prof));
  EXPECT_EQ(encode_pprof(prof, PprofSymbolizer{}, base::Span<uint8_t>(scratch.data(), scratch.size()), refuse).error(),
            base::Error::kOutOfMemory);
}

}  // namespace
}  // namespace prof
