// RSDP discovery, root-table walking and MADT decoding ([acpi] 5.2). Every
// length is checked against what was mapped before a field is read.
#include "src/arch/acpi.h"

#include "src/base/assert.h"

namespace arch::acpi {
namespace {

// [acpi] 5.2.5.1: where IA-PC firmware leaves the RSDP.
constexpr uint64_t kBdaEbdaSegment = 0x40E;  // 16-bit real-mode segment of the EBDA
constexpr uint64_t kEbdaScanLength = 1024;   // only its first KiB is searched
constexpr uint64_t kBiosAreaStart = 0xE0000;
constexpr uint64_t kBiosAreaEnd = 0x100000;
constexpr uint64_t kLowMemoryEnd = 0x100000;
constexpr uint64_t kRsdpAlign = 16;
// An RSDP longer than this is corrupt; 2.0 through 6.5 define 36 bytes.
constexpr uint32_t kMaxRsdpLength = 4096;

// [acpi] 5.2.12: MADT entry types this parser decodes.
constexpr uint8_t kLocalApic = 0;
constexpr uint8_t kIoApicEntry = 1;
constexpr uint8_t kSourceOverride = 2;
constexpr uint8_t kNmiSourceEntry = 3;
constexpr uint8_t kLocalApicNmiEntry = 4;
constexpr uint8_t kLocalApicAddressOverride = 5;
constexpr uint8_t kLocalX2Apic = 9;
constexpr uint8_t kLocalX2ApicNmi = 0xA;

constexpr uint32_t kCpuEnabled = 1u << 0;        // [acpi] 5.2.12.2, Local APIC Flags
constexpr uint32_t kCpuOnlineCapable = 1u << 1;  // ACPI 6.3 and later

// Byte-wise little-endian loads: ACPI tables sit at odd addresses (an RSDT
// at 3 mod 8 on SeaBIOS) and XSDT entries are 8 bytes at offset 36, so
// nothing is naturally aligned; this also needs no memcpy.
uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t load_u64(const uint8_t* p) { return load_u32(p) | uint64_t{load_u32(p + 4)} << 32; }

// ACPI checksums make all bytes sum to 0 mod 256; this returns the sum.
uint8_t byte_sum(const uint8_t* p, size_t n) {
  uint8_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + p[i]);
  return sum;
}

bool bytes_equal(const uint8_t* p, const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != static_cast<uint8_t>(s[i])) return false;
  return true;
}

// Whether [phys, phys + len) wraps past the top of the address space.
bool wraps(uint64_t phys, uint64_t len) { return phys + len < phys; }

// Records why, returns the code; `return report(...)` converts to any Result.
base::Error report(ParseError* error, base::Error code, const char* what, uint64_t address, uint64_t offset,
                   uint64_t value) {
  if (error != nullptr) {
    error->what = what;
    error->address = address;
    error->offset = static_cast<uint32_t>(offset);
    error->value = value;
  }
  return code;
}

base::Error malformed(ParseError* error, const char* what, uint64_t address, uint64_t offset, uint64_t value) {
  return report(error, base::Error::kMalformed, what, address, offset, value);
}

// [acpi] 5.2.5.3: the ACPI 1.0 part, 20 readable bytes at `p`.
base::Result<Rsdp> check_rsdp_v1(const uint8_t* p, uint64_t address, ParseError* error) {
  if (!bytes_equal(p, "RSD PTR ", 8))
    return malformed(error, "RSDP signature is not 'RSD PTR '", address, 0, load_u64(p));
  if (const uint8_t sum = byte_sum(p, kRsdpV1Size); sum != 0)
    return malformed(error, "RSDP checksum over 20 bytes is not zero", address, 8, sum);
  Rsdp rsdp;
  rsdp.address = address;
  rsdp.revision = p[15];
  for (size_t i = 0; i < sizeof(rsdp.oem_id); ++i) rsdp.oem_id[i] = static_cast<char>(p[9 + i]);
  rsdp.rsdt_address = load_u32(p + 16);
  return rsdp;
}

// [acpi] 5.2.5.3: the 2.0 extension; `available` bytes readable at `p`
// (at least kRsdpV2Size).
base::Status check_rsdp_v2(const uint8_t* p, size_t available, Rsdp& rsdp, ParseError* error) {
  const uint32_t length = load_u32(p + 20);
  if (length < kRsdpV2Size) return malformed(error, "RSDP length below 36", rsdp.address, 20, length);
  if (length > available) return malformed(error, "RSDP length overruns the bytes available", rsdp.address, 20, length);
  if (const uint8_t sum = byte_sum(p, length); sum != 0)
    return malformed(error, "RSDP extended checksum is not zero", rsdp.address, 32, sum);
  rsdp.xsdt_address = load_u64(p + 24);
  return base::Status::Ok();
}

// Looks for a valid RSDP on 16-byte boundaries of [start, start + len).
// Candidates that fail validation are skipped: a stale or partial copy in
// the BIOS area must not hide the real one further on.
base::Result<Rsdp> scan_region(const PhysMap& mem, uint64_t start, uint64_t len, bool* readable) {
  const uint8_t* area = mem(base::PhysAddr(start), len);
  if (area == nullptr) return base::Error::kFault;
  *readable = true;
  for (uint64_t off = 0; off + kRsdpV1Size <= len; off += kRsdpAlign) {
    const uint8_t* p = area + off;
    if (!bytes_equal(p, "RSD PTR ", 8)) continue;
    ParseError ignored;
    base::Result<Rsdp> rsdp = check_rsdp_v1(p, start + off, &ignored);
    if (!rsdp.ok()) continue;
    if (rsdp.value().revision < 2) return rsdp;
    // The extension may extend past the region (an RSDP in the last 32
    // bytes of the BIOS area); map it on its own then.
    const uint32_t length = load_u32(p + 20);
    if (length < kRsdpV2Size || length > kMaxRsdpLength) continue;
    const uint8_t* full = off + length <= len ? p : mem(base::PhysAddr(start + off), length);
    if (full == nullptr) continue;
    if (check_rsdp_v2(full, length, rsdp.value(), &ignored).ok()) return rsdp;
  }
  return base::Error::kNotFound;
}

// The smallest length of an entry of `type` ([acpi] 5.2.12.2 - 5.2.12.13);
// 0 for types we skip without decoding.
uint8_t min_entry_length(uint8_t type) {
  switch (type) {
    case kLocalApic:
      return 8;
    case kIoApicEntry:
      return 12;
    case kSourceOverride:
      return 10;
    case kNmiSourceEntry:
      return 8;
    case kLocalApicNmiEntry:
      return 6;
    case kLocalApicAddressOverride:
      return 12;
    case kLocalX2Apic:
      return 16;
    case kLocalX2ApicNmi:
      return 12;
    default:
      return 0;
  }
}

Polarity polarity_of(uint16_t inti_flags) { return static_cast<Polarity>(inti_flags & 3); }
Trigger trigger_of(uint16_t inti_flags) { return static_cast<Trigger>((inti_flags >> 2) & 3); }

}  // namespace

base::Result<Rsdp> parse_rsdp(base::Span<const uint8_t> bytes, ParseError* error) {
  if (bytes.size() < kRsdpV1Size) return malformed(error, "RSDP copy shorter than 20 bytes", 0, 0, bytes.size());
  base::Result<Rsdp> rsdp = check_rsdp_v1(bytes.data(), 0, error);
  if (!rsdp.ok()) return rsdp;
  // Only a copy that carries the extension can be checked against it; a
  // 20-byte copy of a 2.0 RSDP still names a valid RSDT.
  if (rsdp.value().revision >= 2 && bytes.size() >= kRsdpV2Size) {
    base::Status s = check_rsdp_v2(bytes.data(), bytes.size(), rsdp.value(), error);
    if (!s.ok()) return s.error();
  }
  return rsdp;
}

base::Result<Rsdp> scan_for_rsdp(const PhysMap& mem, ParseError* error) {
  bool readable = false;
  // [acpi] 5.2.5.1: the EBDA's first KiB, then the BIOS read-only area.
  if (const uint8_t* bda = mem(base::PhysAddr(kBdaEbdaSegment), 2); bda != nullptr) {
    const uint64_t ebda = uint64_t{load_u16(bda)} << 4;
    if (ebda != 0 && ebda + kEbdaScanLength <= kLowMemoryEnd) {
      base::Result<Rsdp> rsdp = scan_region(mem, ebda, kEbdaScanLength, &readable);
      if (rsdp.ok()) return rsdp;
    }
  }
  base::Result<Rsdp> rsdp = scan_region(mem, kBiosAreaStart, kBiosAreaEnd - kBiosAreaStart, &readable);
  if (rsdp.ok()) return rsdp;
  if (!readable) return report(error, base::Error::kFault, "BIOS areas not readable", kBiosAreaStart, 0, 0);
  return report(error, base::Error::kNotFound, "no valid RSDP in the EBDA or 0xE0000-0xFFFFF", kBiosAreaStart, 0, 0);
}

base::Result<Rsdp> find_rsdp(base::Span<const uint8_t> tag_bytes, const PhysMap& mem, ParseError* error) {
  if (!tag_bytes.empty()) return parse_rsdp(tag_bytes, error);
  return scan_for_rsdp(mem, error);
}

base::Result<Table> map_table(const PhysMap& mem, base::PhysAddr at, base::StrView signature, ParseError* error) {
  const uint64_t phys = at.value();
  if (phys == 0) return malformed(error, "null table address", 0, 0, 0);
  if (wraps(phys, kHeaderSize)) return malformed(error, "table address wraps the address space", phys, 0, phys);
  const uint8_t* header = mem(at, kHeaderSize);
  if (header == nullptr) return report(error, base::Error::kFault, "table header not readable", phys, 0, kHeaderSize);
  if (!signature.empty() && (signature.size() != 4 || !bytes_equal(header, signature.data(), 4)))
    return malformed(error, "table signature mismatch", phys, 0, load_u32(header));
  const uint32_t length = load_u32(header + 4);
  if (length < kHeaderSize) return malformed(error, "table length below the 36-byte header", phys, 4, length);
  if (length > kMaxTableLength) return malformed(error, "table length above the 16 MiB sanity limit", phys, 4, length);
  if (wraps(phys, length)) return malformed(error, "table wraps the address space", phys, 4, length);
  const uint8_t* p = mem(at, length);
  if (p == nullptr) return report(error, base::Error::kFault, "table not readable to its length", phys, 4, length);
  if (const uint8_t sum = byte_sum(p, length); sum != 0)
    return malformed(error, "table checksum is not zero", phys, 9, sum);
  Table t;
  t.address = phys;
  t.bytes = base::Span<const uint8_t>(p, length);
  return t;
}

base::Result<RootTable> RootTable::open(const Rsdp& rsdp, const PhysMap& mem, ParseError* error) {
  RootTable root;
  root.mem_ = mem;
  // [acpi] 5.2.5.3: 2.0+ firmware should be read through the XSDT, whose
  // entries are 64-bit ([acpi] 5.2.8).
  if (rsdp.revision >= 2 && rsdp.xsdt_address != 0) {
    ParseError xsdt_error;
    base::Result<Table> xsdt = map_table(mem, base::PhysAddr(rsdp.xsdt_address), "XSDT", &xsdt_error);
    if (xsdt.ok()) {
      root.root_ = xsdt.value();
      root.entry_size_ = 8;
      root.count_ = (root.root_.length() - kHeaderSize) / 8;
      return root;
    }
    if (rsdp.rsdt_address == 0) {
      if (error != nullptr) *error = xsdt_error;
      return xsdt.error();
    }
  }
  if (rsdp.rsdt_address == 0) return malformed(error, "RSDP names no root table", 0, 16, 0);
  // [acpi] 5.2.7: 32-bit entries.
  base::Result<Table> rsdt = map_table(mem, base::PhysAddr(rsdp.rsdt_address), "RSDT", error);
  if (!rsdt.ok()) return rsdt.error();
  root.root_ = rsdt.value();
  root.entry_size_ = 4;
  // A partial trailing entry is ignored rather than rejected, as ACPICA does.
  root.count_ = (root.root_.length() - kHeaderSize) / 4;
  return root;
}

base::PhysAddr RootTable::entry(size_t i) const {
  ASSERT(i < count_);
  const uint8_t* p = root_.bytes.data() + kHeaderSize + i * entry_size_;
  return base::PhysAddr(entry_size_ == 8 ? load_u64(p) : load_u32(p));
}

base::Result<Table> RootTable::table_at(size_t i, ParseError* error) const {
  return map_table(mem_, entry(i), base::StrView(), error);
}

base::Result<Table> RootTable::find_table(base::StrView signature, ParseError* error, size_t index) const {
  if (signature.size() != 4)
    return report(error, base::Error::kInvalidArgument, "signature is not 4 bytes", 0, 0, signature.size());
  size_t seen = 0;
  for (size_t i = 0; i < count_; ++i) {
    const base::PhysAddr phys = entry(i);
    if (phys.value() == 0 || wraps(phys.value(), kHeaderSize)) continue;
    const uint8_t* header = mem_(phys, kHeaderSize);
    if (header == nullptr || !bytes_equal(header, signature.data(), 4)) continue;
    if (seen++ == index) return map_table(mem_, phys, signature, error);
  }
  return report(error, base::Error::kNotFound, "no such table in the root table", root_.address, 0, index);
}

base::Result<Madt> parse_madt(const Table& table, const MadtStorage& storage, ParseError* error) {
  const uint8_t* p = table.bytes.data();
  const uint64_t at = table.address;
  if (p == nullptr || table.bytes.size() < kHeaderSize)
    return malformed(error, "MADT shorter than a table header", at, 0, table.bytes.size());
  if (!bytes_equal(p, "APIC", 4)) return malformed(error, "MADT signature is not 'APIC'", at, 0, load_u32(p));
  const uint32_t length = load_u32(p + 4);
  if (length > table.bytes.size()) return malformed(error, "MADT length overruns the mapped table", at, 4, length);
  if (length < kMadtFixedSize) return malformed(error, "MADT shorter than its 44-byte fixed part", at, 4, length);

  Madt m;
  m.revision = p[8];
  m.local_apic_address32 = load_u32(p + 36);
  m.local_apic_address = m.local_apic_address32;
  m.flags = load_u32(p + 40);
  m.cpus = BoundedList<Cpu>(storage.cpus);
  m.ioapics = BoundedList<IoApic>(storage.ioapics);
  m.overrides = BoundedList<InterruptOverride>(storage.overrides);
  m.nmi_sources = BoundedList<NmiSource>(storage.nmi_sources);
  m.local_apic_nmis = BoundedList<LocalApicNmi>(storage.local_apic_nmis);

  // [acpi] 5.2.12: entries follow the fixed part back to back, each
  // starting with (type, length).
  uint32_t off = kMadtFixedSize;
  while (off < length) {
    if (length - off < 2) return malformed(error, "MADT entry header overruns the table", at, off, length - off);
    const uint8_t* e = p + off;
    const uint8_t type = e[0];
    const uint8_t elen = e[1];
    // A length below 2 would make no progress (0) or split the header (1).
    if (elen < 2) return malformed(error, "MADT entry length below 2", at, off, elen);
    if (elen > length - off) return malformed(error, "MADT entry overruns the table", at, off, elen);
    if (elen < min_entry_length(type)) return malformed(error, "MADT entry too short for its type", at, off, elen);

    switch (type) {
      case kLocalApic: {  // [acpi] 5.2.12.2
        const uint32_t flags = load_u32(e + 4);
        Cpu c;
        c.acpi_uid = e[2];
        c.apic_id = e[3];
        c.enabled = (flags & kCpuEnabled) != 0;
        c.online_capable = (flags & kCpuOnlineCapable) != 0;
        c.x2apic = false;
        m.cpus.push(c);
        break;
      }
      case kIoApicEntry: {  // [acpi] 5.2.12.3
        IoApic io;
        io.id = e[2];
        io.address = load_u32(e + 4);
        io.gsi_base = load_u32(e + 8);
        m.ioapics.push(io);
        break;
      }
      case kSourceOverride: {  // [acpi] 5.2.12.5
        InterruptOverride o;
        o.bus = e[2];
        o.source_irq = e[3];
        o.gsi = load_u32(e + 4);
        o.flags = load_u16(e + 8);
        o.polarity = polarity_of(o.flags);
        o.trigger = trigger_of(o.flags);
        m.overrides.push(o);
        break;
      }
      case kNmiSourceEntry: {  // [acpi] 5.2.12.6
        NmiSource n;
        n.flags = load_u16(e + 2);
        n.gsi = load_u32(e + 4);
        n.polarity = polarity_of(n.flags);
        n.trigger = trigger_of(n.flags);
        m.nmi_sources.push(n);
        break;
      }
      case kLocalApicNmiEntry: {  // [acpi] 5.2.12.7
        LocalApicNmi n;
        n.acpi_uid = e[2];
        n.all_processors = e[2] == 0xFF;
        n.flags = load_u16(e + 3);
        n.lint = e[5];
        n.polarity = polarity_of(n.flags);
        n.trigger = trigger_of(n.flags);
        n.x2apic = false;
        m.local_apic_nmis.push(n);
        break;
      }
      case kLocalApicAddressOverride: {  // [acpi] 5.2.12.8: supersedes the 32-bit field
        m.local_apic_address = load_u64(e + 4);
        m.has_address_override = true;
        break;
      }
      case kLocalX2Apic: {  // [acpi] 5.2.12.12
        const uint32_t flags = load_u32(e + 8);
        Cpu c;
        c.apic_id = load_u32(e + 4);
        c.acpi_uid = load_u32(e + 12);
        c.enabled = (flags & kCpuEnabled) != 0;
        c.online_capable = (flags & kCpuOnlineCapable) != 0;
        c.x2apic = true;
        m.cpus.push(c);
        break;
      }
      case kLocalX2ApicNmi: {  // [acpi] 5.2.12.13
        LocalApicNmi n;
        n.flags = load_u16(e + 2);
        n.acpi_uid = load_u32(e + 4);
        n.all_processors = n.acpi_uid == 0xFFFFFFFFu;
        n.lint = e[8];
        n.polarity = polarity_of(n.flags);
        n.trigger = trigger_of(n.flags);
        n.x2apic = true;
        m.local_apic_nmis.push(n);
        break;
      }
      default:
        ++m.other_entries;
        break;
    }
    off += elen;
  }
  return m;
}

base::Result<Madt> choose_madt(const RootTable& root, const MadtStorage& storage, const MadtObserver& observe,
                               ParseError* error) {
  Madt chosen;
  bool have_chosen = false;
  size_t chosen_index = 0;
  uint64_t chosen_address = 0;
  bool failed = false;
  base::Error first_failure = base::Error::kMalformed;
  ParseError first_why;
  size_t i = 0;
  for (; i < kMaxMadts; ++i) {
    MadtVerdict v;
    v.index = i;
    base::Result<Table> table = root.find_table("APIC", &v.why, i);
    if (!table.ok() && table.error() == base::Error::kNotFound) break;  // no i-th MADT
    if (table.ok()) {
      v.address = table.value().address;
      // Only the chosen table is decoded into `storage`; the others are
      // decoded into none, which still counts their entries.
      base::Result<Madt> madt = parse_madt(table.value(), have_chosen ? MadtStorage{} : storage, &v.why);
      if (madt.ok()) {
        v.valid = true;
        v.cpus = madt.value().cpus.total();
        if (!have_chosen) {
          have_chosen = true;
          chosen = madt.value();
          chosen_index = i;
          chosen_address = v.address;
          v.chosen = true;
        }
      } else {
        v.error = madt.error();
      }
    } else {
      v.error = table.error();
      v.address = v.why.address;
    }
    if (!v.valid && !failed) {
      failed = true;
      first_failure = v.error;
      first_why = v.why;
    }
    v.chosen_index = chosen_index;
    v.chosen_address = chosen_address;
    if (observe.note != nullptr) observe.note(observe.ctx, v);
  }
  if (have_chosen) return chosen;
  if (i == 0) return report(error, base::Error::kNotFound, "no MADT in the root table", root.table().address, 0, 0);
  if (error != nullptr) *error = first_why;
  return first_failure;
}

base::Result<ResetRegister> parse_fadt_reset(const Table& fadt, ParseError* error) {
  // [acpi] 5.2.9, Table 5.9.
  constexpr size_t kFlags = 112, kResetReg = 116, kResetValue = 128;
  constexpr uint32_t kResetRegSup = 1u << 10;  // [acpi] 5.2.9.3, Table 5.10
  if (fadt.bytes.size() < kHeaderSize || fadt.signature() != "FACP")
    return malformed(error, "not an FADT", fadt.address, 0, 0);
  const uint8_t* p = fadt.bytes.data();
  if (fadt.bytes.size() <= kResetValue)
    return report(error, base::Error::kNotFound, "FADT too short for a reset register (ACPI 1.0)", fadt.address,
                  fadt.bytes.size(), fadt.revision());
  const uint32_t flags = load_u32(p + kFlags);
  if ((flags & kResetRegSup) == 0)
    return report(error, base::Error::kNotFound, "FADT flags do not set RESET_REG_SUP", fadt.address, kFlags, flags);
  ResetRegister r;
  r.reg.space_id = p[kResetReg];
  r.reg.bit_width = p[kResetReg + 1];
  r.reg.bit_offset = p[kResetReg + 2];
  r.reg.access_size = p[kResetReg + 3];
  r.reg.address = load_u64(p + kResetReg + 4);
  r.value = p[kResetValue];
  return r;
}

base::Result<PmTimerBlock> parse_fadt_pm_timer(const Table& fadt, ParseError* error) {
  // [acpi] 5.2.9, Table 5.9; TMR_VAL_EXT in Table 5.10.
  constexpr size_t kPmTmrBlk = 76, kPmTmrLen = 91, kFlags = 112, kXPmTmrBlk = 208;
  constexpr uint32_t kTmrValExt = 1u << 8;
  if (fadt.bytes.size() < kHeaderSize || fadt.signature() != "FACP")
    return malformed(error, "not an FADT", fadt.address, 0, 0);
  const uint8_t* p = fadt.bytes.data();
  if (fadt.bytes.size() < kFlags + 4)
    return malformed(error, "FADT too short for the PM timer fields", fadt.address, fadt.bytes.size(), 0);
  PmTimerBlock t;
  t.width_32 = (load_u32(p + kFlags) & kTmrValExt) != 0;
  // The 64-bit field wins when present and set ([acpi] 5.2.9: "If this
  // field contains a nonzero value, then this field must be used").
  if (fadt.bytes.size() >= kXPmTmrBlk + 12 && load_u64(p + kXPmTmrBlk + 4) != 0) {
    const uint8_t space = p[kXPmTmrBlk], width = p[kXPmTmrBlk + 1];
    const uint64_t address = load_u64(p + kXPmTmrBlk + 4);
    if (space != GenericAddress::kSystemIo)
      return report(error, base::Error::kUnsupported, "X_PM_TMR_BLK is not in system I/O space", fadt.address,
                    kXPmTmrBlk, space);
    if (width != 32)
      return report(error, base::Error::kUnsupported, "X_PM_TMR_BLK is not 32 bits wide", fadt.address, kXPmTmrBlk + 1,
                    width);
    if (address > 0xfffc)
      return malformed(error, "X_PM_TMR_BLK port past the I/O space", fadt.address, kXPmTmrBlk + 4, address);
    t.port = static_cast<uint16_t>(address);
    return t;
  }
  const uint32_t block = load_u32(p + kPmTmrBlk);
  const uint8_t length = p[kPmTmrLen];
  if (block == 0 || length == 0)
    return report(error, base::Error::kNotFound, "FADT lists no PM timer", fadt.address, kPmTmrBlk, block);
  if (length != 4) return malformed(error, "PM_TMR_LEN is not 4", fadt.address, kPmTmrLen, length);
  if (block > 0xfffc) return malformed(error, "PM_TMR_BLK port past the I/O space", fadt.address, kPmTmrBlk, block);
  t.port = static_cast<uint16_t>(block);
  return t;
}

}  // namespace arch::acpi
