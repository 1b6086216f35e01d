#include "src/monitor/input_loss.h"

#include <gtest/gtest.h>

namespace {

std::string report(monitor::InputLossReport& r, uint64_t overruns) {
  char buf[128];
  base::BufferSink out(buf, sizeof buf);
  EXPECT_EQ(r.report(overruns, out.sink()), out.length() > 0);
  return std::string(out.view().data(), out.view().size());
}

TEST(InputLossReport, SilentWithoutLoss) {
  monitor::InputLossReport r;
  EXPECT_EQ(report(r, 0), "");
  EXPECT_EQ(report(r, 0), "");
}

TEST(InputLossReport, EachNewLossOnceWithItsCount) {
  monitor::InputLossReport r;
  EXPECT_EQ(report(r, 1), "warning: serial input lost: 1 UART overrun (each drops one byte or more)\n");
  EXPECT_EQ(report(r, 1), "") << "said once";
  EXPECT_EQ(report(r, 4), "warning: serial input lost: 3 UART overruns (each drops one byte or more)\n");
  EXPECT_EQ(report(r, 4), "");
}

}  // namespace
