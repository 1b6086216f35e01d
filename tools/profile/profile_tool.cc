// profile_tool: a `prof dump` capture (a serial log) and the kernel ELF in,
// profile.pb.gz, folded.txt and flame.svg out, and a top-N table on
// stdout. //:profile runs it after booting a workload; it also works on
// any saved log. Exit status: 0 done, 1 a bad capture, ELF or tool
// failure, 2 a usage error.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "tools/profile/dump_parser.h"
#include "tools/profile/elf_info.h"
#include "tools/profile/flame_svg.h"
#include "tools/profile/pprof_out.h"
#include "tools/profile/stacks.h"
#include "tools/profile/symbolizer.h"

namespace profile {
namespace {

constexpr char kUsage[] =
    "usage: profile_tool --capture LOG --elf KERNEL_ELF --out DIR [--top N] [--symbolizer PATH]\n"
    "  --capture LOG      serial output holding a 'prof-dump begin ... end' capture\n"
    "                     (docs/profile_dump_format.md; the last complete one is used)\n"
    "  --elf KERNEL_ELF   the kernel.elf that was booted (its build id must match)\n"
    "  --out DIR          where profile.pb.gz, folded.txt and flame.svg go (created)\n"
    "  --top N            rows of the table printed on stdout (default 20)\n"
    "  --symbolizer PATH  llvm-symbolizer to run (default llvm-symbolizer-14)\n";

int usage_error(const std::string& msg) {
  std::cerr << "profile_tool: " << msg << "\n" << kUsage;
  return 2;
}

int fail(const std::string& msg) {
  std::cerr << "profile_tool: " << msg << "\n";
  return 1;
}

bool write_file(const std::filesystem::path& path, const void* data, size_t n, std::string* error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  f.close();
  if (!f) {
    *error = "cannot write " + path.string();
    return false;
  }
  return true;
}

std::string id_or_none(const std::string& id) { return id.empty() ? "none" : id; }

int run(int argc, char** argv) {
  std::string capture_path, elf_path, out_dir, symbolizer = "llvm-symbolizer-14";
  size_t top = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) return usage_error("'" + a + "' needs a value");
    const std::string v = argv[++i];
    if (a == "--capture") {
      capture_path = v;
    } else if (a == "--elf") {
      elf_path = v;
    } else if (a == "--out") {
      out_dir = v;
    } else if (a == "--symbolizer") {
      symbolizer = v;
    } else if (a == "--top") {
      char* end = nullptr;
      const unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || v[0] == '-' || n == 0 || n > 100000)
        return usage_error("--top takes a whole number from 1 to 100000, not '" + v + "'");
      top = n;
    } else {
      return usage_error("unknown argument '" + a + "'");
    }
  }
  if (capture_path.empty()) return usage_error("--capture is required");
  if (elf_path.empty()) return usage_error("--elf is required");
  if (out_dir.empty()) return usage_error("--out is required");

  std::ifstream in(capture_path, std::ios::binary);
  if (!in) return fail("cannot open " + capture_path);
  std::stringstream log;
  log << in.rdbuf();
  Capture capture;
  std::string error;
  if (!parse_dump(log.str(), &capture, &error)) return fail(capture_path + ": " + error);
  if (capture.ignored_begin_line != 0) {
    std::cerr << "profile_tool: warning: " << capture_path << ": the capture begun at line "
              << capture.ignored_begin_line << " has no end; using the complete one at lines " << capture.begin_line
              << "-" << capture.end_line << "\n";
  }

  ElfInfo elf;
  if (!read_elf(elf_path, &elf, &error)) return fail(error);
  if (capture.build_id != elf.build_id) {
    return fail("build id mismatch: the capture comes from kernel build " + id_or_none(capture.build_id) + " but " +
                elf_path + " is build " + id_or_none(elf.build_id) + "; symbolize with the kernel.elf that was booted");
  }

  const std::vector<uint64_t> addrs = unique_addresses(capture.samples);
  std::vector<Symbol> syms;
  if (!addrs.empty() && !run_symbolizer(symbolizer, elf_path, addrs, &syms, &error)) return fail(error);
  SymbolTable table;
  for (size_t i = 0; i < syms.size(); ++i) table.emplace(addrs[i], std::move(syms[i]));

  const Folded folded = fold(capture.samples, table);
  std::vector<uint8_t> pb;
  if (!pprof_gz(capture, table, elf, std::filesystem::path(elf_path).filename().string(), &pb, &error))
    return fail(error);
  const std::string folded_txt = folded_text(folded);
  FlameOptions fo;
  fo.title = "biscotti profile: " + std::to_string(capture.samples.size()) + " samples at " +
             std::to_string(capture.hz) + " Hz on " + std::to_string(capture.cpus) + " CPU" +
             (capture.cpus == 1 ? "" : "s");
  const std::string svg = flame_svg(folded, fo);

  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create " + out_dir + ": " + ec.message());
  if (!write_file(dir / "profile.pb.gz", pb.data(), pb.size(), &error) ||
      !write_file(dir / "folded.txt", folded_txt.data(), folded_txt.size(), &error) ||
      !write_file(dir / "flame.svg", svg.data(), svg.size(), &error)) {
    return fail(error);
  }

  const uint64_t total = capture.samples.size();
  std::cout << total << " samples at " << capture.hz << " Hz on " << capture.cpus << " CPU"
            << (capture.cpus == 1 ? "" : "s") << ", " << capture.dropped << " dropped"
            << (capture.dropped != 0 ? " (a sample ring was full)" : "") << "\n";
  if (total == 0)
    std::cout << "no samples: the outputs are empty\n";
  else
    std::cout << top_table(top_functions(folded), total, top);
  std::cout << "wrote " << (dir / "profile.pb.gz").string() << " (go tool pprof), " << (dir / "folded.txt").string()
            << ", " << (dir / "flame.svg").string() << "\n";
  return 0;
}

}  // namespace
}  // namespace profile

int main(int argc, char** argv) { return profile::run(argc, argv); }
