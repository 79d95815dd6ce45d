// Benchmarks the forward pass of an OPT-125m-shaped model (random weights in memory, or
// a model directory) and reports it as fractions of this machine's limits, measured in
// the same run: prefill throughput against the SGEMM peak, batch-1 decode against the
// memory-bandwidth bound (weight bytes per token / read bandwidth), and batch-32 decode.
#include "cli/bench_forward.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/model.h"
#include "model/opt.h"
#include "tensor/machine_limits.h"

namespace lantern::cli {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

model::ModelConfig Opt125mConfig() {
  model::ModelConfig c;
  c.architecture = model::Architecture::kOpt;
  c.model_type = "opt";
  c.architecture_name = "OPTForCausalLM";
  c.vocab_size = 50272;
  c.hidden_size = 768;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.num_key_value_heads = 12;
  c.head_dim = 64;
  c.intermediate_size = 3072;
  c.max_position_embeddings = 2048;
  c.word_embed_proj_dim = 768;
  return c;
}

// Bytes of weights one decode step reads (every matrix, bias and norm, and the LM head).
double WeightBytesPerToken(const model::ModelConfig& c) {
  const double h = c.hidden_size, f = c.intermediate_size, p = c.word_embed_proj_dim;
  const double per_layer = 4 * h * h + 2 * h * f + 4 * h + f + h + 4 * h;
  double total = c.num_hidden_layers * per_layer + 2 * h + p * c.vocab_size;
  if (p != h) total += 2 * h * p;
  return total * sizeof(float);
}

// FLOPs of a prefill of n tokens computing logits for the last one.
double PrefillFlops(const model::ModelConfig& c, double n) {
  const double h = c.hidden_size, f = c.intermediate_size;
  const double matmul = 2 * n * c.num_hidden_layers * (4 * h * h + 2 * h * f);
  const double attention = c.num_hidden_layers * 4.0 * h * n * (n + 1) / 2;
  return matmul + attention + 2.0 * c.word_embed_proj_dim * c.vocab_size;
}

double LoadAverage() {
  double load = -1;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

struct Sequence {
  std::vector<int32_t> tokens;
  std::vector<int32_t> table;
};

// Runs `steps` decode steps for all sequences at once; returns seconds per step.
double TimeDecode(model::Model& m, model::KvCache& kv, std::vector<Sequence>& seqs, int steps) {
  std::vector<float> logits;
  double start = 0;
  for (int step = -1; step < steps; ++step) {  // step -1 warms up
    if (step == 0) start = Now();
    model::Batch batch;
    for (auto& s : seqs) {
      const int32_t pos = static_cast<int32_t>(s.tokens.size()) - 1;
      batch.sequences.push_back({std::span<const int32_t>(s.tokens).subspan(pos), pos, s.table});
    }
    Status status = m.Forward(batch, kv, &logits);
    if (!status.ok()) {
      std::fprintf(stderr, "forward failed: %s\n", status.ToString().c_str());
      return -1;
    }
    for (size_t i = 0; i < seqs.size(); ++i) {
      const float* row = logits.data() + i * m.config().vocab_size;
      seqs[i].tokens.push_back(
          static_cast<int32_t>(std::max_element(row, row + m.config().vocab_size) - row) % 1000);
    }
  }
  return (Now() - start) / steps;
}

}  // namespace

int RunBenchForward(int argc, char** argv) {
  CLI::App app{"Benchmark the forward pass against this machine's SGEMM peak and bandwidth",
               "lantern bench forward"};
  std::string model_dir;
  std::string preset = "opt-125m";
  int threads = 0, prefill_tokens = 512, context = 128, decode_steps = 32, batch = 32, repeats = 3;
  app.add_option("--model", model_dir, "Hugging Face model directory (default: random preset)");
  app.add_option("--preset", preset, "random in-memory model shape")
      ->check(CLI::IsMember({"opt-125m"}));
  app.add_option("--threads", threads, "compute threads (0: all cores)");
  app.add_option("--prefill-tokens", prefill_tokens, "prompt length of the prefill test")
      ->check(CLI::Range(1, 2047));
  app.add_option("--context", context, "prompt length before the decode tests")
      ->check(CLI::Range(1, 1024));
  app.add_option("--decode-steps", decode_steps, "decode steps timed")->check(CLI::Range(1, 1000));
  app.add_option("--batch", batch, "sequences of the batched decode test")
      ->check(CLI::Range(1, 256));
  app.add_option("--repeats", repeats, "prefill repetitions (best is kept)")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows even through a pipe

  double peak = 0, bandwidth = 0;
  {
    ThreadPool pool(threads, "limits");
    threads = pool.num_threads();
    // The peak is the best of a square product and the prefill's own FFN shape.
    peak = std::max(tensor::MeasureGemmGflops(pool, 1024, 1024, 1024),
                    tensor::MeasureGemmGflops(pool, 512, 3072, 768));
    bandwidth = tensor::MeasureReadBandwidthGBps(pool);
  }
  std::printf("machine: %d threads, load average %.2f at start\n", threads, LoadAverage());
  std::printf("  SGEMM peak (oneDNN, our pool)  %8.1f GFLOP/s\n", peak);
  std::printf("  read bandwidth                 %8.1f GB/s\n", bandwidth);

  Result<std::unique_ptr<model::Model>> loaded =
      model_dir.empty() ? model::NewRandomOptModel(Opt125mConfig(), 1, {.num_threads = threads})
                        : model::LoadModel(model_dir, {.num_threads = threads});
  if (!loaded.ok()) {
    std::fprintf(stderr, "lantern bench forward: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  model::Model& m = **loaded;
  const model::ModelConfig& c = m.config();
  std::printf("model: %s, %d layers, hidden %d, ffn %d, vocab %d\n",
              model_dir.empty() ? ("random " + preset).c_str() : model_dir.c_str(),
              c.num_hidden_layers, c.hidden_size, c.intermediate_size, c.vocab_size);
  prefill_tokens = std::min(prefill_tokens, c.max_position_embeddings);
  const int block_size = 16;
  const int max_len = std::max(prefill_tokens, context + decode_steps + 1);
  const int blocks_per_seq = (max_len + block_size - 1) / block_size;
  auto kv = m.NewKvCache(blocks_per_seq * std::max(batch, 1), block_size);
  auto make_seq = [&](int index, int len) {
    Sequence s;
    for (int t = 0; t < len; ++t) s.tokens.push_back((t * 7919 + index * 104729 + 2) % 50000);
    for (int b = 0; b < blocks_per_seq; ++b) s.table.push_back(index * blocks_per_seq + b);
    return s;
  };

  // Prefill: one sequence of prefill_tokens, logits of the last token.
  std::vector<float> logits;
  Sequence prompt = make_seq(0, prefill_tokens);
  double best = 1e30;
  for (int r = 0; r <= repeats; ++r) {  // the first run warms up
    const double t0 = Now();
    Status status = m.Forward({{{prompt.tokens, 0, prompt.table}}}, *kv, &logits);
    if (!status.ok()) {
      std::fprintf(stderr, "forward failed: %s\n", status.ToString().c_str());
      return 1;
    }
    if (r > 0) best = std::min(best, Now() - t0);
  }
  const double prefill_gflops = PrefillFlops(c, prefill_tokens) / best / 1e9;
  std::printf("prefill %d tokens: %8.1f tokens/s  %6.1f GFLOP/s = %5.1f%% of SGEMM peak\n",
              prefill_tokens, prefill_tokens / best, prefill_gflops, 100 * prefill_gflops / peak);

  // Decode at batch 1 after a prompt of `context` tokens.
  std::vector<Sequence> one = {make_seq(0, context)};
  Status status = m.Forward({{{one[0].tokens, 0, one[0].table}}}, *kv, &logits);
  one[0].tokens.push_back(7);
  const double step1 = TimeDecode(m, *kv, one, decode_steps);
  const double bytes = WeightBytesPerToken(c);
  const double bound = bandwidth * 1e9 / bytes;
  std::printf(
      "decode batch 1 (context %d): %8.1f tokens/s = %5.1f%% of the bandwidth bound "
      "(%.1f tokens/s: %.0f MB of weights per token at %.1f GB/s)\n",
      context, 1 / step1, 100 / step1 / bound, bound, bytes / 1e6, bandwidth);

  // Decode at batch `batch`.
  std::vector<Sequence> many;
  for (int i = 0; i < batch; ++i) {
    many.push_back(make_seq(i, context));
    status = m.Forward({{{many[i].tokens, 0, many[i].table}}}, *kv, &logits);
    many[i].tokens.push_back(7);
  }
  const double step_n = TimeDecode(m, *kv, many, decode_steps);
  std::printf("decode batch %d (context %d): %8.1f tokens/s (%.2f ms per step)\n", batch, context,
              batch / step_n, step_n * 1e3);
  std::printf("load average at end %.2f (the machine is shared: compare ratios)\n", LoadAverage());
  return status.ok() ? 0 : 1;
}

}  // namespace lantern::cli
