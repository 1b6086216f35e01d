// Host-test helper: reads a file checked into the repository (testdata/...)
// from the Bazel runfiles tree, or relative to the working directory when a
// test binary is run by hand from the repo root.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace base::testing {

/// The bytes of `repo_relative_path`; an empty vector if it cannot be read.
inline std::vector<uint8_t> read_testdata(const std::string& repo_relative_path) {
  std::string path = repo_relative_path;
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    const char* ws = std::getenv("TEST_WORKSPACE");
    path = std::string(srcdir) + "/" + (ws ? ws : "biscotti") + "/" + repo_relative_path;
  }
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace base::testing
