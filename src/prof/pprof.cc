// pprof export: interns strings, locations and functions into tables carved
// from the caller's scratch area, then writes the profile in one pass over
// those tables (ProtoWriter measures each nested message before writing it).
#include "src/prof/pprof.h"

namespace prof {
namespace {

// Field numbers of [pprof] proto/profile.proto, message by message.
namespace profile_field {
constexpr uint32_t kSampleType = 1;      // repeated ValueType
constexpr uint32_t kSample = 2;          // repeated Sample
constexpr uint32_t kMapping = 3;         // repeated Mapping
constexpr uint32_t kLocation = 4;        // repeated Location
constexpr uint32_t kFunction = 5;        // repeated Function
constexpr uint32_t kStringTable = 6;     // repeated string; [0] must be ""
constexpr uint32_t kTimeNanos = 9;       // int64
constexpr uint32_t kDurationNanos = 10;  // int64
constexpr uint32_t kPeriodType = 11;     // ValueType
constexpr uint32_t kPeriod = 12;         // int64
}  // namespace profile_field
namespace value_type_field {
constexpr uint32_t kType = 1;  // int64 string index
constexpr uint32_t kUnit = 2;  // int64 string index
}  // namespace value_type_field
namespace sample_field {
constexpr uint32_t kLocationId = 1;  // repeated uint64, leaf first
constexpr uint32_t kValue = 2;       // repeated int64
constexpr uint32_t kLabel = 3;       // repeated Label
}  // namespace sample_field
namespace label_field {
constexpr uint32_t kKey = 1;      // int64 string index
constexpr uint32_t kStr = 2;      // int64 string index
constexpr uint32_t kNum = 3;      // int64
constexpr uint32_t kNumUnit = 4;  // int64 string index
}  // namespace label_field
namespace mapping_field {
constexpr uint32_t kId = 1;              // uint64, nonzero
constexpr uint32_t kMemoryStart = 2;     // uint64
constexpr uint32_t kMemoryLimit = 3;     // uint64
constexpr uint32_t kFileOffset = 4;      // uint64
constexpr uint32_t kFilename = 5;        // int64 string index
constexpr uint32_t kBuildId = 6;         // int64 string index
constexpr uint32_t kHasFunctions = 7;    // bool
constexpr uint32_t kHasFilenames = 8;    // bool
constexpr uint32_t kHasLineNumbers = 9;  // bool
}  // namespace mapping_field
namespace location_field {
constexpr uint32_t kId = 1;         // uint64, nonzero
constexpr uint32_t kMappingId = 2;  // uint64
constexpr uint32_t kAddress = 3;    // uint64
constexpr uint32_t kLine = 4;       // repeated Line
}  // namespace location_field
namespace line_field {
constexpr uint32_t kFunctionId = 1;  // uint64
constexpr uint32_t kLine = 2;        // int64
}  // namespace line_field
namespace function_field {
constexpr uint32_t kId = 1;          // uint64, nonzero
constexpr uint32_t kName = 2;        // int64 string index
constexpr uint32_t kSystemName = 3;  // int64 string index
constexpr uint32_t kFilename = 4;    // int64 string index
}  // namespace function_field

// The only mapping we write, when there is one.
constexpr uint64_t kMappingId = 1;

struct Location {
  uint64_t address;
  uint32_t first_line;  // index into Tables::lines
  uint32_t n_lines;     // 0: not symbolized; more than 1: inlined frames, innermost first
};

struct Line {
  uint32_t function_id;
  int64_t line;
};

struct Function {
  uint32_t name;  // string indices
  uint32_t file;
};

// Hash-table slots for `entries` entries: a power of two at least twice as
// many, so probing always meets an empty slot and chains stay short.
size_t slots_for(size_t entries) {
  size_t n = 2;
  while (n < 2 * entries) n *= 2;
  return n;
}

uint64_t hash_word(uint64_t x) {
  // A 64-bit finalizer (xorshift-multiply): nearby addresses spread out.
  x ^= x >> 33;
  x *= 0xff51'afd7'ed55'8ccd;
  x ^= x >> 33;
  return x;
}

uint64_t hash_bytes(base::StrView s) {
  uint64_t h = 0xcbf2'9ce4'8422'2325;  // FNV-1a 64-bit offset basis
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100'0000'01b3;  // FNV 64-bit prime
  }
  return h;
}

// Hands out 8-byte-aligned arrays from the scratch area; with no area it
// only measures, which is how pprof_scratch_bytes() sizes it (plus
// kAlignSlack, because the caller's area may start anywhere).
constexpr size_t kAlignSlack = 7;
class Carver {
 public:
  explicit Carver(base::Span<uint8_t> area) : area_(area) {
    if (area.data() == nullptr) return;
    const size_t skip =
        base::align_up(reinterpret_cast<uintptr_t>(area.data()), 8) - reinterpret_cast<uintptr_t>(area.data());
    area_ = skip <= area.size() ? area.subspan(skip, area.size() - skip) : base::Span<uint8_t>();
  }
  template <typename T>
  T* take(size_t n) {
    used_ = base::align_up(used_, 8);
    T* p = area_.data() == nullptr ? nullptr : reinterpret_cast<T*>(area_.data() + used_);
    used_ += n * sizeof(T);
    return p;
  }
  size_t used() const { return used_; }
  bool fits() const { return used_ <= area_.size(); }

 private:
  base::Span<uint8_t> area_;
  size_t used_ = 0;
};

// Upper bounds on what the profile can hold, from its inputs alone.
struct Bounds {
  size_t locations;  // every pc distinct
  size_t lines;      // every location with every inlined frame; also bounds functions
  size_t strings;    // "" + every name, file and label string distinct
};

Bounds bounds_of(const PprofProfile& p) {
  size_t pcs = 0, labels = 0;
  for (const PprofSample& s : p.samples) {
    pcs += s.pcs.size();
    labels += s.labels.size();
  }
  const size_t lines = pcs * (1 + p.max_inlined_frames);
  return Bounds{
      .locations = pcs,
      .lines = lines,
      .strings = 1 + 2 * p.sample_types.size() + 2 + 2 + 2 * lines + 3 * labels,
  };
}

struct Tables {
  Location* locations;
  uint32_t* location_slots;
  Line* lines;
  Function* functions;  // at most one per line
  uint32_t* function_slots;
  base::StrView* strings;
  uint32_t* string_slots;
  size_t n_location_slots, n_function_slots, n_string_slots;
};

Tables carve(Carver& c, const Bounds& b) {
  Tables t{};
  t.n_location_slots = slots_for(b.locations);
  t.n_function_slots = slots_for(b.lines);
  t.n_string_slots = slots_for(b.strings);
  t.locations = c.take<Location>(b.locations);
  t.location_slots = c.take<uint32_t>(t.n_location_slots);
  t.lines = c.take<Line>(b.lines);
  t.functions = c.take<Function>(b.lines);
  t.function_slots = c.take<uint32_t>(t.n_function_slots);
  t.strings = c.take<base::StrView>(b.strings);
  t.string_slots = c.take<uint32_t>(t.n_string_slots);
  return t;
}

// Open addressing, linear probing. A slot holds entry index + 1; 0 is
// empty. Returns the slot where `matches(index)` holds, or the empty slot
// where such an entry belongs.
template <typename Matches>
uint32_t* probe(uint32_t* slots, size_t n_slots, uint64_t hash, Matches matches) {
  size_t i = hash & (n_slots - 1);
  while (slots[i] != 0 && !matches(slots[i] - 1)) i = (i + 1) & (n_slots - 1);
  return &slots[i];
}

class Encoder {
 public:
  Encoder(const PprofProfile& p, PprofSymbolizer symbolizer, const Tables& t) : p_(p), symbolizer_(symbolizer), t_(t) {
    for (size_t i = 0; i < t_.n_location_slots; ++i) t_.location_slots[i] = 0;
    for (size_t i = 0; i < t_.n_function_slots; ++i) t_.function_slots[i] = 0;
    for (size_t i = 0; i < t_.n_string_slots; ++i) t_.string_slots[i] = 0;
    (void)intern("");  // [pprof]: string_table[0] must be ""
  }

  // Interns every string, location and function the profile will name, in
  // the order they are first met: that order is the string table's. False
  // if the symbolizer reported more inlined frames than the profile allows.
  bool resolve() {
    for (const PprofValueType& v : p_.sample_types) intern_value_type(v);
    for (const PprofSample& s : p_.samples) {
      for (uint64_t pc : s.pcs) (void)location_id(pc);
      for (const PprofLabel& l : s.labels) {
        (void)intern(l.key);
        (void)intern(l.str);
        (void)intern(l.num_unit);
      }
    }
    intern_value_type(p_.period_type);
    if (has_mapping()) {
      (void)intern(p_.mapping.filename);
      (void)intern(p_.mapping.build_id);
    }
    return !too_many_inlined_;
  }

  // Writes the profile. Every intern() and location_id() here finds what
  // resolve() stored, so the tables no longer change.
  void write(ProtoWriter& w) {
    for (const PprofValueType& v : p_.sample_types)
      w.message_field(profile_field::kSampleType, [&](ProtoWriter& m) { write_value_type(m, v); });
    for (const PprofSample& s : p_.samples)
      w.message_field(profile_field::kSample, [&](ProtoWriter& m) { write_sample(m, s); });
    if (has_mapping()) w.message_field(profile_field::kMapping, [&](ProtoWriter& m) { write_mapping(m); });
    for (uint32_t i = 0; i < n_locations_; ++i)
      w.message_field(profile_field::kLocation, [&](ProtoWriter& m) { write_location(m, i); });
    for (uint32_t i = 0; i < n_functions_; ++i)
      w.message_field(profile_field::kFunction, [&](ProtoWriter& m) { write_function(m, i); });
    for (uint32_t i = 0; i < n_strings_; ++i) w.bytes_field(profile_field::kStringTable, t_.strings[i]);
    w.int_field(profile_field::kTimeNanos, p_.time_nanos);
    w.int_field(profile_field::kDurationNanos, p_.duration_nanos);
    w.message_field(profile_field::kPeriodType, [&](ProtoWriter& m) { write_value_type(m, p_.period_type); });
    w.int_field(profile_field::kPeriod, p_.period);
  }

 private:
  bool has_mapping() const { return p_.mapping.memory_limit > p_.mapping.memory_start; }

  uint32_t intern(base::StrView s) {
    uint32_t* slot =
        probe(t_.string_slots, t_.n_string_slots, hash_bytes(s), [&](uint32_t i) { return t_.strings[i] == s; });
    if (*slot == 0) {
      t_.strings[n_strings_] = s;
      *slot = ++n_strings_;
    }
    return *slot - 1;
  }

  void intern_value_type(const PprofValueType& v) {
    (void)intern(v.type);
    (void)intern(v.unit);
  }

  // The location's id (index + 1; [pprof] ids are nonzero), symbolizing the
  // address the first time it is met.
  uint32_t location_id(uint64_t address) {
    uint32_t* slot = probe(t_.location_slots, t_.n_location_slots, hash_word(address),
                           [&](uint32_t i) { return t_.locations[i].address == address; });
    if (*slot != 0) return *slot;
    Location& loc = t_.locations[n_locations_];
    loc = Location{.address = address, .first_line = n_lines_, .n_lines = 0};
    *slot = ++n_locations_;
    PprofSymbol sym;
    if (symbolizer_.symbolize == nullptr || !symbolizer_.symbolize(symbolizer_.ctx, address, &sym) ||
        sym.function.empty()) {
      return *slot;
    }
    if (sym.inlined.size() > p_.max_inlined_frames) {
      // The tables were sized for max_inlined_frames; encode_pprof fails.
      too_many_inlined_ = true;
      return *slot;
    }
    for (const PprofInlinedFrame& f : sym.inlined) {
      if (!f.function.empty()) add_line(loc, f.function, f.file, f.line);
    }
    add_line(loc, sym.function, sym.file, sym.line);
    return *slot;
  }

  // Appends a line to `loc`, the newest location (its lines are contiguous).
  void add_line(Location& loc, base::StrView function, base::StrView file, int64_t line) {
    // Bounds: a location takes at most 1 + max_inlined_frames lines, and
    // bounds_of() counted that many for every pc.
    t_.lines[n_lines_++] = Line{.function_id = function_id(intern(function), intern(file)), .line = line};
    ++loc.n_lines;
    any_function_ = true;
    any_file_ |= !file.empty();
    any_line_ |= line != 0;
  }

  // One function per (name, file): two static functions of one name in
  // different files stay apart.
  uint32_t function_id(uint32_t name, uint32_t file) {
    const uint64_t key = (uint64_t{name} << 32) | file;
    uint32_t* slot = probe(t_.function_slots, t_.n_function_slots, hash_word(key),
                           [&](uint32_t i) { return t_.functions[i].name == name && t_.functions[i].file == file; });
    if (*slot == 0) {
      t_.functions[n_functions_] = Function{.name = name, .file = file};
      *slot = ++n_functions_;
    }
    return *slot;
  }

  void write_value_type(ProtoWriter& m, const PprofValueType& v) {
    m.int_field(value_type_field::kType, intern(v.type));
    m.int_field(value_type_field::kUnit, intern(v.unit));
  }

  void write_sample(ProtoWriter& m, const PprofSample& s) {
    m.packed_field(sample_field::kLocationId, [&](ProtoWriter& pw) {
      for (uint64_t pc : s.pcs) pw.varint(location_id(pc));
    });
    m.packed_field(sample_field::kValue, [&](ProtoWriter& pw) {
      for (int64_t v : s.values) pw.varint(static_cast<uint64_t>(v));
    });
    for (const PprofLabel& l : s.labels) {
      m.message_field(sample_field::kLabel, [&](ProtoWriter& lw) {
        lw.int_field(label_field::kKey, intern(l.key));
        if (!l.str.empty()) {
          lw.int_field(label_field::kStr, intern(l.str));
        } else {
          lw.int_field(label_field::kNum, l.num);
          lw.int_field(label_field::kNumUnit, intern(l.num_unit));
        }
      });
    }
  }

  void write_mapping(ProtoWriter& m) {
    m.uint_field(mapping_field::kId, kMappingId);
    m.uint_field(mapping_field::kMemoryStart, p_.mapping.memory_start);
    m.uint_field(mapping_field::kMemoryLimit, p_.mapping.memory_limit);
    m.uint_field(mapping_field::kFileOffset, p_.mapping.file_offset);
    m.int_field(mapping_field::kFilename, intern(p_.mapping.filename));
    m.int_field(mapping_field::kBuildId, intern(p_.mapping.build_id));
    // Tells pprof the symbols are already here, so it does not look for
    // the binary to symbolize again.
    m.bool_field(mapping_field::kHasFunctions, any_function_);
    m.bool_field(mapping_field::kHasFilenames, any_file_);
    m.bool_field(mapping_field::kHasLineNumbers, any_line_);
  }

  void write_location(ProtoWriter& m, uint32_t i) {
    const Location& loc = t_.locations[i];
    m.uint_field(location_field::kId, i + 1);
    if (has_mapping() && loc.address >= p_.mapping.memory_start && loc.address < p_.mapping.memory_limit) {
      m.uint_field(location_field::kMappingId, kMappingId);
    }
    m.uint_field(location_field::kAddress, loc.address);
    for (uint32_t j = 0; j < loc.n_lines; ++j) {
      const Line& l = t_.lines[loc.first_line + j];
      m.message_field(location_field::kLine, [&](ProtoWriter& lw) {
        lw.uint_field(line_field::kFunctionId, l.function_id);
        lw.int_field(line_field::kLine, l.line);
      });
    }
  }

  void write_function(ProtoWriter& m, uint32_t i) {
    const Function& f = t_.functions[i];
    m.uint_field(function_field::kId, i + 1);
    m.int_field(function_field::kName, f.name);
    // We have one name per symbol; the system name is the same.
    m.int_field(function_field::kSystemName, f.name);
    m.int_field(function_field::kFilename, f.file);
  }

  const PprofProfile& p_;
  PprofSymbolizer symbolizer_;
  Tables t_;
  uint32_t n_locations_ = 0, n_lines_ = 0, n_functions_ = 0, n_strings_ = 0;
  bool any_function_ = false, any_file_ = false, any_line_ = false;
  bool too_many_inlined_ = false;
};

}  // namespace

size_t pprof_scratch_bytes(const PprofProfile& p) {
  Carver c{base::Span<uint8_t>()};
  (void)carve(c, bounds_of(p));
  return c.used() + kAlignSlack;
}

base::Status encode_pprof(const PprofProfile& p, PprofSymbolizer symbolizer, base::Span<uint8_t> scratch,
                          ByteSink out) {
  for (const PprofSample& s : p.samples) {
    // [pprof] Sample.value: "the same number of values, the same as the
    // length of Profile.sample_type".
    if (s.values.size() != p.sample_types.size()) return base::Error::kInvalidArgument;
  }
  if (out.append == nullptr) return base::Error::kInvalidArgument;
  Carver c(scratch);
  const Tables t = carve(c, bounds_of(p));
  if (scratch.data() == nullptr || !c.fits()) return base::Error::kOutOfRange;
  Encoder e(p, symbolizer, t);
  if (!e.resolve()) return base::Error::kInvalidArgument;
  ProtoWriter w(out);
  e.write(w);
  return w.finish();
}

}  // namespace prof
