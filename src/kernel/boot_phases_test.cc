#include "src/kernel/boot_phases.h"

#include <gtest/gtest.h>

#include <string>

namespace kernel {
namespace {

void append(void* out, const char* bytes, size_t n) { static_cast<std::string*>(out)->append(bytes, n); }

TEST(BootPhases, EachPhaseRunsFromTheEndOfThePreviousOne) {
  BootPhases p(1000);
  p.end("memory", 3000);
  p.end("clock", 3500);
  p.end("cpus", 10'000);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_STREQ(p.name(0), "memory");
  EXPECT_EQ(p.cycles(0), 2000u);
  EXPECT_EQ(p.cycles(1), 500u);
  EXPECT_EQ(p.cycles(2), 6500u);
}

TEST(BootPhases, PrintsMicrosecondsAtTheGivenRate) {
  BootPhases p(0);
  p.end("memory", 2'000'000);  // 2 ms at 1 GHz
  p.end("clock", 2'500'000);
  std::string out;
  p.print(base::Sink{&append, &out}, 1'000'000'000);
  EXPECT_EQ(out, "memory 2000 us, clock 500 us");
}

TEST(BootPhases, ANewPhaseWithTheSameTscTakesZero) {
  BootPhases p(5);
  p.end("a", 5);
  EXPECT_EQ(p.cycles(0), 0u);
}

TEST(BootPhasesDeathTest, OneTooManyIsNamed) {
  BootPhases p(0);
  for (size_t i = 0; i < BootPhases::kMaxPhases; ++i) p.end("x", i);
  EXPECT_DEATH(p.end("one too many", 100), "more than 16 \\(adding 'one too many'\\)");
}

TEST(BootPhasesDeathTest, ATscGoingBackIsNamed) {
  BootPhases p(100);
  EXPECT_DEATH(p.end("clock", 50), "went back before 'clock'");
}

}  // namespace
}  // namespace kernel
