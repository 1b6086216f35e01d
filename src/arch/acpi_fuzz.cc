// Fuzz target for ACPI discovery and the MADT decoder (tools/fuzz.bzl). The
// input is an RSDP copy plus a window of simulated physical memory; the
// seeds (fuzz_corpus/acpi, made by tools/fuzz/make_acpi_seeds.py) are the
// real QEMU tables at their real addresses. The contract (acpi.h): never
// panic, read only what the PhysMap hands out, and every validated table
// lies inside it with a zero checksum.
//
// Input: 36 bytes RSDP, 8 bytes window base (little-endian), 1 byte flags,
// 3 bytes padding, then the window.
//   flags bit 0: fix every checksum the walk can reach before parsing, so
//                mutations get past the checksums to the decoders;
//   flags bit 1: hand parse_rsdp 36 bytes (an ACPI 2.0 tag) instead of 20.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "src/arch/acpi.h"
#include "src/base/testing/fuzz_check.h"

namespace {

using namespace arch::acpi;

constexpr size_t kHeader = 48;

struct Window {
  uint64_t base;
  uint8_t* data;
  size_t size;

  // The bytes [phys, phys + len) when all of them are in the window.
  uint8_t* at(uint64_t phys, size_t len) const {
    if (phys < base || len > size || phys - base > size - len) return nullptr;
    return data + (phys - base);
  }
  bool inside(const void* p, size_t n) const {
    const auto* q = static_cast<const uint8_t*>(p);
    return q >= data && n <= size && static_cast<size_t>(q - data) <= size - n;
  }
};

const uint8_t* map(void* ctx, base::PhysAddr phys, size_t len) {
  return static_cast<const Window*>(ctx)->at(phys.value(), len);
}

uint32_t le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

void fix_sum(uint8_t* bytes, size_t len, size_t at) {
  bytes[at] = 0;
  uint8_t sum = 0;
  for (size_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + bytes[i]);
  bytes[at] = static_cast<uint8_t>(-sum);
}

// Fixes the checksum of the SDT at `phys` if it is whole in the window.
uint8_t* fix_table(const Window& w, uint64_t phys) {
  uint8_t* h = w.at(phys, kHeaderSize);
  if (h == nullptr) return nullptr;
  const uint32_t len = le32(h + 4);
  if (len < kHeaderSize || w.at(phys, len) == nullptr) return nullptr;
  fix_sum(h, len, 9);
  return h;
}

void fix_checksums(uint8_t* rsdp, size_t rsdp_len, const Window& w) {
  fix_sum(rsdp, kRsdpV1Size, 8);
  if (rsdp_len == kRsdpV2Size) fix_sum(rsdp, kRsdpV2Size, 32);
  const uint64_t roots[2] = {le32(rsdp + 16), rsdp_len == kRsdpV2Size ? le64(rsdp + 24) : 0};
  for (size_t r = 0; r < 2; ++r) {
    const size_t entry = r == 0 ? 4 : 8;
    uint8_t* root = w.at(roots[r], kHeaderSize);
    if (root == nullptr) continue;
    const uint32_t len = le32(root + 4);
    if (len < kHeaderSize || w.at(roots[r], len) == nullptr) continue;
    for (size_t off = kHeaderSize; off + entry <= len; off += entry) {
      fix_table(w, entry == 4 ? le32(root + off) : le64(root + off));
    }
    fix_table(w, roots[r]);
  }
}

volatile unsigned g_sink;

void check_table(const Window& w, const Table& t) {
  FUZZ_CHECK(t.length() >= kHeaderSize && t.length() <= kMaxTableLength);
  FUZZ_CHECK(w.inside(t.bytes.data(), t.bytes.size()));
  uint8_t sum = 0;
  for (size_t i = 0; i < t.bytes.size(); ++i) sum = static_cast<uint8_t>(sum + t.bytes[i]);
  FUZZ_CHECK(sum == 0);
  g_sink = g_sink + t.revision() + t.oem_id().size() + t.oem_table_id().size();
}

template <typename T>
void check_list(const BoundedList<T>& l, size_t capacity) {
  FUZZ_CHECK(l.capacity() == capacity);
  FUZZ_CHECK(l.size() <= capacity);
  FUZZ_CHECK(l.dropped() == 0 || l.size() == capacity);
  FUZZ_CHECK(l.total() == l.size() + l.dropped());
  size_t n = 0;
  for (const T& e : l) {
    (void)e;
    ++n;
  }
  FUZZ_CHECK(n == l.size());
}

void check_madt(const Window& w, const Table& t) {
  // Small storage, so the overflow (dropped) path is reached too.
  static MadtArrays<4, 2, 4, 2> arrays;
  ParseError err;
  auto r = parse_madt(t, arrays.storage(), &err);
  if (!r.ok()) {
    FUZZ_CHECK(r.error() == base::Error::kMalformed);
    FUZZ_CHECK(err.what != nullptr);
    return;
  }
  const Madt& m = r.value();
  check_list(m.cpus, 4);
  check_list(m.ioapics, 2);
  check_list(m.overrides, 4);
  check_list(m.nmi_sources, 2);
  check_list(m.local_apic_nmis, 2);
  FUZZ_CHECK(m.enabled_cpus() <= m.cpus.size());
  FUZZ_CHECK(m.has_address_override || m.local_apic_address == m.local_apic_address32);
  (void)w;
}

// choose_madt's contract: verdicts in root-table order, at most kMaxMadts,
// the chosen one the first valid one and the one returned.
struct Verdicts {
  size_t seen = 0, chosen = 0, first_valid = kMaxMadts, chosen_index = kMaxMadts, chosen_cpus = 0;
  static void note(void* ctx, const MadtVerdict& v) {
    auto* self = static_cast<Verdicts*>(ctx);
    FUZZ_CHECK(v.index == self->seen);
    ++self->seen;
    FUZZ_CHECK(!v.chosen || v.valid);
    if (v.valid && self->first_valid == kMaxMadts) self->first_valid = v.index;
    if (!v.valid) FUZZ_CHECK(v.why.what != nullptr);
    if (v.chosen) {
      ++self->chosen;
      self->chosen_index = v.index;
      self->chosen_cpus = v.cpus;
    }
  }
};

void check_choose_madt(const RootTable& root) {
  static MadtArrays<4, 2, 4, 2> arrays;
  Verdicts v;
  ParseError err;
  auto m = choose_madt(root, arrays.storage(), MadtObserver{&Verdicts::note, &v}, &err);
  FUZZ_CHECK(v.seen <= kMaxMadts);
  FUZZ_CHECK(v.chosen <= 1);
  if (m.ok()) {
    FUZZ_CHECK(v.chosen == 1 && v.chosen_index == v.first_valid);
    FUZZ_CHECK(m.value().cpus.total() == v.chosen_cpus);
  } else {
    FUZZ_CHECK(v.chosen == 0 && v.first_valid == kMaxMadts);
    FUZZ_CHECK((m.error() == base::Error::kNotFound) == (v.seen == 0));
    FUZZ_CHECK(err.what != nullptr);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < kHeader) return 0;
  uint8_t rsdp[kRsdpV2Size];
  std::memcpy(rsdp, data, sizeof rsdp);
  const uint8_t flags = data[44];
  const size_t rsdp_len = (flags & 2) ? kRsdpV2Size : kRsdpV1Size;
  // An exactly-sized heap block: ASan flags any read past the window.
  const size_t window_size = size - kHeader;
  std::unique_ptr<uint8_t[]> window(new uint8_t[window_size ? window_size : 1]);
  if (window_size) std::memcpy(window.get(), data + kHeader, window_size);
  Window w{le64(data + 36), window.get(), window_size};
  if (flags & 1) fix_checksums(rsdp, rsdp_len, w);
  const PhysMap mem{map, &w};

  ParseError err;
  // Only the window is memory here; a scan reaches it when the base is in
  // the BIOS area.
  (void)scan_for_rsdp(mem, &err);
  auto rr = find_rsdp(base::Span<const uint8_t>(rsdp, rsdp_len), mem, &err);
  if (!rr.ok()) return 0;
  const Rsdp& r = rr.value();
  FUZZ_CHECK(r.address == 0);
  FUZZ_CHECK(r.revision >= 2 || r.xsdt_address == 0);

  auto root = RootTable::open(r, mem, &err);
  if (!root.ok()) return 0;
  check_table(w, root.value().table());
  const size_t entry = root.value().is_xsdt() ? 8 : 4;
  FUZZ_CHECK(root.value().size() == (root.value().table().length() - kHeaderSize) / entry);
  for (size_t i = 0; i < root.value().size(); ++i) {
    g_sink = g_sink + static_cast<unsigned>(root.value().entry(i).value());
    auto t = root.value().table_at(i, &err);
    if (t.ok()) check_table(w, t.value());
  }
  check_choose_madt(root.value());
  for (const char* sig : {"APIC", "FACP", "HPET", "MCFG"}) {
    for (size_t index = 0; index < 2; ++index) {
      auto t = root.value().find_table(base::StrView(sig), &err, index);
      if (!t.ok()) break;
      check_table(w, t.value());
      FUZZ_CHECK(std::memcmp(t.value().bytes.data(), sig, 4) == 0);
      if (sig[0] == 'A') check_madt(w, t.value());
    }
  }
  return 0;
}
