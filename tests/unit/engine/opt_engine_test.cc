// The engine on the real OPT implementation (a tiny random checkpoint from
// tests/fixtures/make_opt_model.py): greedy outputs equal the independent numpy reference
// (tests/fixtures/opt_reference.py), and equal each request run alone when many run
// together with chunked prefill, preemption under a small KV pool and prefix-cache hits.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "model/model.h"
#include "test_support.h"

namespace lantern::engine {
namespace {

using testing::Collect;
using testing::Collected;

namespace fs = std::filesystem;

bool RunPython(const std::string& script, const std::vector<std::string>& args) {
  std::string command = LANTERN_PYTHON;
  command += " '";
  command += LANTERN_SOURCE_DIR;
  command += "/tests/fixtures/";
  command += script;
  command += "'";
  for (const auto& a : args) {
    command += " '";
    command += a;  // test-made paths and numbers: no quotes inside
    command += "'";
  }
  return std::system(command.c_str()) == 0;
}

std::string JoinIds(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

class OptEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("lantern-engine-opt-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    ASSERT_TRUE(RunPython("make_opt_model.py", {"--out", (*dir_ / "model").string(), "--seed", "11",
                                                "--preset", "tiny"}));
    auto model = model::LoadModel(*dir_ / "model", {.num_threads = 1});
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = new std::shared_ptr<model::Model>(std::move(model).value());
  }
  static void TearDownTestSuite() {
    delete model_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  static EngineConfig Roomy() {
    EngineConfig c;
    c.kv_cache_memory_bytes = 64 * (*model_)->KvBytesPerBlock(16);
    return c;
  }

  static std::unique_ptr<Engine> Start(EngineConfig config) {
    auto engine = Engine::Create(*model_, std::move(config));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return std::move(engine).value();
  }

  static std::vector<Collected> Run(Engine& engine, const std::vector<Request>& requests) {
    std::vector<std::shared_ptr<RequestStream>> streams;
    for (const auto& r : requests) {
      auto s = engine.Submit(r);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      streams.push_back(*s);
    }
    std::vector<Collected> out;
    for (auto& s : streams) out.push_back(Collect(*s));
    return out;
  }

  static std::vector<Request> Mixed(int count, SamplingParams base) {
    std::vector<Request> requests;
    const int vocab = (*model_)->config().vocab_size;
    for (int i = 0; i < count; ++i) {
      Request r;
      r.id = "r";
      r.id += std::to_string(i);
      const int len = 5 + (i * 17) % 56;
      for (int t = 0; t < len; ++t) {
        // Every third request shares a common prefix with the others of its kind.
        const int salt = i % 3 == 0 ? 0 : i;
        r.prompt_token_ids.push_back(4 + (t * 31 + salt * 97) % (vocab - 4));
      }
      r.params = base;
      r.params.max_tokens = 8 + (i * 7) % 33;
      requests.push_back(std::move(r));
    }
    return requests;
  }

  static fs::path* dir_;
  static std::shared_ptr<model::Model>* model_;
};

fs::path* OptEngineTest::dir_ = nullptr;
std::shared_ptr<model::Model>* OptEngineTest::model_ = nullptr;

SamplingParams GreedyIgnoringEos() {
  SamplingParams p;
  p.temperature = 0;
  p.ignore_eos = true;
  return p;
}

TEST_F(OptEngineTest, GreedyOutputsEqualTheNumpyReference) {
  SamplingParams p = GreedyIgnoringEos();
  p.max_tokens = 10;
  std::vector<Request> requests = Mixed(3, p);
  for (auto& r : requests) r.params.max_tokens = 10;
  auto engine = Start(Roomy());
  const auto results = Run(*engine, requests);
  std::string joined;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (i > 0) joined += ';';
    joined += JoinIds(requests[i].prompt_token_ids);
  }
  // The engine keeps K/V in the default --kv-cache-dtype (auto: 16 bits); the reference
  // rounds them the same way.
  const char* kv_dtype =
      (*model_)->AutoKvCacheDType() == model::DType::kF16 ? "float16" : "bfloat16";
  ASSERT_TRUE(RunPython("opt_reference.py",
                        {"--model", (*dir_ / "model").string(), "--sequences", joined, "--out",
                         dir_->string(), "--greedy", "10", "--kv-cache-dtype", kv_dtype}));
  for (size_t i = 0; i < requests.size(); ++i) {
    std::ifstream in(*dir_ / ("greedy_" + std::to_string(i) + ".txt"));
    std::stringstream text;
    text << in.rdbuf();
    std::string expected = text.str();
    while (!expected.empty() && std::isspace(static_cast<unsigned char>(expected.back()))) {
      expected.pop_back();
    }
    EXPECT_EQ(JoinIds(results[i].seqs.at(0).tokens), expected) << requests[i].id;
  }
}

TEST_F(OptEngineTest, GreedyBatchEqualsAloneUnderChunkingPreemptionAndPrefixHits) {
  const auto requests = Mixed(16, GreedyIgnoringEos());
  std::vector<Collected> alone;
  for (const auto& r : requests) {
    auto engine = Start(Roomy());
    alone.push_back(std::move(Run(*engine, {r})[0]));
  }
  EngineConfig tight = Roomy();
  tight.max_num_batched_tokens = 24;  // prompts of up to 60 tokens arrive in chunks
  tight.kv_cache_memory_bytes = 10 * (*model_)->KvBytesPerBlock(16);  // 160 tokens in all
  auto engine = Start(tight);
  const auto together = Run(*engine, requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(together[i].seqs.at(0).tokens, alone[i].seqs.at(0).tokens) << requests[i].id;
  }
  const EngineCounters c = engine->Counters();
  EXPECT_GT(c.num_preemptions, 0u);
  EXPECT_GT(c.prefix_cache_hits, 0u);
  for (const auto& step : engine->RecentSteps()) EXPECT_LE(step.kv_blocks_used, 10);
  for (int i = 0; i < 500 && engine->Counters().kv_blocks_used != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(engine->Counters().kv_blocks_used, 0);
}

TEST_F(OptEngineTest, SeededSamplingIsTheSameWhateverTheBatch) {
  SamplingParams seeded;
  seeded.temperature = 0.9;
  seeded.top_p = 0.95;
  seeded.seed = 1234;
  seeded.ignore_eos = true;
  seeded.max_tokens = 16;
  Request target;
  target.id = "target";
  target.prompt_token_ids = {5, 17, 200, 9, 31, 64, 100};
  target.params = seeded;
  auto alone_engine = Start(Roomy());
  const Collected alone = Run(*alone_engine, {target})[0];
  SamplingParams random;
  random.temperature = 1.0;
  auto others = Mixed(8, random);
  others.insert(others.begin() + 3, target);
  EngineConfig config = Roomy();
  config.max_num_batched_tokens = 20;
  auto engine = Start(config);
  const auto together = Run(*engine, others);
  EXPECT_EQ(together[3].seqs.at(0).tokens, alone.seqs.at(0).tokens);
}

}  // namespace
}  // namespace lantern::engine
