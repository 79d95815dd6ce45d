// vLLM's `vllm serve` flags that lantern serve accepts beside its own, so that a vLLM
// command line or --config file works unchanged: the ones with a meaning here are honoured
// (--tokenizer, --max-logprobs, --root-path, --uvicorn-log-level, --config, CORS, tool calling,
// --disable-log-stats, access-log choices); the ones that only make sense for vLLM's GPU
// workers are accepted with one warning each saying why they change nothing; a value that
// cannot work here (--tensor-parallel-size 4 in one CPU process) is a start-up error.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace lantern::cli {

struct VllmFlags {
  std::string tokenizer;  // a tokenizer directory or repo id other than the model's
  int max_logprobs = 20;
  std::string root_path;  // a prefix a proxy may leave on request paths
  std::string uvicorn_log_level;
  std::string allowed_origins = "[\"*\"]";
  std::string allowed_methods = "[\"*\"]";
  std::string allowed_headers = "[\"*\"]";
  bool allow_credentials = false;
  bool disable_log_stats = false;
  bool disable_uvicorn_access_log = false;
  std::string disable_access_log_for_endpoints = "/health,/metrics,/ping";
  // Tool calling: tool_choice "auto" reads the model's calls with this parser.
  bool enable_auto_tool_choice = false;
  std::string tool_call_parser;
  // Parallelism: anything but 1 is an error.
  int tensor_parallel_size = 1;
  int pipeline_parallel_size = 1;
  int data_parallel_size = 1;
  // The flags without effect here that were given (name -> value as written).
  std::map<std::string, std::string> ignored;
};

// argv with vLLM's two-letter short flags (-tp, -pp, -dp), which CLI11 cannot name,
// spelled long.
std::vector<std::string> NormalizeVllmArgs(int argc, char** argv);

// Adds the flags to `app` (and --config, which reads vLLM's YAML config files).
void AddVllmFlags(CLI::App& app, VllmFlags& flags);

// After parsing: an error for a value that cannot work here; otherwise one warning per
// accepted flag that has no effect, and the log level applied.
Status ApplyVllmFlags(const CLI::App& app, VllmFlags& flags);

// The flags of a YAML config file as vLLM reads them ("key: value", lists as "[a, b]" or
// "- item" lines, booleans true/false), for CLI11; the command line wins over the file.
class YamlFlagsConfig : public CLI::Config {
 public:
  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
};

}  // namespace lantern::cli
