// Validation and decoding of the multiboot2 boot information ([mb2] 3.6):
// a single walk over the tags that checks every size before reading a field.
#include "src/arch/multiboot2.h"

#include "src/base/assert.h"

namespace arch::mb2 {
namespace {

constexpr uint32_t kFixedPartSize = 8;                  // total_size, reserved ([mb2] 3.6.2)
constexpr uint32_t kMinTotalSize = kFixedPartSize + 8;  // and the end tag
constexpr uint32_t kTagHeaderSize = 8;                  // type, size
constexpr uint32_t kTagAlign = 8;
constexpr uint32_t kModuleHeaderSize = 16;     // + mod_start, mod_end
constexpr uint32_t kMemoryMapHeaderSize = 16;  // + entry_size, entry_version
constexpr uint32_t kMemoryMapMinEntrySize = 24;
constexpr uint32_t kElfHeaderSize = 20;  // + num, entsize, shndx (GRUB)
constexpr uint32_t kRsdpV1Size = 20;     // ACPI 1.0 RSDP
constexpr uint32_t kRsdpV2Size = 36;     // ACPI 2.0 RSDP

// Tags we decode and for which a second copy is ambiguous.
constexpr uint32_t bit(TagType t) { return 1u << static_cast<uint32_t>(t); }
constexpr uint32_t kSingletons = bit(TagType::kCmdline) | bit(TagType::kBootLoaderName) | bit(TagType::kBasicMeminfo) |
                                 bit(TagType::kMemoryMap) | bit(TagType::kFramebuffer) | bit(TagType::kElfSections) |
                                 bit(TagType::kAcpiOldRsdp) | bit(TagType::kAcpiNewRsdp) | bit(TagType::kLoadBaseAddr);

// Byte-wise little-endian loads: some fields are not naturally aligned (the
// ELF headers start at +20), and this needs no memcpy in the kernel.
uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t load_u64(const uint8_t* p) { return load_u32(p) | uint64_t{load_u32(p + 4)} << 32; }

// The smallest legal size of a known tag, header included; 0 for a type this
// version of the spec does not define (such tags are skipped, not rejected).
uint32_t min_tag_size(uint32_t type) {
  switch (static_cast<TagType>(type)) {
    case TagType::kEnd:
      return kTagHeaderSize;
    case TagType::kCmdline:
    case TagType::kBootLoaderName:
      return kTagHeaderSize + 1;  // at least the NUL
    case TagType::kModule:
      return kModuleHeaderSize + 1;
    case TagType::kBasicMeminfo:
      return 16;
    case TagType::kBootDevice:
      return 20;
    case TagType::kMemoryMap:
      return kMemoryMapHeaderSize;
    case TagType::kVbe:
      return 784;  // 16 + 512-byte control + 256-byte mode info
    case TagType::kFramebuffer:
      return 31;  // common part, [mb2] 3.6.12
    case TagType::kElfSections:
      return kElfHeaderSize;
    case TagType::kApm:
      return 28;
    case TagType::kEfi32SystemTable:
      return 12;
    case TagType::kEfi64SystemTable:
    case TagType::kSmbios:
      return 16;
    case TagType::kAcpiOldRsdp:
      return kTagHeaderSize + kRsdpV1Size;
    case TagType::kAcpiNewRsdp:
      return kTagHeaderSize + kRsdpV2Size;
    case TagType::kNetwork:
      return kTagHeaderSize;
    case TagType::kEfiMemoryMap:
      return 16;
    case TagType::kEfiBootServices:
      return kTagHeaderSize;
    case TagType::kEfi32ImageHandle:
      return 12;
    case TagType::kEfi64ImageHandle:
      return 16;
    case TagType::kLoadBaseAddr:
      return 12;
  }
  return 0;
}

}  // namespace

// Holds the walk's state; a friend of BootInfo so it can fill it in.
class Parser {
 public:
  Parser(const uint8_t* data, uint32_t total_size, ParseError* error)
      : data_(data), total_(total_size), error_(error) {}

  base::Result<BootInfo> run() {
    // Each tag starts where the previous one ended, rounded up to 8, so every
    // tag is 8-byte aligned by construction ([mb2] 3.6.2).
    uint64_t off = kFixedPartSize;
    for (;;) {
      if (off >= total_) return fail("no end tag before total_size", total_, total_);
      const uint32_t at = static_cast<uint32_t>(off);
      if (total_ - at < kTagHeaderSize) return fail("tag header overruns total_size", at, total_);
      const uint32_t type = load_u32(data_ + at);
      const uint32_t size = load_u32(data_ + at + 4);
      if (size < kTagHeaderSize) return fail("tag size below 8", at, size);
      if (size > total_ - at) return fail("tag overruns total_size", at, size);
      if (type == static_cast<uint32_t>(TagType::kEnd)) {
        if (size != kTagHeaderSize) return fail("end tag size is not 8", at, size);
        // total_size includes the end tag, so it must end exactly there.
        if (at + size != total_) return fail("bytes follow the end tag", at, total_);
        info_.modules_ = ModuleList(data_, first_module_, at, module_count_);
        info_.raw_ = base::Span<const uint8_t>(data_, total_);
        return info_;
      }
      base::Status s = decode_tag(at, type, size);
      if (!s.ok()) return s.error();
      off = base::align_up(off + size, kTagAlign);
    }
  }

 private:
  base::Error fail(const char* what, uint32_t offset, uint64_t value) {
    *error_ = ParseError{what, offset, value};
    return base::Error::kMalformed;
  }

  base::Status decode_tag(uint32_t at, uint32_t type, uint32_t size) {
    const uint32_t min = min_tag_size(type);
    if (min == 0) return {};
    if (size < min) return fail("tag smaller than its type's minimum", at, size);
    const uint32_t mask = 1u << type;  // known types are all below 32
    if ((kSingletons & mask) && (info_.present_ & mask)) return fail("duplicate tag", at, type);
    info_.present_ |= mask;

    const uint8_t* tag = data_ + at;
    const base::Span<const uint8_t> payload(tag + kTagHeaderSize, size - kTagHeaderSize);
    switch (static_cast<TagType>(type)) {
      case TagType::kCmdline:
        return read_string(at, size, kTagHeaderSize, &info_.cmdline_);
      case TagType::kBootLoaderName:
        return read_string(at, size, kTagHeaderSize, &info_.boot_loader_name_);
      case TagType::kModule: {
        const uint32_t start = load_u32(tag + 8);
        const uint32_t end = load_u32(tag + 12);
        if (end < start) return fail("module end below its start", at, end);
        base::StrView unused;
        base::Status s = read_string(at, size, kModuleHeaderSize, &unused);
        if (!s.ok()) return s;
        if (module_count_++ == 0) first_module_ = at;
        return {};
      }
      case TagType::kBasicMeminfo:
        info_.basic_meminfo_ = BasicMeminfo{load_u32(tag + 8), load_u32(tag + 12)};
        return {};
      case TagType::kMemoryMap:
        return decode_memory_map(at, size);
      case TagType::kFramebuffer: {
        Framebuffer& fb = info_.framebuffer_;
        fb.addr = load_u64(tag + 8);
        fb.pitch = load_u32(tag + 16);
        fb.width = load_u32(tag + 20);
        fb.height = load_u32(tag + 24);
        fb.bpp = tag[28];
        fb.type = tag[29];
        return {};
      }
      case TagType::kElfSections: {
        const uint32_t num = load_u32(tag + 8);
        const uint32_t entsize = load_u32(tag + 12);
        const uint64_t bytes = uint64_t{num} * entsize;  // no 32-bit wrap
        if (bytes > size - kElfHeaderSize) return fail("ELF section headers overrun the tag", at, bytes);
        info_.elf_sections_ =
            ElfSections{num, entsize, load_u32(tag + 16), base::Span<const uint8_t>(tag + kElfHeaderSize, bytes)};
        return {};
      }
      case TagType::kAcpiOldRsdp:
        info_.acpi_old_rsdp_ = payload;
        return {};
      case TagType::kAcpiNewRsdp:
        info_.acpi_new_rsdp_ = payload;
        return {};
      case TagType::kLoadBaseAddr:
        info_.load_base_addr_ = load_u32(tag + 8);
        return {};
      default:
        return {};  // known and size-checked, but nothing we decode
    }
  }

  // The string starting `from` bytes into the tag must end with a NUL before
  // the tag does ([mb2] 3.6.5); the view excludes the NUL.
  base::Status read_string(uint32_t at, uint32_t size, uint32_t from, base::StrView* out) {
    const char* s = reinterpret_cast<const char*>(data_ + at + from);
    for (uint32_t i = 0; i < size - from; ++i) {
      if (s[i] == '\0') {
        *out = base::StrView(s, i);
        return {};
      }
    }
    return fail("string not NUL-terminated within its tag", at, size);
  }

  base::Status decode_memory_map(uint32_t at, uint32_t size) {
    // entry_version (+12) is not checked: [mb2] 3.6.8 promises later
    // versions only append fields, which entry_size then covers.
    const uint32_t entry_size = load_u32(data_ + at + 8);
    if (entry_size < kMemoryMapMinEntrySize || entry_size % 8 != 0)
      return fail("mmap entry_size below 24 or not a multiple of 8", at, entry_size);
    const uint32_t bytes = size - kMemoryMapHeaderSize;
    if (bytes % entry_size != 0) return fail("mmap tag ends inside an entry", at, size);
    const uint8_t* entries = data_ + at + kMemoryMapHeaderSize;
    const uint32_t count = bytes / entry_size;
    for (uint32_t i = 0; i < count; ++i) {
      // Callers compute base + length; a wrapping range is never real RAM.
      const uint8_t* e = entries + i * entry_size;
      const uint64_t start = load_u64(e);
      if (load_u64(e + 8) > ~uint64_t{0} - start)
        return fail("mmap entry wraps past 2^64", static_cast<uint32_t>(e - data_), start);
    }
    info_.memory_map_ = MemoryMap(entries, entry_size, count);
    return {};
  }

  const uint8_t* data_;
  uint32_t total_;
  ParseError* error_;
  BootInfo info_;
  uint32_t first_module_ = 0;
  size_t module_count_ = 0;
};

MemoryMapEntry MemoryMap::operator[](size_t i) const {
  ASSERT(i < count_);
  return *Iterator(entries_ + i * entry_size_, entry_size_);
}

MemoryMapEntry MemoryMap::Iterator::operator*() const {
  return MemoryMapEntry{load_u64(entry_), load_u64(entry_ + 8), load_u32(entry_ + 16)};
}

Module ModuleList::Iterator::operator*() const {
  const uint8_t* tag = info_ + offset_;
  const char* s = reinterpret_cast<const char*>(tag + kModuleHeaderSize);
  return Module{load_u32(tag + 8), load_u32(tag + 12), base::StrView(s)};  // NUL checked
}

ModuleList::Iterator& ModuleList::Iterator::operator++() {
  // The structure was validated, so this walk stays inside it and reaches
  // the end tag.
  do {
    offset_ = static_cast<uint32_t>(base::align_up(offset_ + load_u32(info_ + offset_ + 4), kTagAlign));
  } while (offset_ < end_ && load_u32(info_ + offset_) != static_cast<uint32_t>(TagType::kModule));
  return *this;
}

base::Result<BootInfo> parse_multiboot2(const uint8_t* data, size_t available, ParseError* error) {
  ParseError scratch;
  if (error == nullptr) error = &scratch;
  *error = ParseError{};
  auto fail = [error](const char* what, uint64_t value) {
    *error = ParseError{what, 0, value};
    return base::Error::kMalformed;
  };
  if (data == nullptr) return fail("null structure address", 0);
  const auto addr = reinterpret_cast<uintptr_t>(data);
  if (addr % kTagAlign != 0) return fail("structure start is not 8-byte aligned", addr);
  if (available < kFixedPartSize) return fail("fewer than 8 bytes available", available);
  const uint32_t total = load_u32(data);
  if (total < kMinTotalSize) return fail("total_size below 16", total);
  if (total > available) return fail("total_size exceeds the bytes available", total);
  return Parser(data, total, error).run();
}

}  // namespace arch::mb2
