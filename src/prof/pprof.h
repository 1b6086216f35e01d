// pprof export: turns aggregated stacks into pprof's profile.proto, the
// format `go tool pprof` reads ([pprof] proto/profile.proto). Locations are
// deduplicated by address and functions by (name, file); every string is
// stored once. Symbols come from a caller's callback, so the kernel can use
// its own symbol table and tests a map.
//
// The bytes are the raw protobuf; [pprof] asks for gzip on disk, which the
// host tool adds (pprof also reads an uncompressed file).
//
// Thread context only: it calls the sink, which may allocate. Memory: one
// caller-provided scratch area of pprof_scratch_bytes() bytes, no other
// allocation, so the kernel can size it once with kmalloc.
#pragma once

#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/str.h"
#include "src/base/types.h"
#include "src/prof/proto_writer.h"

namespace prof {

/// A function the compiler inlined at an address, and the address's line in it.
struct PprofInlinedFrame {
  base::StrView function;  // required
  base::StrView file;      // may be empty
  int64_t line = 0;        // 0 when unknown
};

/// What a symbolizer knows about one address.
struct PprofSymbol {
  base::StrView function;  // required when the symbolizer answers true
  base::StrView file;      // may be empty
  int64_t line = 0;        // 0 when unknown
  /// The functions inlined into `function` at this address, innermost first
  /// (`line` is then the call site of the outermost one). They become the
  /// location's extra Lines, in the order [pprof] Location.line asks: "the
  /// last entry represents the caller into which the preceding entries were
  /// inlined". At most PprofProfile::max_inlined_frames.
  base::Span<const PprofInlinedFrame> inlined;
};

/// Address to symbol. `symbolize` returns false for an unknown address (the
/// location then carries the address only, for pprof to show as hex). The
/// strings it returns must stay valid until encode_pprof() returns.
///
/// Addresses are passed as the samples hold them. A raw return address
/// points after its call and would name the wrong line, so callers give
/// non-leaf frames as return address - 1 (to_pprof_sample() does), which
/// [pprof] Location.address allows: "A non-leaf address may be in the middle
/// of a call instruction".
struct PprofSymbolizer {
  void* ctx = nullptr;
  bool (*symbolize)(void* ctx, uint64_t addr, PprofSymbol* out) = nullptr;
};

/// A (type, unit) pair, e.g. ("samples", "count") or ("cpu", "nanoseconds").
struct PprofValueType {
  base::StrView type;
  base::StrView unit;
};

/// A sample label: a string value when `str` is non-empty, else the number
/// `num` (in `num_unit`, which may be empty). cpu, thread and mode as labels
/// make `go tool pprof -tagfocus` select by them.
struct PprofLabel {
  base::StrView key;
  base::StrView str;
  int64_t num = 0;
  base::StrView num_unit;
};

/// One stack with its values, typically many identical samples merged.
struct PprofSample {
  base::Span<const uint64_t> pcs;    // leaf first, as [pprof] Sample.location_id
  base::Span<const int64_t> values;  // one per PprofProfile::sample_types
  base::Span<const PprofLabel> labels;
};

/// The image the addresses belong to (the kernel ELF). Written only when
/// memory_limit > memory_start; every location then refers to it.
struct PprofMapping {
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  base::StrView filename;
  base::StrView build_id;
};

struct PprofProfile {
  base::Span<const PprofValueType> sample_types;
  base::Span<const PprofSample> samples;
  PprofValueType period_type;  // e.g. ("cpu", "nanoseconds")
  int64_t period = 0;          // events (in period_type's unit) per sample
  int64_t time_nanos = 0;      // collection start, ns since the Unix epoch; 0 if unknown
  int64_t duration_nanos = 0;
  PprofMapping mapping;
  /// The most inlined frames the symbolizer reports for one address (0 for
  /// a symbolizer without inlining, such as the kernel's own). It sizes the
  /// scratch area, which must hold a line and a function for each.
  size_t max_inlined_frames = 0;
};

/// Scratch bytes encode_pprof() needs for `p`: linear in the total number of
/// pcs (times 1 + max_inlined_frames) and labels.
size_t pprof_scratch_bytes(const PprofProfile& p);

/// Encodes `p` into `out`. kInvalidArgument if a sample's value count is not
/// sample_types.size() or the symbolizer reports more inlined frames than
/// p.max_inlined_frames (nothing is written then); kOutOfRange if `scratch` is smaller than
/// pprof_scratch_bytes(p); kOutOfMemory if the sink cannot grow.
base::Status encode_pprof(const PprofProfile& p, PprofSymbolizer symbolizer, base::Span<uint8_t> scratch, ByteSink out);

}  // namespace prof
