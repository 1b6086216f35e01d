// pprof_gz: see pprof_out.h.
#include "tools/profile/pprof_out.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "src/prof/pprof.h"
#include "src/prof/sample_pprof.h"
#include "tools/profile/gzip.h"

namespace profile {
namespace {

base::StrView view(const std::string& s) { return base::StrView(s.data(), s.size()); }

// The encoder's view of the symbol table: per address, the outermost
// frame and the inlined ones, innermost first, pointing into `symbols`.
struct Lookup {
  const SymbolTable* symbols;
  std::map<uint64_t, std::vector<prof::PprofInlinedFrame>> inlined;
};

bool symbolize(void* ctx, uint64_t addr, prof::PprofSymbol* out) {
  const auto* l = static_cast<const Lookup*>(ctx);
  const auto it = l->symbols->find(addr);
  if (it == l->symbols->end() || it->second.frames.empty()) return false;
  const Frame& outer = it->second.frames.back();
  out->function = view(outer.function);
  out->file = view(outer.file);
  out->line = outer.line;
  const std::vector<prof::PprofInlinedFrame>& in = l->inlined.at(addr);
  out->inlined = base::Span<const prof::PprofInlinedFrame>(in.data(), in.size());
  return true;
}

bool append(void* ctx, const uint8_t* data, size_t n) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), data, data + n);
  return true;
}

}  // namespace

bool pprof_gz(const Capture& capture, const SymbolTable& symbols, const ElfInfo& elf, const std::string& elf_name,
              std::vector<uint8_t>* out, std::string* error) {
  Lookup lookup{&symbols, {}};
  size_t max_inlined = 0;
  for (const auto& [addr, sym] : symbols) {
    std::vector<prof::PprofInlinedFrame>& in = lookup.inlined[addr];
    for (size_t i = 0; i + 1 < sym.frames.size(); ++i)
      in.push_back({view(sym.frames[i].function), view(sym.frames[i].file), sym.frames[i].line});
    max_inlined = std::max(max_inlined, in.size());
  }

  // Samples with the same stack and labels become one pprof sample with
  // their count and time: a 10 kHz capture on 4 CPUs repeats few stacks
  // many times, and pprof adds values up anyway.
  const int64_t period = static_cast<int64_t>(capture.period_ns);
  // LBR branches become samples of their own (to_pprof_branch_sample),
  // merged the same way; `kind` in the key keeps them apart from stacks.
  size_t n_branches = 0;
  for (const prof::Sample& s : capture.samples) n_branches += s.n_branches;
  std::vector<prof::PprofSampleStorage> storage;
  storage.reserve(capture.samples.size() + n_branches);  // PprofSamples point into it: no reallocation
  std::vector<prof::PprofSample> samples;
  enum : uint8_t { kStack, kBranch, kMispredictedBranch };
  std::map<std::tuple<uint8_t, uint32_t, uint64_t, uint16_t, std::vector<uint64_t>>, size_t> merged;
  uint64_t first = UINT64_MAX, last = 0;
  for (const prof::Sample& s : capture.samples) {
    first = std::min(first, s.header.timestamp);
    last = std::max(last, s.header.timestamp);
    const uint16_t mode = static_cast<uint16_t>(prof::sample_flags::mode(s.header.flags));
    const auto key = std::make_tuple(uint8_t{kStack}, s.header.cpu, s.header.tid, mode,
                                     std::vector<uint64_t>(s.pcs, s.pcs + s.n_pcs));
    const auto [it, is_new] = merged.emplace(key, samples.size());
    if (is_new) {
      storage.emplace_back();
      samples.push_back(prof::to_pprof_sample(s, period, &storage.back()));
    } else {
      storage[it->second].values[0] += 1;
      storage[it->second].values[1] += period;
    }
    for (size_t i = 0; i < s.n_branches; ++i) {
      const prof::SampleBranch& b = s.branches[i];
      const auto bkey = std::make_tuple(uint8_t{b.mispredicted ? kMispredictedBranch : kBranch}, s.header.cpu,
                                        s.header.tid, mode, std::vector<uint64_t>{b.to, b.from});
      const auto [bit, b_new] = merged.emplace(bkey, samples.size());
      if (b_new) {
        storage.emplace_back();
        samples.push_back(prof::to_pprof_branch_sample(s, i, &storage.back()));
      } else {
        storage[bit->second].values[0] += 1;
      }
    }
  }

  prof::PprofProfile p;
  p.sample_types = prof::kKernelSampleTypes;
  p.samples = base::Span<const prof::PprofSample>(samples.data(), samples.size());
  p.period_type = prof::kKernelPeriodType;
  p.period = period;
  // Timestamps are nanoseconds on the kernel's clock, whose origin is boot,
  // not the epoch: time_nanos stays unknown, the duration is their span
  // (plus the last sample's period).
  p.duration_nanos = samples.empty() ? 0 : static_cast<int64_t>(last - first) + period;
  p.mapping = prof::PprofMapping{.memory_start = elf.text_start,
                                 .memory_limit = elf.text_limit,
                                 .file_offset = elf.text_offset,
                                 .filename = view(elf_name),
                                 .build_id = view(capture.build_id)};
  p.max_inlined_frames = max_inlined;

  std::vector<uint8_t> scratch(prof::pprof_scratch_bytes(p));
  std::vector<uint8_t> raw;
  const base::Status st =
      prof::encode_pprof(p, prof::PprofSymbolizer{&lookup, symbolize},
                         base::Span<uint8_t>(scratch.data(), scratch.size()), prof::ByteSink{&raw, append});
  if (!st.ok()) {
    *error = std::string("pprof encoding failed: ") + base::error_name(st.error());
    return false;
  }
  *out = gzip_stored(raw);
  return true;
}

}  // namespace profile
