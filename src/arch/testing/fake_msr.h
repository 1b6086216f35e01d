// A fake MSR bank for host tests of MSR-driven logic (x2APIC, TSC deadline):
// stored values, an access log, and optional per-MSR read/write callbacks
// that let a test simulate live registers (a counting-down timer). Host only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace arch::testing {

class FakeMsrBank {
 public:
  /// One RDMSR or WRMSR as the code under test issued it.
  struct Access {
    bool write;
    uint32_t msr;
    uint64_t value;  // the value written, or the value the read returned
    bool operator==(const Access&) const = default;
  };

  /// Makes `msr` exist with `value` (a real CPU #GPs on unknown MSRs; this
  /// fake records such accesses in unknown() instead).
  void set(uint32_t msr, uint64_t value) { values_[msr] = value; }
  /// The stored value (what the last write or set() left), 0 if none.
  uint64_t get(uint32_t msr) const {
    auto it = values_.find(msr);
    return it == values_.end() ? 0 : it->second;
  }
  bool has(uint32_t msr) const { return values_.count(msr) != 0 || read_hooks_.count(msr) != 0; }

  /// Reads of `msr` return hook() instead of the stored value.
  void on_read(uint32_t msr, std::function<uint64_t()> hook) { read_hooks_[msr] = std::move(hook); }
  /// Writes to `msr` call hook(value); the value is stored as well.
  void on_write(uint32_t msr, std::function<void(uint64_t)> hook) { write_hooks_[msr] = std::move(hook); }

  /// The MSR provider interface the logic under test calls.
  uint64_t read(uint32_t msr) {
    uint64_t v;
    if (auto h = read_hooks_.find(msr); h != read_hooks_.end()) {
      v = h->second();
    } else {
      if (values_.count(msr) == 0) unknown_.push_back(msr);
      v = get(msr);
    }
    log_.push_back({false, msr, v});
    return v;
  }
  void write(uint32_t msr, uint64_t value) {
    log_.push_back({true, msr, value});
    values_[msr] = value;
    if (auto h = write_hooks_.find(msr); h != write_hooks_.end()) h->second(value);
  }

  const std::vector<Access>& log() const { return log_; }
  /// Only the writes, in order.
  std::vector<Access> writes() const {
    std::vector<Access> w;
    for (const Access& a : log_)
      if (a.write) w.push_back(a);
    return w;
  }
  void clear_log() { log_.clear(); }
  /// MSRs read without having been set or hooked (a #GP on hardware).
  const std::vector<uint32_t>& unknown() const { return unknown_; }

 private:
  std::map<uint32_t, uint64_t> values_;
  std::map<uint32_t, std::function<uint64_t()>> read_hooks_;
  std::map<uint32_t, std::function<void(uint64_t)>> write_hooks_;
  std::vector<Access> log_;
  std::vector<uint32_t> unknown_;
};

/// A copyable handle for templates that hold their provider by value.
struct FakeMsr {
  FakeMsrBank* bank;
  uint64_t read(uint32_t msr) const { return bank->read(msr); }
  void write(uint32_t msr, uint64_t value) const { bank->write(msr, value); }
};

}  // namespace arch::testing
