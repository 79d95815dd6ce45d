// Offline throughput of the engine, in the spirit of vLLM's `benchmark_throughput.py`:
// N requests of random token ids with fixed input and output lengths (ignore_eos,
// temperature 1, top_p 1) go to the engine at once, for each concurrency (max_num_seqs).
// Reports output and total tokens/s, decode throughput (decode-only steps), and the
// engine's own overhead — scheduling, sampling, stop checks, bookkeeping — as a share of
// step time. Model: an OPT-125m-shaped model with random weights built in memory, or --model.
#include "cli/bench_throughput.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/cpu_report.h"
#include "cli/device_flag.h"
#include "cli/dtype_flag.h"
#include "engine/engine.h"
#include "model/llama.h"
#include "model/model.h"
#include "model/opt.h"

namespace lantern::cli {
namespace {

struct Flags {
  std::string model_dir;
  std::string dtype = "auto";
  std::string quantization = "none";
  std::string kv_cache_dtype = "auto";
  std::optional<model::DType> kv_dtype;  // parsed kv_cache_dtype (unset: auto)
  int input_len = 32;
  int output_len = 64;
  int num_prompts = 0;  // 0: max(2, concurrency) per run
  std::vector<int> concurrency = {1, 8, 32, 128};
  int threads = 0;
  int max_num_batched_tokens = 2048;
  int64_t kv_cache_memory = 0;
  bool greedy = false;
  uint64_t seed = 0;
  std::string result_json;
};

struct RunResult {
  int concurrency = 0;
  int requests = 0;
  double elapsed_s = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;
  double decode_tokens_per_s = 0;  // decode-only steps
  double overhead_share = 0;       // (step time - forward time) / step time
  double schedule_share = 0;
  double sample_share = 0;
  double mean_decode_batch = 0;
  int64_t steps = 0;
  int64_t preemptions = 0;
  int64_t kv_tokens = 0;  // what the KV pool holds
};

Result<RunResult> RunOnce(const std::shared_ptr<model::Model>& model, const Flags& flags,
                          int concurrency) {
  const int vocab = model->config().vocab_size;
  const int num_prompts = flags.num_prompts > 0 ? flags.num_prompts : std::max(2, concurrency);
  const int block = 16;
  const int total_len = flags.input_len + flags.output_len;
  engine::EngineConfig config;
  config.max_num_seqs = concurrency;
  config.max_num_batched_tokens = flags.max_num_batched_tokens;
  config.block_size = block;
  config.max_model_len = ((total_len + block - 1) / block) * block;
  config.seed = flags.seed;
  config.kv_cache_dtype = flags.kv_dtype;
  // Room for every running sequence at full length, unless told otherwise.
  const int64_t blocks = static_cast<int64_t>(concurrency) * (config.max_model_len / block) + 4;
  config.kv_cache_memory_bytes =
      flags.kv_cache_memory > 0
          ? flags.kv_cache_memory
          : blocks * static_cast<int64_t>(model->KvBytesPerBlock(block, flags.kv_dtype));
  std::mutex steps_mu;
  std::vector<engine::StepStats> steps;
  config.on_step = [&](const engine::StepStats& s) {
    std::lock_guard<std::mutex> lock(steps_mu);
    steps.push_back(s);
  };
  LANTERN_ASSIGN_OR_RETURN(auto engine, engine::Engine::Create(model, config));

  std::mt19937 rng(static_cast<uint32_t>(flags.seed + concurrency));
  std::uniform_int_distribution<int32_t> token(4, vocab - 1);
  std::vector<std::shared_ptr<engine::RequestStream>> streams;
  const SteadyTime start = Now();
  for (int i = 0; i < num_prompts; ++i) {
    engine::Request r;
    r.id = "bench-";
    r.id += std::to_string(i);
    for (int t = 0; t < flags.input_len; ++t) r.prompt_token_ids.push_back(token(rng));
    r.params.temperature = flags.greedy ? 0.0 : 1.0;
    r.params.ignore_eos = true;
    r.params.max_tokens = flags.output_len;
    LANTERN_ASSIGN_OR_RETURN(auto stream, engine->Submit(std::move(r)));
    streams.push_back(std::move(stream));
  }
  RunResult result;
  result.concurrency = concurrency;
  result.requests = num_prompts;
  for (auto& s : streams) {
    engine::RequestOutput out;
    while (s->Next(&out)) {
      for (const auto& d : out.sequences) result.output_tokens += d.token_ids.size();
      if (!out.error.ok()) return out.error;
    }
  }
  result.elapsed_s = SecondsBetween(start, Now());
  result.prompt_tokens = static_cast<int64_t>(num_prompts) * flags.input_len;
  result.preemptions = static_cast<int64_t>(engine->Counters().num_preemptions);
  result.kv_tokens = static_cast<int64_t>(engine->info().num_kv_blocks) * engine->info().block_size;
  engine->Shutdown();  // joins the engine thread: `steps` is complete and ours now

  double total = 0, forward = 0, schedule = 0, sample = 0, decode_time = 0;
  int64_t decode_tokens = 0, decode_steps = 0;
  for (const auto& s : steps) {
    total += s.duration_s();
    forward += s.forward_s;
    schedule += s.schedule_s;
    sample += s.sample_s;
    if (s.num_prefill_tokens == 0 && s.num_decode_tokens > 0) {
      decode_time += s.duration_s();
      decode_tokens += s.num_decode_tokens;
      ++decode_steps;
    }
  }
  result.steps = static_cast<int64_t>(steps.size());
  result.decode_tokens_per_s = decode_time > 0 ? decode_tokens / decode_time : 0;
  result.mean_decode_batch =
      decode_steps > 0 ? static_cast<double>(decode_tokens) / decode_steps : 0;
  result.overhead_share = total > 0 ? (total - forward) / total : 0;
  result.schedule_share = total > 0 ? schedule / total : 0;
  result.sample_share = total > 0 ? sample / total : 0;
  return result;
}

}  // namespace

int RunBenchThroughput(int argc, char** argv) {
  CLI::App app{"Offline engine throughput (like vLLM's throughput benchmark)",
               "lantern bench throughput"};
  Flags flags;
  app.add_option("--model", flags.model_dir,
                 "Hugging Face model directory (default: OPT-125m shape, random weights)");
  app.add_option("--input-len", flags.input_len, "prompt tokens per request")
      ->check(CLI::Range(1, 1024));
  app.add_option("--output-len", flags.output_len, "generated tokens per request")
      ->check(CLI::Range(1, 1024));
  app.add_option("--num-prompts", flags.num_prompts,
                 "requests per run (default: the concurrency, at least 2)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--concurrency", flags.concurrency, "max_num_seqs of each run")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  app.add_option("--threads", flags.threads, "compute threads (0: all cores)");
  app.add_option("--dtype", flags.dtype,
                 "weights in: auto (the checkpoint's; float32 for the random model), bfloat16, "
                 "float16, float32")
      ->check(CLI::IsMember(DTypeFlagValues()));
  app.add_option("--quantization", flags.quantization, "none or int8 (weight-only)")
      ->check(CLI::IsMember(QuantizationFlagValues()));
  app.add_option("--max-num-batched-tokens", flags.max_num_batched_tokens, "token budget per step")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--kv-cache-memory", flags.kv_cache_memory,
                 "KV cache bytes (default: room for every sequence at full length)");
  app.add_option("--kv-cache-dtype", flags.kv_cache_dtype,
                 "KV cache in: auto (16 bits), float32, bfloat16, float16");
  app.add_flag("--greedy", flags.greedy, "greedy decoding instead of temperature 1");
  app.add_option("--seed", flags.seed, "seed of the prompts and the sampling");
  app.add_option("--result-json", flags.result_json, "also write the results as JSON here");
  DeviceFlags device_flags;
  AddDeviceFlags(app, device_flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (auto kv_dtype = ParseKvCacheDTypeFlag(flags.kv_cache_dtype); kv_dtype.ok()) {
    flags.kv_dtype = *kv_dtype;
  } else {
    std::fprintf(stderr, "lantern bench throughput: %s\n", kv_dtype.status().message().c_str());
    return 2;
  }
  const auto cpu = ResolveCpuChoice();
  if (!cpu.ok()) {
    std::fprintf(stderr, "lantern bench throughput: error: %s\n", cpu.status().message().c_str());
    return 2;
  }
  std::printf("%s\n", cpu->Describe().c_str());
  std::string device_description;
  const auto device = ResolveDevice(device_flags, &device_description);
  if (!device.ok()) {
    std::fprintf(stderr, "lantern bench throughput: error: %s\n",
                 device.status().message().c_str());
    return 1;
  }
  std::printf("device: %s\n", device_description.c_str());

  const SteadyTime load_start = Now();
  model::LoadOptions options{.num_threads = flags.threads,
                             .dtype = *ParseDTypeFlag(flags.dtype),
                             .quantization = *ParseQuantizationFlag(flags.quantization)};
  ApplyDeviceFlags(device_flags, *device, &options);
  // The random model: OPT-125m's shape on the CPU; the CUDA backend runs the Llama family,
  // so SmolLM-135M's shape there.
  Result<std::unique_ptr<model::Model>> loaded =
      !flags.model_dir.empty() ? model::LoadModel(flags.model_dir, options)
      : device->is_cuda() ? model::NewRandomLlamaModel(model::SmolLm135mShapeConfig(), 1, options)
                          : model::NewRandomOptModel(model::Opt125mShapeConfig(), 1, options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "lantern bench throughput: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<model::Model> model = std::move(loaded).value();
  const auto& mc = model->config();
  std::printf("model: %s (%d layers, hidden %d, vocab %d, weights %s), loaded in %.1f s\n",
              !flags.model_dir.empty() ? flags.model_dir.c_str()
              : device->is_cuda()      ? "SmolLM-135M shape, random weights"
                                       : "OPT-125m shape, random weights",
              mc.num_hidden_layers, mc.hidden_size, mc.vocab_size,
              WeightsDescription(*model).c_str(), SecondsBetween(load_start, Now()));
  std::printf("input %d, output %d tokens per request; %s sampling; KV cache %s\n\n",
              flags.input_len, flags.output_len, flags.greedy ? "greedy" : "temperature-1",
              DTypeFlagName(flags.kv_dtype.value_or(model->AutoKvCacheDType())));
  std::printf("%5s %5s %9s %11s %11s %12s %7s %9s %9s %8s %6s %8s\n", "conc", "reqs", "time_s",
              "out_tok/s", "total_tok/s", "decode_tok/s", "batch", "overhead", "schedule", "sample",
              "preem", "kv_tok");
  nlohmann::json report = nlohmann::json::array();
  std::vector<RunResult> results;
  for (int c : flags.concurrency) {
    auto r = RunOnce(model, flags, c);
    if (!r.ok()) {
      std::fprintf(stderr, "lantern bench throughput: concurrency %d: %s\n", c,
                   r.status().ToString().c_str());
      return 1;
    }
    const RunResult& x = *r;
    std::printf("%5d %5d %9.2f %11.1f %11.1f %12.1f %7.1f %8.2f%% %8.2f%% %7.2f%% %6lld %8lld\n",
                x.concurrency, x.requests, x.elapsed_s, x.output_tokens / x.elapsed_s,
                (x.output_tokens + x.prompt_tokens) / x.elapsed_s, x.decode_tokens_per_s,
                x.mean_decode_batch, 100 * x.overhead_share, 100 * x.schedule_share,
                100 * x.sample_share, static_cast<long long>(x.preemptions),
                static_cast<long long>(x.kv_tokens));
    std::fflush(stdout);
    report.push_back({{"concurrency", x.concurrency},
                      {"requests", x.requests},
                      {"elapsed_s", x.elapsed_s},
                      {"prompt_tokens", x.prompt_tokens},
                      {"output_tokens", x.output_tokens},
                      {"output_tokens_per_s", x.output_tokens / x.elapsed_s},
                      {"total_tokens_per_s", (x.output_tokens + x.prompt_tokens) / x.elapsed_s},
                      {"decode_tokens_per_s", x.decode_tokens_per_s},
                      {"mean_decode_batch", x.mean_decode_batch},
                      {"engine_overhead_share", x.overhead_share},
                      {"schedule_share", x.schedule_share},
                      {"sample_share", x.sample_share},
                      {"steps", x.steps},
                      {"preemptions", x.preemptions},
                      {"kv_cache_tokens", x.kv_tokens}});
    results.push_back(x);
  }
  const auto one = std::find_if(results.begin(), results.end(),
                                [](const RunResult& r) { return r.concurrency == 1; });
  if (one != results.end() && one->decode_tokens_per_s > 0) {
    std::printf("\ndecode throughput relative to concurrency 1:");
    for (const auto& r : results) {
      std::printf("  %d: %.2fx", r.concurrency, r.decode_tokens_per_s / one->decode_tokens_per_s);
    }
    std::printf("\n");
  }
  if (!flags.result_json.empty()) std::ofstream(flags.result_json) << report.dump(2) << "\n";
  return 0;
}

}  // namespace lantern::cli
