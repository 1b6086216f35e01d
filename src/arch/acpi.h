// ACPI table discovery (RSDP, RSDT/XSDT) and MADT decoding, enough to find the
// CPUs, IOAPICs and legacy IRQ routing. Reads firmware memory only through a
// caller-supplied accessor, validates every length and checksum, never panics.
//
// Context: boot and thread context (single-threaded early boot in practice).
// No allocation, no locks, no globals: any context that may call the PhysMap.
#pragma once

#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/str.h"
#include "src/base/types.h"

namespace arch::acpi {

/// Sizes fixed by the specification.
inline constexpr size_t kRsdpV1Size = 20;     // [acpi] 5.2.5.3, ACPI 1.0 part
inline constexpr size_t kRsdpV2Size = 36;     // [acpi] 5.2.5.3, with the 2.0 extension
inline constexpr size_t kHeaderSize = 36;     // [acpi] 5.2.6, every SDT header
inline constexpr size_t kMadtFixedSize = 44;  // [acpi] 5.2.12, header + address + flags

/// Tables longer than this are treated as corrupt: a flipped bit in a length
/// must not make us map and checksum gigabytes. Real MADTs/FADTs are a few
/// KiB; the largest tables (DSDT) stay well below this.
inline constexpr uint32_t kMaxTableLength = 16u << 20;

/// How firmware memory is reached. `map(ctx, phys, len)` returns a pointer to
/// the `len` bytes at physical `phys`, or nullptr when any of them cannot be
/// read. Returned pointers must stay valid while the tables are in use (the
/// kernel's direct map; a test's fake memory). A plain function and context,
/// like base::Sink, so no templates or vtables are needed.
struct PhysMap {
  const uint8_t* (*map)(void* ctx, base::PhysAddr phys, size_t len);
  void* ctx;

  const uint8_t* operator()(base::PhysAddr phys, size_t len) const { return map(ctx, phys, len); }
};

/// Why discovery or parsing failed, in the style of mb2::ParseError. `what`
/// is a static string naming the problem, `address` the physical address of
/// the structure at fault (0 for a boot-loader copy of the RSDP), `offset`
/// where in it (bytes), `value` the offending number (a length, a checksum
/// sum, an entry type; 0 if none). The kernel prints it as
///   "acpi: {} at {:#x}+{:#x} ({:#x})", e.what, e.address, e.offset, e.value
struct ParseError {
  const char* what = nullptr;
  uint64_t address = 0;
  uint32_t offset = 0;
  uint64_t value = 0;
};

/// A validated Root System Description Pointer ([acpi] 5.2.5.3).
struct Rsdp {
  /// Where it was found; 0 when it came from a boot loader's copy.
  uint64_t address = 0;
  /// 0 for ACPI 1.0, 2 for 2.0 and later.
  uint8_t revision = 0;
  char oem_id[6] = {};
  uint32_t rsdt_address = 0;
  /// 0 unless revision >= 2 and the extended part was present and valid.
  uint64_t xsdt_address = 0;
};

/// Validates an RSDP copy, e.g. the payload of multiboot2 tag 14 (20 bytes)
/// or 15 (36 bytes): signature "RSD PTR ", checksum over the first 20 bytes
/// and, for revision >= 2, `length` >= 36 and the extended checksum over
/// `length` bytes. A revision >= 2 RSDP cut to 20 bytes (GRUB's "old RSDP"
/// tag copies only those) is accepted as ACPI 1.0: the RSDT is still valid.
/// Returns kMalformed on failure and fills `error` when not null.
base::Result<Rsdp> parse_rsdp(base::Span<const uint8_t> bytes, ParseError* error);

/// Scans the legacy BIOS areas for the RSDP ([acpi] 5.2.5.1): the first KiB
/// of the EBDA (segment at BDA 0x40E) and 0xE0000-0xFFFFF, on 16-byte
/// boundaries. Candidates with the signature but a bad checksum are skipped.
/// Returns kNotFound when no valid RSDP is there.
base::Result<Rsdp> scan_for_rsdp(const PhysMap& mem, ParseError* error);

/// The RSDP from the boot loader's tag bytes when there are any (pass the
/// new-RSDP tag if present, else the old one), otherwise from a BIOS scan.
/// A present but invalid tag is an error, not a reason to scan: the boot
/// loader saw the real one.
base::Result<Rsdp> find_rsdp(base::Span<const uint8_t> tag_bytes, const PhysMap& mem, ParseError* error);

/// A table whose header, length and checksum were validated ([acpi] 5.2.6).
/// `bytes` covers exactly `length()` bytes of mapped firmware memory.
struct Table {
  uint64_t address = 0;
  base::Span<const uint8_t> bytes;

  base::StrView signature() const { return base::StrView(reinterpret_cast<const char*>(bytes.data()), 4); }
  uint32_t length() const { return static_cast<uint32_t>(bytes.size()); }
  uint8_t revision() const { return bytes[8]; }
  base::StrView oem_id() const { return base::StrView(reinterpret_cast<const char*>(bytes.data()) + 10, 6); }
  base::StrView oem_table_id() const { return base::StrView(reinterpret_cast<const char*>(bytes.data()) + 16, 8); }
};

/// Maps and validates the table at `phys`: header readable, length in
/// [kHeaderSize, kMaxTableLength], bytes sum to 0 mod 256, and, when
/// `signature` is not empty, the signature matches. kFault if unreadable,
/// kMalformed otherwise.
base::Result<Table> map_table(const PhysMap& mem, base::PhysAddr phys, base::StrView signature, ParseError* error);

/// The root table (XSDT, [acpi] 5.2.8, or RSDT, 5.2.7) and the tables it
/// lists. Copyable; holds pointers into mapped firmware memory.
class RootTable {
 public:
  RootTable() = default;

  /// Opens the XSDT when revision >= 2 and its address is nonzero, falling
  /// back to the RSDT when the XSDT does not validate (as other OSes do;
  /// some firmware ships a broken XSDT). `error` describes the table that
  /// was finally tried: the RSDT, or the XSDT when there is no RSDT.
  static base::Result<RootTable> open(const Rsdp& rsdp, const PhysMap& mem, ParseError* error);

  bool is_xsdt() const { return entry_size_ == 8; }
  const Table& table() const { return root_; }
  /// Number of entries (trailing bytes short of a whole entry are ignored).
  size_t size() const { return count_; }
  /// Physical address of entry `i`; i >= size() is a broken invariant.
  base::PhysAddr entry(size_t i) const;

  /// Maps and validates entry `i` (see map_table).
  base::Result<Table> table_at(size_t i, ParseError* error) const;

  /// The `index`-th listed table with `signature` (4 bytes), validated.
  /// Entries that are null or whose header cannot be read are skipped; a
  /// matching table that fails validation is an error (kMalformed), not
  /// skipped. kNotFound when there is none, kInvalidArgument for a
  /// signature that is not 4 bytes. The FACS and DSDT are not listed here:
  /// they hang off the FADT.
  base::Result<Table> find_table(base::StrView signature, ParseError* error, size_t index = 0) const;

 private:
  PhysMap mem_{};
  Table root_;
  size_t count_ = 0;
  uint8_t entry_size_ = 4;
};

/// [acpi] 5.2.12.2 and 5.2.12.12: one processor from a Processor Local APIC
/// (type 0) or Processor Local x2APIC (type 9) entry.
struct Cpu {
  uint32_t apic_id = 0;
  uint32_t acpi_uid = 0;
  /// Usable now (flags bit 0).
  bool enabled = false;
  /// May be brought online later (flags bit 1; meaningful only when not
  /// enabled, and only in MADT revision >= 5; [acpi] 5.2.12.2, Local APIC Flags).
  bool online_capable = false;
  /// From a type 9 entry (32-bit x2APIC id).
  bool x2apic = false;
};

/// [acpi] 5.2.12.3: an I/O APIC (type 1).
struct IoApic {
  uint8_t id = 0;
  uint32_t address = 0;
  uint32_t gsi_base = 0;
};

/// MPS INTI flags ([acpi] 5.2.12.5): polarity (bits 1:0).
enum class Polarity : uint8_t {
  kConforming = 0,  // as the bus specifies (ISA: active high)
  kActiveHigh = 1,
  kReserved = 2,
  kActiveLow = 3,
};

/// MPS INTI flags ([acpi] 5.2.12.5): trigger mode (bits 3:2).
enum class Trigger : uint8_t {
  kConforming = 0,  // as the bus specifies (ISA: edge)
  kEdge = 1,
  kReserved = 2,
  kLevel = 3,
};

/// [acpi] 5.2.12.5: an Interrupt Source Override (type 2), e.g. ISA IRQ 0 on
/// GSI 2.
struct InterruptOverride {
  uint8_t bus = 0;  // 0 = ISA
  uint8_t source_irq = 0;
  uint32_t gsi = 0;
  uint16_t flags = 0;  // raw MPS INTI flags
  Polarity polarity = Polarity::kConforming;
  Trigger trigger = Trigger::kConforming;
};

/// [acpi] 5.2.12.6: a GSI wired to NMI (type 3).
struct NmiSource {
  uint32_t gsi = 0;
  uint16_t flags = 0;
  Polarity polarity = Polarity::kConforming;
  Trigger trigger = Trigger::kConforming;
};

/// [acpi] 5.2.12.7 and 5.2.12.13: the LINT pin NMI is wired to, from a Local
/// APIC NMI (type 4) or Local x2APIC NMI (type 0xA) entry.
struct LocalApicNmi {
  /// ACPI processor uid; meaningless when all_processors.
  uint32_t acpi_uid = 0;
  /// uid 0xFF (type 4) or 0xFFFFFFFF (type 0xA): every processor.
  bool all_processors = false;
  uint8_t lint = 0;  // 0 or 1
  uint16_t flags = 0;
  Polarity polarity = Polarity::kConforming;
  Trigger trigger = Trigger::kConforming;
  bool x2apic = false;
};

/// A fixed-capacity list over caller storage. What does not fit is counted
/// in dropped(), never lost silently: a kernel sized for 64 CPUs on a 128-CPU
/// machine should say so.
template <typename T>
class BoundedList {
 public:
  constexpr BoundedList() = default;
  constexpr explicit BoundedList(base::Span<T> storage) : storage_(storage) {}

  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr size_t capacity() const { return storage_.size(); }
  /// Entries seen but not stored for lack of room.
  constexpr size_t dropped() const { return dropped_; }
  /// Entries seen in the table: size() + dropped().
  constexpr size_t total() const { return size_ + dropped_; }
  constexpr const T& operator[](size_t i) const {
    if (i >= size_) __builtin_trap();  // a broken invariant; no format deps here
    return storage_[i];
  }
  constexpr const T* begin() const { return storage_.data(); }
  constexpr const T* end() const { return storage_.data() + size_; }

  constexpr void push(const T& v) {
    if (size_ < storage_.size()) {
      storage_[size_++] = v;
    } else {
      ++dropped_;
    }
  }

 private:
  base::Span<T> storage_;
  size_t size_ = 0;
  size_t dropped_ = 0;
};

/// Where parse_madt stores the lists; any span may be empty.
struct MadtStorage {
  base::Span<Cpu> cpus;
  base::Span<IoApic> ioapics;
  base::Span<InterruptOverride> overrides;
  base::Span<NmiSource> nmi_sources;
  base::Span<LocalApicNmi> local_apic_nmis;
};

/// Storage sized at compile time, e.g. `static MadtArrays<256> arrays;`
/// (static: a few KiB is too much for an early boot stack).
template <size_t kCpus, size_t kIoApics = 16, size_t kOverrides = 32, size_t kNmis = 32>
struct MadtArrays {
  Cpu cpus[kCpus];
  IoApic ioapics[kIoApics];
  InterruptOverride overrides[kOverrides];
  NmiSource nmi_sources[kNmis];
  LocalApicNmi local_apic_nmis[kNmis];

  MadtStorage storage() { return {cpus, ioapics, overrides, nmi_sources, local_apic_nmis}; }
};

/// The decoded MADT ([acpi] 5.2.12). Lists point into the MadtStorage.
struct Madt {
  /// The 32-bit address from the fixed part.
  uint32_t local_apic_address32 = 0;
  /// The address to use: the type 5 override when present, else the above.
  uint64_t local_apic_address = 0;
  bool has_address_override = false;
  /// Multiple APIC Flags ([acpi] 5.2.12); bit 0 PCAT_COMPAT: dual 8259s present (mask them).
  uint32_t flags = 0;
  uint8_t revision = 0;

  BoundedList<Cpu> cpus;
  BoundedList<IoApic> ioapics;
  BoundedList<InterruptOverride> overrides;
  BoundedList<NmiSource> nmi_sources;
  BoundedList<LocalApicNmi> local_apic_nmis;
  /// Entries of types we do not decode (GIC, SAPIC, wakeup, ...).
  uint32_t other_entries = 0;

  static constexpr uint32_t kPcatCompat = 1u << 0;
  bool pcat_compat() const { return (flags & kPcatCompat) != 0; }
  /// Whether any list overflowed its storage.
  bool truncated() const {
    return cpus.dropped() || ioapics.dropped() || overrides.dropped() || nmi_sources.dropped() ||
           local_apic_nmis.dropped();
  }
  /// Processors usable now.
  size_t enabled_cpus() const {
    size_t n = 0;
    for (const Cpu& c : cpus) n += c.enabled;
    return n;
  }
};

/// Decodes a MADT that map_table or find_table validated (the checksum is
/// not rechecked here). Checks: signature "APIC", the fixed part present,
/// every entry at least 2 bytes, inside the table, and at least as long as
/// its type's structure (longer is accepted: later revisions append fields).
/// Unknown types are counted and skipped. On failure returns kMalformed and
/// fills `error`; reads nothing outside `madt.bytes`.
base::Result<Madt> parse_madt(const Table& madt, const MadtStorage& storage, ParseError* error);

/// What choose_madt made of one MADT the root table lists, for the caller
/// to report.
struct MadtVerdict {
  /// Among the tables signed "APIC", in root-table order, from 0.
  size_t index = 0;
  uint64_t address = 0;
  /// Whether the table validated and decoded; if not, `error` and `why`
  /// say why.
  bool valid = false;
  base::Error error = base::Error::kMalformed;
  ParseError why;
  /// Processor entries it lists (when valid).
  size_t cpus = 0;
  /// Whether this is the MADT returned. A valid MADT after the chosen one
  /// names the chosen one here.
  bool chosen = false;
  size_t chosen_index = 0;
  uint64_t chosen_address = 0;
};

/// Called once for each MADT examined, in root-table order.
struct MadtObserver {
  void (*note)(void* ctx, const MadtVerdict& verdict);
  void* ctx;
};

/// At most this many MADTs are examined (find_table walks the root table
/// once per index, so a root table of nothing but "APIC" entries must not
/// cost its length squared).
inline constexpr size_t kMaxMadts = 16;

/// The MADT to use. [acpi] 5.2.12 expects exactly one, but firmware can list
/// more (QEMU's `-acpitable sig=APIC` appends one after its own). Each listed
/// MADT, up to kMaxMadts, is validated (map_table) and decoded (parse_madt);
/// the first that passes both is returned, decoded into `storage`. Linux
/// likewise uses the first; taking the first *valid* one means a corrupt
/// table is skipped rather than costing every CPU but the boot CPU. Every
/// table examined, chosen or not, is shown to `observe` so the choice is
/// never silent. kNotFound when no MADT is listed; otherwise, when none is
/// valid, the first one's error, described in `error`.
base::Result<Madt> choose_madt(const RootTable& root, const MadtStorage& storage, const MadtObserver& observe,
                               ParseError* error);

/// [acpi] 5.2.3.2: a Generic Address Structure.
struct GenericAddress {
  static constexpr uint8_t kSystemMemory = 0;
  static constexpr uint8_t kSystemIo = 1;
  static constexpr uint8_t kPciConfig = 2;  // address: device << 32 | function << 16 | offset, bus 0

  uint8_t space_id = 0;
  uint8_t bit_width = 0;
  uint8_t bit_offset = 0;
  uint8_t access_size = 0;
  uint64_t address = 0;
};

/// The FADT's reset register ([acpi] 5.2.9, Table 5.9: RESET_REG at byte
/// 116, RESET_VALUE at 128; 4.8.3.6): writing `value` there resets the
/// machine. Firmware may place it in system I/O, system memory or PCI
/// configuration space.
struct ResetRegister {
  GenericAddress reg;
  uint8_t value = 0;
};

/// The reset register of an FADT that map_table or find_table validated.
/// kMalformed when the signature is not "FACP"; kNotFound, with `error`
/// saying why, when the FADT predates the field (ACPI 1.0's is 116 bytes:
/// QEMU's `pc` machine) or its flags do not set RESET_REG_SUP (bit 10,
/// [acpi] 5.2.9.3). Reads nothing outside `fadt.bytes`.
base::Result<ResetRegister> parse_fadt_reset(const Table& fadt, ParseError* error);

/// The ACPI power-management timer ([acpi] 4.8.3.3): a free-running
/// counter at 3.579545 MHz in system I/O space, 24 bits wide unless the
/// FADT's TMR_VAL_EXT flag says 32.
struct PmTimerBlock {
  uint16_t port = 0;
  bool width_32 = false;
};

/// The PM timer of an FADT that map_table or find_table validated: the
/// X_PM_TMR_BLK (byte 208, ACPI 2.0+) when it is present and nonzero, else
/// PM_TMR_BLK (byte 76) with PM_TMR_LEN (byte 91) 4, and TMR_VAL_EXT (flag
/// bit 8) for the width ([acpi] 5.2.9, Tables 5.9 and 5.10). kMalformed
/// when the signature is not "FACP"; kNotFound, with `error` saying why,
/// when the FADT has none (block 0 or length 0, as on hardware-reduced
/// platforms); kUnsupported when it is not in system I/O space or not 32
/// bits wide. Reads nothing outside `fadt.bytes`.
base::Result<PmTimerBlock> parse_fadt_pm_timer(const Table& fadt, ParseError* error);

}  // namespace arch::acpi
