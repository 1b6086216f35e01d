// Tests for the multiboot2 parser: the structures GRUB really produced
// (testdata/boot), hand-made malformed ones, and seeded random corruption.
#include "src/arch/multiboot2.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "src/base/format.h"
#include "src/base/testing/testdata.h"

namespace arch::mb2 {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes read_boot(const std::string& file) { return base::testing::read_testdata("testdata/boot/" + file); }

std::string str(base::StrView v) { return std::string(v.data(), v.size()); }

uint32_t get_u32(const Bytes& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
void put_u32(Bytes& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void put_u64(Bytes& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }

// Builds a structure tag by tag, padding each to 8 bytes as GRUB does.
class Builder {
 public:
  Builder() : bytes_(8, 0) {}

  /// Appends a tag; `size` overrides the true size (header + payload).
  Builder& tag(uint32_t type, const Bytes& payload, uint32_t size = 0) {
    const size_t at = bytes_.size();
    bytes_.resize(at + 8);
    put_u32(bytes_, at, type);
    put_u32(bytes_, at + 4, size ? size : static_cast<uint32_t>(8 + payload.size()));
    bytes_.insert(bytes_.end(), payload.begin(), payload.end());
    bytes_.resize((bytes_.size() + 7) & ~size_t{7}, 0);
    return *this;
  }
  /// Appends the end tag and sets total_size.
  Bytes finish(bool end_tag = true) {
    if (end_tag) tag(0, {});
    put_u32(bytes_, 0, static_cast<uint32_t>(bytes_.size()));
    return bytes_;
  }

 private:
  Bytes bytes_;
};

Bytes u32s(std::initializer_list<uint32_t> vs) {
  Bytes b;
  for (uint32_t v : vs)
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return b;
}
Bytes cstr(const std::string& s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  return b;
}
Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
// A memory map payload: entry_size, version 0, then (base, length, type)
// entries padded to entry_size.
Bytes mmap_payload(uint32_t entry_size, std::initializer_list<MemoryMapEntry> entries) {
  Bytes b = u32s({entry_size, 0});
  for (const MemoryMapEntry& e : entries) {
    Bytes entry(entry_size, 0);
    put_u64(entry, 0, e.base);
    put_u64(entry, 8, e.length);
    put_u32(entry, 16, e.type);
    b = cat(b, entry);
  }
  return b;
}

// Parses `b` (all of it readable) and expects a rejection with a reason.
ParseError expect_malformed(const Bytes& b) {
  ParseError err;
  auto r = parse_multiboot2(b.data(), b.size(), &err);
  EXPECT_FALSE(r.ok());
  if (!r.ok()) EXPECT_EQ(r.error(), base::Error::kMalformed);
  EXPECT_NE(err.what, nullptr);
  return err;
}

BootInfo expect_ok(const Bytes& b) {
  ParseError err;
  auto r = parse_multiboot2(b.data(), b.size(), &err);
  EXPECT_TRUE(r.ok()) << (err.what ? err.what : "") << " at +" << err.offset;
  return r.ok() ? r.value() : BootInfo();
}

// ---------------------------------------------------------------------------
// The six real GRUB structures, against testdata/boot/README.md.

struct RealConfig {
  const char* name;
  size_t mmap_entries;
  uint64_t usable_bytes;
  uint64_t usable_above_4g;
};

const RealConfig kRealConfigs[] = {
    {"m32M-smp1-qemu64", 7, 33029120, 0},        {"m128M-smp2-qemu64", 7, 133692416, 0},
    {"m512M-smp4-max", 7, 536345600, 0},         {"m3584M-smp2-qemu64", 8, 3757571072, 512ull << 20},
    {"m4G-smp8-max", 8, 4294441984, 1ull << 30}, {"m2G-smp4-q35-max", 9, 2146954240, 0},
};

class RealStructure : public ::testing::TestWithParam<RealConfig> {};

TEST_P(RealStructure, DecodesWhatGrubPassed) {
  const RealConfig& c = GetParam();
  const Bytes mbi = read_boot(std::string(c.name) + ".mb2.bin");
  ASSERT_FALSE(mbi.empty()) << "run from the repository root";
  const BootInfo info = expect_ok(mbi);

  EXPECT_EQ(info.raw().size(), mbi.size());
  EXPECT_EQ(str(info.cmdline()), "console=ttyS0 mode=test");
  EXPECT_EQ(str(info.boot_loader_name()), "GRUB 2.06-13+deb12u2");

  ASSERT_EQ(info.modules().size(), 1u);
  for (const Module m : info.modules()) {
    EXPECT_EQ(str(m.string), "initrd");
    EXPECT_EQ(m.end - m.start, 1000u);
  }

  const MemoryMap& map = info.memory_map();
  EXPECT_EQ(map.entry_size(), 24u);
  EXPECT_EQ(map.size(), c.mmap_entries);
  uint64_t usable = 0, above_4g = 0, prev_end = 0;
  for (const MemoryMapEntry e : map) {
    EXPECT_GE(e.base, prev_end) << "GRUB's map is sorted and disjoint";
    prev_end = e.base + e.length;
    if (e.type != static_cast<uint32_t>(MemoryType::kAvailable)) continue;
    usable += e.length;
    if (e.base >= (1ull << 32)) above_4g += e.length;
  }
  EXPECT_EQ(usable, c.usable_bytes);
  EXPECT_EQ(above_4g, c.usable_above_4g);
  EXPECT_EQ(map[0].base, 0u);

  // Tag 14 carries a copy of the RSDP: the same 20 bytes as the dump.
  ASSERT_TRUE(info.has(TagType::kAcpiOldRsdp));
  const base::Span<const uint8_t> rsdp = info.acpi_old_rsdp();
  ASSERT_EQ(rsdp.size(), 20u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(rsdp.data()), 8), "RSD PTR ");
  EXPECT_EQ(Bytes(rsdp.begin(), rsdp.end()), read_boot(std::string(c.name) + ".acpi.RSDP.bin"));
  EXPECT_FALSE(info.has(TagType::kAcpiNewRsdp));
  EXPECT_TRUE(info.acpi_new_rsdp().empty());

  EXPECT_TRUE(info.has(TagType::kBasicMeminfo));
  EXPECT_EQ(info.basic_meminfo().mem_lower_kib, 639u);
  EXPECT_TRUE(info.has(TagType::kLoadBaseAddr));
  EXPECT_EQ(info.load_base_addr(), 0x100000u);
  ASSERT_TRUE(info.has(TagType::kElfSections));
  EXPECT_EQ(info.elf_sections().num, 8u);
  EXPECT_EQ(info.elf_sections().entsize, 40u);
  EXPECT_EQ(info.elf_sections().shndx, 6u);
  EXPECT_EQ(info.elf_sections().headers.size(), 8u * 40u);
  ASSERT_TRUE(info.has(TagType::kFramebuffer));
  EXPECT_EQ(info.framebuffer().type, 2u);  // EGA text
  EXPECT_EQ(info.framebuffer().addr, 0xb8000u);
  EXPECT_EQ(info.framebuffer().width, 80u);
}

TEST_P(RealStructure, NeedsOnlyTotalSizeBytes) {
  Bytes mbi = read_boot(std::string(GetParam().name) + ".mb2.bin");
  ASSERT_FALSE(mbi.empty());
  const size_t total = mbi.size();
  mbi.resize(total + 64, 0xAA);  // the caller may offer more than it needs
  ParseError err;
  auto r = parse_multiboot2(mbi.data(), mbi.size(), &err);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().raw().size(), total);
}

TEST_P(RealStructure, EveryTruncationIsRejected) {
  const Bytes mbi = read_boot(std::string(GetParam().name) + ".mb2.bin");
  ASSERT_FALSE(mbi.empty());
  for (size_t len = 0; len < mbi.size(); ++len) {
    // Exact-size copies, so ASan catches a read past `len`.
    Bytes cut(mbi.begin(), mbi.begin() + len);
    ParseError err;
    EXPECT_FALSE(parse_multiboot2(cut.data(), cut.size(), &err).ok()) << len;
    if (len >= 4) {
      put_u32(cut, 0, static_cast<uint32_t>(len));  // claim the cut size too
      EXPECT_FALSE(parse_multiboot2(cut.data(), cut.size(), &err).ok()) << len;
      EXPECT_NE(err.what, nullptr);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Grub, RealStructure, ::testing::ValuesIn(kRealConfigs),
                         [](const ::testing::TestParamInfo<RealConfig>& i) {
                           std::string n = i.param.name;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

// ---------------------------------------------------------------------------
// Hand-made structures, valid and not. Offsets below refer to the m4G
// structure: cmdline at +0x18, module at +0x78, mmap at +0x90, end at +0x320.

Bytes m4g() {
  Bytes b = read_boot("m4G-smp8-max.mb2.bin");
  EXPECT_EQ(b.size(), 808u);
  return b;
}

TEST(Multiboot2, MinimalStructure) {
  const Bytes b = Builder().finish();  // outlives the views into it
  const BootInfo info = expect_ok(b);
  EXPECT_EQ(info.raw().size(), 16u);
  EXPECT_FALSE(info.has(TagType::kCmdline));
  EXPECT_TRUE(info.cmdline().empty());
  EXPECT_TRUE(info.memory_map().empty());
  EXPECT_TRUE(info.modules().empty());
  EXPECT_FALSE(info.modules().begin() != info.modules().end());
  EXPECT_TRUE(info.acpi_old_rsdp().empty());
}

TEST(Multiboot2, SkipsUnknownTagsAndWalksModules) {
  const Bytes b = Builder()
                      .tag(0x1234, Bytes(5, 0xEE))  // unknown, odd size: skipped
                      .tag(3, cat(u32s({0x1000, 0x2000}), cstr("first")))
                      .tag(1, cstr(""))
                      .tag(3, cat(u32s({0x3000, 0x3000}), cstr("second arg")))
                      .tag(0xffffffff, {})
                      .finish();
  const BootInfo info = expect_ok(b);
  EXPECT_TRUE(info.has(TagType::kCmdline));
  EXPECT_TRUE(info.cmdline().empty());
  ASSERT_EQ(info.modules().size(), 2u);
  std::vector<std::string> names;
  for (const Module m : info.modules()) names.push_back(str(m.string));
  EXPECT_EQ(names, (std::vector<std::string>{"first", "second arg"}));
  EXPECT_EQ((*info.modules().begin()).end, 0x2000u);
}

TEST(Multiboot2, MemoryMapStepsByEntrySize) {
  const Bytes b =
      Builder()
          .tag(6, mmap_payload(40, {{0, 0x9fc00, 1}, {0x100000, 0x7ee0000, 1}, {0xfd00000000, 0x300000000, 2}}))
          .finish();
  const BootInfo info = expect_ok(b);
  const MemoryMap& map = info.memory_map();
  EXPECT_EQ(map.entry_size(), 40u);
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[1].base, 0x100000u);
  EXPECT_EQ(map[1].length, 0x7ee0000u);
  EXPECT_EQ(map[2].type, 2u);
  size_t n = 0;
  for (const MemoryMapEntry e : map) EXPECT_EQ(e.base, map[n++].base);
  EXPECT_EQ(n, 3u);
}

TEST(Multiboot2, NewRsdp) {
  Bytes rsdp(36, 0);
  std::memcpy(rsdp.data(), "RSD PTR ", 8);
  rsdp[15] = 2;  // revision
  const Bytes b = Builder().tag(15, rsdp).finish();
  const BootInfo info = expect_ok(b);
  ASSERT_EQ(info.acpi_new_rsdp().size(), 36u);
  EXPECT_EQ(info.acpi_new_rsdp()[15], 2);
}

TEST(Multiboot2Malformed, NullMisalignedAndTooShort) {
  const Bytes mbi = m4g();
  ParseError err;
  EXPECT_FALSE(parse_multiboot2(nullptr, 808, &err).ok());
  EXPECT_NE(err.what, nullptr);

  Bytes shifted(mbi.size() + 4);
  std::memcpy(shifted.data() + 4, mbi.data(), mbi.size());
  EXPECT_FALSE(parse_multiboot2(shifted.data() + 4, mbi.size(), &err).ok());
  EXPECT_STREQ(err.what, "structure start is not 8-byte aligned");

  EXPECT_FALSE(parse_multiboot2(mbi.data(), 7, &err).ok());
  EXPECT_STREQ(err.what, "fewer than 8 bytes available");
  // A null error pointer is allowed.
  EXPECT_EQ(parse_multiboot2(mbi.data(), 7, nullptr).error(), base::Error::kMalformed);
}

TEST(Multiboot2Malformed, Truncated) {
  const Bytes mbi = m4g();
  ParseError err;
  auto r = parse_multiboot2(mbi.data(), mbi.size() - 1, &err);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "total_size exceeds the bytes available");
  EXPECT_EQ(err.value, 808u);
}

TEST(Multiboot2Malformed, TotalSizeTooLarge) {
  Bytes mbi = m4g();
  mbi.resize(mbi.size() + 16, 0);
  put_u32(mbi, 0, static_cast<uint32_t>(mbi.size()));
  const ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "bytes follow the end tag");
  EXPECT_EQ(err.offset, 0x320u);

  put_u32(mbi, 0, 0xfffffff8);
  EXPECT_STREQ(expect_malformed(mbi).what, "total_size exceeds the bytes available");
}

TEST(Multiboot2Malformed, TotalSizeTooSmall) {
  Bytes mbi = m4g();
  put_u32(mbi, 0, 8);
  EXPECT_STREQ(expect_malformed(mbi).what, "total_size below 16");
  put_u32(mbi, 0, 0);
  EXPECT_STREQ(expect_malformed(mbi).what, "total_size below 16");

  // Cut exactly before the end tag: every tag fits, the end tag is missing.
  put_u32(mbi, 0, 0x320);
  ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "no end tag before total_size");
  EXPECT_EQ(err.offset, 0x320u);

  // Cut inside the mmap tag.
  put_u32(mbi, 0, 0xa0);
  err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "tag overruns total_size");
  EXPECT_EQ(err.offset, 0x90u);
}

TEST(Multiboot2Malformed, MisalignedTagSize) {
  // A cmdline 1 byte longer than the truth moves the next tag to +0x40, into
  // the boot loader name's text, which then reads as a huge tag.
  Bytes mbi = m4g();
  put_u32(mbi, 0x18 + 4, 33);
  ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "tag overruns total_size");
  EXPECT_EQ(err.offset, 0x40u);

  // A last tag whose padding swallows the place of the end tag.
  const Bytes b = Builder().tag(0x99, Bytes(8, 0), 17).finish(false);
  err = expect_malformed(b);
  EXPECT_STREQ(err.what, "tag overruns total_size");

  // A size below the header itself.
  Bytes small = m4g();
  put_u32(small, 0x18 + 4, 4);
  err = expect_malformed(small);
  EXPECT_STREQ(err.what, "tag size below 8");
  EXPECT_EQ(err.offset, 0x18u);
  EXPECT_EQ(err.value, 4u);
}

TEST(Multiboot2Malformed, TagOverrunsTotalSize) {
  Bytes mbi = m4g();
  put_u32(mbi, 0x90 + 4, 208 + 0x1000);
  const ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "tag overruns total_size");
  EXPECT_EQ(err.offset, 0x90u);
  EXPECT_EQ(err.value, 208u + 0x1000);

  // The panic message the kernel prints, per the recipe in multiboot2.h.
  char msg[128];
  base::format_to(msg, sizeof(msg), "multiboot2: {} at +{:#x} ({})", err.what, err.offset, err.value);
  EXPECT_STREQ(msg, "multiboot2: tag overruns total_size at +0x90 (4304)");
}

TEST(Multiboot2Malformed, MissingOrBadEndTag) {
  Bytes mbi = m4g();
  put_u32(mbi, 0x320, 0x77);  // the end tag becomes an unknown tag
  ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "no end tag before total_size");

  EXPECT_STREQ(expect_malformed(Builder().tag(0, Bytes(8, 0)).finish(false)).what, "end tag size is not 8");
  EXPECT_STREQ(expect_malformed(Builder().tag(0, {}).tag(1, cstr("x")).finish()).what, "bytes follow the end tag");
}

TEST(Multiboot2Malformed, UnterminatedStrings) {
  Bytes mbi = m4g();
  mbi[0x18 + 31] = 'x';  // the cmdline's NUL, last byte of its 32
  ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "string not NUL-terminated within its tag");
  EXPECT_EQ(err.offset, 0x18u);

  // The module string's NUL (module tag: +0x78, size 23).
  Bytes mod = m4g();
  mod[0x78 + 22] = 'x';
  err = expect_malformed(mod);
  EXPECT_STREQ(err.what, "string not NUL-terminated within its tag");
  EXPECT_EQ(err.offset, 0x78u);
}

TEST(Multiboot2Malformed, BadMemoryMapEntrySize) {
  for (uint32_t entry_size : {0u, 8u, 20u, 23u, 28u, 0xffffffffu}) {
    Bytes mbi = m4g();
    put_u32(mbi, 0x90 + 8, entry_size);
    const ParseError err = expect_malformed(mbi);
    EXPECT_STREQ(err.what, "mmap entry_size below 24 or not a multiple of 8") << entry_size;
    EXPECT_EQ(err.offset, 0x90u);
  }
  // Legal sizes, but the 192 bytes of entries are not a whole number of them.
  for (uint32_t entry_size : {40u, 200u, 0xfffffff8u}) {
    Bytes mbi = m4g();
    put_u32(mbi, 0x90 + 8, entry_size);
    EXPECT_STREQ(expect_malformed(mbi).what, "mmap tag ends inside an entry") << entry_size;
  }
}

TEST(Multiboot2Malformed, MemoryMapEntryWraps) {
  const Bytes b = Builder().tag(6, mmap_payload(24, {{0, 0x1000, 1}, {~0ull - 4, 8, 2}})).finish();
  const ParseError err = expect_malformed(b);
  EXPECT_STREQ(err.what, "mmap entry wraps past 2^64");
  EXPECT_EQ(err.offset, 8u + 16 + 24);
}

TEST(Multiboot2Malformed, ModuleEndBeforeStart) {
  Bytes mbi = m4g();
  put_u32(mbi, 0x78 + 12, 0x112fff);  // start is 0x113000
  const ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "module end below its start");
  EXPECT_EQ(err.offset, 0x78u);
}

TEST(Multiboot2Malformed, KnownTagTooSmall) {
  EXPECT_STREQ(expect_malformed(Builder().tag(4, u32s({639})).finish()).what, "tag smaller than its type's minimum");
  EXPECT_STREQ(expect_malformed(Builder().tag(14, Bytes(19, 0)).finish()).what, "tag smaller than its type's minimum");
  EXPECT_STREQ(expect_malformed(Builder().tag(3, u32s({1, 2})).finish()).what, "tag smaller than its type's minimum");
  EXPECT_STREQ(expect_malformed(Builder().tag(1, {}).finish()).what, "tag smaller than its type's minimum");
}

TEST(Multiboot2Malformed, ElfSectionsOverrunTheirTag) {
  Bytes mbi = m4g();
  put_u32(mbi, 0x160 + 8, 9);  // num 9 x 40 > 320 bytes present
  const ParseError err = expect_malformed(mbi);
  EXPECT_STREQ(err.what, "ELF section headers overrun the tag");
  EXPECT_EQ(err.value, 360u);
  put_u32(mbi, 0x160 + 8, 0x10000);
  put_u32(mbi, 0x160 + 12, 0x10000);  // 2^32: must not wrap to 0
  EXPECT_STREQ(expect_malformed(mbi).what, "ELF section headers overrun the tag");
}

TEST(Multiboot2Malformed, DuplicateSingletonIsRejected) {
  const ParseError err = expect_malformed(Builder().tag(1, cstr("a")).tag(2, cstr("b")).tag(1, cstr("c")).finish());
  EXPECT_STREQ(err.what, "duplicate tag");
  EXPECT_EQ(err.offset, 8u + 16 + 16);
  EXPECT_EQ(err.value, 1u);
}

// ---------------------------------------------------------------------------
// Corruption: whatever the bytes, the parser stays inside them (ASan/UBSan
// check that) and either succeeds with in-bounds views or names a reason.

bool inside(const Bytes& b, const void* p, size_t n) {
  const auto* q = static_cast<const uint8_t*>(p);
  return q >= b.data() && n <= b.size() && q - b.data() <= static_cast<ptrdiff_t>(b.size() - n);
}

// Returns true when `b` parsed. Touches every byte of every view.
bool check_parse(const Bytes& b) {
  ParseError err;
  auto r = parse_multiboot2(b.data(), b.size(), &err);
  if (!r.ok()) {
    EXPECT_EQ(r.error(), base::Error::kMalformed);
    EXPECT_NE(err.what, nullptr);
    EXPECT_LE(err.offset, b.size());
    return false;
  }
  const BootInfo& info = r.value();
  unsigned sum = 0;
  auto touch = [&](const void* p, size_t n) {
    EXPECT_TRUE(n == 0 || inside(b, p, n));
    for (size_t i = 0; i < n; ++i) sum += static_cast<const uint8_t*>(p)[i];
  };
  touch(info.raw().data(), info.raw().size());
  touch(info.cmdline().data(), info.cmdline().size());
  touch(info.boot_loader_name().data(), info.boot_loader_name().size());
  touch(info.acpi_old_rsdp().data(), info.acpi_old_rsdp().size());
  touch(info.acpi_new_rsdp().data(), info.acpi_new_rsdp().size());
  touch(info.elf_sections().headers.data(), info.elf_sections().headers.size());
  size_t entries = 0;
  for (const MemoryMapEntry e : info.memory_map()) {
    sum += static_cast<unsigned>(e.base + e.length + e.type);
    ++entries;
  }
  EXPECT_EQ(entries, info.memory_map().size());
  size_t modules = 0;
  for (const Module m : info.modules()) {
    EXPECT_LE(m.start, m.end);
    touch(m.string.data(), m.string.size() + 1);  // with its NUL
    ++modules;
  }
  EXPECT_EQ(modules, info.modules().size());
  (void)sum;
  return true;
}

TEST(Multiboot2Fuzz, EverySingleByteValue) {
  // Exhaustive over positions, a few values each: 0, 0xff, low and high bit.
  for (const RealConfig& c : kRealConfigs) {
    const Bytes mbi = read_boot(std::string(c.name) + ".mb2.bin");
    ASSERT_FALSE(mbi.empty());
    for (size_t i = 0; i < mbi.size(); ++i) {
      for (uint8_t v : {uint8_t{0}, uint8_t{0xff}, uint8_t(mbi[i] ^ 1), uint8_t(mbi[i] ^ 0x80)}) {
        Bytes m = mbi;
        m[i] = v;
        check_parse(m);
      }
    }
  }
}

TEST(Multiboot2Fuzz, RandomCorruptionsAndTruncations) {
  std::mt19937 rng(0xb15c0771);  // fixed: failures reproduce
  auto below = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
  const uint32_t kInteresting[] = {0, 1, 7, 8, 9, 16, 17, 23, 24, 32, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff};
  size_t ok = 0, rejected = 0;
  for (const RealConfig& c : kRealConfigs) {
    const Bytes mbi = read_boot(std::string(c.name) + ".mb2.bin");
    ASSERT_FALSE(mbi.empty());
    for (int iter = 0; iter < 5000; ++iter) {
      Bytes m = mbi;
      switch (rng() % 6) {
        case 0:  // one random byte
          m[below(m.size())] = static_cast<uint8_t>(rng());
          break;
        case 1:  // a burst of random bytes anywhere
          for (size_t n = 2 + below(15); n > 0; --n) m[below(m.size())] = static_cast<uint8_t>(rng());
          break;
        case 2:  // a size-like word at an aligned offset
          put_u32(m, below(m.size() / 4) * 4, kInteresting[below(std::size(kInteresting))]);
          break;
        case 3:  // a nearby value in a word: off-by-a-few sizes and counts
        {
          const size_t at = below(m.size() / 4) * 4;
          put_u32(m, at, get_u32(m, at) + static_cast<uint32_t>(below(33)) - 16);
        } break;
        case 4:  // truncation, total_size kept
          m.resize(below(m.size()));
          break;
        case 5:  // truncation that also rewrites total_size, plus a flipped byte
          m.resize(8 + below(m.size() - 8));
          put_u32(m, 0, static_cast<uint32_t>(m.size()));
          m[below(m.size())] ^= static_cast<uint8_t>(1u << below(8));
          break;
      }
      m.shrink_to_fit();  // exact-size heap block: ASan sees reads past the end
      if (check_parse(m))
        ++ok;
      else
        ++rejected;
    }
  }
  // Both outcomes must be common, or the test is not exercising the parser.
  EXPECT_GT(ok, 1000u);
  EXPECT_GT(rejected, 1000u);
  std::printf("random corruptions: %zu parsed, %zu rejected\n", ok, rejected);
}

}  // namespace
}  // namespace arch::mb2
