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

// The accessors take the key as an OptionKey, whose consteval constructor
// rejects a key the table does not declare as that kind: a module reading
// "tiemr", or reading `timer` as a number, does not compile. The predicate
// behind it:
static_assert(boot_option_declared(base::StrView("timer"), OptionKind::kChoice));
static_assert(!boot_option_declared(base::StrView("timer"), OptionKind::kUint));
static_assert(!boot_option_declared(base::StrView("tiemr"), OptionKind::kChoice));
static_assert(!boot_option_declared(base::StrView("mm.poison"), OptionKind::kUint));
static_assert(boot_option_declared(base::StrView("rt.max_heap"), OptionKind::kBytes));
static_assert(!boot_option_declared(base::StrView(""), OptionKind::kText));

std::string str(base::StrView v) { return std::string(v.data(), v.size()); }

TEST(BootOptions, TextOptionsAreTheValueWhenGiven) {
  using base::StrView;
  EXPECT_EQ(str(boot_option_text(StrView("test=a.*,-b run=\"cpus; mem\""), "test").value()), "a.*,-b");
  EXPECT_EQ(str(boot_option_text(StrView("test=a.*,-b run=\"cpus; mem\""), "run").value()), "cpus; mem");
  EXPECT_EQ(str(boot_option_text(StrView("bench"), "bench").value()), "") << "a bare key is given, empty";
  EXPECT_EQ(boot_option_text(StrView("test=x"), "bench").error(), base::Error::kNotFound);
  EXPECT_EQ(str(boot_option_text(StrView("test=x test=y"), "test").value()), "y") << "the last wins";
}

TEST(BootOptions, FlagsAreTheirValueOrTheDefault) {
  using base::StrView;
  EXPECT_TRUE(boot_option_flag(StrView("mm.poison=1"), "mm.poison"));
  EXPECT_FALSE(boot_option_flag(StrView("mm.poison=0"), "mm.poison"));
  EXPECT_FALSE(boot_option_flag(StrView("test=*"), "mm.poison")) << "absent: the default, 0";
  EXPECT_FALSE(boot_option_flag(StrView("mm.poison=yes"), "mm.poison")) << "invalid: the default";
  EXPECT_FALSE(boot_option_flag(StrView("mm.poison"), "mm.poison")) << "a bare flag has no value";
  EXPECT_TRUE(boot_option_flag(StrView("boot.timing=0 boot.timing=1"), "boot.timing")) << "the last wins";
  EXPECT_FALSE(boot_option_flag(StrView("boot.timing=1 boot.timing=2"), "boot.timing"))
      << "the last, invalid, gives the default (as the boot warning says), not an earlier value";
}

TEST(BootOptions, ChoicesAreOneOfThemOrTheDefault) {
  using base::StrView;
  EXPECT_EQ(str(boot_option_choice(StrView("timer=pit"), "timer")), "pit");
  EXPECT_EQ(str(boot_option_choice(StrView("timer=lapic"), "timer")), "lapic");
  EXPECT_EQ(str(boot_option_choice(StrView(""), "timer")), "lapic") << "absent: the default";
  EXPECT_EQ(str(boot_option_choice(StrView("timer=pi"), "timer")), "lapic") << "invalid: the default";
  EXPECT_EQ(str(boot_option_choice(StrView("timer=pitt"), "timer")), "lapic") << "choices match whole";
  EXPECT_TRUE(boot_option_is(StrView("rt.overrun=panic"), "rt.overrun", StrView("panic")));
  EXPECT_FALSE(boot_option_is(StrView("rt.overrun=report"), "rt.overrun", StrView("panic")));
  EXPECT_FALSE(boot_option_is(StrView("rt.overrun=maybe"), "rt.overrun", StrView("panic")));
  EXPECT_TRUE(boot_option_is(StrView("app=off"), "app", StrView("off")));
  EXPECT_TRUE(boot_option_is(StrView(""), "app", StrView("on")));
  EXPECT_TRUE(boot_option_is(StrView("ktest.timing=exact"), "ktest.timing", StrView("exact")));
}

TEST(BootOptionsDeathTest, AChoiceTheOptionDoesNotHaveIsAKernelBug) {
  EXPECT_DEATH((void)boot_option_is(base::StrView("timer=pit"), "timer", base::StrView("pti")), "has no choice 'pti'");
  EXPECT_DEATH((void)boot_option_is(base::StrView(""), "app", base::StrView("")), "has no choice ''");
}

TEST(BootOptions, NumbersAreInRangeOrTheDefault) {
  using base::Error;
  using base::StrView;
  EXPECT_EQ(boot_option_uint(StrView("test=* watchdog=0"), "watchdog").value(), 0u);
  EXPECT_EQ(boot_option_uint(StrView("watchdog=3600"), "watchdog").value(), 3600u);
  EXPECT_EQ(boot_option_uint(StrView("watchdog=5 watchdog=7"), "watchdog").value(), 7u) << "the last wins";
  EXPECT_EQ(boot_option_uint(StrView("test=*"), "watchdog").value(), 10u) << "absent: the default";
  EXPECT_EQ(boot_option_uint(StrView("watchdog=3601"), "watchdog").value(), 10u) << "out of range: the default";
  EXPECT_EQ(boot_option_uint(StrView("watchdog=ten"), "watchdog").value(), 10u);
  EXPECT_EQ(boot_option_uint(StrView("watchdog="), "watchdog").value(), 10u);
  EXPECT_EQ(boot_option_uint(StrView("fail.seed=18446744073709551615"), "fail.seed").value(), ~uint64_t{0});
  EXPECT_EQ(boot_option_uint(StrView("fail.seed=18446744073709551616"), "fail.seed").value(), 1u);
  // A default in words ("off", "no wrapping") is no number: kNotFound.
  EXPECT_EQ(boot_option_uint(StrView("test=*"), "prof.start").error(), Error::kNotFound);
  EXPECT_EQ(boot_option_uint(StrView("prof.start=19"), "prof.start").error(), Error::kNotFound);
  EXPECT_EQ(boot_option_uint(StrView("prof.start=10000"), "prof.start").value(), 10000u);
  EXPECT_EQ(boot_option_uint(StrView("console.wrap=0"), "console.wrap").error(), Error::kNotFound);
  EXPECT_EQ(boot_option_uint(StrView("console.wrap=80"), "console.wrap").value(), 80u);
}

TEST(BootOptions, ByteCountsTakeSuffixesInRange) {
  using base::Error;
  using base::StrView;
  EXPECT_EQ(boot_option_bytes(StrView("rt.max_heap=64M"), "rt.max_heap").value(), uint64_t{64} << 20);
  EXPECT_EQ(boot_option_bytes(StrView("rt.max_heap=4096"), "rt.max_heap").value(), 4096u);
  EXPECT_EQ(boot_option_bytes(StrView("rt.max_heap=1073741824G"), "rt.max_heap").value(), uint64_t{1} << 60);
  EXPECT_EQ(boot_option_bytes(StrView("test=*"), "rt.max_heap").error(), Error::kNotFound) << "default in words";
  EXPECT_EQ(boot_option_bytes(StrView("rt.max_heap=12X"), "rt.max_heap").error(), Error::kNotFound);
  EXPECT_EQ(boot_option_bytes(StrView("rt.max_heap=0"), "rt.max_heap").error(), Error::kNotFound);
  EXPECT_EQ(boot_option_bytes(StrView("rt.max_heap=1073741825G"), "rt.max_heap").error(), Error::kNotFound);
}

// A flag's or a choice's default is a value it takes (the accessors return
// it as one); a number's is one in range or words, never a number that is
// out of range (which would read as "not set" while looking like a value).
TEST(BootOptions, DefaultsAreValuesTheOptionsTake) {
  for (const BootOption& o : boot_options()) {
    const base::StrView d(o.default_value);
    switch (o.kind) {
      case OptionKind::kText:
        break;
      case OptionKind::kFlag01:
      case OptionKind::kChoice:
        EXPECT_TRUE(boot_option_value_ok(o, d)) << o.key << "'s default " << o.default_value;
        break;
      case OptionKind::kUint:
      case OptionKind::kBytes:
        if (!d.empty() && d[0] >= '0' && d[0] <= '9')
          EXPECT_TRUE(boot_option_value_ok(o, d)) << o.key << "'s default " << o.default_value;
        break;
    }
  }
}

TEST(BootOptions, TheValueIsTheGivenOneOrTheDefault) {
  const BootOption* timer = find_boot_option(base::StrView("timer"));
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(str(boot_option_value(*timer, base::StrView("timer=pit"))), "pit");
  EXPECT_EQ(str(boot_option_value(*timer, base::StrView("timer=x"))), "lapic");
  const BootOption* wrap = find_boot_option(base::StrView("console.wrap"));
  ASSERT_NE(wrap, nullptr);
  EXPECT_EQ(str(boot_option_value(*wrap, base::StrView(""))), "no wrapping");
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
