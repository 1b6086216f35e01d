// Tests for the kernel symbol table: synthetic ELF section tables built
// here (valid, truncated, bad links, bad names, no symbols), and lookups at
// every edge: before the first symbol, at a symbol's first and last byte,
// past its size, aliases, labels and return addresses.
#include "src/prof/symbols.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/arch/testing/elf_builder.h"

namespace prof {
namespace {

using arch::elf::SectionHeader;
using arch::elf::SectionTable;
using arch::elf::testing::Bytes;
using arch::elf::testing::put_section;
using arch::elf::testing::put_symbol;
using arch::elf::testing::st_info;
using arch::elf::testing::StringTable;

constexpr uint8_t kNotype = 0, kObject = 1, kFunc = 2, kFile = 4;
constexpr uint8_t kLocal = 0, kGlobal = 1, kWeak = 2;
constexpr uint16_t kText = 1, kData = 2, kBoot = 5;
constexpr uint16_t kShnAbs = 0xfff1;
constexpr uint64_t kTextAddr = 0xffff'ffff'8010'1000, kTextSize = 0x1000;

// A kernel-like image: [1] .text, [2] .data, [3] .symtab -> [4] .strtab,
// [5] .boot (executable, low). Tests add symbols, then may break headers.
struct Image {
  std::vector<SectionHeader> sections;
  Bytes symtab;
  StringTable strtab;
  Bytes header_bytes;
  SectionTable table;

  Image() {
    put_symbol(symtab, 0, 0, 0, 0, 0);  // symbol 0: the undefined symbol
    sections = {
        SectionHeader{},
        SectionHeader{
            .type = 1, .flags = arch::elf::kShfAlloc | arch::elf::kShfExecinstr, .addr = kTextAddr, .size = kTextSize},
        SectionHeader{.type = 1, .flags = arch::elf::kShfAlloc | 0x1, .addr = kTextAddr + 0x10'0000, .size = 0x1000},
        SectionHeader{.type = arch::elf::kShtSymtab, .addr = 0x50'0000, .link = 4, .entsize = 24},
        SectionHeader{.type = arch::elf::kShtStrtab, .addr = 0x51'0000},
        SectionHeader{
            .type = 1, .flags = arch::elf::kShfAlloc | arch::elf::kShfExecinstr, .addr = 0x10'0000, .size = 0x100},
    };
  }

  void add(const std::string& name, uint8_t bind, uint8_t type, uint16_t shndx, uint64_t value, uint64_t size) {
    put_symbol(symtab, strtab.add(name), st_info(bind, type), shndx, value, size);
  }
  void func(const std::string& name, uint64_t value, uint64_t size, uint8_t bind = kGlobal) {
    add(name, bind, kFunc, kText, value, size);
  }

  // Fills in the sizes and encodes the headers.
  const SectionTable& headers() {
    sections[3].size = symtab.size();
    sections[4].size = strtab.bytes().size();
    header_bytes.clear();
    for (const SectionHeader& s : sections) put_section(header_bytes, s);
    auto t = SectionTable::from(static_cast<uint32_t>(sections.size()), arch::elf::kSectionHeaderSize,
                                base::Span<const uint8_t>(header_bytes.data(), header_bytes.size()), nullptr);
    EXPECT_TRUE(t.ok());
    table = t.value_or(SectionTable{});
    return table;
  }
  base::Span<const uint8_t> sym_bytes() const { return {symtab.data(), symtab.size()}; }
  base::Span<const uint8_t> str_bytes() { return {strtab.bytes().data(), strtab.bytes().size()}; }
};

// Builds the table, or records why not.
struct Built {
  std::vector<SymbolEntry> storage;
  SymbolTable table;
  base::Error error{};
  SymbolsError why;
  bool ok = false;

  explicit Built(Image& img) {
    const SectionTable& t = img.headers();
    auto where = find_symtab(t, &why);
    if (!where.ok()) {
      error = where.error();
      return;
    }
    auto n = SymbolTable::count(t, where.value(), img.sym_bytes(), img.str_bytes(), &why);
    if (!n.ok()) {
      error = n.error();
      return;
    }
    storage.resize(n.value());
    auto built = SymbolTable::build(t, where.value(), img.sym_bytes(), img.str_bytes(),
                                    base::Span<SymbolEntry>(storage.data(), storage.size()), &why);
    if (!built.ok()) {
      error = built.error();
      return;
    }
    table = built.value();
    ok = true;
  }

  // "name+0xoff" or "none".
  std::string at(uint64_t pc) const {
    SymbolRef r;
    if (!table.lookup(pc, &r)) return "none";
    char buf[32];
    std::snprintf(buf, sizeof buf, "+%#llx", static_cast<unsigned long long>(r.offset));
    return std::string(r.name) + (r.offset ? buf : "+0x0");
  }
};

TEST(Symbols, FindsFunctionsAndOffsetsInsideThem) {
  Image img;
  img.func("second", kTextAddr + 0x100, 0x40);
  img.func("first", kTextAddr, 0x80);  // out of order in the table: build sorts
  img.func("third", kTextAddr + 0x200, 0x10, kLocal);
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  ASSERT_EQ(b.table.size(), 3u);
  EXPECT_EQ(b.at(kTextAddr), "first+0x0");
  EXPECT_EQ(b.at(kTextAddr + 0x7f), "first+0x7f");  // last byte
  EXPECT_EQ(b.at(kTextAddr + 0x100), "second+0x0");
  EXPECT_EQ(b.at(kTextAddr + 0x13f), "second+0x3f");
  EXPECT_EQ(b.at(kTextAddr + 0x205), "third+0x5");
  SymbolRef r;
  ASSERT_TRUE(b.table.lookup(kTextAddr + 0x110, &r));
  EXPECT_EQ(r.start, kTextAddr + 0x100);
  EXPECT_EQ(r.offset, 0x10u);
  EXPECT_EQ(r.size, 0x40u);
}

TEST(Symbols, NothingBeforeTheFirstOrPastASymbolsSize) {
  Image img;
  img.func("first", kTextAddr + 0x10, 0x20);
  img.func("second", kTextAddr + 0x100, 0x40);
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  EXPECT_EQ(b.at(0), "none");
  EXPECT_EQ(b.at(kTextAddr + 0xf), "none");   // before the first
  EXPECT_EQ(b.at(kTextAddr + 0x30), "none");  // padding after first
  EXPECT_EQ(b.at(kTextAddr + 0xff), "none");
  EXPECT_EQ(b.at(kTextAddr + 0x140), "none");  // past the last
  EXPECT_EQ(b.at(~uint64_t{0}), "none");
}

TEST(Symbols, AliasesBecomeOneEntryNamedByPreference) {
  Image img;
  img.add("label_at_memcpy", kGlobal, kNotype, kText, kTextAddr, 0);
  img.func("local_memcpy", kTextAddr, 0x40, kLocal);
  img.func("weak_memcpy", kTextAddr, 0x40, kWeak);
  img.func("memcpy", kTextAddr, 0x40, kGlobal);
  img.func("memcpy_too", kTextAddr, 0x40,
           kGlobal);  // same rank: the earlier name
  img.func("small_first", kTextAddr + 0x100, 0x8, kLocal);
  img.func("big_second", kTextAddr + 0x100, 0x20,
           kLocal);  // same rank: the larger
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  EXPECT_EQ(b.table.size(), 2u);
  EXPECT_EQ(b.at(kTextAddr + 4), "memcpy+0x4");
  EXPECT_EQ(b.at(kTextAddr + 0x11f), "big_second+0x1f");
}

TEST(Symbols, LabelsCoverUpToTheNextSymbolOrTheirSectionsEnd) {
  Image img;
  img.add("trap_stub_0", kLocal, kNotype, kText, kTextAddr + 0x800, 0);
  img.add("trap_stub_1", kLocal, kNotype, kText, kTextAddr + 0x810, 0);
  img.add("trap_common", kLocal, kNotype, kText, kTextAddr + 0x900, 0);
  img.add("__text_end", kGlobal, kNotype, kText, kTextAddr + kTextSize,
          0);  // covers nothing: dropped
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  EXPECT_EQ(b.table.size(), 3u);
  EXPECT_EQ(b.at(kTextAddr + 0x80f), "trap_stub_0+0xf");
  EXPECT_EQ(b.at(kTextAddr + 0x810), "trap_stub_1+0x0");
  EXPECT_EQ(b.at(kTextAddr + 0x8ff), "trap_stub_1+0xef");
  EXPECT_EQ(b.at(kTextAddr + kTextSize - 1), "trap_common+0x6ff");
  EXPECT_EQ(b.at(kTextAddr + kTextSize), "none");
}

TEST(Symbols, ALabelInsideAFunctionLeavesTheFunctionCoveringIt) {
  Image img;
  img.func("safe_read64", kTextAddr, 0x40);
  img.add("safe_read64_fault", kLocal, kNotype, kText, kTextAddr + 0x10, 0);
  img.add("after", kLocal, kNotype, kText, kTextAddr + 0x80, 0);
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  EXPECT_EQ(b.at(kTextAddr + 0x10), "safe_read64+0x10");
  EXPECT_EQ(b.at(kTextAddr + 0x3f), "safe_read64+0x3f");
  EXPECT_EQ(b.at(kTextAddr + 0x50), "none");
  EXPECT_EQ(b.at(kTextAddr + 0x80), "after+0x0");
}

TEST(Symbols, SkipsDataFilesAbsoluteUndefinedUnnamedAndZeroAddresses) {
  Image img;
  img.add("kernel.cc", kLocal, kFile, kShnAbs, 0, 0);
  img.add("a_table", kLocal, kObject, kText, kTextAddr + 0x10,
          0x10);  // data in .text: not a function
  img.add("boot_stack_top", kGlobal, kNotype, kData, kTextAddr + 0x10'0010, 0);
  img.add("KERNEL_VMA", kGlobal, kNotype, kShnAbs, kTextAddr, 0);
  img.add("undefined", kGlobal, kNotype, 0, 0, 0);
  put_symbol(img.symtab, 0, st_info(kGlobal, kFunc), kText, kTextAddr + 0x20,
             0x10);  // no name
  img.add("at_zero", kGlobal, kFunc, kText, 0,
          0);  // zero address: a section without one
  img.add("boot_entry32", kGlobal, kNotype, kBoot, 0x10'0024, 0);
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  ASSERT_EQ(b.table.size(), 1u);
  EXPECT_EQ(b.at(0x10'0024), "boot_entry32+0x0");
  EXPECT_EQ(b.at(0x10'00ff), "boot_entry32+0xdb");  // to .boot's end
  EXPECT_EQ(b.at(kTextAddr + 0x10), "none");
}

TEST(Symbols, ZeroSymbolsGiveAnEmptyTable) {
  Image img;  // only symbol 0
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  EXPECT_EQ(b.table.size(), 0u);
  EXPECT_EQ(b.at(kTextAddr), "none");
  SymbolTable empty;
  SymbolRef r;
  EXPECT_FALSE(empty.lookup(kTextAddr, &r));
}

TEST(Symbols, ReturnAddressesNameTheCallingFunction) {
  Image img;
  img.func("caller", kTextAddr,
           0x20);  // ends with a call to a noreturn function
  img.func("next", kTextAddr + 0x20, 0x20);
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  SymbolRef r;
  ASSERT_TRUE(b.table.lookup_return_address(kTextAddr + 0x20, &r));
  EXPECT_STREQ(r.name, "caller");
  EXPECT_EQ(r.offset, 0x20u);
  ASSERT_TRUE(b.table.lookup_return_address(kTextAddr + 0x25, &r));
  EXPECT_STREQ(r.name, "next");
  EXPECT_EQ(r.offset, 5u);
  EXPECT_FALSE(b.table.lookup_return_address(0, &r));
  EXPECT_FALSE(b.table.lookup_return_address(kTextAddr, &r));  // the byte before is no symbol's
}

TEST(Symbols, SortsManySymbols) {
  // Reverse order, many of them: the heapsort and the binary search agree
  // with a linear expectation everywhere.
  Image img;
  constexpr int kCount = 200;
  for (int i = kCount - 1; i >= 0; --i) img.func("f" + std::to_string(i), kTextAddr + 16 * i, 12);
  Built b(img);
  ASSERT_TRUE(b.ok) << b.why.what;
  ASSERT_EQ(b.table.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(b.at(kTextAddr + 16 * i + 11), "f" + std::to_string(i) + "+0xb");
    EXPECT_EQ(b.at(kTextAddr + 16 * i + 12), "none");
  }
}

// The refusals: each is a clear reason, never a crash.
void expect_refused(Image& img, base::Error code, const char* what) {
  Built b(img);
  EXPECT_FALSE(b.ok);
  EXPECT_EQ(b.error, code);
  ASSERT_NE(b.why.what, nullptr);
  EXPECT_STREQ(b.why.what, what);
}

TEST(SymbolsRefused, NoSymbolTable) {
  Image img;
  img.sections[3].type = 1;
  expect_refused(img, base::Error::kNotFound, "no SHT_SYMTAB section (a stripped kernel?)");
}

TEST(SymbolsRefused, TwoSymbolTables) {
  Image img;
  img.sections[2].type = arch::elf::kShtSymtab;
  expect_refused(img, base::Error::kMalformed, "more than one SHT_SYMTAB section");
}

TEST(SymbolsRefused, WrongSymbolEntrySize) {
  Image img;
  img.sections[3].entsize = 16;  // Elf32_Sym
  expect_refused(img, base::Error::kMalformed, "symbol table entry size is not sizeof(Elf64_Sym)");
}

TEST(SymbolsRefused, TruncatedSymbolTable) {
  Image img;
  img.func("f", kTextAddr, 0x10);
  Built ok(img);
  ASSERT_TRUE(ok.ok);
  // headers() derives sh_size from the bytes; cut a symbol in half.
  img.symtab.resize(img.symtab.size() - 10);
  expect_refused(img, base::Error::kMalformed, "symbol table size is not a multiple of its entry size");
}

TEST(SymbolsRefused, BytesThatDifferFromTheHeaders) {
  Image img;
  img.func("f", kTextAddr, 0x10);
  const SectionTable& t = img.headers();
  SymbolsError why;
  auto where = find_symtab(t, &why);
  ASSERT_TRUE(where.ok());
  auto n =
      SymbolTable::count(t, where.value(), base::Span<const uint8_t>(img.symtab.data(), 24), img.str_bytes(), &why);
  EXPECT_EQ(n.error(), base::Error::kMalformed);
  EXPECT_STREQ(why.what, "symbol table bytes given differ from its sh_size");
  n = SymbolTable::count(t, where.value(), img.sym_bytes(), base::Span<const uint8_t>(img.strtab.bytes().data(), 1),
                         &why);
  EXPECT_STREQ(why.what, "string table bytes given differ from its sh_size");
}

TEST(SymbolsRefused, BadStringTableLink) {
  Image img;
  img.sections[3].link = 6;  // past the last section
  expect_refused(img, base::Error::kMalformed, "symbol table's sh_link names no section");
  Image zero;
  zero.sections[3].link = 0;
  expect_refused(zero, base::Error::kMalformed, "symbol table's sh_link names no section");
  Image not_strings;
  not_strings.sections[3].link = 1;  // .text
  expect_refused(not_strings, base::Error::kMalformed, "symbol table's sh_link is not an SHT_STRTAB section");
}

TEST(SymbolsRefused, NameOffsetOutOfRange) {
  Image img;
  img.func("f", kTextAddr, 0x10);
  put_symbol(img.symtab, 0x10'0000, st_info(kGlobal, kFunc), kText, kTextAddr + 0x20, 0x10);
  expect_refused(img, base::Error::kMalformed, "symbol name outside the string table");
  Built b(img);
  EXPECT_EQ(b.why.index, 2u);
  EXPECT_EQ(b.why.value, 0x10'0000u);
}

TEST(SymbolsRefused, UnterminatedName) {
  Image img;
  img.func("f", kTextAddr, 0x10);
  img.strtab.bytes().back() = 'x';  // "f" loses its NUL at the table's end
  expect_refused(img, base::Error::kMalformed, "symbol name not NUL-terminated");
}

TEST(SymbolsRefused, SectionIndexOutOfRange) {
  Image img;
  img.add("f", kGlobal, kFunc, 9, kTextAddr, 0x10);
  expect_refused(img, base::Error::kMalformed, "symbol's section index out of range");
}

TEST(SymbolsRefused, SymbolOutsideItsSection) {
  Image below;
  below.func("f", kTextAddr - 0x10, 0x8);
  expect_refused(below, base::Error::kMalformed, "symbol lies outside its section");
  Image overruns;
  overruns.func("f", kTextAddr + kTextSize - 0x8, 0x10);
  expect_refused(overruns, base::Error::kMalformed, "symbol lies outside its section");
  Image huge;
  huge.func("f", kTextAddr + 8, ~uint64_t{0});  // value + size wraps
  expect_refused(huge, base::Error::kMalformed, "symbol lies outside its section");
}

TEST(SymbolsRefused, StorageSmallerThanCount) {
  Image img;
  img.func("f", kTextAddr, 0x10);
  img.func("g", kTextAddr + 0x10, 0x10);
  const SectionTable& t = img.headers();
  auto where = find_symtab(t, nullptr);
  ASSERT_TRUE(where.ok());
  SymbolEntry one[1];
  SymbolsError why;
  auto built = SymbolTable::build(t, where.value(), img.sym_bytes(), img.str_bytes(), one, &why);
  EXPECT_EQ(built.error(), base::Error::kInvalidArgument);
  EXPECT_STREQ(why.what, "storage smaller than count()");
}

}  // namespace
}  // namespace prof
