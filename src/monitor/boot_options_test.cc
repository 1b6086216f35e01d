#include "src/monitor/boot_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace monitor {
namespace {

struct Seen {
  std::string key, value;
  std::string option, suggestion;
};

std::vector<Seen> problems(const char* cmdline) {
  std::vector<Seen> out;
  check_boot_options(
      base::StrView(cmdline),
      [](const OptionProblem& p, void* arg) {
        static_cast<std::vector<Seen>*>(arg)->push_back(
            Seen{std::string(p.key.data(), p.key.size()), std::string(p.value.data(), p.value.size()),
                 p.option ? p.option->key : "", p.suggestion ? p.suggestion->key : ""});
      },
      &out);
  return out;
}

TEST(BootOptions, AGoodCommandLineHasNoProblems) {
  EXPECT_TRUE(problems("console=ttyS0 test=*,-sched.* run=\"cpus; poweroff\" mm.poison=1 console.wrap=80 "
                       "timer=pit rt.max_heap=64M rt.overrun=panic bench=rt")
                  .empty());
}

TEST(BootOptions, UnknownKeysAreNamedWithTheNearestKnownOne) {
  std::vector<Seen> p = problems("tiemr=pit mm.posion=1 frobnicate=3 rt.maxheap=1G");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].key, "tiemr");
  EXPECT_EQ(p[0].suggestion, "timer");
  EXPECT_EQ(p[1].suggestion, "mm.poison");
  EXPECT_EQ(p[2].suggestion, "");  // nothing close
  EXPECT_EQ(p[3].suggestion, "rt.max_heap");
  for (const Seen& s : p) EXPECT_EQ(s.option, "");
}

TEST(BootOptions, BadValuesAreNamedWithTheirOption) {
  std::vector<Seen> p = problems(
      "timer=bogus mm.poison=yes console.wrap=0 console.wrap=10000 rt.max_heap=12X "
      "rt.overrun=maybe mm.poison");
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(p[0].option, "timer");
  EXPECT_EQ(p[1].option, "mm.poison");
  EXPECT_EQ(p[2].value, "0");
  EXPECT_EQ(p[3].value, "10000");
  EXPECT_EQ(p[4].option, "rt.max_heap");
  EXPECT_EQ(p[5].option, "rt.overrun");
  EXPECT_EQ(p[6].option, "mm.poison");  // a bare flag has no value
}

TEST(BootOptions, ValuesAtTheEdgesOfTheirRanges) {
  const BootOption* wrap = find_boot_option(base::StrView("console.wrap"));
  ASSERT_NE(wrap, nullptr);
  EXPECT_TRUE(boot_option_value_ok(*wrap, base::StrView("1")));
  EXPECT_TRUE(boot_option_value_ok(*wrap, base::StrView("9999")));
  EXPECT_FALSE(boot_option_value_ok(*wrap, base::StrView("")));
  EXPECT_FALSE(boot_option_value_ok(*wrap, base::StrView("99999999999999999999999")));
  const BootOption* heap = find_boot_option(base::StrView("rt.max_heap"));
  ASSERT_NE(heap, nullptr);
  EXPECT_TRUE(boot_option_value_ok(*heap, base::StrView("1")));
  EXPECT_FALSE(boot_option_value_ok(*heap, base::StrView("0")));
  EXPECT_TRUE(boot_option_value_ok(*heap, base::StrView("1073741824G")));  // 2^60
  EXPECT_FALSE(boot_option_value_ok(*heap, base::StrView("1073741825G")));
}

TEST(BootOptions, NumberOptionsAreReadInOnePlace) {
  using base::Error;
  using base::StrView;
  EXPECT_EQ(boot_option_uint(StrView("test=* watchdog=0"), StrView("watchdog")).value(), 0u);
  EXPECT_EQ(boot_option_uint(StrView("watchdog=3600"), StrView("watchdog")).value(), 3600u);
  EXPECT_EQ(boot_option_uint(StrView("watchdog=5 watchdog=7"), StrView("watchdog")).value(), 7u) << "the last wins";
  EXPECT_EQ(boot_option_uint(StrView("test=*"), StrView("watchdog")).error(), Error::kNotFound);
  EXPECT_EQ(boot_option_uint(StrView("watchdog=3601"), StrView("watchdog")).error(), Error::kInvalidArgument);
  EXPECT_EQ(boot_option_uint(StrView("watchdog=ten"), StrView("watchdog")).error(), Error::kInvalidArgument);
  EXPECT_EQ(boot_option_uint(StrView("watchdog="), StrView("watchdog")).error(), Error::kInvalidArgument);
  EXPECT_EQ(boot_option_uint(StrView("prof.start=19"), StrView("prof.start")).error(), Error::kInvalidArgument);
  EXPECT_EQ(boot_option_uint(StrView("prof.start=10000"), StrView("prof.start")).value(), 10000u);
}

TEST(BootOptionsDeathTest, OnlyNumberOptionsReadAsNumbers) {
  EXPECT_DEATH((void)boot_option_uint(base::StrView("timer=pit"), base::StrView("timer")), "not a number option");
  EXPECT_DEATH((void)boot_option_uint(base::StrView(""), base::StrView("no.such")), "not a number option");
}

TEST(BootOptions, EditDistance) {
  EXPECT_EQ(edit_distance(base::StrView("timer"), base::StrView("timer"), 9), 0u);
  EXPECT_EQ(edit_distance(base::StrView("tiemr"), base::StrView("timer"), 9), 2u);
  EXPECT_EQ(edit_distance(base::StrView(""), base::StrView("abc"), 9), 3u);
  EXPECT_EQ(edit_distance(base::StrView("kitten"), base::StrView("sitting"), 9), 3u);
  EXPECT_EQ(edit_distance(base::StrView("kitten"), base::StrView("sitting"), 2), 2u);  // capped
}

TEST(BootOptions, KeysAreUniqueAndDocumented) {
  for (const BootOption& a : boot_options()) {
    EXPECT_NE(std::string(a.help), "") << a.key;
    EXPECT_NE(std::string(a.value_name), "") << a.key;
    int same = 0;
    for (const BootOption& b : boot_options()) same += std::string(a.key) == b.key;
    EXPECT_EQ(same, 1) << a.key;
  }
}

}  // namespace
}  // namespace monitor
