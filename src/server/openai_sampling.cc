#include "server/openai_sampling.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "server/api_error.h"
#include "server/structured_output.h"

namespace lantern::server {
namespace {

std::atomic<int> max_logprobs{20};

using nlohmann::json;
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr int kMaxN = 128;

// Fields clients send that change nothing for a text model served here: OpenAI's
// bookkeeping and hints, and vLLM's options for features Lantern does not have, whose
// absence leaves the output as asked (beam search's length penalty, KV transfer, ...).
void IgnoreHarmlessFields(FieldReader& fields) {
  for (const char* name :
       {"user", "metadata", "store", "service_tier", "priority",
        "request_id", "prompt_cache_key", "safety_identifier", "reasoning_effort",
        "include_reasoning", "spaces_between_special_tokens", "cache_salt", "kv_transfer_params",
        "vllm_xargs", "mm_processor_kwargs", "length_penalty", "guided_decoding_backend",
        "guided_whitespace_pattern"}) {
    fields.Ignore(name);
  }
}

// Fields that ask for something Lantern cannot do: a 400 saying so, rather than an answer
// that silently ignores them. false, [] and {} ask for nothing and pass.
void RejectUnsupportedFields(FieldReader& f) {
  struct Feature {
    const char* name;
    const char* what;
  };
  static const Feature kUnsupported[] = {
      {"structural_tag", "structural tags (use 'structured_outputs' or 'response_format')"},
      {"use_beam_search", "beam search"},
      {"allowed_token_ids", "token allow-lists"},
      {"bad_words", "bad-word lists"},
      {"logits_processors", "custom logits processors"},
      {"return_token_ids", "token ids in the response"},
      {"prompt_embeds", "prompt embeddings"},
      {"audio", "audio output"},
      {"prediction", "predicted outputs"},
      {"web_search_options", "web search"},
      {"functions", "deprecated function calling (see 'tools')"},
      {"function_call", "deprecated function calling (see 'tool_choice')"},
  };
  for (const auto& [name, what] : kUnsupported) {
    const json* v = f.Get(name);
    if (!v || (v->is_boolean() && !v->get<bool>()) ||
        ((v->is_array() || v->is_object()) && v->empty())) {
      continue;
    }
    throw BadRequest("'" + std::string(name) + "' is not supported: this server has no " + what,
                     name);
  }
  if (const json* v = f.Get("modalities")) {
    if (!(v->is_array() &&
          std::all_of(v->begin(), v->end(), [](const json& m) { return m == "text"; }))) {
      throw BadRequest("'modalities' supports only [\"text\"], got " + v->dump(), "modalities");
    }
  }
}

std::vector<std::string> StopStrings(const json& value) {
  std::vector<std::string> stop;
  if (value.is_string()) {
    stop.push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) {
        throw BadRequest(
            "'stop[" + std::to_string(i) + "]' must be a string, got " + DescribeJson(value[i]),
            "stop");
      }
      stop.push_back(value[i].get<std::string>());
    }
  } else {
    throw BadRequest("'stop' must be a string or a list of strings, got " + DescribeJson(value),
                     "stop");
  }
  for (size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) {
      throw BadRequest("'stop[" + std::to_string(i) + "]' must not be empty", "stop");
    }
  }
  return stop;
}

void ReadLogitBias(const json& value, engine::SamplingParams& p) {
  if (!value.is_object()) {
    throw BadRequest(
        "'logit_bias' must be an object of token id -> bias, got " + DescribeJson(value),
        "logit_bias");
  }
  for (const auto& [key, bias] : value.items()) {
    int64_t id = -1;
    try {
      size_t used = 0;
      id = std::stoll(key, &used);
      if (used != key.size()) id = -1;
    } catch (const std::exception&) {
      id = -1;
    }
    if (id < 0 || id > kMaxInt32) {
      throw BadRequest("'logit_bias' keys must be token ids, got \"" + key + "\"", "logit_bias");
    }
    if (!bias.is_number()) {
      throw BadRequest("'logit_bias[" + key + "]' must be a number, got " + DescribeJson(bias),
                       "logit_bias");
    }
    p.logit_bias[static_cast<int32_t>(id)] = bias.get<double>();
  }
}

void ReadStreamOptions(FieldReader& f, GenerationFields& out) {
  if (auto v = f.Bool("stream")) out.stream = *v;
  const auto* v = f.Get("stream_options");
  if (!v) return;
  if (!out.stream) {
    throw BadRequest("'stream_options' can only be set when 'stream' is true", "stream_options");
  }
  if (!v->is_object()) {
    throw BadRequest("'stream_options' must be an object, got " + DescribeJson(*v),
                     "stream_options");
  }
  FieldReader so(*v, "stream_options");
  if (auto b = so.Bool("include_usage")) out.stream_options.include_usage = *b;
  if (auto b = so.Bool("continuous_usage_stats")) out.stream_options.continuous_usage_stats = *b;
  so.WarnUnknown();
}

}  // namespace

int MaxLogprobs() { return max_logprobs.load(std::memory_order_relaxed); }
void SetMaxLogprobs(int limit) { max_logprobs.store(limit, std::memory_order_relaxed); }

namespace {

void ReadN(FieldReader& f, engine::SamplingParams& p) {
  if (auto v = f.Integer("n", 1, kMaxN)) p.n = static_cast<int>(*v);
  if (auto v = f.Integer("best_of", 1, kMaxN)) {
    if (*v < p.n) {
      throw BadRequest("'best_of' (" + std::to_string(*v) + ") must be at least 'n' (" +
                           std::to_string(p.n) + ")",
                       "best_of");
    }
    if (*v > p.n) {
      throw BadRequest("'best_of' greater than 'n' is not supported (best_of=" +
                           std::to_string(*v) + ", n=" + std::to_string(p.n) + ")",
                       "best_of");
    }
  }
}

}  // namespace

std::vector<int32_t> TokenIdList(const json& value, const std::string& param) {
  std::vector<int32_t> ids;
  ids.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    ids.push_back(static_cast<int32_t>(
        JsonInteger(value[i], param + "[" + std::to_string(i) + "]", 0, kMaxInt32)));
  }
  return ids;
}

void ReadGenerationFields(FieldReader& f, GenerationFields& out, const std::string* body) {
  auto& p = out.params;
  if (auto model = f.String("model")) out.model = *model;
  if (auto v = f.Number("temperature")) p.temperature = *v;
  if (auto v = f.Number("top_p")) p.top_p = *v;
  if (auto v = f.Integer("top_k", -1, kMaxInt32)) p.top_k = static_cast<int>(*v);
  if (auto v = f.Number("min_p")) p.min_p = *v;
  if (auto v = f.Number("presence_penalty")) p.presence_penalty = *v;
  if (auto v = f.Number("frequency_penalty")) p.frequency_penalty = *v;
  if (auto v = f.Number("repetition_penalty")) p.repetition_penalty = *v;
  if (auto v = f.Integer("seed", std::numeric_limits<int64_t>::min(),
                         std::numeric_limits<int64_t>::max())) {
    p.seed = static_cast<uint64_t>(*v);
  }
  if (const auto* v = f.Get("stop")) p.stop = StopStrings(*v);
  if (const auto* v = f.Get("stop_token_ids")) {
    if (!v->is_array()) {
      throw BadRequest("'stop_token_ids' must be a list of token ids, got " + DescribeJson(*v),
                       "stop_token_ids");
    }
    p.stop_token_ids = TokenIdList(*v, "stop_token_ids");
  }
  if (auto v = f.Bool("ignore_eos")) p.ignore_eos = *v;
  if (auto v = f.Integer("min_tokens", 0, kMaxInt32)) p.min_tokens = static_cast<int>(*v);
  if (auto v = f.Bool("skip_special_tokens")) p.skip_special_tokens = *v;
  if (auto v = f.Bool("include_stop_str_in_output")) p.include_stop_str_in_output = *v;
  ReadN(f, p);
  if (auto v = f.Integer("prompt_logprobs", -1, MaxLogprobs())) {
    p.prompt_logprobs = static_cast<int>(*v);
  }
  if (const auto* v = f.Get("logit_bias")) ReadLogitBias(*v, p);
  ReadStreamOptions(f, out);
  if (out.stream && p.prompt_logprobs && *p.prompt_logprobs != 0) {
    // As vLLM: a stream has no place for them (echo + logprobs scores the prompt instead).
    throw BadRequest("'prompt_logprobs' are not available when 'stream' is true",
                     "prompt_logprobs");
  }
  if (auto v = f.Bool("echo")) out.echo = *v;
  if (auto v = f.Bool("add_special_tokens")) out.add_special_tokens = *v;
  if (auto v = f.Bool("return_tokens_as_token_ids")) out.return_tokens_as_token_ids = *v;
  if (auto v = f.Integer("truncate_prompt_tokens", -1, kMaxInt32)) {
    if (*v == 0) {
      throw BadRequest("'truncate_prompt_tokens' must be -1 (the context length) or at least 1",
                       "truncate_prompt_tokens");
    }
    out.truncate_prompt_tokens = static_cast<int>(*v);
  }
  ReadStructuredOutput(f, p, body);
  IgnoreHarmlessFields(f);
  RejectUnsupportedFields(f);
}

void ReadMaxTokens(FieldReader& f, GenerationFields& out, const char* name) {
  if (auto v = f.Integer(name, 1, kMaxInt32)) out.params.max_tokens = static_cast<int>(*v);
}

}  // namespace lantern::server
