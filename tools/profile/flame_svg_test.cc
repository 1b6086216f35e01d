// Tests for flame_svg: the structure of the document -- one rect per frame,
// widths proportional to counts, children stacked on their parents in name
// order, titles with counts and percentages, labels cut to fit and
// escaped, tiny frames left out -- and that it is deterministic.
#include "tools/profile/flame_svg.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace profile {
namespace {

struct Rect {
  std::string title;
  double x, y, width;
  std::string text;  // "" when no label
};

// Every frame group, in document order.
std::vector<Rect> frames(const std::string& svg) {
  static const std::regex re(
      "<g><title>([^<]*)</title><rect x=\"([0-9.]+)\" y=\"([0-9.]+)\" width=\"([0-9.]+)\"[^>]*/>"
      "(?:<text[^>]*>([^<]*)</text>)?</g>");
  std::vector<Rect> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out.push_back({m[1], std::stod(m[2]), std::stod(m[3]), std::stod(m[4]), m[5]});
  }
  return out;
}

const Rect* find(const std::vector<Rect>& rs, const std::string& title_start) {
  for (const Rect& r : rs)
    if (r.title.rfind(title_start, 0) == 0) return &r;
  return nullptr;
}

TEST(FlameSvg, WidthsFollowCounts) {
  const Folded f = {{"main;work;spin", 60}, {"main;work", 30}, {"main;idle", 10}};
  const std::string svg = flame_svg(f);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"1200.00\""), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  const std::vector<Rect> rs = frames(svg);
  ASSERT_EQ(rs.size(), 5u);  // all, main, idle, work, spin

  const Rect* all = find(rs, "all ");
  const Rect* main = find(rs, "main ");
  const Rect* work = find(rs, "work ");
  const Rect* spin = find(rs, "spin ");
  const Rect* idle = find(rs, "idle ");
  ASSERT_TRUE(all && main && work && spin && idle);
  EXPECT_EQ(all->title, "all (100 samples, 100.00%)");
  EXPECT_EQ(work->title, "work (90 samples, 90.00%)");
  EXPECT_EQ(idle->title, "idle (10 samples, 10.00%)");
  // The root spans the drawing width (1200 less 10 px each side).
  EXPECT_DOUBLE_EQ(all->width, 1180);
  EXPECT_DOUBLE_EQ(main->width, 1180);
  EXPECT_NEAR(work->width, 0.9 * 1180, 0.01);
  EXPECT_NEAR(spin->width, 0.6 * 1180, 0.01);
  EXPECT_NEAR(idle->width, 0.1 * 1180, 0.01);
  // Children in name order from their parent's left edge: idle, then work.
  EXPECT_DOUBLE_EQ(idle->x, main->x);
  EXPECT_NEAR(work->x, idle->x + idle->width, 0.01);
  EXPECT_DOUBLE_EQ(spin->x, work->x);
  // Each level one frame height above its parent (the root at the bottom).
  EXPECT_DOUBLE_EQ(main->y, all->y - 16);
  EXPECT_DOUBLE_EQ(spin->y, work->y - 16);
  EXPECT_DOUBLE_EQ(idle->y, work->y);
  EXPECT_EQ(spin->text, "spin");
}

TEST(FlameSvg, LabelsAreCutToFitAndEscaped) {
  const std::string long_name = "a_very_long_function_name_that_cannot_fit_in_a_narrow_frame<int>";
  Folded f = {{"main;" + long_name, 3}, {"main;other", 97}};
  const std::vector<Rect> rs = frames(flame_svg(f));
  const Rect* r = find(rs, "a_very_long");
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->title.find("&lt;int&gt; (3 samples, 3.00%)"), std::string::npos) << r->title;
  // 3% of 1180 px is 35.4 px: (35.4 - 6) / 7.2 = 4 characters, two of them dots.
  EXPECT_EQ(r->text, "a_..");
  EXPECT_EQ(find(rs, "other")->text, "other");
  // Too narrow for any label: just the rect.
  f = {{"main;x_y_z", 1}, {"main;other", 99}};
  EXPECT_EQ(find(frames(flame_svg(f)), "x_y_z")->text, "");
}

TEST(FlameSvg, TinyFramesAreLeftOut) {
  const Folded f = {{"main;big", 100'000}, {"main;tiny;deeper", 1}};
  const std::vector<Rect> rs = frames(flame_svg(f));
  EXPECT_NE(find(rs, "big"), nullptr);
  EXPECT_EQ(find(rs, "tiny"), nullptr);  // 0.0118 px
  EXPECT_EQ(find(rs, "deeper"), nullptr);
  EXPECT_EQ(find(rs, "all ")->title, "all (100001 samples, 100.00%)");
}

TEST(FlameSvg, DeterministicAndEmptyIsValid) {
  const Folded f = {{"a;b", 2}, {"a;c", 2}, {"d", 1}};
  EXPECT_EQ(flame_svg(f), flame_svg(f));
  const std::string empty = flame_svg({});
  EXPECT_TRUE(frames(empty).empty());
  EXPECT_NE(empty.find("0 samples"), std::string::npos);
  EXPECT_EQ(empty.substr(empty.size() - 7), "</svg>\n");
}

}  // namespace
}  // namespace profile
