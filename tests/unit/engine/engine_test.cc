// The engine end to end on a model whose logits are a pure function of the history it
// reads back from the paged KV cache: batching, chunked prefill, preemption, prefix
// caching, n > 1, stops, aborts, timings and the KV pool's accounting.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test_support.h"

namespace lantern::engine {
namespace {

using testing::Collect;
using testing::Collected;
using testing::HistoryModel;

constexpr int kVocab = 40;
constexpr int kEos = 0;

std::shared_ptr<HistoryModel> NewModel(int max_positions = 256) {
  return std::make_shared<HistoryModel>(kVocab, max_positions, std::vector<int>{kEos});
}

EngineConfig Roomy() {
  EngineConfig c;
  c.kv_cache_memory_bytes = 4 << 20;
  c.block_size = 4;
  c.detokenizer_factory = testing::LetterDetokenizers();
  return c;
}

std::unique_ptr<Engine> Start(std::shared_ptr<model::Model> model, EngineConfig config) {
  auto engine = Engine::Create(std::move(model), std::move(config));
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return std::move(engine).value();
}

// Built with += : GCC 12 warns falsely (-Wrestrict) on "literal" + std::to_string().
std::string Id(const char* prefix, int i) {
  std::string id = prefix;
  id += std::to_string(i);
  return id;
}

Request MakeRequest(const std::string& id, std::vector<int32_t> prompt, SamplingParams p) {
  Request r;
  r.id = id;
  r.prompt_token_ids = std::move(prompt);
  r.params = std::move(p);
  return r;
}

std::vector<int32_t> Prompt(int n, int salt) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back(1 + (i * 7 + salt * 13) % (kVocab - 1));
  return t;
}

SamplingParams Greedy(int max_tokens) {
  SamplingParams p;
  p.temperature = 0;
  p.max_tokens = max_tokens;
  return p;
}

Collected RunAlone(std::shared_ptr<model::Model> model, const Request& request,
                   EngineConfig config = Roomy()) {
  auto engine = Start(std::move(model), std::move(config));
  auto stream = engine->Submit(request);
  EXPECT_TRUE(stream.ok()) << stream.status().ToString();
  return Collect(**stream);
}

std::vector<Collected> RunTogether(Engine& engine, const std::vector<Request>& requests) {
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& r : requests) {
    auto s = engine.Submit(r);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    streams.push_back(*s);
  }
  std::vector<Collected> out(requests.size());
  std::vector<std::thread> readers;
  for (size_t i = 0; i < streams.size(); ++i) {
    readers.emplace_back([&, i] { out[i] = Collect(*streams[i]); });
  }
  for (auto& t : readers) t.join();
  return out;
}

// Mixed prompts (some sharing prefixes), mixed output lengths.
std::vector<Request> MixedRequests(int count, SamplingParams base) {
  std::vector<Request> requests;
  for (int i = 0; i < count; ++i) {
    auto prompt = Prompt(3 + (i * 11) % 37, i % 3 == 0 ? 0 : i);
    SamplingParams p = base;
    p.max_tokens = 4 + (i * 5) % 23;
    requests.push_back(MakeRequest(Id("r", i), prompt, p));
  }
  return requests;
}

void WaitIdle(Engine& engine) {
  for (int i = 0; i < 1000 && engine.Counters().kv_blocks_used != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST(EngineTest, GreedyBatchEqualsAloneUnderChunkingPreemptionAndPrefixHits) {
  auto model = NewModel(64);
  const auto requests = MixedRequests(24, Greedy(0));
  std::vector<Collected> alone;
  for (const auto& r : requests) alone.push_back(RunAlone(model, r));

  EngineConfig tight = Roomy();
  tight.max_num_batched_tokens = 16;                             // prompts arrive in chunks
  tight.kv_cache_memory_bytes = 20 * model->KvBytesPerBlock(4);  // 80 tokens for 24 requests
  tight.max_model_len = 64;
  std::atomic<int> max_used{0};
  tight.on_step = [&](const StepStats& s) {
    max_used = std::max(max_used.load(), s.kv_blocks_used);
  };
  auto engine = Start(model, tight);
  const auto together = RunTogether(*engine, requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(together[i].seqs.at(0).tokens, alone[i].seqs.at(0).tokens) << requests[i].id;
    EXPECT_EQ(together[i].seqs.at(0).text, alone[i].seqs.at(0).text) << requests[i].id;
    EXPECT_EQ(together[i].seqs.at(0).finish_reason, alone[i].seqs.at(0).finish_reason);
  }
  WaitIdle(*engine);
  const EngineCounters c = engine->Counters();
  EXPECT_GT(c.num_preemptions, 0u);
  EXPECT_GT(c.prefix_cache_hits, 0u);
  EXPECT_LE(max_used.load(), 20);
  EXPECT_EQ(c.kv_blocks_total, 20);
  EXPECT_EQ(c.kv_blocks_used, 0);
  EXPECT_EQ(c.num_running, 0);
  EXPECT_EQ(c.num_waiting, 0);
}

TEST(EngineTest, SeededSamplingIsTheSameWhateverTheBatch) {
  auto model = NewModel();
  SamplingParams seeded;
  seeded.temperature = 1.0;
  seeded.seed = 42;
  seeded.max_tokens = 20;
  seeded.ignore_eos = true;
  const Request target = MakeRequest("target", Prompt(9, 5), seeded);
  const Collected alone = RunAlone(model, target);

  SamplingParams noisy;
  noisy.temperature = 1.0;
  noisy.max_tokens = 30;
  auto others = MixedRequests(12, noisy);
  others.insert(others.begin() + 5, target);
  EngineConfig config = Roomy();
  config.max_num_batched_tokens = 8;
  auto engine = Start(model, config);
  const auto together = RunTogether(*engine, others);
  EXPECT_EQ(together[5].seqs.at(0).tokens, alone.seqs.at(0).tokens);
  EXPECT_EQ(alone.seqs.at(0).tokens.size(), 20u);
}

TEST(EngineTest, ParallelSamplingSharesThePromptAndSeedsEachSequence) {
  auto model = NewModel();
  for (bool caching : {true, false}) {
    EngineConfig config = Roomy();
    config.enable_prefix_caching = caching;
    SamplingParams p;
    p.n = 3;
    p.seed = 5;
    p.max_tokens = 12;
    p.ignore_eos = true;
    auto engine = Start(model, config);
    auto stream = engine->Submit(MakeRequest("par", Prompt(40, 1), p));
    ASSERT_TRUE(stream.ok());
    const Collected c = Collect(**stream);
    ASSERT_EQ(c.seqs.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      SamplingParams single = p;
      single.n = 1;
      single.seed = 5 + i;
      const Collected one = RunAlone(model, MakeRequest("one", Prompt(40, 1), single), config);
      EXPECT_EQ(c.seqs.at(i).tokens, one.seqs.at(0).tokens) << "sequence " << i;
      EXPECT_EQ(c.seqs.at(i).finish_reason, FinishReason::kLength);
    }
    // Sequences 1 and 2 took 9 full blocks (36 tokens) of the prompt from sequence 0.
    EXPECT_EQ(engine->Counters().prefix_cache_hits, 72u) << "caching " << caching;
    ASSERT_TRUE(c.metrics);
    EXPECT_EQ(c.metrics->num_generation_tokens, 36);
  }
}

TEST(EngineTest, StopStringsCutTheTextLikeVllm) {
  auto model = NewModel();
  SamplingParams p = Greedy(30);
  p.ignore_eos = true;
  const auto prompt = Prompt(6, 2);
  const Collected full = RunAlone(model, MakeRequest("full", prompt, p));
  const std::string& text = full.seqs.at(0).text;
  ASSERT_GE(text.size(), 12u);
  // A stop string that spans a token boundary somewhere in the middle.
  const std::string stop = text.substr(7, 3);
  const size_t at = text.find(stop);
  // Tokens up to the one whose text completes the first occurrence.
  size_t expected_tokens = 0;
  for (std::string prefix; prefix.size() < at + stop.size(); ++expected_tokens) {
    prefix += testing::TokenText(full.seqs.at(0).tokens[expected_tokens]);
  }
  for (bool include : {false, true}) {
    SamplingParams sp = p;
    sp.stop = {"zzzz-never", stop};
    sp.include_stop_str_in_output = include;
    const Collected c = RunAlone(model, MakeRequest("stop", prompt, sp));
    const auto& s = c.seqs.at(0);
    EXPECT_EQ(s.text, text.substr(0, include ? at + stop.size() : at));
    EXPECT_EQ(s.finish_reason, FinishReason::kStop);
    EXPECT_EQ(std::get<std::string>(s.stop_reason), stop);
    EXPECT_EQ(s.tokens.size(), expected_tokens);
  }
}

TEST(EngineTest, StopTokenIdsEosMinTokensAndMaxTokens) {
  auto model = NewModel();
  const auto prompt = Prompt(5, 3);
  SamplingParams p = Greedy(25);
  p.ignore_eos = true;
  const Collected full = RunAlone(model, MakeRequest("full", prompt, p));
  const auto& tokens = full.seqs.at(0).tokens;
  ASSERT_EQ(tokens.size(), 25u);
  EXPECT_EQ(full.seqs.at(0).finish_reason, FinishReason::kLength);

  // stop_token_ids: ends at the first occurrence; its text is left out.
  const int32_t stop_id = tokens[6];
  const size_t first = std::find(tokens.begin(), tokens.end(), stop_id) - tokens.begin();
  SamplingParams sp = p;
  sp.stop_token_ids = {stop_id};
  Collected c = RunAlone(model, MakeRequest("stop-id", prompt, sp));
  EXPECT_EQ(c.seqs.at(0).tokens.size(), first + 1);
  EXPECT_EQ(c.seqs.at(0).finish_reason, FinishReason::kStop);
  EXPECT_EQ(std::get<int32_t>(c.seqs.at(0).stop_reason), stop_id);
  std::string expected_text;
  for (size_t i = 0; i < first; ++i) expected_text += testing::TokenText(tokens[i]);
  EXPECT_EQ(c.seqs.at(0).text, expected_text);

  // EOS made certain by a logit bias; min_tokens holds it off for 3 tokens.
  SamplingParams eos = Greedy(25);
  eos.logit_bias = {{kEos, 100.0}};
  c = RunAlone(model, MakeRequest("eos", prompt, eos));
  EXPECT_EQ(c.seqs.at(0).tokens, std::vector<int32_t>{kEos});
  EXPECT_EQ(c.seqs.at(0).finish_reason, FinishReason::kStop);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(c.seqs.at(0).stop_reason));
  eos.min_tokens = 3;
  c = RunAlone(model, MakeRequest("eos-min", prompt, eos));
  ASSERT_EQ(c.seqs.at(0).tokens.size(), 4u);
  EXPECT_NE(c.seqs.at(0).tokens[2], kEos);
  EXPECT_EQ(c.seqs.at(0).tokens[3], kEos);
  eos.ignore_eos = true;
  eos.max_tokens = 6;
  c = RunAlone(model, MakeRequest("eos-ignored", prompt, eos));
  EXPECT_EQ(c.seqs.at(0).tokens, std::vector<int32_t>(6, kEos));
  EXPECT_EQ(c.seqs.at(0).finish_reason, FinishReason::kLength);
}

TEST(EngineTest, ContextLengthEndsGenerationAndLongPromptsAreRejected) {
  auto model = NewModel();
  EngineConfig config = Roomy();
  config.max_model_len = 32;
  SamplingParams p = Greedy(0);
  p.max_tokens.reset();
  p.ignore_eos = true;
  Collected c = RunAlone(model, MakeRequest("ctx", Prompt(30, 1), p), config);
  EXPECT_EQ(c.seqs.at(0).tokens.size(), 2u);
  EXPECT_EQ(c.seqs.at(0).finish_reason, FinishReason::kLength);
  c = RunAlone(model, MakeRequest("ctx-full", Prompt(32, 1), p), config);
  EXPECT_EQ(c.seqs.at(0).tokens.size(), 1u);

  auto engine = Start(model, config);
  auto rejected = engine->Submit(MakeRequest("long", Prompt(33, 1), p));
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.status().message().find(
                "the prompt (length 33) is longer than the maximum model length of 32"),
            std::string::npos);
  EXPECT_FALSE(engine->Submit(MakeRequest("empty", {}, p)).ok());
  auto bad_token = engine->Submit(MakeRequest("bad", {1, kVocab}, p));
  ASSERT_FALSE(bad_token.ok());
  EXPECT_NE(bad_token.status().message().find("prompt token 1 is 40"), std::string::npos);
  SamplingParams bad = p;
  bad.top_p = 2;
  EXPECT_NE(engine->Submit(MakeRequest("badp", {1}, bad)).status().message().find("top_p"),
            std::string::npos);
}

TEST(EngineTest, AbortMidPrefillAndMidDecodeFreesEverything) {
  auto model = NewModel();
  EngineConfig config = Roomy();
  config.max_num_batched_tokens = 8;
  Engine* engine_ptr = nullptr;
  // Count each request's own steps (not the engine's), so that however the two submissions
  // interleave with the step loop (slow under TSan): "prefill" is at most 24 tokens into its
  // 200-token prompt at its third step, and "decode" has 2+ tokens by its twelfth.
  int prefill_steps = 0, decode_steps = 0;  // engine thread only
  config.on_step = [&](const StepStats& s) {
    for (const auto& id : s.request_ids) {
      if (id == "prefill" && ++prefill_steps == 3) engine_ptr->Abort("prefill");
      if (id == "decode" && ++decode_steps == 12) engine_ptr->Abort("decode");
    }
  };
  auto engine = Start(model, config);
  engine_ptr = engine.get();
  SamplingParams p = Greedy(200);
  p.ignore_eos = true;
  auto decode = engine->Submit(MakeRequest("decode", Prompt(4, 1), p));
  auto prefill = engine->Submit(MakeRequest("prefill", Prompt(200, 2), p));
  ASSERT_TRUE(decode.ok() && prefill.ok());
  const Collected d = Collect(**decode);
  const Collected f = Collect(**prefill);
  EXPECT_EQ(f.seqs.at(0).finish_reason, FinishReason::kAbort);
  EXPECT_TRUE(f.seqs.at(0).tokens.empty());
  EXPECT_EQ(d.seqs.at(0).finish_reason, FinishReason::kAbort);
  EXPECT_GE(d.seqs.at(0).tokens.size(), 2u);
  EXPECT_LT(d.seqs.at(0).tokens.size(), 200u);
  WaitIdle(*engine);
  const EngineCounters c = engine->Counters();
  EXPECT_EQ(c.kv_blocks_used, 0);
  EXPECT_EQ(c.finished_abort, 2u);
  engine->Abort("decode");  // finished: ignored
}

TEST(EngineTest, ShutdownAbortsWhatIsLeftAndRefusesNewWork) {
  auto model = NewModel();
  auto engine = Start(model, Roomy());
  SamplingParams p = Greedy(200);
  p.ignore_eos = true;
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(*engine->Submit(MakeRequest(Id("s", i), Prompt(8, i), p)));
  }
  auto duplicate = engine->Submit(MakeRequest("s0", Prompt(8, 0), p));
  EXPECT_FALSE(duplicate.ok());
  engine->Shutdown();
  for (auto& s : streams) {
    const Collected c = Collect(*s);
    EXPECT_TRUE(c.finished);
    EXPECT_TRUE(c.seqs.at(0).finish_reason.has_value());
  }
  EXPECT_FALSE(engine->alive());
  auto late = engine->Submit(MakeRequest("late", Prompt(8, 0), p));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
}

TEST(EngineTest, PromptLogprobsMatchTheModelAcrossChunks) {
  auto model = NewModel();
  const auto prompt = Prompt(21, 4);
  // Reference: the model's own logits for every prompt position in one pass.
  auto kv = model->NewKvCache(8, 4);
  model::Batch batch;
  std::vector<int32_t> table = {0, 1, 2, 3, 4, 5};
  batch.sequences.push_back({prompt, 0, table, model::SequenceChunk::Logits::kAll});
  std::vector<float> logits;
  ASSERT_TRUE(model->Forward(batch, *kv, &logits).ok());
  Sampler reference(kVocab);

  EngineConfig config = Roomy();
  config.max_num_batched_tokens = 8;
  SamplingParams p = Greedy(3);
  p.prompt_logprobs = 2;
  p.logprobs = 1;
  const Collected c = RunAlone(model, MakeRequest("plp", prompt, p), config);
  ASSERT_EQ(c.prompt_logprobs.size(), prompt.size());
  EXPECT_EQ(c.prompt_logprobs[0].chosen.token_id, prompt[0]);
  EXPECT_TRUE(c.prompt_logprobs[0].top.empty());
  for (size_t pos = 1; pos < prompt.size(); ++pos) {
    const PositionLogprobs want =
        reference.Logprobs(logits.data() + (pos - 1) * kVocab, prompt[pos], 2);
    const PositionLogprobs& got = c.prompt_logprobs[pos];
    EXPECT_EQ(got.chosen.token_id, prompt[pos]);
    EXPECT_FLOAT_EQ(got.chosen.logprob, want.chosen.logprob);
    EXPECT_EQ(got.chosen.rank, want.chosen.rank);
    ASSERT_EQ(got.top.size(), 2u);
    EXPECT_EQ(got.top[0].token_id, want.top[0].token_id);
  }
  ASSERT_EQ(c.seqs.at(0).logprobs.size(), 3u);
  EXPECT_EQ(c.seqs.at(0).logprobs[0].chosen.rank, 1);  // greedy picks the top token
}

TEST(EngineTest, TimingsAreOrderedAndCountTheQueueStays) {
  auto model = NewModel(64);
  EngineConfig tight = Roomy();
  tight.max_num_batched_tokens = 16;
  tight.kv_cache_memory_bytes = 18 * model->KvBytesPerBlock(4);
  tight.max_model_len = 64;
  std::vector<StepStats> steps;
  auto engine = Start(model, tight);
  SamplingParams p = Greedy(25);
  p.ignore_eos = true;
  const auto results = RunTogether(*engine, MixedRequests(10, p));
  int preempted = 0;
  for (const auto& c : results) {
    ASSERT_TRUE(c.metrics);
    const RequestMetrics& m = *c.metrics;
    ASSERT_TRUE(m.first_scheduled && m.first_token && m.last_token && m.finished);
    EXPECT_LE(m.arrival, *m.first_scheduled);
    EXPECT_LE(*m.first_scheduled, *m.first_token);
    EXPECT_LE(*m.first_token, *m.last_token);
    EXPECT_LE(*m.last_token, *m.finished);
    EXPECT_EQ(m.queue_intervals.size(), 1u + m.num_preemptions);
    for (const auto& q : m.queue_intervals) EXPECT_LE(q.enter, q.exit);
    EXPECT_EQ(m.num_generation_tokens, static_cast<int>(c.seqs.at(0).tokens.size()));
    EXPECT_EQ(c.seqs.at(0).token_times.size(), c.seqs.at(0).tokens.size());
    EXPECT_TRUE(std::is_sorted(c.seqs.at(0).token_times.begin(), c.seqs.at(0).token_times.end()));
    EXPECT_EQ(m.num_cached_prompt_tokens + m.num_computed_prompt_tokens, m.num_prompt_tokens);
    EXPECT_GE(m.num_prefill_chunks, 1);
    EXPECT_GT(m.model_forward_s, 0);
    EXPECT_GE(m.model_execute_s, m.model_forward_s);
    preempted += m.num_preemptions;
  }
  EXPECT_GT(preempted, 0);
  const auto recent = engine->RecentSteps();
  ASSERT_FALSE(recent.empty());
  for (const auto& s : recent) {
    EXPECT_LE(s.kv_blocks_used, 18);
    EXPECT_EQ(s.num_prefill_tokens + s.num_decode_tokens > 0, true);
    EXPECT_LE(s.num_prefill_tokens + s.num_decode_tokens, 16);
    EXPECT_FALSE(s.request_ids.empty());
  }
}

TEST(EngineTest, CreateRejectsAPoolSmallerThanOneFullSequence) {
  auto model = NewModel(64);
  EngineConfig config = Roomy();
  config.kv_cache_memory_bytes = 15 * model->KvBytesPerBlock(4);  // 60 tokens < 64
  auto engine = Engine::Create(model, config);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("raise kv_cache_memory"), std::string::npos);
  config.max_model_len = 100;
  EXPECT_NE(Engine::Create(model, config).status().message().find("max_position_embeddings"),
            std::string::npos);
}

// Without kv_cache_memory the pool holds max_num_seqs sequences of the full length (here far
// below the memory rule's share), so its usage figure means something.
TEST(EngineTest, DefaultPoolHoldsWhatMaxNumSeqsFullSequencesNeed) {
  auto model = NewModel(64);
  EngineConfig config = Roomy();
  config.kv_cache_memory_bytes = 0;
  config.max_num_seqs = 3;
  auto engine = Start(model, config);
  EXPECT_EQ(engine->info().num_kv_blocks, 3 * 64 / 4);
  EXPECT_EQ(engine->info().kv_cache_bytes, 3 * 16 * model->KvBytesPerBlock(4));
}

}  // namespace
}  // namespace lantern::engine
