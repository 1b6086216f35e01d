// Parser for the multiboot2 boot information structure that GRUB leaves at
// EBX ([mb2] 3.6). It validates every tag once, up front, and then hands out
// bounds-checked views into the structure: no allocation, no copies.
#pragma once

#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/str.h"
#include "src/base/types.h"

namespace arch::mb2 {

/// Tag types of the boot information ([mb2] 3.6.3 - 3.6.23).
enum class TagType : uint32_t {
  kEnd = 0,
  kCmdline = 1,
  kBootLoaderName = 2,
  kModule = 3,
  kBasicMeminfo = 4,
  kBootDevice = 5,
  kMemoryMap = 6,
  kVbe = 7,
  kFramebuffer = 8,
  kElfSections = 9,
  kApm = 10,
  kEfi32SystemTable = 11,
  kEfi64SystemTable = 12,
  kSmbios = 13,
  kAcpiOldRsdp = 14,
  kAcpiNewRsdp = 15,
  kNetwork = 16,
  kEfiMemoryMap = 17,
  kEfiBootServices = 18,
  kEfi32ImageHandle = 19,
  kEfi64ImageHandle = 20,
  kLoadBaseAddr = 21,
};

/// Memory map entry types ([mb2] 3.6.8); other values are possible and mean
/// "not usable".
enum class MemoryType : uint32_t {
  kAvailable = 1,
  kReserved = 2,
  kAcpiReclaimable = 3,
  kAcpiNvs = 4,
  kBadRam = 5,
};

/// Why parsing failed, for the panic message. `what` is a static string
/// naming the problem, `offset` is where (bytes from the structure start),
/// `value` the offending number (a size, type or address; 0 if none). The
/// kernel prints it as
///   PANIC("multiboot2: {} at +{:#x} ({})", e.what, e.offset, e.value);
struct ParseError {
  const char* what = nullptr;
  uint32_t offset = 0;
  uint64_t value = 0;
};

/// One memory map entry; `type` is raw (see MemoryType).
struct MemoryMapEntry {
  uint64_t base;
  uint64_t length;
  uint32_t type;
};

/// The memory map entries ([mb2] 3.6.8). Entries are `entry_size()` bytes
/// apart, which may exceed the 24 bytes this version of the spec defines.
class MemoryMap {
 public:
  constexpr MemoryMap() = default;
  constexpr MemoryMap(const uint8_t* entries, uint32_t entry_size, size_t count)
      : entries_(entries), entry_size_(entry_size), count_(count) {}

  constexpr size_t size() const { return count_; }
  constexpr bool empty() const { return count_ == 0; }
  constexpr uint32_t entry_size() const { return entry_size_; }
  /// Entry `i`; i >= size() is a broken invariant and panics.
  MemoryMapEntry operator[](size_t i) const;

  /// Walks the entries by entry_size() strides. It points into the boot
  /// information, not into this object, so it outlives a temporary map.
  class Iterator {
   public:
    constexpr Iterator(const uint8_t* entry, uint32_t stride) : entry_(entry), stride_(stride) {}
    MemoryMapEntry operator*() const;
    Iterator& operator++() {
      entry_ += stride_;
      return *this;
    }
    constexpr bool operator!=(const Iterator& o) const { return entry_ != o.entry_; }

   private:
    const uint8_t* entry_;
    uint32_t stride_;
  };
  Iterator begin() const { return Iterator(entries_, entry_size_); }
  Iterator end() const { return Iterator(entries_ + count_ * entry_size_, entry_size_); }

 private:
  const uint8_t* entries_ = nullptr;
  uint32_t entry_size_ = 0;
  size_t count_ = 0;
};

/// One boot module ([mb2] 3.6.6): physical [start, end) and its string.
struct Module {
  uint32_t start;
  uint32_t end;
  base::StrView string;
};

/// The module tags, in the order the boot loader listed them.
class ModuleList {
 public:
  constexpr ModuleList() = default;
  /// `first` and `end` are offsets of the first module tag and the end tag
  /// in an already validated structure at `info`.
  constexpr ModuleList(const uint8_t* info, uint32_t first, uint32_t end, size_t count)
      : info_(info), first_(first), end_(end), count_(count) {}

  constexpr size_t size() const { return count_; }
  constexpr bool empty() const { return count_ == 0; }

  class Iterator {
   public:
    constexpr Iterator(const uint8_t* info, uint32_t offset, uint32_t end) : info_(info), offset_(offset), end_(end) {}
    Module operator*() const;
    /// Walks on to the next module tag, or to the end tag.
    Iterator& operator++();
    constexpr bool operator!=(const Iterator& o) const { return offset_ != o.offset_; }

   private:
    const uint8_t* info_;
    uint32_t offset_;
    uint32_t end_;
  };
  Iterator begin() const { return Iterator(info_, count_ ? first_ : end_, end_); }
  Iterator end() const { return Iterator(info_, end_, end_); }

 private:
  const uint8_t* info_ = nullptr;
  uint32_t first_ = 0;
  uint32_t end_ = 0;
  size_t count_ = 0;
};

/// [mb2] 3.6.3, in KiB: memory below 1 MiB and from 1 MiB to the first hole.
struct BasicMeminfo {
  uint32_t mem_lower_kib;
  uint32_t mem_upper_kib;
};

/// The kernel's ELF section headers as GRUB copies them ([mb2] 3.6.7). The
/// spec says 16-bit fields, but GRUB writes 32-bit num, entsize and shndx;
/// we follow GRUB. `shndx` is not checked against `num`: check it before
/// indexing.
struct ElfSections {
  uint32_t num;
  uint32_t entsize;
  uint32_t shndx;
  base::Span<const uint8_t> headers;  // num * entsize bytes
};

/// The common part of the framebuffer tag ([mb2] 3.6.12); the colour info
/// that follows it is not decoded.
struct Framebuffer {
  uint64_t addr;
  uint32_t pitch;
  uint32_t width;
  uint32_t height;
  uint8_t bpp;
  uint8_t type;  // 0 indexed, 1 RGB, 2 EGA text
};

/// A validated boot information structure. Every view points into it, so it
/// must stay mapped and unmodified while the views are used. Absent tags
/// read as zero or empty; has() tells absent from empty.
class BootInfo {
 public:
  /// Whether a tag of `type` was present (tracked for the types TagType
  /// names; unknown types are skipped).
  bool has(TagType type) const {
    const uint32_t t = static_cast<uint32_t>(type);
    return t < 32 && ((present_ >> t) & 1);
  }

  /// The whole structure, total_size bytes: carve it out of free memory.
  base::Span<const uint8_t> raw() const { return raw_; }
  /// [mb2] 3.6.5.
  base::StrView cmdline() const { return cmdline_; }
  /// [mb2] 3.6.9.
  base::StrView boot_loader_name() const { return boot_loader_name_; }
  /// [mb2] 3.6.8.
  const MemoryMap& memory_map() const { return memory_map_; }
  /// [mb2] 3.6.6.
  const ModuleList& modules() const { return modules_; }
  /// [mb2] 3.6.3.
  BasicMeminfo basic_meminfo() const { return basic_meminfo_; }
  /// [mb2] 3.6.23: where the image was loaded.
  uint32_t load_base_addr() const { return load_base_addr_; }
  /// [mb2] 3.6.7.
  const ElfSections& elf_sections() const { return elf_sections_; }
  /// [mb2] 3.6.12.
  const Framebuffer& framebuffer() const { return framebuffer_; }
  /// A copy of the ACPI 1.0 RSDP ([mb2] 3.6.16), at least 20 bytes; empty
  /// if absent.
  base::Span<const uint8_t> acpi_old_rsdp() const { return acpi_old_rsdp_; }
  /// A copy of the ACPI 2.0+ RSDP ([mb2] 3.6.17), at least 36 bytes; empty
  /// if absent.
  base::Span<const uint8_t> acpi_new_rsdp() const { return acpi_new_rsdp_; }

 private:
  friend class Parser;

  uint32_t present_ = 0;  // bit n: a tag of type n was seen
  base::Span<const uint8_t> raw_;
  base::StrView cmdline_;
  base::StrView boot_loader_name_;
  MemoryMap memory_map_;
  ModuleList modules_;
  BasicMeminfo basic_meminfo_{};
  uint32_t load_base_addr_ = 0;
  ElfSections elf_sections_{};
  Framebuffer framebuffer_{};
  base::Span<const uint8_t> acpi_old_rsdp_;
  base::Span<const uint8_t> acpi_new_rsdp_;
};

/// Validates the structure at `data` and decodes its tags. `available` is
/// how many bytes from `data` may be read (the kernel passes total_size
/// once it has read it). Checks: 8-byte aligned start; 16 <= total_size <=
/// available; every tag 8-byte aligned, at least 8 bytes, inside total_size
/// and, for known types, at least its type's minimum size; strings
/// NUL-terminated inside their tag; memory map entries sane; modules with
/// start <= end; an end tag (type 0, size 8) that is last and ends at
/// total_size. Unknown tag types are skipped. A second copy of a tag we
/// decode (any of them but modules) is rejected rather than ignored: two
/// memory maps that disagree leave no safe choice.
///
/// On failure returns Error::kMalformed and, when `error` is not null, fills
/// it in. Reads nothing outside [data, data + min(available, total_size)).
base::Result<BootInfo> parse_multiboot2(const uint8_t* data, size_t available, ParseError* error);

}  // namespace arch::mb2
