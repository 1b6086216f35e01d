// Builds ELF64 section header tables, symbol tables and string tables in
// memory for host tests of code that reads the kernel's own sections
// (arch/elf.h, prof/symbols.h): valid ones, and ones broken on purpose.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "src/arch/elf.h"

namespace arch::elf::testing {

using Bytes = std::vector<uint8_t>;

/// Appends one Elf64_Shdr (64 bytes, little-endian) to `out`.
inline void put_section(Bytes& out, const SectionHeader& sh) {
  const size_t at = out.size();
  out.resize(at + kSectionHeaderSize);
  uint8_t* p = out.data() + at;
  std::memcpy(p + 0, &sh.name, 4);
  std::memcpy(p + 4, &sh.type, 4);
  std::memcpy(p + 8, &sh.flags, 8);
  std::memcpy(p + 16, &sh.addr, 8);
  std::memcpy(p + 24, &sh.offset, 8);
  std::memcpy(p + 32, &sh.size, 8);
  std::memcpy(p + 40, &sh.link, 4);
  std::memcpy(p + 44, &sh.info, 4);
  std::memcpy(p + 48, &sh.addralign, 8);
  std::memcpy(p + 56, &sh.entsize, 8);
}

/// st_info from a binding (STB_*) and a type (STT_*) ([elf] 4, "Symbol Table").
constexpr uint8_t st_info(uint8_t bind, uint8_t type) { return static_cast<uint8_t>(bind << 4 | (type & 0xf)); }

/// Appends one Elf64_Sym (24 bytes) to `out`.
inline void put_symbol(Bytes& out, uint32_t name, uint8_t info, uint16_t shndx, uint64_t value, uint64_t size) {
  const size_t at = out.size();
  out.resize(at + kSymbolSize);
  uint8_t* p = out.data() + at;
  std::memcpy(p + 0, &name, 4);
  p[4] = info;
  p[5] = 0;  // st_other: default visibility
  std::memcpy(p + 6, &shndx, 2);
  std::memcpy(p + 8, &value, 8);
  std::memcpy(p + 16, &size, 8);
}

/// A string table: starts with the empty name at offset 0, as ELF requires.
class StringTable {
 public:
  StringTable() : bytes_(1, 0) {}
  /// Adds `s` with its NUL; returns its offset.
  uint32_t add(const std::string& s) {
    const uint32_t at = static_cast<uint32_t>(bytes_.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    bytes_.push_back(0);
    return at;
  }
  Bytes& bytes() { return bytes_; }

 private:
  Bytes bytes_;
};

}  // namespace arch::elf::testing
