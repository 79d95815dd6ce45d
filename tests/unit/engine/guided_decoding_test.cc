// Guided decoding through the engine: every sampler setting keeps to the grammar, EOS only
// where it may end, a complete grammar stops the sequence, max_tokens mid-way finishes with
// "length", n > 1 gives each sequence its own matcher, and preemption (recompute) leaves
// the matchers consistent.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "grammar/grammar.h"
#include "test_support.h"

namespace lantern::engine {
namespace {

using testing::Collect;
using testing::Collected;
using testing::HistoryModel;

constexpr int kVocab = 40;
constexpr int kEos = 0;

std::shared_ptr<const grammar::Vocabulary> LetterVocabulary() {
  std::vector<std::string> tokens(kVocab);
  std::vector<bool> special(kVocab, false);
  special[kEos] = true;
  for (int t = 1; t < kVocab; ++t) tokens[t] = testing::TokenText(t);
  return grammar::Vocabulary::Create(tokens, special);
}

EngineConfig Config() {
  EngineConfig c;
  c.kv_cache_memory_bytes = 4 << 20;
  c.block_size = 4;
  c.detokenizer_factory = testing::LetterDetokenizers();
  return c;
}

// Built with += : GCC 12 warns falsely (-Wrestrict) on "literal" + std::to_string().
std::string Id(const char* prefix, int i) {
  std::string id = prefix;
  id += std::to_string(i);
  return id;
}

Request Make(const std::string& id, SamplingParams p) {
  Request r;
  r.id = id;
  r.prompt_token_ids = {3, 1, 4, 1, 5};
  r.params = std::move(p);
  return r;
}

grammar::GrammarHandle Regex(const std::string& pattern) {
  auto g = grammar::CompileRegex(pattern, LetterVocabulary());
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return *g;
}

Collected RunOne(Engine& engine, const Request& r) {
  auto stream = engine.Submit(r);
  EXPECT_TRUE(stream.ok()) << stream.status().ToString();
  return Collect(**stream);
}

TEST(GuidedDecodingTest, EverySamplerSettingKeepsToTheGrammar) {
  auto engine = std::move(Engine::Create(std::make_shared<HistoryModel>(
                                             kVocab, 256, std::vector<int>{kEos}),
                                         Config()))
                    .value();
  const std::string pattern = "[a-f]{2,6}(ij|gh)?";
  std::vector<SamplingParams> settings(6);
  settings[0].temperature = 0;
  settings[1].temperature = 1.3;
  settings[2].top_k = 3;
  settings[2].top_p = 0.7;
  settings[3].min_p = 0.2;
  settings[3].repetition_penalty = 1.5;
  settings[3].frequency_penalty = 1;
  settings[4].presence_penalty = -1;
  settings[4].logprobs = 5;
  settings[4].logit_bias = {{7, 50.0}};  // 'h': allowed, so pushed to the front
  settings[5].seed = 9;
  settings[5].n = 3;
  for (size_t i = 0; i < settings.size(); ++i) {
    SamplingParams p = settings[i];
    p.max_tokens = 50;
    p.grammar = Regex(pattern);
    const Collected c = RunOne(*engine, Make(Id("g", static_cast<int>(i)), p));
    ASSERT_EQ(static_cast<int>(c.seqs.size()), p.n);
    for (const auto& [index, s] : c.seqs) {
      EXPECT_TRUE(std::regex_match(s.text, std::regex(pattern))) << i << ": " << s.text;
      EXPECT_EQ(s.finish_reason, FinishReason::kStop) << i << ": " << s.text;
      for (const auto& lp : s.logprobs) {
        // After masking (as vLLM): forbidden tokens carry no probability.
        EXPECT_GT(lp.chosen.logprob, -1e30f);
        for (const auto& top : lp.top) {
          if (top.logprob > -1e30f) {
            const std::string t = testing::TokenText(top.token_id);
            EXPECT_TRUE(top.token_id == kEos || std::regex_search(t, std::regex("^[a-k]")))
                << "token " << t << " has probability but the grammar forbids it";
          }
        }
      }
    }
  }
}

TEST(GuidedDecodingTest, ACompleteGrammarStopsWithoutSamplingEos) {
  auto engine = std::move(Engine::Create(std::make_shared<HistoryModel>(
                                             kVocab, 256, std::vector<int>{kEos}),
                                         Config()))
                    .value();
  SamplingParams p;
  p.max_tokens = 50;
  p.grammar = *grammar::CompileChoice({"fFbc", "hij"}, LetterVocabulary());
  p.n = 4;
  p.seed = 1;
  const Collected c = RunOne(*engine, Make("choice", p));
  for (const auto& [index, s] : c.seqs) {
    EXPECT_TRUE(s.text == "fFbc" || s.text == "hij") << s.text;
    EXPECT_EQ(s.finish_reason, FinishReason::kStop);
    EXPECT_NE(s.tokens.back(), kEos);
  }
}

TEST(GuidedDecodingTest, MaxTokensMidwayFinishesWithLength) {
  auto engine = std::move(Engine::Create(std::make_shared<HistoryModel>(
                                             kVocab, 256, std::vector<int>{kEos}),
                                         Config()))
                    .value();
  SamplingParams p;
  p.max_tokens = 3;
  p.grammar = Regex("[a-d]{10}");
  const Collected c = RunOne(*engine, Make("len", p));
  const auto& s = c.seqs.at(0);
  EXPECT_EQ(s.finish_reason, FinishReason::kLength);
  EXPECT_TRUE(std::regex_match(s.text, std::regex("[a-d]{3}"))) << s.text;
}

TEST(GuidedDecodingTest, PreemptedSequencesKeepTheirMatchers) {
  auto model = std::make_shared<HistoryModel>(kVocab, 64, std::vector<int>{kEos});
  EngineConfig tight = Config();
  tight.max_num_batched_tokens = 16;
  tight.kv_cache_memory_bytes = 20 * model->KvBytesPerBlock(4);
  tight.max_model_len = 64;
  auto engine = std::move(Engine::Create(model, tight)).value();
  const std::string pattern = "([a-e][f-j]){4,12}";
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < 16; ++i) {
    SamplingParams p;
    p.max_tokens = 40;
    p.seed = i;
    p.grammar = Regex(pattern);
    Request r = Make(Id("p", i), p);
    r.prompt_token_ids.push_back(1 + i);
    streams.push_back(*engine->Submit(r));
  }
  std::vector<Collected> out(streams.size());
  std::vector<std::thread> readers;
  for (size_t i = 0; i < streams.size(); ++i) {
    readers.emplace_back([&, i] { out[i] = Collect(*streams[i]); });
  }
  for (auto& t : readers) t.join();
  for (const auto& c : out) {
    const auto& s = c.seqs.at(0);
    EXPECT_TRUE(std::regex_match(s.text, std::regex(pattern))) << s.text;
  }
  EXPECT_GT(engine->Counters().num_preemptions, 0u);
}

}  // namespace
}  // namespace lantern::engine
