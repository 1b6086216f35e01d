// The kernel's name, version and build id (the linker's content hash of the
// image, lld --build-id=sha1: git-independent, identical for identical bytes).
#pragma once

namespace kernel {

inline constexpr const char* kName = "biscotti";
inline constexpr const char* kVersion = "0.1.0";

/// Prints "biscotti 0.1.0 build <40 hex digits>", followed by
/// " (debug: DEBUG_ASSERT on)" in a debug build.
void print_version_line();

}  // namespace kernel
