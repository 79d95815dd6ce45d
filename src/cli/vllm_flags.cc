#include "cli/vllm_flags.h"

#include <algorithm>
#include <istream>

#include "base/log.h"
#include "toolcall/tool_parser.h"

namespace lantern::cli {
namespace {

// vLLM flags that only steer vLLM's GPU workers, compilers or plugins. Given here they
// change nothing, and each gets one warning line with the reason.
struct IgnoredFlag {
  const char* names;  // CLI11 names, e.g. "-O,--compilation-config"
  bool takes_value;
  const char* why;
};

constexpr const char* kNoGpu =
    "the KV cache is sized by --kv-cache-memory on the CPU and by --gpu-memory-utilization on "
    "a GPU";
constexpr const char* kNoPlugins = "lantern has no such plugin";
const IgnoredFlag kIgnored[] = {
    {"--swap-space", true, "preempted requests are recomputed; there is no swap space"},
    {"--cpu-offload-gb", true, "the weights already live in CPU memory"},
    {"--num-gpu-blocks-override", true, kNoGpu},
    {"--block-size", true, "KV blocks are 16 tokens"},
    {"--max-seq-len-to-capture", true, "CUDA graphs are captured for decode steps only"},
    {"-O,--compilation-config", true, "there is no torch.compile step"},
    {"--trust-remote-code", false,
     "no model code is ever downloaded or run: architectures are built in"},
    {"--enable-chunked-prefill,--no-enable-chunked-prefill", false,
     "long prompts are always prefilled in chunks of --max-num-batched-tokens"},
    {"--max-num-partial-prefills", true,
     "prefill chunks are scheduled by --max-num-batched-tokens"},
    {"--long-prefill-token-threshold", true,
     "prefill chunks are scheduled by --max-num-batched-tokens"},
    {"--load-format", true, "the format is what the model directory holds (safetensors or .bin)"},
    {"--tokenizer-mode", true,
     "there is one tokenizer implementation (tokenizer.json, or vocab+merges)"},
    {"--tokenizer-revision", true, "the tokenizer comes from --tokenizer or the model's snapshot"},
    {"--code-revision", true, "no model code is downloaded"},
    {"--distributed-executor-backend", true, "lantern is one process"},
    {"--disable-custom-all-reduce", false, "lantern is one process"},
    {"--worker-cls", true, kNoPlugins},
    {"--disable-frontend-multiprocessing", false,
     "the HTTP front end and the engine share one process"},
    {"--api-server-count", true, "one process serves HTTP on --io-threads threads"},
    {"--async-scheduling", false, "the engine thread already overlaps scheduling with I/O"},
    {"--enable-sleep-mode", false, kNoGpu},
    {"--scheduling-policy", true, "requests are scheduled first come, first served"},
    {"--prefix-caching-hash-algo", true, "prefix blocks are matched by their token ids"},
    {"--speculative-config", true, "there is no speculative decoding"},
    {"--reasoning-parser", true, "there is no reasoning parser"},
    {"--guided-decoding-backend", true, "structured outputs have one built-in backend"},
    {"--enable-prompt-tokens-details", false, "usage has no prompt token details"},
    {"--enable-server-load-tracking", false, "server load is in /metrics (num_requests_*)"},
    {"--enable-force-include-usage", false, "usage is sent when stream_options asks for it"},
    {"--disable-fastapi-docs", false, "there are no FastAPI docs pages"},
    {"--max-log-len", true, "request logs carry no prompts"},
    {"--enable-log-outputs", false, "request logs carry no outputs"},
    {"--enable-log-requests", false, "the access log is on unless --disable-log-requests"},
    {"--response-role", true, "replies always have the role \"assistant\""},
    {"--disable-sliding-window", false, "sliding windows follow the model's config"},
    {"--max-parallel-loading-workers", true, "weights are memory-mapped, not loaded by workers"},
    {"--hf-overrides", true, "the model's config.json is read as it is"},
    {"--limit-mm-per-prompt", true, "the models served here take text only"},
    {"--mm-processor-kwargs", true, "the models served here take text only"},
    {"--logits-processor-pattern", true, kNoPlugins},
    {"--override-generation-config", true, "use --generation-config DIR"},
    {"--headless", false, "lantern always serves HTTP"},
};

// vLLM features that cannot work here: silently ignoring them would serve something else
// than asked.
struct RefusedFlag {
  const char* names;
  bool takes_value;
  const char* why;
};
const RefusedFlag kRefused[] = {
    {"--enable-lora", false, "LoRA adapters are not supported"},
    {"--lora-modules", true, "LoRA adapters are not supported"},
    {"--ssl-keyfile", true, "lantern serves plain HTTP; terminate TLS in a reverse proxy"},
    {"--ssl-certfile", true, "lantern serves plain HTTP; terminate TLS in a reverse proxy"},
    {"--enable-expert-parallel", false, "lantern is one process"},
};

// Storage for the values of the flags above (stable addresses for CLI11).
std::map<std::string, std::string>& Values() {
  static std::map<std::string, std::string> values;
  return values;
}

std::string LongName(const std::string& names) {
  for (const auto& part : CLI::detail::split(names, ',')) {
    if (part.rfind("--", 0) == 0) return part;
  }
  return names;
}

// "[a, b]" -> {"a", "b"}; quotes around items dropped.
std::string Unquote(std::string value) {
  value = CLI::detail::trim_copy(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

}  // namespace

std::vector<std::string> NormalizeVllmArgs(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    for (auto [short_name, long_name] :
         {std::pair{"-tp", "--tensor-parallel-size"}, std::pair{"-pp", "--pipeline-parallel-size"},
          std::pair{"-dp", "--data-parallel-size"}}) {
      std::string prefix = std::string(short_name) + "=";
      if (args[i] == short_name) {
        args[i] = long_name;
      } else if (args[i].rfind(prefix, 0) == 0) {
        args[i] = long_name + ("=" + args[i].substr(prefix.size()));
      }
    }
  }
  return args;
}

void AddVllmFlags(CLI::App& app, VllmFlags& flags) {
  const char* honoured = "vLLM's flags (honoured)";
  app.add_option("--tokenizer", flags.tokenizer,
                 "Tokenizer directory or repo id, when not the model's own")
      ->group(honoured);
  app.add_option("--max-logprobs", flags.max_logprobs,
                 "Most logprobs (and prompt_logprobs) a request may ask for")
      ->check(CLI::Range(0, 1 << 20))
      ->group(honoured);
  app.add_option("--root-path", flags.root_path,
                 "Path prefix of the API behind a proxy (e.g. /llm): requests may carry it")
      ->group(honoured);
  app.add_option("--uvicorn-log-level", flags.uvicorn_log_level,
                 "Log level: critical, error, warning, info, debug, trace")
      ->check(CLI::IsMember({"critical", "error", "warning", "info", "debug", "trace"},
                            CLI::ignore_case))
      ->group(honoured);
  app.add_option("--allowed-origins", flags.allowed_origins,
                 "CORS: origins allowed, a JSON list or comma-separated ('*': all)")
      ->group(honoured);
  app.add_option("--allowed-methods", flags.allowed_methods, "CORS: methods allowed ('*': all)")
      ->group(honoured);
  app.add_option("--allowed-headers", flags.allowed_headers, "CORS: request headers allowed")
      ->group(honoured);
  app.add_flag("--allow-credentials", flags.allow_credentials,
               "CORS: allow cookies and credentials (the origin is echoed instead of '*')")
      ->group(honoured);
  app.add_flag("--disable-log-stats", flags.disable_log_stats, "No periodic stats line in the log")
      ->group(honoured);
  app.add_flag("--disable-uvicorn-access-log", flags.disable_uvicorn_access_log,
               "No access log lines (as --disable-log-requests)")
      ->group(honoured);
  app.add_option("--disable-access-log-for-endpoints", flags.disable_access_log_for_endpoints,
                 "Paths without access log lines, comma-separated ('' logs every path)")
      ->group(honoured);
  app.add_flag("--enable-auto-tool-choice", flags.enable_auto_tool_choice,
               "tool_choice \"auto\": read the model's tool calls with --tool-call-parser")
      ->group(honoured);
  app.add_option("--tool-call-parser", flags.tool_call_parser,
                 "The format the model writes tool calls in: hermes (Qwen 2.5/3, Hermes), "
                 "llama3_json (Llama 3.1-3.3), mistral")
      ->group(honoured);
  app.add_option("--tensor-parallel-size", flags.tensor_parallel_size,
                 "Must be 1: lantern runs one process")
      ->group(honoured);
  app.add_option("--pipeline-parallel-size", flags.pipeline_parallel_size,
                 "Must be 1: lantern runs one process")
      ->group(honoured);
  app.add_option("--data-parallel-size", flags.data_parallel_size,
                 "Must be 1: run several servers behind a load balancer instead")
      ->group(honoured);
  app.config_formatter(std::make_shared<YamlFlagsConfig>());
  app.set_config("--config", "", "A YAML file of flags, as vLLM reads it (the command line wins)")
      ->group(honoured);

  const char* ignored = "vLLM's flags accepted without effect (a warning says why)";
  for (const auto& flag : kIgnored) {
    std::string& value = Values()[LongName(flag.names)];
    if (flag.takes_value) {
      app.add_option(flag.names, value, flag.why)->group(ignored);
    } else {
      app.add_flag(flag.names, value, flag.why)->group(ignored);
    }
  }
  const char* refused = "vLLM's flags for features lantern does not have (an error)";
  for (const auto& flag : kRefused) {
    std::string& value = Values()[LongName(flag.names)];
    if (flag.takes_value) {
      app.add_option(flag.names, value, flag.why)->group(refused);
    } else {
      app.add_flag(flag.names, value, flag.why)->group(refused);
    }
  }
}

Status ApplyVllmFlags(const CLI::App& app, VllmFlags& flags) {
  for (auto [name, value, what] :
       {std::tuple{"--tensor-parallel-size", flags.tensor_parallel_size, "tensor parallelism"},
        std::tuple{"--pipeline-parallel-size", flags.pipeline_parallel_size,
                   "pipeline parallelism"},
        std::tuple{"--data-parallel-size", flags.data_parallel_size, "data parallelism"}}) {
    if (value != 1) {
      return InvalidArgument(std::string(name) + " " + std::to_string(value) + ": " + what +
                             " is not available: lantern serves a model from one process on "
                             "this machine's CPU cores (use --max-num-seqs for throughput, or "
                             "several servers behind a load balancer); leave it at 1");
    }
  }
  for (const auto& flag : kRefused) {
    std::string name = LongName(flag.names);
    const std::string& value = Values()[name];
    if (app.count(name) > 0) {
      return InvalidArgument(name + (flag.takes_value ? " " + value : "") + ": " + flag.why);
    }
  }
  for (const auto& flag : kIgnored) {
    std::string name = LongName(flag.names);
    if (app.count(name) == 0) continue;
    const std::string& value = Values()[name];
    if (name == "--block-size" && value == "16") continue;  // what it is anyway
    flags.ignored[name] = value;
    LANTERN_LOG(kWarning, "serve")
        << name << (flag.takes_value ? " " + value : "") << " has no effect: " << flag.why;
  }
  if (!flags.tool_call_parser.empty()) {
    auto parser = toolcall::MakeParser(flags.tool_call_parser);
    if (!parser.ok()) return InvalidArgument("--tool-call-parser: " + parser.status().message());
  }
  if (flags.enable_auto_tool_choice && flags.tool_call_parser.empty()) {
    return InvalidArgument(
        "--enable-auto-tool-choice needs --tool-call-parser NAME: the format the model writes "
        "its tool calls in (hermes, llama3_json or mistral)");
  }
  if (!flags.uvicorn_log_level.empty()) {
    std::string level = CLI::detail::to_lower(flags.uvicorn_log_level);
    log::SetLevel(level == "debug" || level == "trace" ? log::Level::kDebug
                  : level == "info"                    ? log::Level::kInfo
                  : level == "warning"                 ? log::Level::kWarning
                                                       : log::Level::kError);
  }
  if (!flags.root_path.empty() &&
      (flags.root_path.front() != '/' || flags.root_path.back() == '/')) {
    return InvalidArgument("--root-path '" + flags.root_path +
                           "' must start with '/' and not end with one, e.g. /llm");
  }
  return Status::Ok();
}

std::vector<CLI::ConfigItem> YamlFlagsConfig::from_config(std::istream& input) const {
  std::vector<CLI::ConfigItem> items;
  std::string line;
  int number = 0;
  while (std::getline(input, line)) {
    ++number;
    if (size_t hash = line.find(" #"); hash != std::string::npos) line.erase(hash);
    std::string text = CLI::detail::trim_copy(line);
    if (text.empty() || text[0] == '#' || text == "---") continue;
    if (text.rfind("- ", 0) == 0) {  // an item of the list of the key above
      if (items.empty()) {
        throw CLI::ConfigError("line " + std::to_string(number) + ": a list item without a key");
      }
      items.back().inputs.push_back(Unquote(text.substr(2)));
      continue;
    }
    size_t colon = text.find(':');
    if (colon == std::string::npos) {
      throw CLI::ConfigError("line " + std::to_string(number) + ": expected 'flag: value', got '" +
                             text + "'");
    }
    CLI::ConfigItem item;
    item.name = CLI::detail::trim_copy(text.substr(0, colon));
    std::replace(item.name.begin(), item.name.end(), '_', '-');  // vLLM takes both spellings
    std::string value = CLI::detail::trim_copy(text.substr(colon + 1));
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
      for (const auto& part : CLI::detail::split(value.substr(1, value.size() - 2), ',')) {
        if (!CLI::detail::trim_copy(part).empty()) item.inputs.push_back(Unquote(part));
      }
    } else if (!value.empty()) {
      item.inputs.push_back(Unquote(value));
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace lantern::cli
