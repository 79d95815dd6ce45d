// Numbers out of range in request bodies: beyond a double (1e999) anywhere in the body, and
// beyond an int64 where an integer is expected, are 400s that name the field.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/openai_protocol.h"

namespace lantern::server {
namespace {

using Parse = std::function<void(const std::string&)>;

// The ApiError that `parse` throws for `body` (a failure when none).
ApiError ErrorOf(const Parse& parse, const std::string& body) {
  try {
    parse(body);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << body;
  return ApiError(0, "");
}

struct PathCase {
  const char* body;
  const char* param;  // the path the error names ("" for the top level)
};

class NumberBeyondDouble : public testing::TestWithParam<PathCase> {};

TEST_P(NumberBeyondDouble, IsA400NamingItsPath) {
  const PathCase& c = GetParam();
  ApiError e = ErrorOf([](const std::string& b) { ParseJsonObject(b); }, c.body);
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.param(), c.param) << e.what();
  std::string named = "The request body";
  if (*c.param) named = std::string("'").append(c.param).append("'");
  EXPECT_NE(std::string(e.what()).find(named + " is a number beyond the range of a double"),
            std::string::npos)
      << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, NumberBeyondDouble,
    testing::Values(PathCase{R"({"max_tokens": 1e999})", "max_tokens"},
                    PathCase{R"({"max_tokens": -1e999})", "max_tokens"},
                    PathCase{R"({"prompt": "x", "temperature": 1E+400})", "temperature"},
                    PathCase{R"({"foo": {"bar": [1e999]}})", "foo.bar[0]"},
                    PathCase{R"({"a": [1, [2, 3], {"b": [4, -2e308]}]})", "a[2].b[1]"},
                    PathCase{R"({"x": 1, "y": [[], [0, {}, 1e999]]})", "y[1][2]"},
                    PathCase{R"({"a": {"b": 1}, "c": {"d": [true, null, "s", 9e9999]}})", "c.d[3]"},
                    PathCase{R"({"messages": [{"role": "user", "content": "hi", "x": 1e999}]})",
                             "messages[0].x"},
                    PathCase{"1e999", ""}, PathCase{"[1, 1e999]", "[1]"}));

TEST(NumberBeyondDoubleTest, EveryEndpointAnswers400) {
  const std::pair<Parse, std::string> cases[] = {
      {[](const std::string& b) { ParseCompletionRequest(b); }, R"({"prompt": "x", )"},
      {[](const std::string& b) { ParseChatRequest(b); },
       R"({"messages": [{"role": "user", "content": "hi"}], )"},
      {[](const std::string& b) { ParseTokenizeRequest(b); }, R"({"prompt": "x", )"},
      {[](const std::string& b) { ParseDetokenizeRequest(b); }, R"({"tokens": [1], )"},
  };
  for (const auto& [parse, prefix] : cases) {
    ApiError e = ErrorOf(parse, prefix + R"("ignored": {"deep": [0, -1e999]}})");
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.param(), "ignored.deep[1]") << e.what();
    EXPECT_NE(std::string(e.what()).find("-1e999"), std::string::npos) << e.what();
  }
}

TEST(NumberBeyondDoubleTest, LongNumbersAndKeysAreShortenedInTheMessage) {
  std::string digits(5000, '9');
  std::string key(1000, 'k');
  ApiError e = ErrorOf([](const std::string& b) { ParseJsonObject(b); },
                       R"({")" + key + R"(": )" + digits + "e999}");
  EXPECT_LT(std::string(e.what()).size(), 300u) << e.what();
  EXPECT_EQ(e.param(), key.substr(0, 64) + "...");
}

TEST(NumberBeyondDoubleTest, OtherParseErrorsAreUnchanged) {
  auto parse = [](const std::string& b) { ParseJsonObject(b); };
  ApiError e = ErrorOf(parse, R"({"prompt": "x",)");
  // Plain words: the position and the problem, none of the JSON library's internals.
  EXPECT_NE(
      std::string(e.what()).find("not valid JSON: line 1, column 16: unexpected end of input"),
      std::string::npos)
      << e.what();
  EXPECT_EQ(std::string(e.what()).find("json.exception"), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("syntax error while parsing"), std::string::npos);
  e = ErrorOf(parse, " \n");
  EXPECT_STREQ(e.what(), "The request body is empty: send a JSON object");
  EXPECT_EQ(e.param(), "");
  e = ErrorOf(parse, std::string(100, '['));
  EXPECT_NE(std::string(e.what()).find("deeper than 64"), std::string::npos) << e.what();
  e = ErrorOf(parse, "[1]");
  EXPECT_NE(std::string(e.what()).find("must be a JSON object"), std::string::npos);
  // Tiny numbers round to zero, as everywhere: not an error.
  EXPECT_EQ(ParseJsonObject(R"({"a": 1e-999})").at("a"), 0.0);
}

struct IntegerCase {
  const char* body;
  const char* param;
};

class HugeInteger : public testing::TestWithParam<IntegerCase> {};

// Numbers that fit a double but not an int64, where an integer is expected.
TEST_P(HugeInteger, IsA400NamingTheField) {
  const IntegerCase& c = GetParam();
  ApiError e = ErrorOf([](const std::string& b) { ParseCompletionRequest(b); }, c.body);
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.param(), c.param) << e.what();
  EXPECT_NE(std::string(e.what()).find("must be an integer"), std::string::npos) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, HugeInteger,
    testing::Values(
        IntegerCase{R"({"prompt": "x", "max_tokens": 1e300})", "max_tokens"},
        IntegerCase{R"({"prompt": "x", "max_tokens": 99999999999999999999})", "max_tokens"},
        IntegerCase{R"({"prompt": "x", "max_tokens": -99999999999999999999})", "max_tokens"},
        IntegerCase{R"({"prompt": "x", "seed": 1e300})", "seed"},
        IntegerCase{R"({"prompt": "x", "seed": 18446744073709551615})", "seed"},
        IntegerCase{R"({"prompt": "x", "max_tokens": 18446744073709551615})", "max_tokens"},
        IntegerCase{R"({"prompt": [18446744073709551615]})", "prompt[0]"},
        IntegerCase{R"({"prompt": "x", "n": 1e20})", "n"},
        IntegerCase{R"({"prompt": "x", "logprobs": 99999999999999999999})", "logprobs"},
        IntegerCase{R"({"prompt": [1, 1e300]})", "prompt[1]"},
        IntegerCase{R"({"prompt": "x", "stop_token_ids": [3, 1e19]})", "stop_token_ids[1]"}));

TEST(HugeIntegerTest, DetokenizeAndChatToo) {
  ApiError e = ErrorOf([](const std::string& b) { ParseDetokenizeRequest(b); },
                       R"({"tokens": [99999999999999999999]})");
  EXPECT_EQ(e.param(), "tokens[0]") << e.what();
  e = ErrorOf(
      [](const std::string& b) { ParseChatRequest(b); },
      R"({"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 1e300})");
  EXPECT_EQ(e.param(), "max_completion_tokens") << e.what();
}

}  // namespace
}  // namespace lantern::server
