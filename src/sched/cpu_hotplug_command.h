// `cpus offline N` and `cpus online N`: the monitor's side of
// sched/cpu_offline.h. Thread context.
#pragma once

#include "src/base/str.h"

namespace sched {

/// Runs "offline N" or "online N" (the words after `cpus`); prints what
/// happened and returns false on a bad argument or a refusal.
bool cpus_hotplug_command(base::StrView args);

}  // namespace sched
