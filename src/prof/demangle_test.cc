// Tests for the nested-name demangler, on names from the kernel's own
// symbol table, and what it must leave alone.
#include "src/prof/demangle.h"

#include <gtest/gtest.h>

#include <string>

namespace prof {
namespace {

std::string demangled(const char* m, size_t cap = 256) {
  char out[256];
  const size_t n = demangle_function_name(base::StrView(m), out, cap);
  return n == 0 ? std::string("<none>") : std::string(out, n);
}

TEST(Demangle, NestedNamesWithoutParameters) {
  EXPECT_EQ(demangled("_ZN5sched12_GLOBAL__N_19idle_loopERNS_8CpuSchedE"), "sched::(anonymous namespace)::idle_loop");
  EXPECT_EQ(demangled("_ZN5ktest6Runner7run_oneERKNS_4CaseE"), "ktest::Runner::run_one");
  EXPECT_EQ(demangled("_ZN4arch8send_nmiEj"), "arch::send_nmi");
  EXPECT_EQ(demangled("_ZN12_GLOBAL__N_125stay_stuck_until_reportedEPv"),
            "(anonymous namespace)::stay_stuck_until_reported");
  EXPECT_EQ(demangled("_ZN5sched5yieldEv"), "sched::yield");
  EXPECT_EQ(demangled("_ZNK4base7StrView4findEcm"), "base::StrView::find") << "const member";
  EXPECT_EQ(demangled("_ZN2mm5kfreeEPv"), "mm::kfree");
}

TEST(Demangle, UnscopedStdConstructorsAndDestructors) {
  EXPECT_EQ(demangled("_Z3foov"), "foo");
  EXPECT_EQ(demangled("_ZL8local_fnv"), "local_fn");
  EXPECT_EQ(demangled("_ZSt9terminatev"), "std::terminate");
  EXPECT_EQ(demangled("_ZN4prof13FunctionTallyC2EPNS_10TallyEntryEm"), "prof::FunctionTally::FunctionTally");
  EXPECT_EQ(demangled("_ZN2rt11ReservationD2Ev"), "rt::Reservation::~Reservation");
}

TEST(Demangle, LeavesWhatItCannotReadWhole) {
  EXPECT_EQ(demangled("kmain"), "<none>") << "not mangled";
  EXPECT_EQ(demangled("_ZN4base6formatIJiEEEvNS_4SinkENS_7StrViewEDpRKT_"), "<none>") << "a template";
  EXPECT_EQ(demangled("_ZN4base7StrVieweqES0_"), "<none>") << "an operator";
  EXPECT_EQ(demangled("_ZNSt6vectorIiE9push_backEOi"), "<none>") << "a substitution";
  EXPECT_EQ(demangled("_ZZ4mainE5local"), "<none>") << "a local entity";
  EXPECT_EQ(demangled("_ZTV5Thing"), "<none>") << "a special name";
  EXPECT_EQ(demangled("_Z3fooIiEvv"), "<none>") << "an unscoped template";
  EXPECT_EQ(demangled("_ZN5sched"), "<none>") << "cut short";
  EXPECT_EQ(demangled("_ZN99sched5yieldEv"), "<none>") << "a length past the end";
  EXPECT_EQ(demangled("_ZNE"), "<none>") << "no components";
  EXPECT_EQ(demangled("_Z"), "<none>");
  EXPECT_EQ(demangled("_ZC1v"), "<none>") << "a constructor of nothing";
}

TEST(Demangle, TheBufferBoundsTheName) {
  EXPECT_EQ(demangled("_ZN5sched5yieldEv", 13), "sched::yield") << "12 bytes and the NUL fit";
  EXPECT_EQ(demangled("_ZN5sched5yieldEv", 12), "<none>");
  EXPECT_EQ(demangled("_ZN5sched5yieldEv", 0), "<none>");
}

}  // namespace
}  // namespace prof
