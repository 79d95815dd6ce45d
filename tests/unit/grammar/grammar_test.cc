// GBNF, regular expressions and choices: what they accept, masks checked exhaustively
// against Accept on a small vocabulary, errors that say what is wrong.
#include "grammar/grammar.h"

#include <gtest/gtest.h>

#include "grammar/grammar_ir.h"
#include "test_vocab.h"

namespace lantern::grammar {
namespace {

using testing::SmallVocabulary;

// Whether the grammar matches `text` in full, fed one byte-token at a time.
bool Matches(const GrammarHandle& g, const std::string& text) {
  if (!g) return false;
  Matcher m(g);
  const auto v = SmallVocabulary();
  for (char c : text) {
    int32_t id = -1;
    for (int32_t t = 0; t < v->size(); ++t) {
      if (v->token(t) == std::string(1, c)) id = t;
    }
    if (id < 0 || !m.Accept(id)) return false;
  }
  return m.CanEnd();
}

GrammarHandle Regex(const std::string& pattern) {
  auto g = CompileRegex(pattern, SmallVocabulary());
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? *g : nullptr;
}

TEST(GrammarTest, RegexAcceptsExactlyItsLanguage) {
  auto g = Regex("^(ab|c)+[0-9]{2,3}x?$");
  EXPECT_TRUE(Matches(g, "ab12"));
  EXPECT_TRUE(Matches(g, "cab123x"));
  EXPECT_FALSE(Matches(g, "ab1"));
  EXPECT_FALSE(Matches(g, "12"));
  EXPECT_FALSE(Matches(g, "ab1234"));
  auto classes = Regex(R"(\d+\.\w\s[^a-z]\S.)");
  EXPECT_TRUE(Matches(classes, "12.x A!?"));
  EXPECT_FALSE(Matches(classes, "12.x a!?"));
  EXPECT_FALSE(Matches(classes, "12.x A!\n"));
}

TEST(GrammarTest, RegexErrorsNameTheProblem) {
  auto v = SmallVocabulary();
  struct Case {
    const char* pattern;
    const char* message;
  };
  for (const auto& [pattern, message] : std::vector<Case>{
           {"(a", "missing ')'"},
           {"a)", "unexpected ')'"},
           {"(?=a)b", "lookaround"},
           {"(a)\\1", "backreferences"},
           {"*a", "nothing before it"},
           {"[b-a]", "out of order"},
           {"a{3,1}", "n < m"},
           {"\\bword", "word boundaries"},
           {"a{99999}", "limit"},
       }) {
    auto g = CompileRegex(pattern, v);
    ASSERT_FALSE(g.ok()) << pattern;
    EXPECT_NE(g.status().message().find(message), std::string::npos)
        << pattern << ": " << g.status().message();
  }
}

TEST(GrammarTest, ChoiceAllowsOnlyTheChoices) {
  auto g = CompileChoice({"true", "tree", "t"}, SmallVocabulary());
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(Matches(*g, "tree"));
  EXPECT_TRUE(Matches(*g, "t"));
  EXPECT_FALSE(Matches(*g, "tr"));
  EXPECT_FALSE(CompileChoice({}, SmallVocabulary()).ok());
}

TEST(GrammarTest, GbnfRulesRepetitionsAndUnicode) {
  auto g = CompileGbnf(R"(# a list of words
root ::= word ("," word){0,2} "."
word ::= [a-zé]+ | "\"" [^"]* "\""
)",
                       SmallVocabulary());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(*g, "ab,c."));
  EXPECT_TRUE(Matches(*g, "a,\"x y\",b."));
  EXPECT_TRUE(Matches(*g, "caf\xC3\xA9."));
  EXPECT_FALSE(Matches(*g, "a,b,c,d."));
  EXPECT_FALSE(Matches(*g, "ab"));
}

TEST(GrammarTest, GbnfErrorsNameTheProblem) {
  auto v = SmallVocabulary();
  struct Case {
    const char* gbnf;
    const char* message;
  };
  for (const auto& [gbnf, message] : std::vector<Case>{
           {"start ::= \"a\"", "no 'root' rule"},
           {"root ::= item", "'item' is used but never defined"},
           {"root ::= root \"a\" | \"b\"", "left-recursive"},
           {"root ::= x\nx ::= \"b\"? root", "left-recursive"},
           {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
           {"root ::= (\"a\"", "expected ')'"},
           {"root ::= {2}", "nothing before it"},
           {"root ::= \"\\q\"", "unknown escape"},
           {"root = \"a\"", "expected '::='"},
       }) {
    auto g = CompileGbnf(gbnf, v);
    ASSERT_FALSE(g.ok()) << gbnf;
    EXPECT_NE(g.status().message().find(message), std::string::npos)
        << gbnf << ": " << g.status().message();
  }
}

// Every mask equals what Accept says, on every state of random walks (exhaustive over the
// vocabulary at each step), for grammars of every kind.
TEST(GrammarTest, MasksAgreeWithAcceptExhaustively) {
  auto v = SmallVocabulary();
  std::vector<GrammarHandle> grammars;
  for (auto g : {CompileRegex("[a-c]{1,4}(-[0-9]+)?", v), CompileRegex("(true|false|\"é+\")", v),
                 CompileChoice({"ab", "abc", "name", "null"}, v), CompileJsonObject(v),
                 CompileGbnf("root ::= \"[\" (item (\",\" item)*)? \"]\"\nitem ::= [0-9]+ | root",
                             v)}) {
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    grammars.push_back(*g);
  }
  std::mt19937 rng(7);
  for (const auto& g : grammars) {
    int finished = 0;
    for (int walk = 0; walk < 30; ++walk) {
      std::string mismatch;
      auto text = testing::RandomWalk(g, *v, rng, 40, &mismatch);
      ASSERT_TRUE(mismatch.empty()) << GrammarKindName(KindOf(*g)) << ": " << mismatch;
      finished += text.has_value();
    }
    EXPECT_GT(finished, 0) << GrammarKindName(KindOf(*g));
  }
}

TEST(GrammarTest, TerminatedOnlyWhenNothingMayFollow) {
  auto v = SmallVocabulary();
  auto g = CompileChoice({"ab", "abab"}, v);
  ASSERT_TRUE(g.ok());
  Matcher m(*g);
  auto id = [&](const std::string& s) {
    for (int32_t t = 0; t < v->size(); ++t) {
      if (v->token(t) == s) return t;
    }
    return -1;
  };
  EXPECT_TRUE(m.Accept(id("ab")));
  EXPECT_TRUE(m.CanEnd());
  EXPECT_FALSE(m.IsTerminated());
  EXPECT_FALSE(m.Accept(id("b")));  // refused, state unchanged
  EXPECT_TRUE(m.Accept(id("ab")));
  EXPECT_TRUE(m.IsTerminated());
  EXPECT_FALSE(m.Accept(0)) << "special tokens are never accepted";
}

TEST(GrammarTest, AmbiguousGrammarsCostBoundedWork) {
  // Exponentially many parses of the empty prefix: the work budget cuts them short.
  auto g = CompileGbnf("root ::= (\"a\"?){3000} \"b\"", SmallVocabulary());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Matcher m(*g);
  std::vector<uint32_t> bits((SmallVocabulary()->size() + 31) / 32);
  m.FillMask(bits);
  EXPECT_FALSE(m.CanEnd());
}

TEST(GrammarTest, CompiledGrammarsAreCached) {
  auto v = SmallVocabulary();
  auto a = CompileRegex("x+y", v);
  auto b = CompileRegex("x+y", v);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
}

}  // namespace
}  // namespace lantern::grammar
