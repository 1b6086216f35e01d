// `version`: the kernel's name, version and build id (version.h).
#include "src/kernel/version.h"
#include "src/monitor/command.h"

namespace kernel {
namespace {

MONITOR_COMMAND(version, "", "name, version, build id") {
  print_version_line();
  return true;
}

}  // namespace
}  // namespace kernel
