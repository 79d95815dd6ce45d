#include "server/metrics.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>
#include <vector>

#include "server/auth.h"
#include "server/model_source.h"
#include "server/process_metrics.h"
#include "server/serving_metrics.h"

namespace lantern::server {
namespace {

TEST(MetricsTest, RendersPrometheusTextFormat) {
  MetricsRegistry registry;
  Counter* counter = registry.AddCounter("lantern:things_total", "Things.", {{"model_name", "m"}});
  Gauge* gauge = registry.AddGauge("lantern:level", "Level.", {{"model_name", "a\"b"}});
  Histogram* h = registry.AddHistogram("lantern:latency_seconds", "Latency.", {{"model_name", "m"}},
                                       {0.1, 1.0});
  registry.AddCallbackGauge("lantern:read", "Read.", {}, [] { return 7.0; });
  counter->Increment(2);
  gauge->Set(0.5);
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(5.0);
  std::string text = registry.RenderPrometheus();
  EXPECT_NE(
      text.find(
          "# TYPE lantern:things_total counter\nlantern:things_total{model_name=\"m\"} 2.0\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("lantern:level{model_name=\"a\\\"b\"} 0.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE lantern:latency_seconds histogram\n"), std::string::npos);
  // Buckets are cumulative and end with +Inf == count.
  EXPECT_NE(text.find("lantern:latency_seconds_bucket{model_name=\"m\",le=\"0.1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lantern:latency_seconds_bucket{model_name=\"m\",le=\"1.0\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("lantern:latency_seconds_bucket{model_name=\"m\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("lantern:latency_seconds_count{model_name=\"m\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lantern:latency_seconds_sum{model_name=\"m\"} 5.55\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lantern:read 7.0\n"), std::string::npos);
}

// Numbers are written as Python's prometheus_client writes them (vLLM's /metrics), since
// bucket bounds are `le` label values that dashboards match as text.
TEST(MetricsTest, NumbersAreShortestRoundTripWithAPoint) {
  MetricsRegistry registry;
  registry.AddHistogram("h_seconds", "H.", {}, {1e-05, 0.005, 2.5, 10, 1e20});
  std::string text = registry.RenderPrometheus();
  for (const char* bound : {"1e-05", "0.005", "2.5", "10.0", "1e+20", "+Inf"}) {
    EXPECT_NE(text.find(std::string("h_seconds_bucket{le=\"") + bound + "\"} 0\n"),
              std::string::npos)
        << bound << "\n"
        << text;
  }
  EXPECT_NE(text.find("h_seconds_count 0\n"), std::string::npos) << text;
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  Counter* counter = registry.AddCounter("c_total", "C.", {});
  Histogram* h = registry.AddHistogram("h", "H.", {}, {1.0});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter->Increment();
        h->Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter->value(), 40000);
  EXPECT_EQ(h->count(), 40000u);
  EXPECT_EQ(h->sum(), 20000);
}

// vLLM's build_1_2_5_buckets: every 1-2-5 value up to the max, none beyond.
TEST(MetricsTest, OneTwoFiveBucketsStopAtTheMax) {
  EXPECT_EQ(OneTwoFiveBuckets(100), (std::vector<double>{1, 2, 5, 10, 20, 50, 100}));
  EXPECT_EQ(OneTwoFiveBuckets(2048).back(), 2000);
}

// One set of series, two namings: vLLM's families renamed and labelled with engine="0"
// after model_name; lantern's own families unchanged.
TEST(MetricsTest, VllmNamingRenamesOnlyVllmFamilies) {
  MetricsRegistry registry;
  registry
      .AddCounter("lantern:request_success_total", "Done.",
                  {{"model_name", "m"}, {"finished_reason", "stop"}})
      ->Increment();
  registry.AddGauge("lantern:cache_config_info", "Info.", {{"block_size", "16"}})->Set(1);
  registry.AddGauge("lantern:cpu_info", "CPU.", {{"isa", "avx2"}})->Set(1);
  registry.ServeAsVllm("lantern:request_success_total");
  registry.ServeAsVllm("lantern:cache_config_info");
  const std::string lantern = registry.RenderPrometheus();
  EXPECT_NE(lantern.find("lantern:request_success_total{model_name=\"m\",finished_reason=\"stop\"} "
                         "1.0\n"),
            std::string::npos)
      << lantern;
  const std::string vllm = registry.Render({.naming = MetricsNaming::kVllm});
  EXPECT_NE(vllm.find("# TYPE vllm:request_success_total counter\n"
                      "vllm:request_success_total{model_name=\"m\",engine=\"0\",finished_reason="
                      "\"stop\"} 1.0\n"),
            std::string::npos)
      << vllm;
  EXPECT_NE(vllm.find("vllm:cache_config_info{block_size=\"16\",engine=\"0\"} 1.0\n"),
            std::string::npos)
      << vllm;
  EXPECT_NE(vllm.find("lantern:cpu_info{isa=\"avx2\"} 1.0\n"), std::string::npos) << vllm;
  EXPECT_EQ(vllm.find("lantern:request_success_total"), std::string::npos) << vllm;
}

TEST(MetricsTest, OpenMetricsHasTotalsUnitsExemplarsAndEof) {
  MetricsRegistry registry;
  registry.AddCounter("lantern:prompt_tokens_total", "Tokens.", {})->Increment(3);
  Histogram* h =
      registry.AddHistogram("lantern:e2e_request_latency_seconds", "E2E.", {}, {0.5, 1.0});
  h->Observe(0.2);
  h->Observe(0.7, {.trace_id = "0af7651916cd43dd8448eb211c80319c", .span_id = "b7ad6b7169203331"});
  h->Observe(0.3);  // no exemplar: the bucket keeps none, the other keeps its own
  const std::string text = registry.RenderPrometheus();
  EXPECT_EQ(text.find('#' + std::string(" {")), std::string::npos) << "no exemplars in text";
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
  const std::string om = registry.Render({.openmetrics = true});
  EXPECT_NE(om.find("# TYPE lantern:prompt_tokens counter\nlantern:prompt_tokens_total 3.0\n"),
            std::string::npos)
      << om;
  EXPECT_NE(om.find("# UNIT lantern:e2e_request_latency_seconds seconds\n"), std::string::npos)
      << om;
  EXPECT_NE(om.find("lantern:e2e_request_latency_seconds_bucket{le=\"0.5\"} 2\n"),
            std::string::npos)
      << om;
  EXPECT_NE(om.find("lantern:e2e_request_latency_seconds_bucket{le=\"1.0\"} 3 # "
                    "{trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"} "
                    "0.7 "),
            std::string::npos)
      << om;
  EXPECT_EQ(om.substr(om.size() - 6), "# EOF\n");
  EXPECT_TRUE(WantsOpenMetrics("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"));
  EXPECT_FALSE(WantsOpenMetrics("text/plain;version=0.0.4"));
}

// The value of the first sample named exactly `name` (labels included), or -1.
double Sample(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

TEST(ProcessMetricsTest, ReadsThisProcessFromProc) {
  MetricsRegistry registry;
  AddProcessMetrics(&registry);
  const std::string text = registry.RenderPrometheus();
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1 << 20) << text;
  EXPECT_GT(Sample(text, "process_virtual_memory_bytes"),
            Sample(text, "process_resident_memory_bytes"));
  EXPECT_GE(Sample(text, "process_cpu_seconds_total"), 0);
  EXPECT_GE(Sample(text, "process_open_fds"), 3);  // stdin, stdout, stderr at least
  EXPECT_GE(Sample(text, "process_max_fds"), Sample(text, "process_open_fds"));
  const double now = static_cast<double>(time(nullptr));
  EXPECT_LE(Sample(text, "process_start_time_seconds"), now + 1);
  EXPECT_GT(Sample(text, "process_start_time_seconds"), now - 24 * 3600);
}

// vLLM's convention for n > 1: each sequence is a finished request in every per-request
// histogram; request_params_n and request_max_num_generation_tokens count the request once.
TEST(ServingMetricsTest, EachSequenceOfAnNRequestIsOneRequest) {
  MetricsRegistry registry;
  ServingMetrics metrics(&registry, "m", 64, {.block_size = 16, .num_blocks = 8});
  engine::RequestMetrics m;
  m.arrival = Now();
  m.first_scheduled = m.arrival + std::chrono::milliseconds(1);
  m.first_token = m.arrival + std::chrono::milliseconds(2);
  m.last_token = m.arrival + std::chrono::milliseconds(6);
  m.finished = m.last_token;
  m.num_prompt_tokens = 10;
  m.num_computed_prompt_tokens = 10;
  metrics.RecordFinished({.metrics = &m, .n = 2, .max_tokens = 8, .sequence_tokens = {3, 5}});
  const std::string text = registry.Render({.naming = MetricsNaming::kVllm});
  const std::string labels = "{model_name=\"m\",engine=\"0\"}";
  for (const char* h :
       {"e2e_request_latency_seconds", "time_to_first_token_seconds", "request_queue_time_seconds",
        "request_prefill_time_seconds", "request_decode_time_seconds",
        "request_inference_time_seconds", "request_time_per_output_token_seconds",
        "request_prompt_tokens", "request_generation_tokens", "request_params_max_tokens",
        "request_prefill_kv_computed_tokens"}) {
    EXPECT_EQ(Sample(text, std::string("vllm:") + h + "_count" + labels), 2) << h;
  }
  EXPECT_EQ(Sample(text, "vllm:request_generation_tokens_sum" + labels), 8);
  EXPECT_EQ(Sample(text, "vllm:request_params_n_count" + labels), 1);
  EXPECT_EQ(Sample(text, "vllm:request_params_n_sum" + labels), 2);
  EXPECT_EQ(Sample(text, "vllm:request_max_num_generation_tokens_sum" + labels), 5);
  EXPECT_EQ(Sample(text, "vllm:prompt_tokens_total" + labels), 20);
  EXPECT_EQ(Sample(text, "vllm:prompt_tokens_cached_total" + labels), 10);
  // The token histograms stop at max_model_len, as vLLM's build_1_2_5_buckets does.
  EXPECT_NE(
      text.find("vllm:request_prompt_tokens_bucket{model_name=\"m\",engine=\"0\",le=\"50.0\"}"),
      std::string::npos);
  EXPECT_EQ(text.find("le=\"100.0\""), std::string::npos);
}

TEST(AuthTest, BearerTokens) {
  EXPECT_TRUE(BearerTokenMatches("Bearer sk-1", "sk-1"));
  EXPECT_TRUE(BearerTokenMatches("bearer  sk-1 ", "sk-1"));
  EXPECT_FALSE(BearerTokenMatches("Bearer sk-2", "sk-1"));
  EXPECT_FALSE(BearerTokenMatches("Bearer sk-1x", "sk-1"));
  EXPECT_FALSE(BearerTokenMatches("Basic sk-1", "sk-1"));
  EXPECT_FALSE(BearerTokenMatches("", "sk-1"));
  EXPECT_FALSE(BearerTokenMatches("Bearer ", "sk-1"));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

TEST(ModelSourceTest, FindsDirectoriesAndHubSnapshots) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("lantern-hub-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::path repo = root / "models--org--tiny-model";
  fs::create_directories(repo / "refs");
  fs::create_directories(repo / "snapshots" / "abc123");
  fs::create_directories(repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567");
  std::ofstream(repo / "refs" / "main") << "abc123\n";

  auto main = ResolveModelPath("org/tiny-model", "main", {root / "missing", root});
  ASSERT_TRUE(main.ok()) << main.status().message();
  EXPECT_EQ(*main, repo / "snapshots" / "abc123");
  auto by_hash =
      ResolveModelPath("org/tiny-model", "0123456789abcdef0123456789abcdef01234567", {root});
  ASSERT_TRUE(by_hash.ok());
  auto dir = ResolveModelPath((repo / "snapshots" / "abc123").string(), "main", {});
  ASSERT_TRUE(dir.ok());

  auto missing = ResolveModelPath("org/other", "main", {root / "missing", root});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find((root / "missing").string()), std::string::npos);
  EXPECT_NE(missing.status().message().find("models--org--other"), std::string::npos);
  auto bad_revision = ResolveModelPath("org/tiny-model", "v2", {root});
  ASSERT_FALSE(bad_revision.ok());
  EXPECT_NE(bad_revision.status().message().find("refs/v2"), std::string::npos);
  fs::remove_all(root);
}

}  // namespace
}  // namespace lantern::server
