// Benchmark timing by TSC (see bench.h).
#include "src/ktest/bench.h"

#include "src/arch/x86.h"

namespace ktest {

void BenchRun::start() { started_ = arch::rdtsc(); }

void BenchRun::stop() { cycles_ += arch::rdtsc() - started_; }

}  // namespace ktest
