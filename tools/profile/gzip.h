// A gzip writer without zlib: the data goes into stored (uncompressed)
// deflate blocks, wrapped in the gzip member header and CRC-32 trailer.
// pprof asks for a gzipped profile.proto; stored blocks keep this a page of
// code and need no package beyond the toolchain, at the cost of size (a
// profile is a few hundred KiB, which nobody minds on a host).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace profile {

/// [gzip] 8: the CRC-32 of ISO 3309 (reflected polynomial 0xedb88320),
/// continued from `crc` (0 to start).
uint32_t crc32(std::span<const uint8_t> data, uint32_t crc = 0);

/// One gzip member holding `data`: [gzip] 2.3 header (no name, mtime 0,
/// OS unknown, so equal data gives equal bytes), [deflate] 3.2.4 stored
/// blocks of at most 65535 bytes, then CRC32 and ISIZE.
std::vector<uint8_t> gzip_stored(std::span<const uint8_t> data);

}  // namespace profile
