#include "src/arch/fw_cfg.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace {

// A simulated fw_cfg device: items by selector key, a read cursor per
// selection, and the file directory built the way QEMU lays it out.
class FakeFwCfg {
 public:
  void add_file(const std::string& name, const std::string& contents) {
    files_.push_back({name, static_cast<uint16_t>(0x20 + files_.size()), contents});
  }
  void set_signature(const std::string& s) { signature_ = s; }

  void out16(uint16_t port, uint16_t v) {
    ASSERT_EQ(port, 0x510);
    current_ = item(v);
    cursor_ = 0;
  }
  uint8_t in8(uint16_t port) {
    EXPECT_EQ(port, 0x511);
    // Past the end the device reads zeros.
    return cursor_ < current_.size() ? static_cast<uint8_t>(current_[cursor_++]) : 0;
  }

 private:
  struct File {
    std::string name;
    uint16_t key;
    std::string contents;
  };
  std::string item(uint16_t key) {
    if (key == 0) return signature_;
    if (key == 0x19) {
      std::string dir;
      auto be = [&](uint32_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i) dir.push_back(static_cast<char>(v >> (8 * i)));
      };
      be(files_.size(), 4);
      for (auto& f : files_) {
        be(f.contents.size(), 4);
        be(f.key, 2);
        be(0, 2);
        std::string name = f.name;
        name.resize(56, '\0');
        dir += name;
      }
      return dir;
    }
    for (auto& f : files_)
      if (f.key == key) return f.contents;
    return "";
  }
  std::vector<File> files_;
  std::string signature_ = "QEMU";
  std::string current_;
  size_t cursor_ = 0;
};

struct FakeRef {
  FakeFwCfg* dev;
  void out16(uint16_t p, uint16_t v) { dev->out16(p, v); }
  uint8_t in8(uint16_t p) { return dev->in8(p); }
};

TEST(FwCfg, ReadsNamedFile) {
  FakeFwCfg dev;
  dev.add_file("etc/boot-menu", "x");
  dev.add_file("opt/biscotti/cmdline", "test=arch.*");
  arch::FwCfg<FakeRef> cfg(FakeRef{&dev});
  char buf[64] = {};
  EXPECT_EQ(cfg.read_file("opt/biscotti/cmdline", buf, sizeof(buf)), 11);
  EXPECT_STREQ(buf, "test=arch.*");
}

TEST(FwCfg, TruncatesToCapacityButReportsSize) {
  FakeFwCfg dev;
  dev.add_file("opt/biscotti/cmdline", "0123456789");
  arch::FwCfg<FakeRef> cfg(FakeRef{&dev});
  char buf[4] = {};
  EXPECT_EQ(cfg.read_file("opt/biscotti/cmdline", buf, sizeof(buf)), 10);
  EXPECT_EQ(std::string(buf, 4), "0123");
}

TEST(FwCfg, AbsentFileOrDevice) {
  FakeFwCfg dev;
  dev.add_file("opt/other", "x");
  arch::FwCfg<FakeRef> cfg(FakeRef{&dev});
  char buf[8];
  EXPECT_EQ(cfg.read_file("opt/biscotti/cmdline", buf, sizeof(buf)), -1);
  dev.set_signature("\xff\xff\xff\xff");  // no device: the ports float high
  EXPECT_FALSE(cfg.present());
  EXPECT_EQ(cfg.read_file("opt/other", buf, sizeof(buf)), -1);
}

}  // namespace
