// Test helper: the path of a data dependency of this package in the test's
// runfiles (Bazel's TEST_SRCDIR/TEST_WORKSPACE layout).
#pragma once

#include <cstdlib>
#include <string>

namespace profile::testing {

inline std::string runfile(const std::string& path_in_workspace) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir ? srcdir : ".") + "/" + (ws ? ws : "biscotti") + "/" + path_in_workspace;
}

inline const char* kFixture = "tools/profile/symbolizer_fixture";

}  // namespace profile::testing
