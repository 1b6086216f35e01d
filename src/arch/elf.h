// The kernel's own ELF64 section headers, as the boot loader hands them over
// (multiboot2's ELF-sections tag, arch/multiboot2.h): decoded from raw bytes
// with every size checked, for the boot memory map (the sections GRUB loaded
// after the image) and prof's symbol table. Pure; any context.
#pragma once

#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"

namespace arch::elf {

/// Elf64_Shdr ([elf] 4, "Sections"): 64 bytes.
constexpr uint32_t kSectionHeaderSize = 64;
/// Elf64_Sym ([elf] 4, "Symbol Table"): 24 bytes.
constexpr uint32_t kSymbolSize = 24;

/// sh_type values this kernel reads ([elf] 4, "Sections").
constexpr uint32_t kShtSymtab = 2;
constexpr uint32_t kShtStrtab = 3;
constexpr uint32_t kShtNobits = 8;
/// sh_flags bits ([elf] 4, "Sections").
constexpr uint64_t kShfAlloc = 0x2;
constexpr uint64_t kShfExecinstr = 0x4;
/// Section indexes from here up are reserved (SHN_LORESERVE: SHN_ABS,
/// SHN_COMMON, ...), never a real section.
constexpr uint32_t kShnLoReserve = 0xff00;

/// One decoded Elf64_Shdr.
struct SectionHeader {
  uint32_t name;
  uint32_t type;
  uint64_t flags;
  uint64_t addr;
  uint64_t offset;
  uint64_t size;
  uint32_t link;
  uint32_t info;
  uint64_t addralign;
  uint64_t entsize;
};

/// The section header table: `num` headers `entsize` bytes apart in `bytes`.
class SectionTable {
 public:
  constexpr SectionTable() = default;

  /// Checks that `bytes` holds exactly `num` headers of `entsize` bytes and
  /// that entsize is at least sizeof(Elf64_Shdr) (a loader that reported
  /// 32-bit headers, or none, is refused rather than misread). On failure
  /// returns kMalformed and points `*why` (if not null) at the reason.
  static base::Result<SectionTable> from(uint32_t num, uint32_t entsize, base::Span<const uint8_t> bytes,
                                         const char** why);

  constexpr uint32_t size() const { return num_; }
  /// Header `i`; i >= size() is a broken invariant and panics.
  SectionHeader operator[](uint32_t i) const;

 private:
  const uint8_t* bytes_ = nullptr;
  uint32_t num_ = 0;
  uint32_t entsize_ = 0;
};

/// Whether `sh` is a section the boot loader copied into memory beside the
/// image rather than one the image's program headers load: not SHF_ALLOC,
/// not SHT_NOBITS, with a nonzero physical address and size. GRUB loads such
/// sections (.symtab, .strtab, .shstrtab) and sets their sh_addr to where it
/// put them ([mb2] 3.6.7); the boot memory map must keep that memory out of the
/// allocator.
constexpr bool loaded_by_loader(const SectionHeader& sh) {
  return (sh.flags & kShfAlloc) == 0 && sh.type != kShtNobits && sh.addr != 0 && sh.size != 0 &&
         sh.addr + sh.size > sh.addr;  // a wrapping range is nothing a loader placed
}

/// Little-endian loads from possibly unaligned bytes (headers in the boot
/// information start at +20).
constexpr uint32_t load_u16(const uint8_t* p) { return uint32_t{p[0]} | uint32_t{p[1]} << 8; }
constexpr uint32_t load_u32(const uint8_t* p) { return load_u16(p) | load_u16(p + 2) << 16; }
constexpr uint64_t load_u64(const uint8_t* p) { return load_u32(p) | uint64_t{load_u32(p + 4)} << 32; }

}  // namespace arch::elf
