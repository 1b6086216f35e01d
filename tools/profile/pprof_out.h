// The capture as pprof's profile.proto, gzipped (what `go tool pprof`
// reads): src/prof's encoder with the kernel's sample types and cpu,
// thread and mode labels (to_pprof_sample), symbols from llvm-symbolizer
// with inlined frames, and kernel.elf as the mapping. Samples alike in
// stack, cpu, thread and mode are merged into one with their sum. Host only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/profile/dump_parser.h"
#include "tools/profile/elf_info.h"
#include "tools/profile/stacks.h"

namespace profile {

/// profile.pb.gz's bytes. `elf_name` names the mapping's file. False with
/// a message if the encoder refuses (it should not).
bool pprof_gz(const Capture& capture, const SymbolTable& symbols, const ElfInfo& elf, const std::string& elf_name,
              std::vector<uint8_t>* out, std::string* error);

}  // namespace profile
