// Tests for ACPI discovery and MADT decoding: the tables SeaBIOS really built
// (testdata/boot) placed in a fake physical memory, hand-made v2/XSDT and
// x2APIC tables, corruptions, and seeded random corruption under ASan.
#include "src/arch/acpi.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "src/base/testing/testdata.h"

namespace arch::acpi {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes read_boot(const std::string& file) { return base::testing::read_testdata("testdata/boot/" + file); }
std::string str(base::StrView v) { return std::string(v.data(), v.size()); }
base::Span<const uint8_t> span(const Bytes& b) { return base::Span<const uint8_t>(b.data(), b.size()); }

uint32_t get_u32(const Bytes& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
void put_u16(Bytes& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }
void put_u32(Bytes& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void put_u64(Bytes& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }

// Makes bytes [0, len) sum to zero by adjusting the byte at `at`.
void fix_checksum(Bytes& b, size_t at, size_t len) {
  b[at] = 0;
  uint8_t sum = 0;
  for (size_t i = 0; i < len; ++i) sum = static_cast<uint8_t>(sum + b[i]);
  b[at] = static_cast<uint8_t>(-sum);
}
void fix_table_checksum(Bytes& t) { fix_checksum(t, 9, t.size()); }

// Physical memory made of placed regions. Every map() returns a fresh heap
// copy of exactly the bytes asked for, so ASan reports any read past what
// the code mapped, not just past the region.
class FakePhys {
 public:
  void place(uint64_t phys, Bytes bytes) { regions_[phys] = std::move(bytes); }
  Bytes& at(uint64_t phys) { return regions_.at(phys); }
  PhysMap map() { return PhysMap{&FakePhys::thunk, this}; }
  size_t calls() const { return calls_; }

 private:
  static const uint8_t* thunk(void* ctx, base::PhysAddr at, size_t len) {
    const uint64_t phys = at.value();
    auto* self = static_cast<FakePhys*>(ctx);
    ++self->calls_;
    if (len == 0 || phys + len < phys) return nullptr;
    for (const auto& [base, bytes] : self->regions_) {
      if (phys >= base && phys + len <= base + bytes.size()) {
        auto copy = std::make_unique<uint8_t[]>(len);
        std::memcpy(copy.get(), bytes.data() + (phys - base), len);
        self->copies_.push_back(std::move(copy));
        return self->copies_.back().get();
      }
    }
    return nullptr;
  }

  std::map<uint64_t, Bytes> regions_;
  std::vector<std::unique_ptr<uint8_t[]>> copies_;
  size_t calls_ = 0;
};

// One captured configuration: its RSDP tag payload and its tables placed at
// the addresses the decoded summary (<config>.txt) lists.
struct Boot {
  std::string config;
  Bytes rsdp;                            // multiboot2 tag 14 payload
  std::map<std::string, uint64_t> addr;  // signature -> physical address
  std::map<std::string, Bytes> tables;   // signature -> bytes
  uint64_t ebda = 0;                     // from the BDA, as the probe saw it
  uint64_t scanned_rsdp = 0;             // where the probe's BIOS scan found it
  FakePhys mem;
};

std::unique_ptr<Boot> load(const std::string& config) {
  auto boot = std::make_unique<Boot>();
  boot->config = config;
  boot->rsdp = read_boot(config + ".acpi.RSDP.bin");
  std::istringstream txt(std::string([&] {
    Bytes b = read_boot(config + ".txt");
    return std::string(b.begin(), b.end());
  }()));
  bool in_acpi = false;
  for (std::string line; std::getline(txt, line);) {
    if (line == "ACPI") in_acpi = true;
    if (line.rfind("CPUID", 0) == 0) in_acpi = false;
    unsigned long long ebda = 0, found = 0;
    if (std::sscanf(line.c_str(),
                    " EBDA (BDA word 0x40e << 4): 0x%llx RSDP found by legacy "
                    "BIOS-area scan at: 0x%llx",
                    &ebda, &found) == 2) {
      boot->ebda = ebda;
      boot->scanned_rsdp = found;
    }
    char sig[5] = {};
    unsigned long long phys = 0;
    unsigned length = 0;
    if (in_acpi && std::sscanf(line.c_str(), " %4s 0x%llx %u", sig, &phys, &length) == 3) {
      Bytes bytes = read_boot(config + ".acpi." + sig + ".bin");
      if (bytes.size() != length) {
        ADD_FAILURE() << config << ": " << sig << " file size " << bytes.size() << " != " << length;
        continue;
      }
      boot->addr[sig] = phys;
      boot->tables[sig] = bytes;
      boot->mem.place(phys, bytes);
    }
  }
  return boot;
}

// BDA, EBDA and BIOS area as SeaBIOS lays them out, with the RSDP placed at
// `rsdp_at` (in either area).
void place_bios_areas(FakePhys& mem, uint64_t ebda, uint64_t rsdp_at, const Bytes& rsdp) {
  Bytes bda(0x100, 0);
  put_u16(bda, 0x0E, static_cast<uint16_t>(ebda >> 4));
  mem.place(0x400, bda);
  Bytes ebda_area(1024, 0);
  Bytes bios(0x20000 + 64, 0);  // past 1 MiB a little, for an RSDP at the very end
  if (rsdp_at >= ebda && rsdp_at < ebda + ebda_area.size()) {
    std::memcpy(ebda_area.data() + (rsdp_at - ebda), rsdp.data(), rsdp.size());
  } else if (rsdp_at >= 0xE0000) {
    std::memcpy(bios.data() + (rsdp_at - 0xE0000), rsdp.data(), rsdp.size());
  }
  mem.place(ebda, ebda_area);
  mem.place(0xE0000, bios);
}

struct Config {
  const char* name;
  size_t cpus;  // from testdata/boot/README.md
};
constexpr Config kConfigs[] = {
    {"m32M-smp1-qemu64", 1},   {"m128M-smp2-qemu64", 2}, {"m512M-smp4-max", 4},
    {"m3584M-smp2-qemu64", 2}, {"m4G-smp8-max", 8},      {"m2G-smp4-q35-max", 4},
};

class RealTables : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    boot_ = load(GetParam().name);
    ASSERT_EQ(boot_->rsdp.size(), 20u) << "run from the repo root or under Bazel";
    ASSERT_TRUE(boot_->addr.count("RSDT"));
    ASSERT_TRUE(boot_->addr.count("APIC"));
  }
  std::unique_ptr<Boot> boot_;
};

TEST_P(RealTables, RsdpFromTagBytes) {
  ParseError err;
  auto rsdp = find_rsdp(span(boot_->rsdp), boot_->mem.map(), &err);
  ASSERT_TRUE(rsdp.ok()) << err.what;
  EXPECT_EQ(rsdp.value().address, 0u);
  EXPECT_EQ(rsdp.value().revision, 0);
  EXPECT_EQ(std::string(rsdp.value().oem_id, 6), "BOCHS ");
  EXPECT_EQ(rsdp.value().rsdt_address, boot_->addr["RSDT"]);
  EXPECT_EQ(rsdp.value().xsdt_address, 0u);
  EXPECT_EQ(boot_->mem.calls(), 0u) << "a tag needs no memory access";
}

TEST_P(RealTables, RsdpFromBiosScan) {
  ASSERT_NE(boot_->scanned_rsdp, 0u);
  place_bios_areas(boot_->mem, boot_->ebda, boot_->scanned_rsdp, boot_->rsdp);
  ParseError err;
  auto rsdp = find_rsdp({}, boot_->mem.map(), &err);
  ASSERT_TRUE(rsdp.ok()) << err.what;
  EXPECT_EQ(rsdp.value().address, boot_->scanned_rsdp);
  EXPECT_EQ(rsdp.value().rsdt_address, boot_->addr["RSDT"]);
}

TEST_P(RealTables, RsdpInEbda) {
  place_bios_areas(boot_->mem, boot_->ebda, boot_->ebda + 0x40, boot_->rsdp);
  ParseError err;
  auto rsdp = scan_for_rsdp(boot_->mem.map(), &err);
  ASSERT_TRUE(rsdp.ok()) << err.what;
  EXPECT_EQ(rsdp.value().address, boot_->ebda + 0x40);
}

TEST_P(RealTables, RsdtWalked) {
  ParseError err;
  auto rsdp = parse_rsdp(span(boot_->rsdp), &err);
  ASSERT_TRUE(rsdp.ok());
  auto root = RootTable::open(rsdp.value(), boot_->mem.map(), &err);
  ASSERT_TRUE(root.ok()) << err.what;
  EXPECT_FALSE(root.value().is_xsdt());
  EXPECT_EQ(root.value().table().address, boot_->addr["RSDT"]);
  EXPECT_EQ(str(root.value().table().signature()), "RSDT");

  // Every entry is a table the summary lists, and validates.
  std::set<std::string> seen;
  for (size_t i = 0; i < root.value().size(); ++i) {
    auto t = root.value().table_at(i, &err);
    ASSERT_TRUE(t.ok()) << err.what;
    const std::string sig = str(t.value().signature());
    EXPECT_EQ(t.value().address, boot_->addr[sig]) << sig;
    EXPECT_EQ(t.value().length(), boot_->tables[sig].size()) << sig;
    EXPECT_EQ(str(t.value().oem_id()), "BOCHS ");
    seen.insert(sig);
  }
  std::set<std::string> want = {"FACP", "APIC", "HPET", "WAET"};
  if (boot_->tables.count("MCFG")) want.insert("MCFG");
  EXPECT_EQ(seen, want);

  auto facp = root.value().find_table("FACP", &err);
  ASSERT_TRUE(facp.ok());
  EXPECT_EQ(facp.value().address, boot_->addr["FACP"]);
  // The DSDT and FACS hang off the FADT, not the RSDT.
  auto dsdt = root.value().find_table("DSDT", &err);
  EXPECT_EQ(dsdt.error(), base::Error::kNotFound);
  EXPECT_EQ(root.value().find_table("APIC", &err, 1).error(), base::Error::kNotFound);
  EXPECT_EQ(root.value().find_table("API", &err).error(), base::Error::kInvalidArgument);
}

TEST_P(RealTables, Madt) {
  const size_t n = GetParam().cpus;
  ParseError err;
  auto rsdp = find_rsdp(span(boot_->rsdp), boot_->mem.map(), &err);
  ASSERT_TRUE(rsdp.ok());
  auto root = RootTable::open(rsdp.value(), boot_->mem.map(), &err);
  ASSERT_TRUE(root.ok());
  auto table = root.value().find_table("APIC", &err);
  ASSERT_TRUE(table.ok()) << err.what;
  static MadtArrays<64> arrays;
  auto madt = parse_madt(table.value(), arrays.storage(), &err);
  ASSERT_TRUE(madt.ok()) << err.what << " at +" << err.offset;
  const Madt& m = madt.value();

  EXPECT_EQ(m.local_apic_address, 0xFEE00000u);
  EXPECT_FALSE(m.has_address_override);
  EXPECT_TRUE(m.pcat_compat());
  EXPECT_FALSE(m.truncated());
  EXPECT_EQ(m.other_entries, 0u);

  ASSERT_EQ(m.cpus.size(), n);
  EXPECT_EQ(m.enabled_cpus(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(m.cpus[i].apic_id, i);
    EXPECT_EQ(m.cpus[i].acpi_uid, i);
    EXPECT_TRUE(m.cpus[i].enabled);
    EXPECT_FALSE(m.cpus[i].online_capable);
    EXPECT_FALSE(m.cpus[i].x2apic);
  }

  ASSERT_EQ(m.ioapics.size(), 1u);
  EXPECT_EQ(m.ioapics[0].id, 0);
  EXPECT_EQ(m.ioapics[0].address, 0xFEC00000u);
  EXPECT_EQ(m.ioapics[0].gsi_base, 0u);

  // ISA IRQ 0 -> GSI 2 with bus defaults; the PCI IRQs 5, 9, 10, 11 level,
  // active high (flags 0xd), as the summary decodes.
  struct Iso {
    uint8_t irq;
    uint32_t gsi;
    uint16_t flags;
  };
  const Iso want[] = {{0, 2, 0}, {5, 5, 0xd}, {9, 9, 0xd}, {10, 10, 0xd}, {11, 11, 0xd}};
  ASSERT_EQ(m.overrides.size(), std::size(want));
  for (size_t i = 0; i < std::size(want); ++i) {
    EXPECT_EQ(m.overrides[i].bus, 0);
    EXPECT_EQ(m.overrides[i].source_irq, want[i].irq);
    EXPECT_EQ(m.overrides[i].gsi, want[i].gsi);
    EXPECT_EQ(m.overrides[i].flags, want[i].flags);
  }
  EXPECT_EQ(m.overrides[0].polarity, Polarity::kConforming);
  EXPECT_EQ(m.overrides[0].trigger, Trigger::kConforming);
  EXPECT_EQ(m.overrides[1].polarity, Polarity::kActiveHigh);
  EXPECT_EQ(m.overrides[1].trigger, Trigger::kLevel);

  EXPECT_EQ(m.nmi_sources.size(), 0u);
  ASSERT_EQ(m.local_apic_nmis.size(), 1u);
  EXPECT_TRUE(m.local_apic_nmis[0].all_processors);
  EXPECT_EQ(m.local_apic_nmis[0].acpi_uid, 0xFFu);
  EXPECT_EQ(m.local_apic_nmis[0].lint, 1);
  EXPECT_FALSE(m.local_apic_nmis[0].x2apic);
}

TEST_P(RealTables, OverflowIsCountedNotSilent) {
  ParseError err;
  Table t{boot_->addr["APIC"], span(boot_->tables["APIC"])};
  MadtArrays<1, 1, 2, 1> arrays;
  auto madt = parse_madt(t, arrays.storage(), &err);
  ASSERT_TRUE(madt.ok());
  EXPECT_EQ(madt.value().cpus.size(), 1u);
  EXPECT_EQ(madt.value().cpus.dropped(), GetParam().cpus - 1);
  EXPECT_EQ(madt.value().cpus.total(), GetParam().cpus);
  EXPECT_EQ(madt.value().overrides.size(), 2u);
  EXPECT_EQ(madt.value().overrides.dropped(), 3u);
  EXPECT_TRUE(madt.value().truncated());

  // No storage at all still counts everything.
  auto counted = parse_madt(t, MadtStorage{}, &err);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted.value().cpus.total(), GetParam().cpus);
  EXPECT_EQ(counted.value().ioapics.dropped(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Boot, RealTables, ::testing::ValuesIn(kConfigs),
                         [](const ::testing::TestParamInfo<Config>& info) {
                           std::string s = info.param.name;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// --- RSDP corruption --------------------------------------------------------

class Corrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    boot_ = load("m4G-smp8-max");
    ASSERT_EQ(boot_->rsdp.size(), 20u);
  }
  Table madt() { return Table{boot_->addr["APIC"], span(boot_->tables["APIC"])}; }
  // Replaces the MADT in memory (and in `tables`) with `bytes`.
  void set_madt(const Bytes& bytes) {
    boot_->tables["APIC"] = bytes;
    boot_->mem.place(boot_->addr["APIC"], bytes);
  }
  base::Result<Table> find_madt(ParseError* err) {
    auto rsdp = parse_rsdp(span(boot_->rsdp), err);
    if (!rsdp.ok()) return rsdp.error();
    auto root = RootTable::open(rsdp.value(), boot_->mem.map(), err);
    if (!root.ok()) return root.error();
    return root.value().find_table("APIC", err);
  }
  std::unique_ptr<Boot> boot_;
};

TEST_F(Corrupt, RsdpChecksum) {
  Bytes r = boot_->rsdp;
  r[12] ^= 0x01;  // inside the OEM id
  ParseError err;
  auto rsdp = parse_rsdp(span(r), &err);
  ASSERT_FALSE(rsdp.ok());
  EXPECT_EQ(rsdp.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "RSDP checksum over 20 bytes is not zero");
  EXPECT_EQ(err.offset, 8u);
  EXPECT_NE(err.value, 0u);
}

TEST_F(Corrupt, RsdpSignatureAndSize) {
  Bytes r = boot_->rsdp;
  r[0] = 'X';
  ParseError err;
  EXPECT_EQ(parse_rsdp(span(r), &err).error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "RSDP signature is not 'RSD PTR '");
  EXPECT_EQ(parse_rsdp(base::Span<const uint8_t>(boot_->rsdp.data(), 19), &err).error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "RSDP copy shorter than 20 bytes");
  // A present but bad tag does not fall back to scanning.
  place_bios_areas(boot_->mem, boot_->ebda, boot_->scanned_rsdp, boot_->rsdp);
  EXPECT_FALSE(find_rsdp(span(r), boot_->mem.map(), &err).ok());
}

TEST_F(Corrupt, ScanSkipsBadCandidates) {
  Bytes bad = boot_->rsdp;
  bad[10] ^= 0xFF;
  // A corrupt copy in the EBDA, the good one in the BIOS area.
  place_bios_areas(boot_->mem, boot_->ebda, boot_->scanned_rsdp, boot_->rsdp);
  Bytes& ebda = boot_->mem.at(boot_->ebda);
  std::memcpy(ebda.data() + 0x10, bad.data(), bad.size());
  ParseError err;
  auto rsdp = scan_for_rsdp(boot_->mem.map(), &err);
  ASSERT_TRUE(rsdp.ok()) << err.what;
  EXPECT_EQ(rsdp.value().address, boot_->scanned_rsdp);

  // Only corrupt copies: not found, with a reason.
  Bytes& bios = boot_->mem.at(0xE0000);
  std::memcpy(bios.data() + (boot_->scanned_rsdp - 0xE0000), bad.data(), bad.size());
  rsdp = scan_for_rsdp(boot_->mem.map(), &err);
  EXPECT_EQ(rsdp.error(), base::Error::kNotFound);
  EXPECT_STREQ(err.what, "no valid RSDP in the EBDA or 0xE0000-0xFFFFF");

  // An RSDP off a 16-byte boundary is not one ([acpi] 5.2.5.1).
  std::memset(bios.data(), 0, bios.size());
  std::memcpy(bios.data() + 0x15008, boot_->rsdp.data(), boot_->rsdp.size());
  EXPECT_EQ(scan_for_rsdp(boot_->mem.map(), &err).error(), base::Error::kNotFound);
}

TEST_F(Corrupt, ScanWithNoMemory) {
  FakePhys empty;
  ParseError err;
  EXPECT_EQ(scan_for_rsdp(empty.map(), &err).error(), base::Error::kFault);
  EXPECT_STREQ(err.what, "BIOS areas not readable");
}

TEST_F(Corrupt, RsdtChecksum) {
  Bytes& rsdt = boot_->mem.at(boot_->addr["RSDT"]);
  rsdt[40] ^= 0x80;
  ParseError err;
  auto t = find_madt(&err);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "table checksum is not zero");
  EXPECT_EQ(err.address, boot_->addr["RSDT"]);
}

TEST_F(Corrupt, RsdtNotThere) {
  Bytes r = boot_->rsdp;
  put_u32(r, 16, 0x12345678);
  fix_checksum(r, 8, 20);
  ParseError err;
  auto rsdp = parse_rsdp(span(r), &err);
  ASSERT_TRUE(rsdp.ok());
  auto root = RootTable::open(rsdp.value(), boot_->mem.map(), &err);
  EXPECT_EQ(root.error(), base::Error::kFault);
  EXPECT_STREQ(err.what, "table header not readable");
  EXPECT_EQ(err.address, 0x12345678u);
}

TEST_F(Corrupt, MadtChecksum) {
  Bytes m = boot_->tables["APIC"];
  m[50] ^= 0x04;
  set_madt(m);
  ParseError err;
  auto t = find_madt(&err);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "table checksum is not zero");
  EXPECT_EQ(err.address, boot_->addr["APIC"]);
  EXPECT_EQ(err.offset, 9u);
}

TEST_F(Corrupt, TableLengthTooSmall) {
  Bytes m = boot_->tables["APIC"];
  put_u32(m, 4, 20);
  fix_table_checksum(m);  // over the full bytes; the length check comes first
  set_madt(m);
  ParseError err;
  auto t = find_madt(&err);
  EXPECT_EQ(t.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "table length below the 36-byte header");
  EXPECT_EQ(err.value, 20u);
}

TEST_F(Corrupt, TableLengthBeyondMemory) {
  Bytes m = boot_->tables["APIC"];
  put_u32(m, 4, static_cast<uint32_t>(m.size() + 0x1000));
  set_madt(m);
  ParseError err;
  auto t = find_madt(&err);
  EXPECT_EQ(t.error(), base::Error::kFault);
  EXPECT_STREQ(err.what, "table not readable to its length");

  put_u32(m, 4, 0x80000000u);
  set_madt(m);
  EXPECT_EQ(find_madt(&err).error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "table length above the 16 MiB sanity limit");
}

TEST_F(Corrupt, MadtTruncatedToHeader) {
  // A valid 40-byte "MADT": the checksum is fine, the fixed part is missing.
  Bytes m(boot_->tables["APIC"].begin(), boot_->tables["APIC"].begin() + 40);
  put_u32(m, 4, 40);
  fix_table_checksum(m);
  set_madt(m);
  ParseError err;
  auto t = find_madt(&err);
  ASSERT_TRUE(t.ok()) << err.what;
  auto madt = parse_madt(t.value(), MadtStorage{}, &err);
  EXPECT_EQ(madt.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "MADT shorter than its 44-byte fixed part");
}

TEST_F(Corrupt, MadtLengthOverrunsSpan) {
  Bytes m = boot_->tables["APIC"];
  put_u32(m, 4, static_cast<uint32_t>(m.size() + 1));
  ParseError err;
  auto madt = parse_madt(Table{0x1000, span(m)}, MadtStorage{}, &err);
  EXPECT_EQ(madt.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "MADT length overruns the mapped table");
}

TEST_F(Corrupt, NotAMadt) {
  ParseError err;
  Table facp{boot_->addr["FACP"], span(boot_->tables["FACP"])};
  EXPECT_EQ(parse_madt(facp, MadtStorage{}, &err).error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "MADT signature is not 'APIC'");
}

TEST_F(Corrupt, MadtEntryLengthZeroOrOne) {
  for (uint8_t len : {0, 1}) {
    Bytes m = boot_->tables["APIC"];
    m[44 + 8 + 1] = len;  // the second entry (LAPIC 1)
    fix_table_checksum(m);
    set_madt(m);
    ParseError err;
    auto t = find_madt(&err);
    ASSERT_TRUE(t.ok());
    auto madt = parse_madt(t.value(), MadtStorage{}, &err);
    EXPECT_EQ(madt.error(), base::Error::kMalformed);
    EXPECT_STREQ(err.what, "MADT entry length below 2");
    EXPECT_EQ(err.address, boot_->addr["APIC"]);
    EXPECT_EQ(err.offset, 52u);
    EXPECT_EQ(err.value, len);
  }
}

TEST_F(Corrupt, MadtEntryOverruns) {
  Bytes m = boot_->tables["APIC"];
  const size_t last = m.size() - 6;  // the 6-byte local APIC NMI entry
  ASSERT_EQ(m[last], 4);
  m[last + 1] = 7;
  ParseError err;
  auto madt = parse_madt(Table{0x2000, span(m)}, MadtStorage{}, &err);
  EXPECT_EQ(madt.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "MADT entry overruns the table");
  EXPECT_EQ(err.offset, last);
  EXPECT_EQ(err.value, 7u);

  m[last + 1] = 0xFF;
  EXPECT_FALSE(parse_madt(Table{0x2000, span(m)}, MadtStorage{}, &err).ok());
  EXPECT_STREQ(err.what, "MADT entry overruns the table");
}

TEST_F(Corrupt, MadtEntryTooShortForType) {
  Bytes m = boot_->tables["APIC"];
  // Shrink the first LAPIC entry to 4 bytes, leaving 4 unknown bytes after.
  m[45] = 4;
  ParseError err;
  auto madt = parse_madt(Table{0x2000, span(m)}, MadtStorage{}, &err);
  EXPECT_EQ(madt.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "MADT entry too short for its type");
  EXPECT_EQ(err.offset, 44u);
}

TEST_F(Corrupt, MadtDanglingByte) {
  Bytes m = boot_->tables["APIC"];
  m.push_back(0);
  put_u32(m, 4, static_cast<uint32_t>(m.size()));
  ParseError err;
  auto madt = parse_madt(Table{0x2000, span(m)}, MadtStorage{}, &err);
  EXPECT_EQ(madt.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "MADT entry header overruns the table");
  EXPECT_EQ(err.offset, m.size() - 1);
}

// --- hand-made ACPI 2.0 tables ------------------------------------------------

Bytes make_header(const char* sig, size_t length, uint8_t revision) {
  Bytes t(length, 0);
  std::memcpy(t.data(), sig, 4);
  put_u32(t, 4, static_cast<uint32_t>(length));
  t[8] = revision;
  std::memcpy(t.data() + 10, "TESTOE", 6);
  std::memcpy(t.data() + 16, "BISCOTTI", 8);
  return t;
}

Bytes make_rsdp_v2(uint32_t rsdt, uint64_t xsdt) {
  Bytes r(36, 0);
  std::memcpy(r.data(), "RSD PTR ", 8);
  std::memcpy(r.data() + 9, "TESTOE", 6);
  r[15] = 2;
  put_u32(r, 16, rsdt);
  put_u32(r, 20, 36);
  put_u64(r, 24, xsdt);
  fix_checksum(r, 8, 20);
  fix_checksum(r, 32, 36);
  return r;
}

class Xsdt : public Corrupt {
 protected:
  static constexpr uint64_t kXsdtAt = 0x1'2345'6783;  // above 4 GiB, odd
  void SetUp() override {
    Corrupt::SetUp();
    const Bytes& rsdt = boot_->tables["RSDT"];
    const size_t n = (rsdt.size() - 36) / 4;
    Bytes x = make_header("XSDT", 36 + 8 * n, 1);
    for (size_t i = 0; i < n; ++i) put_u64(x, 36 + 8 * i, get_u32(rsdt, 36 + 4 * i));
    fix_table_checksum(x);
    boot_->mem.place(kXsdtAt, x);
    rsdp_ = make_rsdp_v2(static_cast<uint32_t>(boot_->addr["RSDT"]), kXsdtAt);
  }
  Bytes rsdp_;
};

TEST_F(Xsdt, PreferredOverRsdt) {
  ParseError err;
  auto rsdp = parse_rsdp(span(rsdp_), &err);
  ASSERT_TRUE(rsdp.ok()) << err.what;
  EXPECT_EQ(rsdp.value().revision, 2);
  EXPECT_EQ(rsdp.value().xsdt_address, kXsdtAt);
  auto root = RootTable::open(rsdp.value(), boot_->mem.map(), &err);
  ASSERT_TRUE(root.ok()) << err.what;
  EXPECT_TRUE(root.value().is_xsdt());
  EXPECT_EQ(root.value().table().address, kXsdtAt);
  EXPECT_EQ(root.value().size(), 4u);
  auto t = root.value().find_table("APIC", &err);
  ASSERT_TRUE(t.ok()) << err.what;
  EXPECT_EQ(t.value().address, boot_->addr["APIC"]);
}

TEST_F(Xsdt, BrokenXsdtFallsBackToRsdt) {
  boot_->mem.at(kXsdtAt)[40] ^= 1;
  ParseError err;
  auto rsdp = parse_rsdp(span(rsdp_), &err);
  ASSERT_TRUE(rsdp.ok());
  auto root = RootTable::open(rsdp.value(), boot_->mem.map(), &err);
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(root.value().is_xsdt());

  // Without an RSDT to fall back on, the XSDT's own error is reported.
  Bytes r = make_rsdp_v2(0, kXsdtAt);
  rsdp = parse_rsdp(span(r), &err);
  ASSERT_TRUE(rsdp.ok());
  root = RootTable::open(rsdp.value(), boot_->mem.map(), &err);
  EXPECT_EQ(root.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "table checksum is not zero");
  EXPECT_EQ(err.address, kXsdtAt);
}

TEST_F(Xsdt, RsdpExtendedChecksum) {
  Bytes r = rsdp_;
  r[33] ^= 1;  // reserved byte, covered only by the extended checksum
  ParseError err;
  EXPECT_EQ(parse_rsdp(span(r), &err).error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "RSDP extended checksum is not zero");

  r = rsdp_;
  put_u32(r, 20, 35);
  fix_checksum(r, 32, 36);
  EXPECT_EQ(parse_rsdp(span(r), &err).error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "RSDP length below 36");

  // GRUB's old-RSDP tag: the 20-byte part of a 2.0 RSDP is still usable.
  auto v1 = parse_rsdp(base::Span<const uint8_t>(rsdp_.data(), 20), &err);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1.value().revision, 2);
  EXPECT_EQ(v1.value().xsdt_address, 0u);
  EXPECT_EQ(v1.value().rsdt_address, boot_->addr["RSDT"]);
}

TEST_F(Xsdt, ScanFindsV2RsdpAtTheVeryEnd) {
  // The last boundary where the 20-byte part still fits below 1 MiB: the
  // extension lies past it and must be mapped on its own.
  place_bios_areas(boot_->mem, boot_->ebda, 0xFFFE0, rsdp_);
  ParseError err;
  auto rsdp = scan_for_rsdp(boot_->mem.map(), &err);
  ASSERT_TRUE(rsdp.ok()) << err.what;
  EXPECT_EQ(rsdp.value().address, 0xFFFE0u);
  EXPECT_EQ(rsdp.value().xsdt_address, kXsdtAt);
}

// --- several MADTs (QEMU's -acpitable sig=APIC appends one) -----------------

// A MADT of `n` enabled x2APIC processors (type 9, 16 bytes each).
Bytes make_x2apic_madt(size_t n) {
  Bytes m = make_header("APIC", 44 + 16 * n, 4);
  put_u32(m, 36, 0xFEE00000u);
  for (size_t i = 0; i < n; ++i) {
    const size_t at = 44 + 16 * i;
    m[at] = 9;
    m[at + 1] = 16;
    put_u32(m, at + 4, static_cast<uint32_t>(i));   // x2APIC id
    put_u32(m, at + 8, 1);                          // enabled
    put_u32(m, at + 12, static_cast<uint32_t>(i));  // uid
  }
  fix_table_checksum(m);
  return m;
}

struct Verdicts {
  std::vector<MadtVerdict> seen;
  static void note(void* ctx, const MadtVerdict& v) { static_cast<Verdicts*>(ctx)->seen.push_back(v); }
  MadtObserver observer() { return MadtObserver{&Verdicts::note, this}; }
};

class SeveralMadts : public Corrupt {
 protected:
  static constexpr uint64_t kExtraAt = 0x7'0000;  // extra tables 4 KiB apart
  static constexpr uint64_t kRsdtAt = 0x6'0000;
  // A root table listing the real FACP, then each of `madts` in order
  // (nullptr = the real MADT); the others are placed in fake memory.
  RootTable root_of(const std::vector<const Bytes*>& madts) {
    std::vector<uint32_t> entries = {static_cast<uint32_t>(boot_->addr["FACP"])};
    for (size_t i = 0; i < madts.size(); ++i) {
      if (madts[i] == nullptr) {
        entries.push_back(static_cast<uint32_t>(boot_->addr["APIC"]));
        continue;
      }
      const uint64_t at = kExtraAt + 0x2000 * i;
      boot_->mem.place(at, *madts[i]);
      entries.push_back(static_cast<uint32_t>(at));
    }
    Bytes rsdt = make_header("RSDT", 36 + 4 * entries.size(), 1);
    for (size_t i = 0; i < entries.size(); ++i) put_u32(rsdt, 36 + 4 * i, entries[i]);
    fix_table_checksum(rsdt);
    boot_->mem.place(kRsdtAt, rsdt);
    Rsdp rsdp;
    rsdp.rsdt_address = kRsdtAt;
    ParseError err;
    auto root = RootTable::open(rsdp, boot_->mem.map(), &err);
    EXPECT_TRUE(root.ok()) << err.what;
    return root.value();
  }
  MadtArrays<256> arrays_;
  Verdicts verdicts_;
};

TEST_F(SeveralMadts, TheFirstValidOneIsUsedAndALaterOneNamed) {
  const Bytes big = make_x2apic_madt(300);
  ParseError err;
  auto madt = choose_madt(root_of({nullptr, &big}), arrays_.storage(), verdicts_.observer(), &err);
  ASSERT_TRUE(madt.ok()) << err.what;
  EXPECT_EQ(madt.value().cpus.total(), 8u);  // QEMU's own: -smp 8
  ASSERT_EQ(verdicts_.seen.size(), 2u);
  EXPECT_TRUE(verdicts_.seen[0].chosen);
  EXPECT_EQ(verdicts_.seen[0].address, boot_->addr["APIC"]);
  EXPECT_EQ(verdicts_.seen[0].cpus, 8u);
  const MadtVerdict& later = verdicts_.seen[1];
  EXPECT_TRUE(later.valid);
  EXPECT_FALSE(later.chosen);
  EXPECT_EQ(later.index, 1u);
  EXPECT_EQ(later.address, kExtraAt + 0x2000);
  EXPECT_EQ(later.cpus, 300u);  // counted, though not stored
  EXPECT_EQ(later.chosen_index, 0u);
  EXPECT_EQ(later.chosen_address, boot_->addr["APIC"]);
}

TEST_F(SeveralMadts, ACorruptFirstOneIsSkippedForTheNextValidOne) {
  Bytes bad_sum = make_x2apic_madt(2);
  bad_sum[50] ^= 1;
  Bytes zero_entry = make_x2apic_madt(2);
  zero_entry[44 + 16 + 1] = 0;  // the second entry's length
  fix_table_checksum(zero_entry);
  ParseError err;
  auto madt = choose_madt(root_of({&bad_sum, &zero_entry, nullptr}), arrays_.storage(), verdicts_.observer(), &err);
  ASSERT_TRUE(madt.ok()) << err.what;
  EXPECT_EQ(madt.value().cpus.total(), 8u);
  ASSERT_EQ(verdicts_.seen.size(), 3u);
  EXPECT_EQ(verdicts_.seen[0].error, base::Error::kMalformed);
  EXPECT_STREQ(verdicts_.seen[0].why.what, "table checksum is not zero");
  EXPECT_EQ(verdicts_.seen[0].address, kExtraAt);
  EXPECT_EQ(verdicts_.seen[1].error, base::Error::kMalformed);
  EXPECT_STREQ(verdicts_.seen[1].why.what, "MADT entry length below 2");
  EXPECT_EQ(verdicts_.seen[1].why.offset, 60u);
  EXPECT_EQ(verdicts_.seen[1].address, kExtraAt + 0x2000);
  EXPECT_TRUE(verdicts_.seen[2].chosen);
  EXPECT_EQ(verdicts_.seen[2].index, 2u);
}

TEST_F(SeveralMadts, NoneValidIsTheFirstError) {
  Bytes truncated = make_header("APIC", 40, 4);  // no room for the fixed part
  fix_table_checksum(truncated);
  Bytes overrun = make_x2apic_madt(1);
  overrun[45] = 20;  // the entry claims 4 bytes past the table's end
  fix_table_checksum(overrun);
  ParseError err;
  auto madt = choose_madt(root_of({&truncated, &overrun}), arrays_.storage(), verdicts_.observer(), &err);
  EXPECT_EQ(madt.error(), base::Error::kMalformed);
  EXPECT_STREQ(err.what, "MADT shorter than its 44-byte fixed part");
  ASSERT_EQ(verdicts_.seen.size(), 2u);
  EXPECT_STREQ(verdicts_.seen[1].why.what, "MADT entry overruns the table");
  EXPECT_FALSE(verdicts_.seen[0].chosen || verdicts_.seen[1].chosen);
}

TEST_F(SeveralMadts, NoMadtIsNotFound) {
  ParseError err;
  auto madt = choose_madt(root_of({}), arrays_.storage(), MadtObserver{nullptr, nullptr}, &err);
  EXPECT_EQ(madt.error(), base::Error::kNotFound);
  EXPECT_STREQ(err.what, "no MADT in the root table");
}

TEST_F(SeveralMadts, AtMostkMaxMadtsAreExamined) {
  Bytes bad = make_header("APIC", 40, 4);
  fix_table_checksum(bad);
  std::vector<const Bytes*> many(kMaxMadts + 4, &bad);
  many.push_back(nullptr);  // a valid one past the cap is not reached
  ParseError err;
  auto madt = choose_madt(root_of(many), arrays_.storage(), verdicts_.observer(), &err);
  EXPECT_EQ(madt.error(), base::Error::kMalformed);
  EXPECT_EQ(verdicts_.seen.size(), kMaxMadts);
}

// A MADT with every decoded entry type plus one we skip.
Table table_of(const Bytes& b) { return Table{0x1000, span(b)}; }

TEST(FadtReset, Q35HasTheResetRegister) {
  const Bytes fadt = read_boot("m2G-smp4-q35-max.acpi.FACP.bin");
  ParseError err;
  auto r = parse_fadt_reset(table_of(fadt), &err);
  ASSERT_TRUE(r.ok()) << err.what;
  EXPECT_EQ(r.value().reg.space_id, GenericAddress::kSystemIo);
  EXPECT_EQ(r.value().reg.bit_width, 8);
  EXPECT_EQ(r.value().reg.address, 0xcf9u);  // the chipset's reset control register
  EXPECT_EQ(r.value().value, 0xf);
}

TEST(FadtReset, PcMachineFadtIsAcpi10WithoutOne) {
  const Bytes fadt = read_boot("m128M-smp2-qemu64.acpi.FACP.bin");
  ASSERT_EQ(fadt.size(), 116u);
  ParseError err;
  auto r = parse_fadt_reset(table_of(fadt), &err);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), base::Error::kNotFound);
  EXPECT_STREQ(err.what, "FADT too short for a reset register (ACPI 1.0)");
  EXPECT_EQ(err.offset, 116u);
}

TEST(FadtReset, FlagClearMeansNone) {
  Bytes fadt = read_boot("m2G-smp4-q35-max.acpi.FACP.bin");
  fadt[113] &= ~0x04;  // bit 10 of the flags at 112
  fix_table_checksum(fadt);
  ParseError err;
  auto r = parse_fadt_reset(table_of(fadt), &err);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), base::Error::kNotFound);
  EXPECT_EQ(err.offset, 112u);
  // Exactly 129 bytes is the shortest FADT holding the register.
  Bytes cut = read_boot("m2G-smp4-q35-max.acpi.FACP.bin");
  cut.resize(129);
  EXPECT_TRUE(parse_fadt_reset(table_of(cut), &err).ok());
  cut.resize(128);
  EXPECT_FALSE(parse_fadt_reset(table_of(cut), &err).ok());
}

TEST(FadtPmTimer, PcAndQ35HaveA24BitTimerAt0x608) {
  // The PIIX4 and ICH9 PM blocks both sit at 0x600 under QEMU; the timer
  // is at +8. The pc FADT (ACPI 1.0) has only PM_TMR_BLK, q35's also
  // X_PM_TMR_BLK with the same port.
  for (const char* name : {"m128M-smp2-qemu64.acpi.FACP.bin", "m2G-smp4-q35-max.acpi.FACP.bin"}) {
    const Bytes fadt = read_boot(name);
    ParseError err;
    auto t = parse_fadt_pm_timer(table_of(fadt), &err);
    ASSERT_TRUE(t.ok()) << name << ": " << err.what;
    EXPECT_EQ(t.value().port, 0x608) << name;
    EXPECT_FALSE(t.value().width_32) << name;
  }
}

TEST(FadtPmTimer, ExtendedFlagAndExtendedBlock) {
  Bytes fadt = read_boot("m2G-smp4-q35-max.acpi.FACP.bin");
  fadt[113] |= 0x01;  // TMR_VAL_EXT: bit 8 of the flags at 112
  fadt[212] = 0x08;   // X_PM_TMR_BLK address 0x808, PM_TMR_BLK left at 0x608
  fadt[213] = 0x08;
  ParseError err;
  auto t = parse_fadt_pm_timer(table_of(fadt), &err);
  ASSERT_TRUE(t.ok()) << err.what;
  EXPECT_EQ(t.value().port, 0x808);
  EXPECT_TRUE(t.value().width_32);
  // A zero X_PM_TMR_BLK falls back to PM_TMR_BLK.
  for (size_t i = 212; i < 220; ++i) fadt[i] = 0;
  t = parse_fadt_pm_timer(table_of(fadt), &err);
  ASSERT_TRUE(t.ok()) << err.what;
  EXPECT_EQ(t.value().port, 0x608);
}

TEST(FadtPmTimer, RejectsWhatItCannotRead) {
  ParseError err;
  Bytes memory_space = read_boot("m2G-smp4-q35-max.acpi.FACP.bin");
  memory_space[208] = GenericAddress::kSystemMemory;
  auto t = parse_fadt_pm_timer(table_of(memory_space), &err);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), base::Error::kUnsupported);
  EXPECT_STREQ(err.what, "X_PM_TMR_BLK is not in system I/O space");

  Bytes none = read_boot("m128M-smp2-qemu64.acpi.FACP.bin");
  for (size_t i = 76; i < 80; ++i) none[i] = 0;
  t = parse_fadt_pm_timer(table_of(none), &err);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), base::Error::kNotFound);
  EXPECT_STREQ(err.what, "FADT lists no PM timer");

  Bytes bad_length = read_boot("m128M-smp2-qemu64.acpi.FACP.bin");
  bad_length[91] = 2;
  t = parse_fadt_pm_timer(table_of(bad_length), &err);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), base::Error::kMalformed);
  EXPECT_EQ(err.offset, 91u);

  Bytes cut = read_boot("m128M-smp2-qemu64.acpi.FACP.bin");
  cut.resize(115);
  EXPECT_EQ(parse_fadt_pm_timer(table_of(cut), &err).error(), base::Error::kMalformed);
  cut.resize(116);
  EXPECT_TRUE(parse_fadt_pm_timer(table_of(cut), &err).ok());

  const Bytes madt = read_boot("m128M-smp2-qemu64.acpi.APIC.bin");
  EXPECT_EQ(parse_fadt_pm_timer(table_of(madt), &err).error(), base::Error::kMalformed);
}

TEST(FadtReset, NotAnFadt) {
  const Bytes madt = read_boot("m128M-smp2-qemu64.acpi.APIC.bin");
  ParseError err;
  auto r = parse_fadt_reset(table_of(madt), &err);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), base::Error::kMalformed);
}

TEST(MadtEntries, X2ApicAndFriends) {
  Bytes m = make_header("APIC", 44, 5);
  put_u32(m, 36, 0xFEE00000);
  put_u32(m, 40, 0);  // no 8259s
  auto add = [&](Bytes e) {
    e[1] = static_cast<uint8_t>(e.size());
    m.insert(m.end(), e.begin(), e.end());
  };
  add({0, 0, 7, 3, 0x02, 0, 0, 0});  // LAPIC uid 7 id 3, online capable only
  Bytes x2(16, 0);
  x2[0] = 9;
  put_u32(x2, 4, 0x1234);     // x2APIC id
  put_u32(x2, 8, 1);          // enabled
  put_u32(x2, 12, 0xABCDEF);  // uid
  add(x2);
  Bytes io(12, 0);
  io[0] = 1;
  io[2] = 9;
  put_u32(io, 4, 0xFEC01000);
  put_u32(io, 8, 24);
  add(io);
  Bytes iso(10, 0);
  iso[0] = 2;
  iso[3] = 9;
  put_u32(iso, 4, 20);
  put_u16(iso, 8, 0x000F);  // level, active low
  add(iso);
  Bytes nmi(8, 0);
  nmi[0] = 3;
  put_u16(nmi, 2, 0x0005);  // edge, active high
  put_u32(nmi, 4, 30);
  add(nmi);
  Bytes ovr(12, 0);
  ovr[0] = 5;
  put_u64(ovr, 4, 0x1'FEE0'0000);
  add(ovr);
  Bytes xnmi(12, 0);
  xnmi[0] = 0xA;
  put_u32(xnmi, 4, 0xFFFFFFFF);
  xnmi[8] = 1;
  add(xnmi);
  add({4, 0, 0x02, 0, 0, 0, 0});  // LAPIC NMI uid 2, LINT0, 7 bytes (longer is fine)
  add({0x10, 0, 1, 2, 3});        // unknown type: skipped
  put_u32(m, 4, static_cast<uint32_t>(m.size()));
  fix_table_checksum(m);

  MadtArrays<4> arrays;
  ParseError err;
  auto r = parse_madt(Table{0x5000, span(m)}, arrays.storage(), &err);
  ASSERT_TRUE(r.ok()) << err.what << " at +" << err.offset;
  const Madt& madt = r.value();
  EXPECT_EQ(madt.revision, 5);
  EXPECT_FALSE(madt.pcat_compat());
  EXPECT_EQ(madt.local_apic_address32, 0xFEE00000u);
  EXPECT_EQ(madt.local_apic_address, 0x1'FEE0'0000u);
  EXPECT_TRUE(madt.has_address_override);
  EXPECT_EQ(madt.other_entries, 1u);

  ASSERT_EQ(madt.cpus.size(), 2u);
  EXPECT_EQ(madt.cpus[0].apic_id, 3u);
  EXPECT_EQ(madt.cpus[0].acpi_uid, 7u);
  EXPECT_FALSE(madt.cpus[0].enabled);
  EXPECT_TRUE(madt.cpus[0].online_capable);
  EXPECT_FALSE(madt.cpus[0].x2apic);
  EXPECT_EQ(madt.cpus[1].apic_id, 0x1234u);
  EXPECT_EQ(madt.cpus[1].acpi_uid, 0xABCDEFu);
  EXPECT_TRUE(madt.cpus[1].enabled);
  EXPECT_TRUE(madt.cpus[1].x2apic);
  EXPECT_EQ(madt.enabled_cpus(), 1u);

  ASSERT_EQ(madt.ioapics.size(), 1u);
  EXPECT_EQ(madt.ioapics[0].id, 9);
  EXPECT_EQ(madt.ioapics[0].address, 0xFEC01000u);
  EXPECT_EQ(madt.ioapics[0].gsi_base, 24u);

  ASSERT_EQ(madt.overrides.size(), 1u);
  EXPECT_EQ(madt.overrides[0].source_irq, 9);
  EXPECT_EQ(madt.overrides[0].gsi, 20u);
  EXPECT_EQ(madt.overrides[0].polarity, Polarity::kActiveLow);
  EXPECT_EQ(madt.overrides[0].trigger, Trigger::kLevel);

  ASSERT_EQ(madt.nmi_sources.size(), 1u);
  EXPECT_EQ(madt.nmi_sources[0].gsi, 30u);
  EXPECT_EQ(madt.nmi_sources[0].polarity, Polarity::kActiveHigh);
  EXPECT_EQ(madt.nmi_sources[0].trigger, Trigger::kEdge);

  ASSERT_EQ(madt.local_apic_nmis.size(), 2u);
  EXPECT_TRUE(madt.local_apic_nmis[0].x2apic);
  EXPECT_TRUE(madt.local_apic_nmis[0].all_processors);
  EXPECT_EQ(madt.local_apic_nmis[0].lint, 1);
  EXPECT_FALSE(madt.local_apic_nmis[1].x2apic);
  EXPECT_FALSE(madt.local_apic_nmis[1].all_processors);
  EXPECT_EQ(madt.local_apic_nmis[1].acpi_uid, 2u);
  EXPECT_EQ(madt.local_apic_nmis[1].lint, 0);
}

// --- seeded random corruption -------------------------------------------------

// Parses `bytes` from an exact-size heap copy so ASan catches any overread.
bool parse_exact(const Bytes& bytes, size_t* cpus) {
  auto copy = std::make_unique<uint8_t[]>(bytes.size() ? bytes.size() : 1);
  if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
  static MadtArrays<8, 2, 4, 2> arrays;  // small: overflow paths get exercised too
  ParseError err;
  auto r = parse_madt(Table{0x3000, base::Span<const uint8_t>(copy.get(), bytes.size())}, arrays.storage(), &err);
  if (!r.ok()) {
    EXPECT_EQ(r.error(), base::Error::kMalformed);
    EXPECT_NE(err.what, nullptr);
    EXPECT_LE(err.offset, bytes.size());
    return false;
  }
  // Every entry is at least 2 bytes, so there cannot be more of them.
  *cpus = r.value().cpus.total();
  EXPECT_LE(r.value().cpus.total() + r.value().ioapics.total() + r.value().overrides.total(),
            (bytes.size() - kMadtFixedSize) / 2);
  return true;
}

TEST(Fuzz, FlippedMadtBytesNeverReadOutOfBounds) {
  std::mt19937 rng(0xB15C0771);
  size_t parsed = 0, rejected = 0;
  for (const Config& c : kConfigs) {
    const Bytes madt = read_boot(std::string(c.name) + ".acpi.APIC.bin");
    ASSERT_FALSE(madt.empty());
    for (int iter = 0; iter < 3000; ++iter) {
      Bytes m = madt;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) {
        // Bias towards the entry headers and the length field, where the
        // interesting failures live.
        size_t at = rng() % m.size();
        if (rng() % 2) at = (rng() % 2) ? 4 + rng() % 4 : 44 + rng() % (m.size() - 44);
        m[at] ^= static_cast<uint8_t>(1 + rng() % 255);
      }
      size_t cpus = 0;
      (parse_exact(m, &cpus) ? parsed : rejected)++;
    }
    // Every truncation, with the length field both kept and adjusted.
    for (size_t cut = 0; cut <= madt.size(); ++cut) {
      Bytes m(madt.begin(), madt.begin() + cut);
      size_t cpus = 0;
      parse_exact(m, &cpus);
      if (cut >= 8) {
        put_u32(m, 4, static_cast<uint32_t>(cut));
        parse_exact(m, &cpus);
      }
    }
  }
  // The corpus exercised both outcomes.
  EXPECT_GT(parsed, 100u);
  EXPECT_GT(rejected, 100u);
}

TEST(Fuzz, FlippedTablesThroughDiscovery) {
  // The same through the whole path, checksums repaired so the corruption
  // reaches the parsers: RSDT entries, table lengths, MADT entries.
  std::mt19937 rng(20240607);
  for (const Config& c : kConfigs) {
    for (int iter = 0; iter < 300; ++iter) {
      auto boot = load(c.name);
      const char* victim = (rng() % 2) ? "APIC" : "RSDT";
      Bytes t = boot->tables[victim];
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) t[rng() % t.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      if (rng() % 4) fix_table_checksum(t);
      boot->mem.place(boot->addr[victim], t);
      ParseError err;
      auto rsdp = parse_rsdp(span(boot->rsdp), &err);
      ASSERT_TRUE(rsdp.ok());
      auto root = RootTable::open(rsdp.value(), boot->mem.map(), &err);
      if (!root.ok()) continue;
      for (size_t i = 0; i < root.value().size(); ++i) (void)root.value().table_at(i, &err);
      auto madt_table = root.value().find_table("APIC", &err);
      if (!madt_table.ok()) continue;
      MadtArrays<8> arrays;
      (void)parse_madt(madt_table.value(), arrays.storage(), &err);
    }
  }
}

}  // namespace
// Table addresses are physical: an integer or a virtual address in their
// place does not compile.
template <typename A>
concept MapTableTakes = requires(const PhysMap& m, A a) {
  map_table(m, a, base::StrView(), nullptr);
};
static_assert(!MapTableTakes<uint64_t> && !MapTableTakes<base::VirtAddr> && MapTableTakes<base::PhysAddr>);
static_assert(std::is_same_v<decltype(std::declval<const RootTable&>().entry(0)), base::PhysAddr>);
static_assert(!std::is_invocable_v<const PhysMap&, uint64_t, size_t>);

}  // namespace arch::acpi
