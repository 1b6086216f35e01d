// See elf.h.
#include "src/arch/elf.h"

#include "src/base/assert.h"

namespace arch::elf {

base::Result<SectionTable> SectionTable::from(uint32_t num, uint32_t entsize, base::Span<const uint8_t> bytes,
                                              const char** why) {
  const char* problem = nullptr;
  if (num == 0) {
    problem = "no section headers";
  } else if (entsize < kSectionHeaderSize) {
    problem = "section header entry size below sizeof(Elf64_Shdr)";
  } else if (uint64_t{num} * entsize != bytes.size()) {
    problem = "section header count times entry size does not match the bytes given";
  }
  if (problem != nullptr) {
    if (why != nullptr) *why = problem;
    return base::Error::kMalformed;
  }
  SectionTable t;
  t.bytes_ = bytes.data();
  t.num_ = num;
  t.entsize_ = entsize;
  return t;
}

SectionHeader SectionTable::operator[](uint32_t i) const {
  ASSERT_MSG(i < num_, "ELF section header {} of {}", i, num_);
  const uint8_t* p = bytes_ + size_t{i} * entsize_;
  return SectionHeader{
      .name = load_u32(p + 0),
      .type = load_u32(p + 4),
      .flags = load_u64(p + 8),
      .addr = load_u64(p + 16),
      .offset = load_u64(p + 24),
      .size = load_u64(p + 32),
      .link = load_u32(p + 40),
      .info = load_u32(p + 44),
      .addralign = load_u64(p + 48),
      .entsize = load_u64(p + 56),
  };
}

}  // namespace arch::elf
