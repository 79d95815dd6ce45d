// Chat templates: the conversation of an OpenAI-style request rendered into the prompt text a
// model was trained on, byte for byte as Hugging Face transformers' apply_chat_template does.
//
//   LANTERN_ASSIGN_OR_RETURN(auto tmpl, CompiledChatTemplate::Compile(source));  // at load
//   ChatTemplateOptions options;
//   options.add_generation_prompt = true;
//   options.bos_token = tok.bos_token();
//   LANTERN_ASSIGN_OR_RETURN(std::string prompt, tmpl.Render(messages, options));  // per request
//
// Parse JSON requests with nlohmann::ordered_json so that `tojson` keeps the client's key
// order (Python's json.loads does; nlohmann::json sorts keys).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tokenizer/jinja.h"

namespace lantern::tokenizer {

struct ChatTemplateOptions {
  bool add_generation_prompt = false;
  // Absent tokens are undefined in the template, as in transformers for unset special tokens.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  // Tool definitions (an array), or null: templates then see `tools` as none.
  nlohmann::ordered_json tools;
  // More template variables (an object), e.g. {"enable_thinking": false}. They override the
  // variables above, as keyword arguments to apply_chat_template do.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
  // Limits on the render: a template from a model or a request is a program that must not
  // hang the server or exhaust its memory (jinja.h).
  jinja::RenderBudget budget;
};

// A template parsed once; Render is const and safe to call from many threads at once.
class CompiledChatTemplate {
 public:
  // `origin` names the template in its errors (e.g. "the request's chat_template"): syntax
  // errors here, budget errors from Render. Errors: kInvalidArgument "<origin>: template
  // syntax error at line L, column C: ...".
  static Result<CompiledChatTemplate> Compile(std::string_view source,
                                              std::string origin = "chat template");

  // `messages` is the request's array of {role, content, ...} objects; content may be a string,
  // null, or a list of parts such as {"type": "text", "text": ...}. Errors:
  //   kInvalidArgument     the template called raise_exception(msg) (e.g. roles that do not
  //                        alternate); the message is the template's own: answer HTTP 400;
  //   kFailedPrecondition  the template failed on this input ("template error at line L,
  //                        column C: ...");
  //   kResourceExhausted   the template exceeded options.budget ("<origin>: template exceeded
  //                        its budget of N steps at line L, column C").
  Result<std::string> Render(const nlohmann::ordered_json& messages,
                             const ChatTemplateOptions& options) const;

 private:
  CompiledChatTemplate(jinja::Template t, std::string origin)
      : template_(std::move(t)), origin_(std::move(origin)) {}
  jinja::Template template_;
  std::string origin_;
};

// Compiles (once per distinct source, cached for the process) and renders.
Result<std::string> RenderChatTemplate(const std::string& template_source,
                                       const nlohmann::ordered_json& messages,
                                       const ChatTemplateOptions& options);

// Which of a model's named templates to use, as transformers chooses: `requested` when given,
// else "tool_use" when the request has tools and the model has one, else "default" (or the only
// template). Returns the index into `names` (e.g. the names of Tokenizer::chat_templates()).
// Errors: kNotFound naming the template and the available names.
Result<size_t> SelectChatTemplate(const std::vector<std::string>& names, std::string_view requested,
                                  bool has_tools);

}  // namespace lantern::tokenizer
