// The hand-written split matchers must give exactly PCRE2's matches for the same
// patterns, on random text built from the characters the patterns distinguish.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tokenizer/regex.h"
#include "tokenizer/split_patterns.h"
#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

std::string RandomText(std::mt19937& rng, size_t length) {
  // Letters, digits, apostrophes and contraction letters, every kind of whitespace,
  // punctuation, marks, CJK, emoji and other numbers. (U+180E is left out: PCRE2 still
  // counts it as \s, Unicode's White_Space no longer does.)
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   "s",
                                                   "S",
                                                   "t",
                                                   "T",
                                                   "r",
                                                   "e",
                                                   "E",
                                                   "v",
                                                   "m",
                                                   "l",
                                                   "L",
                                                   "d",
                                                   "'",
                                                   "'",
                                                   "\xC5\xBF",
                                                   "0",
                                                   "7",
                                                   "\xD9\xA3",
                                                   "\xE2\x85\xAB",
                                                   "\xE2\x91\xA0",
                                                   " ",
                                                   " ",
                                                   " ",
                                                   "\t",
                                                   "\n",
                                                   "\r",
                                                   "\r\n",
                                                   "\x0B",
                                                   "\x0C",
                                                   "\xC2\xA0",
                                                   "\xC2\x85",
                                                   "\xE2\x80\xA8",
                                                   "\xE3\x80\x80",
                                                   "\xE2\x80\x89",
                                                   ".",
                                                   ",",
                                                   "!",
                                                   "(",
                                                   "-",
                                                   "_",
                                                   "\xE2\x80\x94",
                                                   "\xCC\x81",
                                                   "\xE4\xB8\xAD",
                                                   "\xE3\x81\x82",
                                                   "\xF0\x9F\x98\x80",
                                                   "\xE2\x80\x8D",
                                                   "\xC3\xA9",
                                                   "\xD0\x96",
                                                   "\xD7\x90",
                                                   "$",
                                                   "+",
                                                   "<",
                                                   "|"};
  std::string text;
  std::uniform_int_distribution<size_t> pick(0, kPieces.size() - 1);
  for (size_t i = 0; i < length; ++i) text += kPieces[pick(rng)];
  return text;
}

void ExpectSameAsPcre2(std::string_view pattern) {
  auto fast = Regex::Compile(std::string(pattern));
  auto slow = Regex::Compile(std::string(pattern));
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*fast)->has_fast_path());
  (*slow)->DisableFastPath();
  std::mt19937 rng(1234);
  for (int round = 0; round < 3000; ++round) {
    const std::string text = RandomText(rng, 1 + round % 40);
    std::vector<Span> expected, actual;
    (*slow)->FindAll(text, expected);
    (*fast)->FindAll(text, actual);
    ASSERT_EQ(actual, expected) << "text: '" << text << "'";
  }
}

TEST(SplitPatternsTest, Gpt2MatchesPcre2) { ExpectSameAsPcre2(kGpt2Pattern); }
TEST(SplitPatternsTest, Llama3MatchesPcre2) { ExpectSameAsPcre2(kLlama3Pattern); }
TEST(SplitPatternsTest, Qwen2MatchesPcre2) { ExpectSameAsPcre2(kQwen2Pattern); }

TEST(RegexTest, EmptyMatchesFollowTheOnigIterationRule) {
  auto regex = Regex::Compile("x*");
  ASSERT_TRUE(regex.ok());
  std::vector<Span> matches;
  (*regex)->FindAll("axxb", matches);
  // Empty at 0, "xx" at 1, then the empty match at 3 right after it is skipped; empty
  // at 4 (the end) is kept.
  EXPECT_EQ(matches, (std::vector<Span>{{0, 0}, {1, 3}, {4, 4}}));
}

TEST(RegexTest, LiteralEscapesEverything) {
  auto regex = Regex::Literal("a.b\\E*");
  ASSERT_TRUE(regex.ok()) << regex.status().ToString();
  std::vector<Span> matches;
  (*regex)->FindAll("xa.b\\E*yaxb", matches);
  EXPECT_EQ(matches, (std::vector<Span>{{1, 7}}));
}

TEST(RegexTest, BadPatternNamesThePattern) {
  auto regex = Regex::Compile("(unclosed");
  ASSERT_FALSE(regex.ok());
  EXPECT_NE(regex.status().message().find("(unclosed"), std::string::npos);
}

TEST(Utf8Test, LossyReplacesMaximalInvalidSubsequences) {
  // The examples of the Unicode standard, section 3.9 (U+FFFD substitution).
  EXPECT_EQ(Utf8Lossy("a\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD"
            "d");
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Utf8Lossy("\xE2\x82"), "\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80 ok"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));
}

}  // namespace
}  // namespace lantern::tokenizer
