#include "src/monitor/command_table.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using monitor::Command;

bool ok(base::StrView) { return true; }

std::string str(base::StrView s) { return std::string(s.data(), s.size()); }

const Command kTable[] = {
    {"threads", "", "every thread", &ok, "test"},
    {"bench", "[GLOB]", "benchmarks", &ok, "test"},
    {"help", "", "this list", &ok, "test"},
    {"test", "[GLOB]", "tests", &ok, "test"},
};

TEST(CommandTable, SplitsNameAndArguments) {
  base::StrView name, args;
  monitor::split_command(monitor::trim("  test   sched.*  "), &name, &args);
  EXPECT_EQ(str(name), "test");
  EXPECT_EQ(str(args), "sched.*");
  monitor::split_command("help", &name, &args);
  EXPECT_EQ(str(name), "help");
  EXPECT_TRUE(args.empty());
  EXPECT_TRUE(monitor::trim("   ").empty());
}

TEST(CommandTable, FindsByWholeName) {
  EXPECT_EQ(monitor::find_command(kTable, "test"), &kTable[3]);
  EXPECT_EQ(monitor::find_command(kTable, "tes"), nullptr);
  EXPECT_EQ(monitor::find_command(kTable, "tests"), nullptr);
  EXPECT_EQ(monitor::find_command(base::Span<const Command>(), "help"), nullptr);
}

TEST(CommandTable, ListsInNameOrder) {
  std::string order;
  monitor::for_each_by_name(kTable, [&](const Command& c) { order += std::string(c.name) + " "; });
  EXPECT_EQ(order, "bench help test threads ");
}

TEST(CommandTable, NamesADuplicate) {
  EXPECT_EQ(monitor::duplicate_name(kTable), nullptr);
  const Command twice[] = {
      {"mem", "", "a", &ok, "test"}, {"help", "", "b", &ok, "test"}, {"mem", "", "c", &ok, "test"}};
  ASSERT_NE(monitor::duplicate_name(twice), nullptr);
  EXPECT_EQ(std::string(monitor::duplicate_name(twice)), "mem");
}

TEST(CommandTable, NameOrderIsBytewiseWithPrefixesFirst) {
  EXPECT_TRUE(monitor::name_less("test", "tests"));
  EXPECT_FALSE(monitor::name_less("tests", "test"));
  EXPECT_TRUE(monitor::name_less("bench", "cpus"));
  EXPECT_FALSE(monitor::name_less("mem", "mem"));
}

}  // namespace
