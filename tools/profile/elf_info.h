// What the profile tool needs from the kernel ELF, read from the file
// itself ([elf]): the GNU build id (to refuse a capture from another
// build), the executable address range (pprof's Mapping) and symbol
// addresses (for tests). ELF64 little-endian only, every offset checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace profile {

struct ElfInfo {
  std::string build_id;  // lowercase hex; empty when there is no NT_GNU_BUILD_ID note
  /// The largest executable PT_LOAD segment (0, 0 if none): the kernel's
  /// .text, not the small 32-bit .boot segment no sample can land in.
  uint64_t text_start = 0;
  uint64_t text_limit = 0;
  uint64_t text_offset = 0;  // its file offset
  struct Symbol {
    std::string name;
    uint64_t value = 0;
  };
  std::vector<Symbol> functions;  // STT_FUNC entries of .symtab
};

/// Parses the ELF image in `bytes`. False with a message on anything
/// malformed or not ELF64 little-endian.
bool parse_elf(std::string_view bytes, ElfInfo* out, std::string* error);

/// Reads and parses the file at `path`.
bool read_elf(const std::string& path, ElfInfo* out, std::string* error);

}  // namespace profile
