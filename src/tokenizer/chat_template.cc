#include "tokenizer/chat_template.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "tokenizer/jinja_json.h"

namespace lantern::tokenizer {

Result<CompiledChatTemplate> CompiledChatTemplate::Compile(std::string_view source,
                                                           std::string origin) {
  auto parsed = jinja::Template::Parse(source);
  if (!parsed.ok()) {
    return Status(parsed.status().code(), origin + ": " + parsed.status().message());
  }
  return CompiledChatTemplate(std::move(parsed).value(), std::move(origin));
}

Result<std::string> CompiledChatTemplate::Render(const nlohmann::ordered_json& messages,
                                                 const ChatTemplateOptions& options) const {
  if (!messages.is_array()) return InvalidArgument("messages must be an array");
  if (!options.tools.is_null() && !options.tools.is_array()) {
    return InvalidArgument("tools must be an array");
  }
  if (!options.extra_context.is_null() && !options.extra_context.is_object()) {
    return InvalidArgument("chat template kwargs must be an object");
  }
  // The variables transformers' apply_chat_template passes to render().
  jinja::Dict vars;
  vars.Set("messages", jinja::FromJson(messages));
  vars.Set("tools", jinja::FromJson(options.tools));
  vars.Set("documents", jinja::Value::None());
  vars.Set("add_generation_prompt", jinja::Value(options.add_generation_prompt));
  if (options.bos_token) vars.Set("bos_token", jinja::Value(*options.bos_token));
  if (options.eos_token) vars.Set("eos_token", jinja::Value(*options.eos_token));
  if (options.extra_context.is_object()) {
    for (auto it = options.extra_context.begin(); it != options.extra_context.end(); ++it) {
      vars.Set(it.key(), jinja::FromJson(*it));
    }
  }
  auto rendered = template_.Render(vars, options.budget);
  if (!rendered.ok() && rendered.status().code() == StatusCode::kResourceExhausted) {
    return ResourceExhausted(origin_ + ": " + rendered.status().message());
  }
  return rendered;
}

Result<std::string> RenderChatTemplate(const std::string& template_source,
                                       const nlohmann::ordered_json& messages,
                                       const ChatTemplateOptions& options) {
  // A server renders the same one or two templates for every request: parse each once.
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::shared_ptr<const CompiledChatTemplate>>();
  constexpr size_t kMaxCached = 16;
  std::shared_ptr<const CompiledChatTemplate> compiled;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache->find(template_source); it != cache->end()) compiled = it->second;
  }
  if (!compiled) {
    LANTERN_ASSIGN_OR_RETURN(CompiledChatTemplate fresh,
                             CompiledChatTemplate::Compile(template_source));
    compiled = std::make_shared<const CompiledChatTemplate>(std::move(fresh));
    std::lock_guard<std::mutex> lock(mu);
    if (cache->size() >= kMaxCached) cache->clear();
    cache->emplace(template_source, compiled);
  }
  return compiled->Render(messages, options);
}

Result<size_t> SelectChatTemplate(const std::vector<std::string>& names, std::string_view requested,
                                  bool has_tools) {
  auto find = [&](std::string_view name) -> std::optional<size_t> {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return i;
    }
    return std::nullopt;
  };
  if (!requested.empty()) {
    if (auto i = find(requested)) return *i;
  } else {
    if (has_tools) {
      if (auto i = find("tool_use")) return *i;
    }
    if (auto i = find("default")) return *i;
    if (names.size() == 1) return size_t{0};
  }
  std::string available;
  for (const std::string& n : names) available += (available.empty() ? "" : ", ") + n;
  return NotFound("no chat template named '" +
                  std::string(requested.empty() ? "default" : requested) +
                  "'; the model has: " + (available.empty() ? "none" : available));
}

}  // namespace lantern::tokenizer
