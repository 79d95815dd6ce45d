// Typed OpenAI requests (completions and chat), parsed and validated from their JSON with
// 400s that name the field, the value and what was expected. Sampling fields land in the
// engine's SamplingParams; checks that need the model (vocabulary, context length, the
// chat template) happen in the service.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sampling_params.h"
#include "server/chat_tools.h"  // ToolChoice
#include "server/json_fields.h"  // ParseJsonObject

namespace lantern::server {

struct StreamOptions {
  bool include_usage = false;
  bool continuous_usage_stats = false;
};

// One prompt as given: text, or token ids when `is_tokens`.
struct PromptInput {
  bool is_tokens = false;
  std::string text;
  std::vector<int32_t> token_ids;
};

// Fields both endpoints share.
struct GenerationFields {
  std::string model;  // "" when absent: the first served name
  engine::SamplingParams params;
  bool stream = false;
  StreamOptions stream_options;
  bool echo = false;
  std::optional<bool> add_special_tokens;  // unset: the endpoint's default
  // vLLM's extension: logprobs name tokens "token_id:<id>" instead of their text.
  bool return_tokens_as_token_ids = false;
  // vLLM's extension: keep only the prompt's last N tokens (-1: the context length).
  std::optional<int> truncate_prompt_tokens;
};

struct CompletionRequest : GenerationFields {
  std::vector<PromptInput> prompts;  // at least one
  // echo with max_tokens 0: only the prompt is wanted (scored when logprobs are asked);
  // params.max_tokens is then 1, a token the response drops.
  bool score_prompt_only = false;
};

struct ChatRequest : GenerationFields {
  // The messages, normalized for the template: content flattened to a string when it was
  // a list of text parts; other fields (name, tool_calls, tool_call_id) kept as given.
  // Ordered as the client sent them: templates' tojson keeps key order, as in Python.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null when absent; passed to the template as is
  ToolChoice tool_choice;        // auto when tools are given without one
  bool parallel_tool_calls = true;
  bool logprobs = false;
  bool add_generation_prompt = true;
  bool continue_final_message = false;
  std::optional<std::string> chat_template;  // a per-request template (vLLM's extension)
  nlohmann::ordered_json chat_template_kwargs = nlohmann::ordered_json::object();
};

// A tokenize request: a prompt, or chat messages rendered through the template.
struct TokenizeRequest {
  std::string model;
  bool is_chat = false;
  std::string prompt;
  ChatRequest chat;  // when is_chat: messages, tools, add_generation_prompt, ...
  std::optional<bool> add_special_tokens;
};

struct DetokenizeRequest {
  std::string model;
  std::vector<int32_t> tokens;
};

// Each throws ApiError(400) naming the field on the first problem found.
// `defaults` are the sampling parameters a request starts from (the model's
// generation_config.json); the request's explicit fields override them.
CompletionRequest ParseCompletionRequest(const std::string& body,
                                         const engine::SamplingParams& defaults = {});
ChatRequest ParseChatRequest(const std::string& body, const engine::SamplingParams& defaults = {});
TokenizeRequest ParseTokenizeRequest(const std::string& body);
DetokenizeRequest ParseDetokenizeRequest(const std::string& body);

}  // namespace lantern::server
