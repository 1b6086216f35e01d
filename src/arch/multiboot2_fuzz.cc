// Fuzz target for the multiboot2 parser (tools/fuzz.bzl), seeded with the
// structures GRUB really produced (testdata/boot/*.mb2.bin). The contract:
// whatever the bytes, the parser reads only inside them, and every view it
// hands out lies inside the structure (ASan and the checks below). The ELF
// section headers it returns go on through arch::elf::SectionTable.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "src/arch/elf.h"
#include "src/arch/multiboot2.h"
#include "src/base/testing/fuzz_check.h"

namespace {

using arch::mb2::MemoryMapEntry;
using arch::mb2::Module;
using arch::mb2::ParseError;

struct Buffer {
  const uint8_t* data;
  size_t size;
  bool inside(const void* p, size_t n) const {
    const auto* q = static_cast<const uint8_t*>(p);
    return n == 0 || (q >= data && n <= size && static_cast<size_t>(q - data) <= size - n);
  }
};

volatile unsigned g_sink;  // keeps the reads below from being optimised out

void touch(const Buffer& b, const void* p, size_t n) {
  FUZZ_CHECK(b.inside(p, n));
  unsigned sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<const uint8_t*>(p)[i];
  g_sink = g_sink + sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The kernel hands the parser an 8-byte aligned structure (GRUB aligns
  // it, [mb2] 3.6.1): copy into an exactly-sized heap block, which is
  // 16-byte aligned and has ASan redzones right after the last byte.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(copy.get(), data, size);
  const Buffer b{copy.get(), size};

  ParseError err;
  auto r = arch::mb2::parse_multiboot2(b.data, b.size, &err);
  if (!r.ok()) {
    FUZZ_CHECK(r.error() == base::Error::kMalformed);
    FUZZ_CHECK(err.what != nullptr);
    FUZZ_CHECK(err.offset <= size);
    return 0;
  }
  const auto& info = r.value();
  touch(b, info.raw().data(), info.raw().size());
  touch(b, info.cmdline().data(), info.cmdline().size());
  touch(b, info.boot_loader_name().data(), info.boot_loader_name().size());
  const auto old_rsdp = info.acpi_old_rsdp();
  const auto new_rsdp = info.acpi_new_rsdp();
  FUZZ_CHECK(old_rsdp.size() == 0 || old_rsdp.size() >= 20);
  FUZZ_CHECK(new_rsdp.size() == 0 || new_rsdp.size() >= 36);
  touch(b, old_rsdp.data(), old_rsdp.size());
  touch(b, new_rsdp.data(), new_rsdp.size());
  const auto& elf = info.elf_sections();
  FUZZ_CHECK(elf.headers.size() == uint64_t{elf.num} * elf.entsize);
  touch(b, elf.headers.data(), elf.headers.size());
  // The section headers as the kernel reads them (symbols and carve-outs).
  const char* why = nullptr;
  auto sections = arch::elf::SectionTable::from(elf.num, elf.entsize, elf.headers, &why);
  if (sections.ok()) {
    for (uint32_t i = 0; i < sections.value().size(); ++i) {
      const arch::elf::SectionHeader sh = sections.value()[i];
      g_sink = g_sink + static_cast<unsigned>(sh.addr + sh.size) + arch::elf::loaded_by_loader(sh);
    }
  } else {
    FUZZ_CHECK(why != nullptr);
  }
  size_t entries = 0;
  for (const MemoryMapEntry e : info.memory_map()) {
    g_sink = g_sink + static_cast<unsigned>(e.base + e.length + e.type);
    ++entries;
  }
  FUZZ_CHECK(entries == info.memory_map().size());
  for (size_t i = 0; i < info.memory_map().size(); ++i) g_sink = g_sink + info.memory_map()[i].type;
  size_t modules = 0;
  for (const Module m : info.modules()) {
    FUZZ_CHECK(m.start <= m.end);
    touch(b, m.string.data(), m.string.size() + 1);  // with its NUL
    FUZZ_CHECK(m.string.data()[m.string.size()] == '\0');
    ++modules;
  }
  FUZZ_CHECK(modules == info.modules().size());
  return 0;
}
