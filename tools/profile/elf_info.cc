// parse_elf: see elf_info.h. Field offsets are those of the ELF-64 structs
// ([elf]: Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Sym, Elf64_Nhdr).
#include "tools/profile/elf_info.h"

#include <fstream>
#include <sstream>

namespace profile {
namespace {

constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kPfX = 1;
constexpr uint32_t kShtSymtab = 2;
constexpr uint32_t kShtNote = 7;
constexpr uint32_t kNtGnuBuildId = 3;
constexpr uint8_t kSttFunc = 2;

class Bytes {
 public:
  explicit Bytes(std::string_view b) : b_(b) {}
  bool has(uint64_t off, uint64_t n) const { return off <= b_.size() && n <= b_.size() - off; }
  uint64_t u(uint64_t off, int n) const {  // little-endian; caller checked has()
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(b_[off + i])} << (8 * i);
    return v;
  }
  std::string_view view(uint64_t off, uint64_t n) const { return b_.substr(off, n); }

 private:
  std::string_view b_;
};

std::string to_hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (char c : bytes) {
    s += kDigits[static_cast<uint8_t>(c) >> 4];
    s += kDigits[static_cast<uint8_t>(c) & 15];
  }
  return s;
}

// Walks one SHT_NOTE section's notes: 4-byte aligned namesz, descsz, type,
// then the name and desc, each padded to 4 bytes.
bool notes(const Bytes& b, uint64_t off, uint64_t size, ElfInfo* out, std::string* error) {
  uint64_t pos = 0;
  while (pos + 12 <= size) {
    const uint64_t namesz = b.u(off + pos, 4), descsz = b.u(off + pos + 4, 4), type = b.u(off + pos + 8, 4);
    const uint64_t name_off = pos + 12, desc_off = name_off + ((namesz + 3) & ~uint64_t{3});
    const uint64_t next = desc_off + ((descsz + 3) & ~uint64_t{3});
    if (next > size) {
      *error = "ELF: a note runs past its section";
      return false;
    }
    if (type == kNtGnuBuildId && namesz == 4 && b.view(off + name_off, 4) == std::string_view("GNU\0", 4))
      out->build_id = to_hex(b.view(off + desc_off, descsz));
    pos = next;
  }
  return true;
}

}  // namespace

bool parse_elf(std::string_view bytes, ElfInfo* out, std::string* error) {
  *out = ElfInfo{};
  const Bytes b(bytes);
  // e_ident: magic, ELFCLASS64 (2), ELFDATA2LSB (1).
  if (!b.has(0, 64) ||
      bytes.substr(0, 4) !=
          "\x7f"
          "ELF" ||
      b.u(4, 1) != 2 || b.u(5, 1) != 1) {
    *error = "not an ELF64 little-endian file";
    return false;
  }
  const uint64_t phoff = b.u(32, 8), shoff = b.u(40, 8);
  const uint64_t phentsize = b.u(54, 2), phnum = b.u(56, 2);
  const uint64_t shentsize = b.u(58, 2), shnum = b.u(60, 2);
  if ((phnum != 0 && (phentsize < 56 || !b.has(phoff, phentsize * phnum))) ||
      (shnum != 0 && (shentsize < 64 || !b.has(shoff, shentsize * shnum)))) {
    *error = "ELF: program or section header table out of the file";
    return false;
  }
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint64_t p = phoff + i * phentsize;
    if (b.u(p, 4) != kPtLoad || (b.u(p + 4, 4) & kPfX) == 0) continue;
    const uint64_t offset = b.u(p + 8, 8), vaddr = b.u(p + 16, 8), memsz = b.u(p + 40, 8);
    if (memsz > out->text_limit - out->text_start) {
      out->text_start = vaddr;
      out->text_limit = vaddr + memsz;
      out->text_offset = offset;
    }
  }
  for (uint64_t i = 0; i < shnum; ++i) {
    const uint64_t s = shoff + i * shentsize;
    const uint64_t type = b.u(s + 4, 4), off = b.u(s + 24, 8), size = b.u(s + 32, 8);
    if (type != kShtNote && type != kShtSymtab) continue;
    if (!b.has(off, size)) {
      *error = "ELF: section " + std::to_string(i) + " lies outside the file";
      return false;
    }
    if (type == kShtNote && !notes(b, off, size, out, error)) return false;
    if (type == kShtSymtab) {
      // sh_link names the string table; entries are 24 bytes (sh_entsize).
      const uint64_t link = b.u(s + 40, 4), entsize = b.u(s + 56, 8);
      if (link >= shnum || entsize < 24) {
        *error = "ELF: malformed .symtab header";
        return false;
      }
      const uint64_t str = shoff + link * shentsize;
      const uint64_t str_off = b.u(str + 24, 8), str_size = b.u(str + 32, 8);
      if (!b.has(str_off, str_size)) {
        *error = "ELF: the symbol string table lies outside the file";
        return false;
      }
      const std::string_view strtab = b.view(str_off, str_size);
      for (uint64_t e = off; e + entsize <= off + size; e += entsize) {
        if ((b.u(e + 4, 1) & 0xf) != kSttFunc) continue;
        const uint64_t name = b.u(e, 4);
        if (name >= strtab.size()) continue;
        const size_t end = strtab.find('\0', name);
        out->functions.push_back({std::string(strtab.substr(name, end - name)), b.u(e + 8, 8)});
      }
    }
  }
  return true;
}

bool read_elf(const std::string& path, ElfInfo* out, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *error = "cannot open " + path;
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  if (!parse_elf(ss.str(), out, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

}  // namespace profile
