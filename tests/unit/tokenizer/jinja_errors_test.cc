// Bad templates and bad input: clear errors with positions, raise_exception as its own status,
// and no crash or hang on hostile input.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "tokenizer/jinja.h"

namespace lantern::jinja {
namespace {

Status ParseStatus(const std::string& source) { return Template::Parse(source).status(); }

Result<std::string> Render(const std::string& source, const Dict& vars = {}) {
  auto t = Template::Parse(source);
  if (!t.ok()) return t.status();
  return t->Render(vars);
}

TEST(JinjaErrorsTest, SyntaxErrorsNameLineAndColumn) {
  Status s = ParseStatus("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 3, column 10"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("expected an expression"), std::string::npos) << s.message();
}

TEST(JinjaErrorsTest, UnclosedAndUnknownTags) {
  EXPECT_NE(ParseStatus("{% if x %}a").message().find("expected 'elif' or 'else' or 'endif'"),
            std::string::npos);
  EXPECT_NE(ParseStatus("{% for x in y %}").message().find("endfor"), std::string::npos);
  EXPECT_NE(ParseStatus("{{ x ").message().find("'}}'"), std::string::npos);
  EXPECT_NE(ParseStatus("{% include 'x' %}").message().find("unsupported tag 'include'"),
            std::string::npos);
  EXPECT_NE(ParseStatus("{% break %}").message().find("outside of a for loop"), std::string::npos);
  EXPECT_NE(ParseStatus("{# open").message().find("unterminated comment"), std::string::npos);
  EXPECT_NE(ParseStatus("{{ 'abc }}").message().find("unterminated string"), std::string::npos);
  EXPECT_NE(ParseStatus("{{ a $ b }}").message().find("unexpected character '$'"),
            std::string::npos);
  EXPECT_NE(ParseStatus("{% endif %}").message().find("unknown or unsupported tag"),
            std::string::npos);
}

TEST(JinjaErrorsTest, RaiseExceptionIsInvalidArgumentWithTheTemplatesMessage) {
  auto r = Render("ok{% if true %}{{ raise_exception('Roles must alternate: ' ~ 3) }}{% endif %}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "Roles must alternate: 3");
}

TEST(JinjaErrorsTest, RuntimeErrorsAreFailedPreconditionWithPosition) {
  auto r = Render("{% set x = 1 %}\n{{ x + 'a' }}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("unsupported operand type(s) for +: 'int' and 'str'"),
            std::string::npos)
      << r.status().message();

  EXPECT_NE(Render("{{ nope() }}").status().message().find("'nope' is undefined"),
            std::string::npos);
  EXPECT_NE(Render("{{ 1 | nofilter }}").status().message().find("no filter named 'nofilter'"),
            std::string::npos);
  EXPECT_NE(Render("{{ 1 is notatest }}").status().message().find("no test named"),
            std::string::npos);
  EXPECT_NE(Render("{{ 1 // 0 }}").status().message().find("by zero"), std::string::npos);
  EXPECT_NE(Render("{% for x in 5 %}{% endfor %}").status().message().find("not iterable"),
            std::string::npos);
  EXPECT_NE(Render("{% set a, b = [1] %}").status().message().find("not enough values"),
            std::string::npos);
  EXPECT_NE(Render("{% set x = 1 %}{% set x.y = 2 %}").status().message().find("namespace"),
            std::string::npos);
  EXPECT_NE(Render("{{ 9223372036854775807 + 1 }}").status().message().find("overflow"),
            std::string::npos);
}

TEST(JinjaErrorsTest, LimitsStopRunawayTemplates) {
  EXPECT_NE(Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
                .status()
                .message()
                .find("template exceeded its budget of 1000 levels of nesting"),
            std::string::npos);
  EXPECT_NE(Render("{{ range(100000000) | length }}").status().message().find("range too large"),
            std::string::npos);
  EXPECT_NE(Render("{{ 'x' * 1000000000 }}").status().message().find("exceeded its budget"),
            std::string::npos);
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "- ";
  EXPECT_NE(ParseStatus("{{ " + deep + "1 }}").message().find("nested too deeply"),
            std::string::npos);
  std::string blocks;
  for (int i = 0; i < 1000; ++i) blocks += "{% if true %}";
  EXPECT_NE(ParseStatus(blocks).message().find("nested too deeply"), std::string::npos);
}

// Random templates built from Jinja's own vocabulary: every one parses or fails cleanly, and
// every one that parses renders or fails cleanly.
TEST(JinjaErrorsTest, RandomTemplatesNeverCrash) {
  const char* pieces[] = {
      "{{",   "}}", "{%",    "%}",      "{#",    "#}",       "-",   "+",      "if",
      "for",  "in", "endif", "endfor",  "set",   "x",        "=",   "(",      ")",
      "[",    "]",  "{",     "}",       "'s'",   "\"",       "1",   "2.5",    "|",
      "trim", "is", "not",   "defined", ",",     ".",        ":",   "~",      "*",
      "**",   "//", "loop",  "else",    "macro", "endmacro", "raw", "endraw", " ",
      "\n",   "\\", "é",     "items",   "ns",    "namespace"};
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string source;
    int n = static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) source += pieces[rng() % std::size(pieces)];
    auto t = Template::Parse(source);
    if (!t.ok()) continue;
    ++parsed;
    Dict vars;
    vars.Set("x", Value::MakeList({Value(1), Value("a")}));
    auto r = t->Render(vars);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().code() == StatusCode::kFailedPrecondition ||
                  r.status().code() == StatusCode::kInvalidArgument ||
                  r.status().code() == StatusCode::kResourceExhausted)
          << source;
    }
  }
  EXPECT_GT(parsed, 100);  // the generator does produce valid templates too
}

TEST(JinjaErrorsTest, InvalidUtf8InDataDoesNotCrash) {
  Dict vars;
  vars.Set("s", Value(std::string("a\xff\xfe b\xc3")));
  auto r =
      Template::Parse("{{ s | length }}|{{ s[::-1] | length }}|{{ s | tojson }}|{{ s.upper() }}");
  ASSERT_TRUE(r.ok());
  auto out = r->Render(vars);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Each byte that is not valid UTF-8 decodes as one U+FFFD (jinja_text.h).
  EXPECT_EQ(out->substr(0, 4), "6|6|");
}

}  // namespace
}  // namespace lantern::jinja
