// The symbol table built from the real kernel image (//:kernel.elf), read
// the way the kernel reads what GRUB loaded but from the file's offsets:
// C++ functions, extern "C" ones and the assembly labels of the trap entry
// all resolve, and every entry finds itself.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "src/arch/elf.h"
#include "src/base/testing/testdata.h"
#include "src/prof/symbols.h"

namespace prof {
namespace {

using arch::elf::load_u16;
using arch::elf::load_u64;

class KernelElf : public ::testing::Test {
 protected:
  void SetUp() override {
    elf_ = base::testing::read_testdata("kernel.elf");
    ASSERT_GE(elf_.size(), 64u) << "no kernel.elf in the runfiles";
    ASSERT_EQ(std::memcmp(elf_.data(),
                          "\x7f"
                          "ELF\x02\x01",
                          6),
              0)
        << "not a little-endian ELF64 file";
    // Elf64_Ehdr: e_shoff at 0x28, e_shentsize at 0x3a, e_shnum at 0x3c.
    const uint64_t shoff = load_u64(elf_.data() + 0x28);
    const uint32_t shentsize = load_u16(elf_.data() + 0x3a);
    const uint32_t shnum = load_u16(elf_.data() + 0x3c);
    ASSERT_LE(shoff + uint64_t{shnum} * shentsize, elf_.size());
    const char* why = nullptr;
    auto sections = arch::elf::SectionTable::from(shnum, shentsize, span(shoff, uint64_t{shnum} * shentsize), &why);
    ASSERT_TRUE(sections.ok()) << why;
    sections_ = sections.value();
    SymbolsError err;
    auto where = find_symtab(sections_, &err);
    ASSERT_TRUE(where.ok()) << err.what;
    const SymtabSections w = where.value();
    ASSERT_LE(w.symtab.offset + w.symtab.size, elf_.size());
    ASSERT_LE(w.strtab.offset + w.strtab.size, elf_.size());
    symtab_ = span(w.symtab.offset, w.symtab.size);
    strtab_ = span(w.strtab.offset, w.strtab.size);
    auto n = SymbolTable::count(sections_, w, symtab_, strtab_, &err);
    ASSERT_TRUE(n.ok()) << err.what << " at symbol " << err.index;
    storage_.resize(n.value());
    auto t = SymbolTable::build(sections_, w, symtab_, strtab_,
                                base::Span<SymbolEntry>(storage_.data(), storage_.size()), &err);
    ASSERT_TRUE(t.ok()) << err.what << " at symbol " << err.index;
    table_ = t.value();
  }

  base::Span<const uint8_t> span(uint64_t offset, uint64_t size) const {
    return base::Span<const uint8_t>(elf_.data() + offset, size);
  }

  // The value and size of the ELF symbol called `name` (a plain scan).
  bool find(const std::string& name, uint64_t* value, uint64_t* size) const {
    for (size_t i = 1; i < symtab_.size() / arch::elf::kSymbolSize; ++i) {
      const uint8_t* s = symtab_.data() + i * arch::elf::kSymbolSize;
      const uint32_t at = arch::elf::load_u32(s);
      if (name == reinterpret_cast<const char*>(strtab_.data() + at)) {
        *value = load_u64(s + 8);
        *size = load_u64(s + 16);
        return true;
      }
    }
    return false;
  }

  std::vector<uint8_t> elf_;
  arch::elf::SectionTable sections_;
  base::Span<const uint8_t> symtab_;
  base::Span<const uint8_t> strtab_;
  std::vector<SymbolEntry> storage_;
  SymbolTable table_;
};

TEST_F(KernelElf, NamesFunctionsAndAssemblyLabels) {
  EXPECT_GT(table_.size(), 500u);
  for (const char* name : {"kmain", "_ZN4prof15print_backtraceEm", "trap_common", "trap_stub_0", "boot_entry32"}) {
    uint64_t value = 0, size = 0;
    ASSERT_TRUE(find(name, &value, &size)) << name;
    SymbolRef r;
    ASSERT_TRUE(table_.lookup(value, &r)) << name;
    EXPECT_STREQ(r.name, name);
    EXPECT_EQ(r.offset, 0u);
    ASSERT_GT(r.size, 1u) << name;
    ASSERT_TRUE(table_.lookup(value + r.size - 1, &r)) << name;
    EXPECT_STREQ(r.name, name);
    EXPECT_EQ(r.offset, r.size - 1);
    if (size != 0) EXPECT_EQ(r.size, size) << name;
  }
}

TEST_F(KernelElf, EveryEntryFindsItselfInAscendingOrder) {
  for (size_t i = 0; i < table_.size(); ++i) {
    if (i > 0) ASSERT_LT(table_[i - 1].addr, table_[i].addr);
    SymbolRef r;
    ASSERT_TRUE(table_.lookup(table_[i].addr, &r));
    EXPECT_EQ(r.start, table_[i].addr);
    EXPECT_EQ(r.offset, 0u);
  }
}

}  // namespace
}  // namespace prof
