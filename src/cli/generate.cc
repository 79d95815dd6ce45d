// `lantern generate`: greedy decoding from prompt token ids, printed as ids (text arrives
// with the tokenizer). One sequence through the same paged forward the server uses.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/cpu_report.h"
#include "cli/device_flag.h"
#include "cli/dtype_flag.h"
#include "model/model.h"

namespace lantern::cli {
namespace {

bool ParseIds(const std::string& text, std::vector<int32_t>* ids, std::string* error) {
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    long value = -1;
    try {
      value = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value < 0 || value > INT32_MAX) {
      *error = "--prompt-ids: \"" + item + "\" is not a token id (a non-negative integer)";
      return false;
    }
    ids->push_back(static_cast<int32_t>(value));
  }
  if (ids->empty()) *error = "--prompt-ids: no token ids given";
  return !ids->empty();
}

int RunGenerate(int argc, char** argv) {
  CLI::App app{"Generate tokens greedily from prompt token ids", "lantern generate"};
  std::string model_dir, prompt_text, dtype_flag = "auto", quantization = "none";
  std::string kv_cache_dtype = "auto";
  int max_tokens = 16, threads = 0, block_size = 16;
  bool ignore_eos = false;
  app.add_option("--model", model_dir, "Hugging Face model directory")->required();
  app.add_option("--prompt-ids", prompt_text, "comma-separated prompt token ids, e.g. 2,100,200")
      ->required();
  app.add_option("--max-tokens", max_tokens, "tokens to generate")->check(CLI::Range(1, 1 << 20));
  app.add_option("--threads", threads, "compute threads (0: all cores)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--ignore-eos", ignore_eos, "keep generating after the end-of-sequence token");
  app.add_option("--dtype", dtype_flag, "weights in: auto, bfloat16, float16, float32")
      ->check(CLI::IsMember(DTypeFlagValues()));
  app.add_option("--quantization", quantization, "none or int8 (weight-only)")
      ->check(CLI::IsMember(QuantizationFlagValues()));
  app.add_option("--kv-cache-dtype", kv_cache_dtype,
                 "KV cache in: auto (16 bits), float32, bfloat16, float16");
  DeviceFlags device_flags;
  AddDeviceFlags(app, device_flags);
  CLI11_PARSE(app, argc, argv);
  std::string device_description;
  const auto device = ResolveDevice(device_flags, &device_description);
  if (!device.ok()) {
    std::fprintf(stderr, "lantern generate: error: %s\n", device.status().message().c_str());
    return 1;
  }
  const auto kv_dtype = ParseKvCacheDTypeFlag(kv_cache_dtype);
  if (!kv_dtype.ok()) {
    std::fprintf(stderr, "lantern generate: error: %s\n", kv_dtype.status().message().c_str());
    return 2;
  }
  const auto cpu = ResolveCpuChoice();
  if (!cpu.ok()) {
    std::fprintf(stderr, "lantern generate: error: %s\n", cpu.status().message().c_str());
    return 2;
  }
  std::fprintf(stderr, "%s\n", cpu->Describe().c_str());

  std::vector<int32_t> tokens;
  std::string error;
  if (!ParseIds(prompt_text, &tokens, &error)) {
    std::fprintf(stderr, "lantern generate: %s\n", error.c_str());
    return 2;
  }
  model::LoadOptions options{.num_threads = threads,
                             .dtype = *ParseDTypeFlag(dtype_flag),
                             .quantization = *ParseQuantizationFlag(quantization)};
  ApplyDeviceFlags(device_flags, *device, &options);
  if (device->is_cuda()) std::fprintf(stderr, "device %s\n", device_description.c_str());
  auto loaded = model::LoadModel(model_dir, options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "lantern generate: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  model::Model& m = **loaded;
  const auto& config = m.config();
  const int64_t total = static_cast<int64_t>(tokens.size()) + max_tokens;
  if (total > config.max_position_embeddings) {
    std::fprintf(stderr,
                 "lantern generate: prompt (%zu tokens) + --max-tokens %d exceeds the model's "
                 "max_position_embeddings %d\n",
                 tokens.size(), max_tokens, config.max_position_embeddings);
    return 2;
  }
  const int num_blocks = static_cast<int>((total + block_size - 1) / block_size);
  auto kv = m.NewKvCache(num_blocks, block_size, *kv_dtype);
  if (!kv) {
    std::fprintf(stderr, "lantern generate: could not allocate the KV cache on %s\n",
                 device_description.c_str());
    return 1;
  }
  std::vector<int32_t> block_table(num_blocks);
  for (int i = 0; i < num_blocks; ++i) block_table[i] = i;

  std::vector<float> logits;
  int32_t done = 0;
  std::vector<int32_t> generated;
  while (static_cast<int>(generated.size()) < max_tokens) {
    model::SequenceChunk chunk;
    chunk.tokens = std::span<const int32_t>(tokens).subspan(done);
    chunk.start_position = done;
    chunk.block_table = block_table;
    Status status = m.Forward({{chunk}}, *kv, &logits);
    if (!status.ok()) {
      std::fprintf(stderr, "lantern generate: %s\n", status.ToString().c_str());
      return 1;
    }
    done = static_cast<int32_t>(tokens.size());
    const int32_t next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    generated.push_back(next);
    tokens.push_back(next);
    const auto& eos = config.eos_token_ids;
    if (!ignore_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) break;
  }
  for (size_t i = 0; i < generated.size(); ++i) {
    std::printf("%s%d", i ? "," : "", generated[i]);
  }
  std::printf("\n");
  return 0;
}

}  // namespace
}  // namespace lantern::cli

LANTERN_COMMAND(generate, "Generate tokens greedily from prompt token ids") {
  return lantern::cli::RunGenerate(argc, argv);
}
