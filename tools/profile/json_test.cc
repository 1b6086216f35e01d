// Tests for parse_json: every kind of value, escapes, and refused input.
#include "tools/profile/json.h"

#include <gtest/gtest.h>

namespace profile {
namespace {

JsonValue ok(std::string_view s) {
  JsonValue v;
  std::string error;
  EXPECT_TRUE(parse_json(s, &v, &error)) << s << ": " << error;
  return v;
}

std::string bad(std::string_view s) {
  JsonValue v;
  std::string error;
  EXPECT_FALSE(parse_json(s, &v, &error)) << s;
  return error;
}

TEST(Json, LlvmSymbolizerLine) {
  const JsonValue v = ok(R"j({"Address":"0x1130","ModuleName":"/tmp/a","Symbol":[{"Column":74,"Discriminator":0,)j"
                         R"j("FileName":"/tmp/a.cc","FunctionName":"inner(int)","Line":1,"StartAddress":"0x1130"},)j"
                         R"j({"FunctionName":"outer(int)","Line":2}]})j");
  ASSERT_EQ(v.kind, JsonValue::Kind::kObject);
  EXPECT_EQ(v.get("Address")->string, "0x1130");
  const JsonValue* sym = v.get("Symbol");
  ASSERT_NE(sym, nullptr);
  ASSERT_EQ(sym->items.size(), 2u);
  EXPECT_EQ(sym->items[0].get("FunctionName")->string, "inner(int)");
  EXPECT_EQ(sym->items[0].get("Line")->number, 1);
  EXPECT_EQ(sym->items[1].get("Line")->number, 2);
  EXPECT_EQ(v.get("missing"), nullptr);
  EXPECT_EQ(sym->get("x"), nullptr);  // not an object
}

TEST(Json, Scalars) {
  EXPECT_EQ(ok("true").boolean, true);
  EXPECT_EQ(ok(" false ").kind, JsonValue::Kind::kBool);
  EXPECT_EQ(ok("null").kind, JsonValue::Kind::kNull);
  EXPECT_EQ(ok("-12.5e1").number, -125);
  EXPECT_EQ(ok("0").number, 0);
  EXPECT_EQ(ok("[]").items.size(), 0u);
  EXPECT_EQ(ok("{}").keys.size(), 0u);
  EXPECT_EQ(ok("[1, [2, {\"a\": []}]]").items[1].items[1].keys[0], "a");
}

TEST(Json, StringEscapes) {
  EXPECT_EQ(ok(R"j("a\"b\\c\/d\n\t")j").string, "a\"b\\c/d\n\t");
  EXPECT_EQ(ok(R"j("\u00e9")j").string, "\xc3\xa9");
  EXPECT_EQ(ok(R"j("\ud83d\ude00")j").string, "\xf0\x9f\x98\x80");  // a surrogate pair
  EXPECT_EQ(ok(R"j("operator<(A, B)")j").string, "operator<(A, B)");
}

TEST(Json, Refused) {
  EXPECT_EQ(bad("{\"a\":1,}"), "JSON: expected a member name at byte 7");
  EXPECT_EQ(bad("[1 2]"), "JSON: expected ',' or ']' at byte 3");
  EXPECT_EQ(bad("{} x"), "JSON: trailing characters at byte 3");
  bad("");
  bad("\"abc");
  bad("\"a\nb\"");
  bad(R"j("\x")j");
  bad(R"j("\ud800")j");
  bad("01");
  bad("-");
  bad("1.");
  bad("tru");
  bad(std::string(100, '[') + std::string(100, ']'));  // too deep
}

}  // namespace
}  // namespace profile
