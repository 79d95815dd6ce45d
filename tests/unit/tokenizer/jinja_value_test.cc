// The value layer: Python's float repr, json.dumps formatting and JSON conversion. Expected
// strings are what CPython 3.11 prints for repr(x) and json.dumps(...).
#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja_json.h"
#include "tokenizer/jinja_value.h"

namespace lantern::jinja {
namespace {

TEST(JinjaValueTest, FloatReprMatchesPython) {
  EXPECT_EQ(FormatPythonFloat(1.0), "1.0");
  EXPECT_EQ(FormatPythonFloat(0.1), "0.1");
  EXPECT_EQ(FormatPythonFloat(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatPythonFloat(-2.5), "-2.5");
  EXPECT_EQ(FormatPythonFloat(123456.0), "123456.0");
  EXPECT_EQ(FormatPythonFloat(1e15), "1000000000000000.0");
  EXPECT_EQ(FormatPythonFloat(1e16), "1e+16");
  EXPECT_EQ(FormatPythonFloat(1.5e300), "1.5e+300");
  EXPECT_EQ(FormatPythonFloat(0.0001), "0.0001");
  EXPECT_EQ(FormatPythonFloat(0.00001), "1e-05");
  EXPECT_EQ(FormatPythonFloat(1.25e-7), "1.25e-07");
  EXPECT_EQ(FormatPythonFloat(-0.0), "-0.0");
  EXPECT_EQ(FormatPythonFloat(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatPythonFloat(std::nan("")), "nan");
}

TEST(JinjaValueTest, ReprAndTruthiness) {
  Dict d;
  d.Set("k", Value::MakeList({Value(true), Value::None(), Value("it's")}));
  EXPECT_EQ(Value::MakeDict(d).Repr(), "{'k': [True, None, \"it's\"]}");
  EXPECT_EQ(Value("a\nb'\"").Repr(), "'a\\nb\\'\"'");
  EXPECT_FALSE(Value().Truthy());
  EXPECT_FALSE(Value::MakeList().Truthy());
  EXPECT_FALSE(Value(0.0).Truthy());
  EXPECT_TRUE(Value::MakeNamespace().Truthy());
  EXPECT_EQ(Value().Str(), "");
}

TEST(JinjaValueTest, EqualityAndOrderingFollowPython) {
  bool ok = false;
  EXPECT_TRUE(Equals(Value(1), Value(1.0)));
  EXPECT_TRUE(Equals(Value(true), Value(1)));
  EXPECT_FALSE(Equals(Value("1"), Value(1)));
  EXPECT_TRUE(Equals(Value::MakeList({Value(1)}), Value::MakeList({Value(1.0)})));
  EXPECT_LT(Compare(Value("a"), Value("b"), &ok), 0);
  EXPECT_TRUE(ok);
  Compare(Value("a"), Value(1), &ok);
  EXPECT_FALSE(ok);
}

TEST(JinjaValueTest, JsonRoundTripKeepsKeyOrderOfOrderedJson) {
  auto doc = nlohmann::ordered_json::parse(R"({"z": 1, "a": [1.5, "é", null, true], "m": {}})");
  Value v = FromJson(doc);
  ASSERT_TRUE(v.is_dict());
  EXPECT_EQ(v.as_dict().entries()[0].first, "z");
  // json.dumps(..., ensure_ascii=False)
  EXPECT_EQ(ToJson(v, {}), R"({"z": 1, "a": [1.5, "é", null, true], "m": {}})");
  JsonFormat indented;
  indented.indent = 2;
  EXPECT_EQ(ToJson(v, indented),
            "{\n  \"z\": 1,\n  \"a\": [\n    1.5,\n    \"é\",\n    null,\n    true\n  ],\n"
            "  \"m\": {}\n}");
  JsonFormat ascii;
  ascii.ensure_ascii = true;
  ascii.sort_keys = true;
  EXPECT_EQ(ToJson(v, ascii), R"({"a": [1.5, "\u00e9", null, true], "m": {}, "z": 1})");
  // nlohmann::json (not ordered) sorts keys, which is why the server must use ordered_json.
  EXPECT_EQ(FromJson(nlohmann::json::parse(R"({"z": 1, "a": 2})")).as_dict().entries()[0].first,
            "a");
}

TEST(JinjaValueTest, JsonEscapesLikePython) {
  EXPECT_EQ(ToJson(Value(std::string("q\"\\\n\t\x01\x7f😀")), {}),
            "\"q\\\"\\\\\\n\\t\\u0001\x7f😀\"");
  JsonFormat ascii;
  ascii.ensure_ascii = true;
  EXPECT_EQ(ToJson(Value("😀\x7f"), ascii), "\"\\ud83d\\ude00\\u007f\"");
  EXPECT_EQ(ToJson(Value(1e16), {}), "1e+16");
  EXPECT_EQ(ToJson(Value(2.0), {}), "2.0");
}

}  // namespace
}  // namespace lantern::jinja
