// Tests for the ELF64 section header decoding: every field at its offset,
// the size checks, what counts as a loader-placed section, and the 32-bit
// headers of a real GRUB capture refused rather than misread.
#include "src/arch/elf.h"

#include <gtest/gtest.h>

#include "src/arch/multiboot2.h"
#include "src/arch/testing/elf_builder.h"
#include "src/base/testing/testdata.h"

namespace arch::elf {
namespace {

using testing::Bytes;
using testing::put_section;

SectionHeader distinct_fields() {
  return SectionHeader{.name = 0x11,
                       .type = 0x2233,
                       .flags = 0x4455'6677'8899'aabb,
                       .addr = 0xffff'ffff'8010'1000,
                       .offset = 0xccdd,
                       .size = 0x1'0000'0001,
                       .link = 0xee,
                       .info = 0xff,
                       .addralign = 16,
                       .entsize = 24};
}

TEST(ElfSectionTable, DecodesEveryFieldAtItsOffset) {
  Bytes b;
  put_section(b, SectionHeader{});
  put_section(b, distinct_fields());
  const char* why = nullptr;
  auto t = SectionTable::from(2, kSectionHeaderSize, base::Span<const uint8_t>(b.data(), b.size()), &why);
  ASSERT_TRUE(t.ok()) << why;
  ASSERT_EQ(t.value().size(), 2u);
  const SectionHeader want = distinct_fields();
  const SectionHeader got = t.value()[1];
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.flags, want.flags);
  EXPECT_EQ(got.addr, want.addr);
  EXPECT_EQ(got.offset, want.offset);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.link, want.link);
  EXPECT_EQ(got.info, want.info);
  EXPECT_EQ(got.addralign, want.addralign);
  EXPECT_EQ(got.entsize, want.entsize);
  EXPECT_EQ(t.value()[0].type, 0u);
}

TEST(ElfSectionTable, HonoursALargerEntrySize) {
  // A loader may report bigger entries; fields are read at each stride.
  Bytes b;
  put_section(b, SectionHeader{});
  b.resize(80, 0xa5);
  put_section(b, distinct_fields());
  b.resize(160, 0xa5);
  auto t = SectionTable::from(2, 80, base::Span<const uint8_t>(b.data(), b.size()), nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value()[1].addr, distinct_fields().addr);
  EXPECT_EQ(t.value()[1].entsize, 24u);
}

TEST(ElfSectionTable, RejectsBadSizes) {
  Bytes b;
  put_section(b, SectionHeader{});
  put_section(b, SectionHeader{});
  const base::Span<const uint8_t> all(b.data(), b.size());
  const char* why = nullptr;
  auto none = SectionTable::from(0, kSectionHeaderSize, base::Span<const uint8_t>(), &why);
  EXPECT_EQ(none.error(), base::Error::kMalformed);
  EXPECT_STREQ(why, "no section headers");
  auto small = SectionTable::from(4, 32, all, &why);
  EXPECT_EQ(small.error(), base::Error::kMalformed);
  EXPECT_STREQ(why, "section header entry size below sizeof(Elf64_Shdr)");
  auto truncated = SectionTable::from(3, kSectionHeaderSize, all, &why);
  EXPECT_EQ(truncated.error(), base::Error::kMalformed);
  EXPECT_STREQ(why, "section header count times entry size does not match the bytes given");
  // num * entsize computed in 64 bits: no 32-bit wrap to a small size.
  auto wraps = SectionTable::from(0x0400'0000, 0x40, all, &why);
  EXPECT_EQ(wraps.error(), base::Error::kMalformed);
}

TEST(ElfSectionTable, RefusesTheElf32HeadersOfARealGrubCapture) {
  // The capture's probe kernel was a 32-bit ELF: 40-byte Elf32_Shdr entries,
  // which read as Elf64 would give nonsense addresses.
  Bytes mbi = base::testing::read_testdata("testdata/boot/m128M-smp2-qemu64.mb2.bin");
  mb2::ParseError err;
  auto info = mb2::parse_multiboot2(mbi.data(), mbi.size(), &err);
  ASSERT_TRUE(info.ok()) << err.what;
  const mb2::ElfSections& e = info.value().elf_sections();
  ASSERT_EQ(e.entsize, 40u);
  const char* why = nullptr;
  auto t = SectionTable::from(e.num, e.entsize, e.headers, &why);
  EXPECT_EQ(t.error(), base::Error::kMalformed);
  EXPECT_STREQ(why, "section header entry size below sizeof(Elf64_Shdr)");
}

TEST(ElfLoadedByLoader, OnlyNonAllocatedSectionsWithAnAddressAndSize) {
  SectionHeader symtab{.type = kShtSymtab, .addr = 0x58'0000, .size = 0x8a78};
  EXPECT_TRUE(loaded_by_loader(symtab));
  SectionHeader text{.type = 1, .flags = kShfAlloc | kShfExecinstr, .addr = 0xffff'ffff'8010'1000, .size = 0x100};
  EXPECT_FALSE(loaded_by_loader(text));  // the image's own PT_LOAD covers it
  SectionHeader bss{.type = kShtNobits, .addr = 0x1000, .size = 0x100};
  EXPECT_FALSE(loaded_by_loader(bss));
  SectionHeader not_loaded{.type = kShtStrtab, .addr = 0, .size = 0x100};
  EXPECT_FALSE(loaded_by_loader(not_loaded));
  SectionHeader empty{.type = kShtStrtab, .addr = 0x1000, .size = 0};
  EXPECT_FALSE(loaded_by_loader(empty));
  SectionHeader wrapping{.type = kShtStrtab, .addr = ~uint64_t{0} - 4, .size = 0x10};
  EXPECT_FALSE(loaded_by_loader(wrapping));
}

}  // namespace
}  // namespace arch::elf
