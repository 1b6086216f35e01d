// README.md's table of kernel arguments and the kernel's boot options table
// name the same keys: neither can gain or lose an option without the other.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "src/monitor/boot_options.h"

namespace monitor {
namespace {

// Keys of the rows "| `key=...` | ..." between the "| argument | effect |"
// header and the end of that table.
std::set<std::string> readme_keys(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::set<std::string> keys;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| argument | effect |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.rfind("|", 0) != 0) break;       // the table ended
    if (line.rfind("| `", 0) != 0) continue;  // the separator, a row in words
    const size_t start = 3, end = line.find_first_of("=`", start);
    keys.insert(line.substr(start, end - start));
  }
  return keys;
}

TEST(BootOptionsReadme, TheReadmeTableListsExactlyTheKernelsOptions) {
  std::set<std::string> kernel;
  for (const BootOption& o : boot_options()) kernel.insert(o.key);
  const std::set<std::string> readme = readme_keys("README.md");
  ASSERT_FALSE(readme.empty());
  for (const std::string& k : kernel) EXPECT_TRUE(readme.count(k)) << "README's table lacks '" << k << "'";
  for (const std::string& k : readme) EXPECT_TRUE(kernel.count(k)) << "the kernel's table lacks '" << k << "'";
}

}  // namespace
}  // namespace monitor
