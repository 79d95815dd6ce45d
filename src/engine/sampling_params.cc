#include "engine/sampling_params.h"

#include <cmath>
#include <sstream>

namespace lantern::engine {
namespace {

template <typename T>
std::string Str(T value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

Status Bad(const std::string& field, const std::string& value, const std::string& expected) {
  return InvalidArgument(field + " must be " + expected + ", got " + value);
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

SamplingParams SamplingParams::FromDefaults(const GenerationDefaults& defaults) {
  SamplingParams p;
  if (defaults.temperature) p.temperature = *defaults.temperature;
  if (defaults.top_p) p.top_p = *defaults.top_p;
  if (defaults.top_k) p.top_k = *defaults.top_k;
  if (defaults.min_p) p.min_p = *defaults.min_p;
  if (defaults.repetition_penalty) p.repetition_penalty = *defaults.repetition_penalty;
  if (defaults.max_new_tokens) p.max_tokens = *defaults.max_new_tokens;
  return p;
}

Status SamplingParams::Validate(int vocab_size, int max_logprobs) const {
  if (n < 1 || n > 1024) return Bad("n", Str(n), "between 1 and 1024");
  if (!Finite(temperature) || temperature < 0) {
    return Bad("temperature", Str(temperature), "a number >= 0");
  }
  if (!Finite(top_p) || top_p <= 0 || top_p > 1) return Bad("top_p", Str(top_p), "in (0, 1]");
  if (top_k < -1) return Bad("top_k", Str(top_k), "-1 or 0 (disabled), or at least 1");
  if (!Finite(min_p) || min_p < 0 || min_p > 1) return Bad("min_p", Str(min_p), "in [0, 1]");
  if (!Finite(presence_penalty) || presence_penalty < -2 || presence_penalty > 2) {
    return Bad("presence_penalty", Str(presence_penalty), "in [-2, 2]");
  }
  if (!Finite(frequency_penalty) || frequency_penalty < -2 || frequency_penalty > 2) {
    return Bad("frequency_penalty", Str(frequency_penalty), "in [-2, 2]");
  }
  if (!Finite(repetition_penalty) || repetition_penalty <= 0 || repetition_penalty > 2) {
    return Bad("repetition_penalty", Str(repetition_penalty), "in (0, 2]");
  }
  if (max_tokens && *max_tokens < 1) return Bad("max_tokens", Str(*max_tokens), "at least 1");
  if (min_tokens < 0) return Bad("min_tokens", Str(min_tokens), "at least 0");
  if (max_tokens && min_tokens > *max_tokens) {
    return Bad("min_tokens", Str(min_tokens), "at most max_tokens (" + Str(*max_tokens) + ")");
  }
  if (logprobs && (*logprobs < 0 || *logprobs > max_logprobs)) {
    return Bad("logprobs", Str(*logprobs), "between 0 and " + Str(max_logprobs));
  }
  if (prompt_logprobs && (*prompt_logprobs < 0 || *prompt_logprobs > max_logprobs)) {
    return Bad("prompt_logprobs", Str(*prompt_logprobs), "between 0 and " + Str(max_logprobs));
  }
  for (size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) {
      return InvalidArgument("stop[" + Str(i) + "] must not be an empty string");
    }
  }
  for (size_t i = 0; i < stop_token_ids.size(); ++i) {
    const int32_t id = stop_token_ids[i];
    if (id < 0 || id >= vocab_size) {
      return Bad("stop_token_ids[" + Str(i) + "]", Str(id),
                 "a token id in [0, " + Str(vocab_size) + ")");
    }
  }
  for (const auto& [id, bias] : logit_bias) {
    if (id < 0 || id >= vocab_size) {
      return Bad("logit_bias key", Str(id), "a token id in [0, " + Str(vocab_size) + ")");
    }
    if (!Finite(bias) || bias < -100 || bias > 100) {
      return Bad("logit_bias[" + Str(id) + "]", Str(bias), "in [-100, 100]");
    }
  }
  return Status::Ok();
}

}  // namespace lantern::engine
