// Parsing of /v1/completions, /v1/chat/completions, /tokenize and /detokenize bodies.
#include <limits>

#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/openai_protocol.h"
#include "server/openai_sampling.h"

namespace lantern::server {
namespace {

using nlohmann::json;

std::vector<PromptInput> ReadPrompts(const json* prompt) {
  if (!prompt) throw BadRequest("'prompt' is required", "prompt");
  std::vector<PromptInput> prompts;
  auto text = [](const std::string& s) { return PromptInput{false, s, {}}; };
  if (prompt->is_string()) {
    prompts.push_back(text(prompt->get<std::string>()));
  } else if (prompt->is_array()) {
    if (prompt->empty()) throw BadRequest("'prompt' must not be an empty list", "prompt");
    const json& first = (*prompt)[0];
    if (first.is_number()) {
      prompts.push_back(PromptInput{true, {}, TokenIdList(*prompt, "prompt")});
    } else if (first.is_string()) {
      for (size_t i = 0; i < prompt->size(); ++i) {
        if (!(*prompt)[i].is_string()) {
          throw BadRequest("'prompt[" + std::to_string(i) + "]' must be a string like the " +
                               "other items, got " + DescribeJson((*prompt)[i]),
                           "prompt");
        }
        prompts.push_back(text((*prompt)[i].get<std::string>()));
      }
    } else if (first.is_array()) {
      for (size_t i = 0; i < prompt->size(); ++i) {
        std::string param = "prompt[" + std::to_string(i) + "]";
        const json& item = (*prompt)[i];
        if (!item.is_array() || item.empty()) {
          throw BadRequest(
              "'" + param + "' must be a non-empty list of token ids, got " + DescribeJson(item),
              "prompt");
        }
        prompts.push_back(PromptInput{true, {}, TokenIdList(item, param)});
      }
    } else {
      throw BadRequest(
          "'prompt' must be a string, a list of strings, a list of token ids or a "
          "list of token-id lists; got a list of " +
              DescribeJson(first),
          "prompt");
    }
  } else {
    throw BadRequest(
        "'prompt' must be a string, a list of strings, a list of token ids or a "
        "list of token-id lists; got " +
            DescribeJson(*prompt),
        "prompt");
  }
  return prompts;
}

// Content as a string, or a list of text parts joined with newlines (as vLLM does).
json NormalizeContent(const json& content, const std::string& param) {
  if (content.is_string()) return content;
  if (!content.is_array()) {
    throw BadRequest(
        "'" + param + "' must be a string or a list of content parts, got " + DescribeJson(content),
        param);
  }
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    std::string part_param = param + "[" + std::to_string(i) + "]";
    const json& part = content[i];
    if (!part.is_object()) {
      throw BadRequest("'" + part_param + "' must be an object, got " + DescribeJson(part),
                       part_param);
    }
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) {
      throw BadRequest("'" + part_param + ".type' is required and must be a string",
                       part_param + ".type");
    }
    if (*type != "text") {
      throw BadRequest("'" + part_param + ".type' \"" + type->get<std::string>() +
                           "\" is not supported: this model takes only text parts",
                       part_param + ".type");
    }
    auto part_text = part.find("text");
    if (part_text == part.end() || !part_text->is_string()) {
      throw BadRequest("'" + part_param + ".text' is required and must be a string",
                       part_param + ".text");
    }
    if (i > 0) text += "\n";
    text += part_text->get<std::string>();
  }
  return text;
}

json ReadMessages(const json* messages) {
  if (!messages) throw BadRequest("'messages' is required", "messages");
  if (!messages->is_array()) {
    throw BadRequest("'messages' must be a list of messages, got " + DescribeJson(*messages),
                     "messages");
  }
  if (messages->empty()) throw BadRequest("'messages' must not be empty", "messages");
  json normalized = json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    std::string param = "messages[" + std::to_string(i) + "]";
    const json& message = (*messages)[i];
    if (!message.is_object()) {
      throw BadRequest("'" + param + "' must be an object, got " + DescribeJson(message), param);
    }
    FieldReader f(message, param);
    auto role = f.String("role");
    if (!role) throw BadRequest("'" + param + ".role' is required", param + ".role");
    if (*role != "system" && *role != "developer" && *role != "user" && *role != "assistant" &&
        *role != "tool") {
      throw BadRequest("'" + param + ".role' must be one of system, developer, user, " +
                           "assistant, tool; got \"" + *role + "\"",
                       param + ".role");
    }
    json out = message;
    const json* content = f.Get("content");
    if (content) {
      out["content"] = NormalizeContent(*content, param + ".content");
    } else if (*role != "assistant") {
      throw BadRequest("'" + param + ".content' is required for role \"" + *role + "\"",
                       param + ".content");
    } else {
      // An assistant turn that only called tools: templates test its content as a string
      // ('</think>' in message.content), and vLLM hands them "" for it.
      out["content"] = "";
    }
    f.String("name");
    f.String("tool_call_id");
    if (const auto* calls = f.Get("tool_calls"); calls && !calls->is_array()) {
      throw BadRequest("'" + param + ".tool_calls' must be a list", param + ".tool_calls");
    }
    f.Ignore("reasoning_content");
    f.WarnUnknown();
    normalized.push_back(std::move(out));
  }
  return normalized;
}

// `ordered` is the same body parsed with key order kept, for what templates see.
void ReadChatFields(FieldReader& f, const nlohmann::ordered_json& ordered, ChatRequest& out) {
  json messages = ReadMessages(f.Get("messages"));
  out.messages = ordered["messages"];
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].contains("content")) out.messages[i]["content"] = messages[i]["content"];
  }
  if (const auto* tools = f.Get("tools")) out.tools = ReadTools(*tools, ordered["tools"]);
  out.tool_choice = ReadToolChoice(f.Get("tool_choice"), f.Get("tools") ? *f.Get("tools") : json());
  if (auto v = f.Bool("parallel_tool_calls")) out.parallel_tool_calls = *v;
  // Templates read a call's arguments as a mapping (tool_call.function.arguments | tojson).
  ArgumentsAsMappings(out.messages);
  if (auto v = f.Bool("add_generation_prompt")) out.add_generation_prompt = *v;
  if (auto v = f.Bool("continue_final_message")) out.continue_final_message = *v;
  if (out.add_generation_prompt && out.continue_final_message && f.Get("add_generation_prompt")) {
    throw BadRequest("'continue_final_message' and 'add_generation_prompt' cannot both be true",
                     "continue_final_message");
  }
  if (out.continue_final_message) out.add_generation_prompt = false;
  if (auto v = f.String("chat_template")) out.chat_template = *v;
  if (const auto* kwargs = f.Get("chat_template_kwargs")) {
    if (!kwargs->is_object()) {
      throw BadRequest("'chat_template_kwargs' must be an object", "chat_template_kwargs");
    }
    out.chat_template_kwargs = ordered["chat_template_kwargs"];
  }
  // vLLM's RAG extension: documents for templates that cite them (Command R, Granite),
  // handed to the template beside the messages, as chat_template_kwargs are.
  if (const auto* documents = f.Get("documents")) {
    if (!documents->is_array()) {
      throw BadRequest("'documents' must be a list of objects, got " + DescribeJson(*documents),
                       "documents");
    }
    if (!out.chat_template_kwargs.contains("documents")) {
      out.chat_template_kwargs["documents"] = ordered["documents"];
    }
  }
}

// max_tokens, where 0 with echo asks only to score the prompt (lm-evaluation-harness's
// loglikelihood requests); vLLM refuses 0 without echo, and so do we.
void ReadCompletionMaxTokens(FieldReader& f, CompletionRequest& out) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  auto v = f.Integer("max_tokens", 0, kMax);
  if (!v) return;
  if (*v > 0) {
    out.params.max_tokens = static_cast<int>(*v);
    return;
  }
  if (!out.echo) {
    throw BadRequest("'max_tokens' must be an integer in [1, " + std::to_string(kMax) +
                         "], got 0 (0 is allowed only with 'echo', to score the prompt)",
                     "max_tokens");
  }
  if (out.params.min_tokens > 0) {
    throw BadRequest("'min_tokens' (" + std::to_string(out.params.min_tokens) +
                         ") must be at most 'max_tokens' (0)",
                     "min_tokens");
  }
  out.score_prompt_only = true;
  // The engine generates at least one token (SamplingParams::Validate wants max_tokens >=
  // 1) and computes prompt logprobs in the same prefill, so the request runs as one token
  // that the response drops (as vLLM does for echo with max_tokens 0): no engine path of
  // its own for a prefill without a sampled token.
  out.params.max_tokens = 1;
}

}  // namespace

CompletionRequest ParseCompletionRequest(const std::string& body,
                                         const engine::SamplingParams& defaults) {
  json object = ParseJsonObject(body);
  FieldReader f(object, "");
  CompletionRequest out;
  out.params = defaults;
  out.params.max_tokens = 16;  // OpenAI's and vLLM's default for completions
  ReadGenerationFields(f, out, &body);
  ReadCompletionMaxTokens(f, out);
  if (const auto* v = f.Get("max_tokens"); !v && object.contains("max_tokens")) {
    out.params.max_tokens.reset();  // explicit null: up to the context length
  }
  out.prompts = ReadPrompts(f.Get("prompt"));
  if (auto v = f.Integer("logprobs", 0, MaxLogprobs())) out.params.logprobs = static_cast<int>(*v);
  if (f.Get("suffix") != nullptr) {
    throw BadRequest("'suffix' is not supported", "suffix");
  }
  f.WarnUnknown();
  return out;
}

ChatRequest ParseChatRequest(const std::string& body, const engine::SamplingParams& defaults) {
  json object = ParseJsonObject(body);
  FieldReader f(object, "");
  ChatRequest out;
  out.params = defaults;
  ReadGenerationFields(f, out, &body);
  ReadChatFields(f, nlohmann::ordered_json::parse(body), out);
  ReadMaxTokens(f, out, "max_tokens");
  ReadMaxTokens(f, out, "max_completion_tokens");  // the newer name wins
  if (auto v = f.Bool("logprobs")) out.logprobs = *v;
  if (auto v = f.Integer("top_logprobs", 0, MaxLogprobs())) {
    if (!out.logprobs) {
      throw BadRequest("'top_logprobs' requires 'logprobs' to be true", "top_logprobs");
    }
    out.params.logprobs = static_cast<int>(*v);
  }
  if (out.logprobs && !out.params.logprobs) out.params.logprobs = 0;
  f.WarnUnknown();
  return out;
}

TokenizeRequest ParseTokenizeRequest(const std::string& body) {
  json object = ParseJsonObject(body);
  FieldReader f(object, "");
  TokenizeRequest out;
  if (auto model = f.String("model")) out.model = *model;
  if (auto v = f.Bool("add_special_tokens")) out.add_special_tokens = *v;
  f.Ignore("return_token_strs");
  if (object.contains("messages")) {
    out.is_chat = true;
    ReadChatFields(f, nlohmann::ordered_json::parse(body), out.chat);
  } else {
    auto prompt = f.String("prompt");
    if (!prompt) throw BadRequest("'prompt' (a string) or 'messages' is required", "prompt");
    out.prompt = *prompt;
  }
  f.WarnUnknown();
  return out;
}

DetokenizeRequest ParseDetokenizeRequest(const std::string& body) {
  json object = ParseJsonObject(body);
  FieldReader f(object, "");
  DetokenizeRequest out;
  if (auto model = f.String("model")) out.model = *model;
  const auto* tokens = f.Get("tokens");
  if (!tokens) throw BadRequest("'tokens' is required", "tokens");
  if (!tokens->is_array()) {
    throw BadRequest("'tokens' must be a list of token ids, got " + DescribeJson(*tokens),
                     "tokens");
  }
  out.tokens = TokenIdList(*tokens, "tokens");
  f.WarnUnknown();
  return out;
}

}  // namespace lantern::server
