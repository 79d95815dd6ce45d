// Benchmarks the forward pass of an OPT-125m- or SmolLM-135M-shaped model (random weights in
// memory, or a model directory) and reports it as fractions of this machine's limits, measured in
// the same run: prefill throughput against the SGEMM peak, batch-1 decode against the
// memory-bandwidth bound (weight bytes per token / read bandwidth), and batch-32 decode.
#include "cli/bench_forward.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "cli/cpu_report.h"
#include "cli/device_flag.h"
#include "cli/dtype_flag.h"
#include "model/llama.h"
#include "model/model.h"
#include "model/opt.h"
#include "tensor/machine_limits.h"

namespace lantern::cli {
namespace {

using tensor::BenchSeconds;
using tensor::TimeBase;

// Both clocks at once: wall time, and process CPU time per compute thread (what the
// run would take with the cores to itself; see tensor::TimeBase).
struct Stamp {
  double wall, cpu;
};
int g_threads = 1;
Stamp Now() {
  return {BenchSeconds(TimeBase::kWall, g_threads), BenchSeconds(TimeBase::kCpu, g_threads)};
}
Stamp Since(Stamp t0) {
  Stamp t = Now();
  return {t.wall - t0.wall, t.cpu - t0.cpu};
}

// Attention projections (q|k|v|o, grouped-query aware) and FFN matrices of one layer.
double LayerMatrixParams(const model::ModelConfig& c) {
  const double h = c.hidden_size, q = double(c.num_attention_heads) * c.head_dim;
  const double kv = double(c.num_key_value_heads) * c.head_dim;
  const double ffn_matrices = c.architecture == model::Architecture::kLlama ? 3 : 2;  // SwiGLU
  return 2 * h * q + 2 * h * kv + ffn_matrices * h * c.intermediate_size;
}

// Bytes of weights one decode step reads (every matrix, bias and norm, and the LM head);
// matrices take `matrix_bytes` a value (--dtype), biases and norms stay fp32.
double WeightBytesPerToken(const model::ModelConfig& c, double matrix_bytes) {
  const double h = c.hidden_size, f = c.intermediate_size, p = c.word_embed_proj_dim;
  double matrices = c.num_hidden_layers * LayerMatrixParams(c) + p * c.vocab_size;
  if (p != h) matrices += 2 * h * p;
  const double vectors = c.num_hidden_layers * (4 * h + f + h + 4 * h) + 2 * h;
  return matrices * matrix_bytes + vectors * sizeof(float);
}

// FLOPs of a prefill of n tokens computing logits for the last one.
double PrefillFlops(const model::ModelConfig& c, double n) {
  const double matmul = 2 * n * c.num_hidden_layers * LayerMatrixParams(c);
  const double attention =
      c.num_hidden_layers * 4.0 * c.num_attention_heads * c.head_dim * n * (n + 1) / 2;
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
Stamp TimeDecode(model::Model& m, model::KvCache& kv, std::vector<Sequence>& seqs, int steps) {
  std::vector<float> logits;
  Stamp start{};
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
      return {-1, -1};
    }
    for (size_t i = 0; i < seqs.size(); ++i) {
      const float* row = logits.data() + i * m.config().vocab_size;
      seqs[i].tokens.push_back(
          static_cast<int32_t>(std::max_element(row, row + m.config().vocab_size) - row) % 1000);
    }
  }
  const Stamp total = Since(start);
  return {total.wall / steps, total.cpu / steps};
}

}  // namespace

int RunBenchForward(int argc, char** argv) {
  CLI::App app{"Benchmark the forward pass against this machine's SGEMM peak and bandwidth",
               "lantern bench forward"};
  std::string model_dir;
  std::string preset = "opt-125m", dtype_flag = "auto", quantization = "none";
  std::string kv_cache_dtype = "auto";
  int threads = 0, prefill_tokens = 512, context = 128, decode_steps = 32, batch = 32, repeats = 3;
  app.add_option("--model", model_dir, "Hugging Face model directory (default: random preset)");
  app.add_option("--preset", preset, "random in-memory model shape")
      ->check(CLI::IsMember({"opt-125m", "smollm-135m"}));
  app.add_option("--threads", threads, "compute threads (0: all cores)");
  app.add_option("--dtype", dtype_flag,
                 "weights in: auto (the checkpoint's; float32 for a random preset), bfloat16, "
                 "float16, float32")
      ->check(CLI::IsMember(DTypeFlagValues()));
  app.add_option("--quantization", quantization, "none or int8 (weight-only)")
      ->check(CLI::IsMember(QuantizationFlagValues()));
  app.add_option("--kv-cache-dtype", kv_cache_dtype,
                 "KV cache in: auto (16 bits), float32, bfloat16, float16");
  app.add_option("--prefill-tokens", prefill_tokens, "prompt length of the prefill test")
      ->check(CLI::Range(1, 2047));
  app.add_option("--context", context,
                 "prompt length before the decode tests (within the model's positions)")
      ->check(CLI::Range(1, 32768));
  app.add_option("--decode-steps", decode_steps, "decode steps timed")->check(CLI::Range(1, 1000));
  app.add_option("--batch", batch, "sequences of the batched decode test")
      ->check(CLI::Range(1, 256));
  app.add_option("--repeats", repeats, "prefill repetitions (best is kept)")
      ->check(CLI::Range(1, 100));
  DeviceFlags device_flags;
  AddDeviceFlags(app, device_flags);
  CLI11_PARSE(app, argc, argv);
  const auto kv_dtype = ParseKvCacheDTypeFlag(kv_cache_dtype);
  if (!kv_dtype.ok()) {
    std::fprintf(stderr, "lantern bench forward: %s\n", kv_dtype.status().message().c_str());
    return 2;
  }
  std::string device_description;
  const auto device = ResolveDevice(device_flags, &device_description);
  if (!device.ok()) {
    std::fprintf(stderr, "lantern bench forward: error: %s\n", device.status().message().c_str());
    return 1;
  }
  if (device->is_cuda() && model_dir.empty() && preset != "smollm-135m") {
    std::fprintf(stderr,
                 "lantern bench forward: --device cuda runs the Llama family: use "
                 "--preset smollm-135m or --model DIR\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows even through a pipe
  const auto cpu = ResolveCpuChoice();
  if (!cpu.ok()) {
    std::fprintf(stderr, "lantern bench forward: error: %s\n", cpu.status().message().c_str());
    return 2;
  }
  std::printf("%s\n", cpu->Describe().c_str());

  // Limits on both clocks: [0] wall, [1] CPU time per thread.
  double peak[2] = {0, 0}, bandwidth[2] = {0, 0};
  {
    ThreadPool pool(threads, "limits");
    threads = g_threads = pool.num_threads();
    for (int b = 0; b < 2; ++b) {
      const TimeBase base = b == 0 ? TimeBase::kWall : TimeBase::kCpu;
      // The peak is the best of a square product and the prefill's own FFN shape.
      peak[b] = std::max(tensor::MeasureGemmGflops(pool, 1024, 1024, 1024, 1.0, base),
                         tensor::MeasureGemmGflops(pool, 512, 3072, 768, 1.0, base));
      bandwidth[b] = tensor::MeasureReadBandwidthGBps(pool, int64_t{512} << 20, 6, base);
    }
  }
  std::printf("machine: %d threads, load average %.2f at start\n", threads, LoadAverage());
  std::printf("figures: wall clock [CPU time per thread, i.e. as if the cores were ours]\n");
  std::printf("  SGEMM peak (oneDNN, our pool)  %8.1f [%8.1f] GFLOP/s\n", peak[0], peak[1]);
  std::printf("  read bandwidth                 %8.1f [%8.1f] GB/s\n", bandwidth[0], bandwidth[1]);

  model::LoadOptions options{.num_threads = threads,
                             .dtype = *ParseDTypeFlag(dtype_flag),
                             .quantization = *ParseQuantizationFlag(quantization)};
  ApplyDeviceFlags(device_flags, *device, &options);
  std::printf("device: %s\n", device_description.c_str());
  Result<std::unique_ptr<model::Model>> loaded =
      !model_dir.empty() ? model::LoadModel(model_dir, options)
      : preset == "smollm-135m"
          ? model::NewRandomLlamaModel(model::SmolLm135mShapeConfig(), 1, options)
          : model::NewRandomOptModel(model::Opt125mShapeConfig(), 1, options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "lantern bench forward: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  model::Model& m = **loaded;
  const model::ModelConfig& c = m.config();
  std::printf("model: %s, %d layers, hidden %d, ffn %d, vocab %d, weights %s (%.0f MB)\n",
              model_dir.empty() ? ("random " + preset).c_str() : model_dir.c_str(),
              c.num_hidden_layers, c.hidden_size, c.intermediate_size, c.vocab_size,
              WeightsDescription(m).c_str(), m.weight_bytes() / 1e6);
  prefill_tokens = std::min(prefill_tokens, c.max_position_embeddings);
  const int block_size = 16;
  const int max_len = std::max(prefill_tokens, context + decode_steps + 1);
  const int blocks_per_seq = (max_len + block_size - 1) / block_size;
  auto kv = m.NewKvCache(blocks_per_seq * std::max(batch, 1), block_size, *kv_dtype);
  if (!kv) {
    std::fprintf(stderr, "lantern bench forward: could not allocate the KV cache on %s\n",
                 device_description.c_str());
    return 1;
  }
  if (device->is_cuda()) {  // the workspace for these shapes, and decode graphs unless eager
    const model::DType kv_type = kv->dtype();
    auto reserved =
        m.ReserveDeviceMemory({.max_num_seqs = std::max(batch, 1),
                               .max_num_batched_tokens = std::max(prefill_tokens, batch),
                               .max_model_len = blocks_per_seq * block_size,
                               .block_size = block_size,
                               .kv_dtype = kv_type});
    auto graphs = reserved.ok() ? m.PrepareSteps(*kv) : Result<int>(reserved.status());
    if (!graphs.ok()) {
      std::fprintf(stderr, "lantern bench forward: %s\n", graphs.status().ToString().c_str());
      return 1;
    }
    std::printf("CUDA graphs: %d decode batch sizes captured\n", *graphs);
  }
  std::printf("KV cache: %s, %.0f MB for %d sequences of %d tokens\n", DTypeFlagName(kv->dtype()),
              kv->bytes() / 1e6, std::max(batch, 1), blocks_per_seq * block_size);
  auto make_seq = [&](int index, int len) {
    Sequence s;
    for (int t = 0; t < len; ++t)
      s.tokens.push_back((t * 7919 + index * 104729 + 2) % std::min(50000, c.vocab_size));
    for (int b = 0; b < blocks_per_seq; ++b) s.table.push_back(index * blocks_per_seq + b);
    return s;
  };

  // Prefill: one sequence of prefill_tokens, logits of the last token.
  std::vector<float> logits;
  Sequence prompt = make_seq(0, prefill_tokens);
  Stamp best{1e30, 1e30};
  for (int r = 0; r <= repeats; ++r) {  // the first run warms up
    const Stamp t0 = Now();
    Status status = m.Forward({{{prompt.tokens, 0, prompt.table}}}, *kv, &logits);
    if (!status.ok()) {
      std::fprintf(stderr, "forward failed: %s\n", status.ToString().c_str());
      return 1;
    }
    const Stamp t = Since(t0);
    if (r > 0) best = {std::min(best.wall, t.wall), std::min(best.cpu, t.cpu)};
  }
  const double flops = PrefillFlops(c, prefill_tokens);
  std::printf("prefill %d tokens: %8.1f [%8.1f] tokens/s = %5.1f%% [%5.1f%%] of SGEMM peak\n",
              prefill_tokens, prefill_tokens / best.wall, prefill_tokens / best.cpu,
              100 * flops / best.wall / 1e9 / peak[0], 100 * flops / best.cpu / 1e9 / peak[1]);

  // Decode at batch 1 after a prompt of `context` tokens.
  std::vector<Sequence> one = {make_seq(0, context)};
  Status status = m.Forward({{{one[0].tokens, 0, one[0].table}}}, *kv, &logits);
  one[0].tokens.push_back(7);
  const Stamp step1 = TimeDecode(m, *kv, one, decode_steps);
  // int8: a byte a value plus a 4-byte scale per 32.
  const double matrix_bytes = m.int8_weights()                         ? 1.125
                              : m.weight_dtype() == model::DType::kF32 ? 4.0
                                                                       : 2.0;
  const double bytes = WeightBytesPerToken(c, matrix_bytes);
  const double bound[2] = {bandwidth[0] * 1e9 / bytes, bandwidth[1] * 1e9 / bytes};
  std::printf(
      "decode batch 1 (context %d): %8.1f [%8.1f] tokens/s = %5.1f%% [%5.1f%%] of the "
      "bandwidth bound (%.0f MB of weights per token: %.1f [%.1f] tokens/s)\n",
      context, 1 / step1.wall, 1 / step1.cpu, 100 / step1.wall / bound[0],
      100 / step1.cpu / bound[1], bytes / 1e6, bound[0], bound[1]);

  // Decode at batch `batch`.
  std::vector<Sequence> many;
  for (int i = 0; i < batch; ++i) {
    many.push_back(make_seq(i, context));
    status = m.Forward({{{many[i].tokens, 0, many[i].table}}}, *kv, &logits);
    many[i].tokens.push_back(7);
  }
  const Stamp step_n = TimeDecode(m, *kv, many, decode_steps);
  std::printf("decode batch %d (context %d): %8.1f [%8.1f] tokens/s\n", batch, context,
              batch / step_n.wall, batch / step_n.cpu);
  std::printf("load average at end %.2f (the machine is shared: compare ratios)\n", LoadAverage());
  return status.ok() ? 0 : 1;
}

}  // namespace lantern::cli
