#include "server/tokenizer_codec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tokenizer/chat_template.h"
#include "tokenizer/jinja.h"

namespace lantern::server {
namespace {

// True when `text` ends inside a UTF-8 sequence or with U+FFFD (an incomplete sequence
// decoded as a replacement): more tokens are needed before it can be shown.
bool EndsIncomplete(const std::string& text) {
  if (text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0) return true;
  return false;
}

// vLLM's incremental detokenization: decode a short window of previous tokens with and
// without the new ones and emit the difference, holding text back while it ends in an
// incomplete UTF-8 sequence. Byte-level BPE joins across the prompt boundary, so the window
// starts inside the prompt.
class WindowDetokenizer : public engine::IncrementalDetokenizer {
 public:
  WindowDetokenizer(std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                    std::span<const int32_t> prompt_ids, bool skip_special_tokens)
      : tokenizer_(std::move(tokenizer)), skip_special_(skip_special_tokens) {
    constexpr size_t kContext = 5;
    size_t start = prompt_ids.size() > kContext ? prompt_ids.size() - kContext : 0;
    ids_.assign(prompt_ids.begin() + static_cast<std::ptrdiff_t>(start), prompt_ids.end());
    prefix_offset_ = 0;
    read_offset_ = ids_.size();
  }

  std::string Append(int32_t token_id) override {
    if (skip_special_ && tokenizer_->IsSpecial(token_id)) return {};
    ids_.push_back(token_id);
    std::span<const int32_t> all(ids_);
    std::string prefix = tokenizer_->Decode(
        all.subspan(prefix_offset_, read_offset_ - prefix_offset_), skip_special_);
    std::string full = tokenizer_->Decode(all.subspan(prefix_offset_), skip_special_);
    if (full.size() <= prefix.size() || EndsIncomplete(full)) return {};
    std::string delta = full.substr(prefix.size());
    prefix_offset_ = read_offset_;
    read_offset_ = ids_.size();
    // Keep the window short: drop ids before the prefix.
    if (prefix_offset_ > 64) {
      ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_offset_));
      read_offset_ -= prefix_offset_;
      prefix_offset_ = 0;
    }
    return delta;
  }

 private:
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  size_t prefix_offset_ = 0;
  size_t read_offset_ = 0;
};

// The template text: the argument itself, or the contents of the file it names.
Result<std::string> TemplateText(const std::string& value) {
  std::error_code ec;
  if (value.find('\n') == std::string::npos && value.find("{%") == std::string::npos &&
      value.find("{{") == std::string::npos) {
    if (!std::filesystem::is_regular_file(value, ec)) {
      return InvalidArgument("--chat-template: '" + value +
                             "' is neither a readable file nor a Jinja template");
    }
    std::ifstream in(value, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  return value;
}

Result<std::string> Render(const tokenizer::CompiledChatTemplate& tmpl,
                           const tokenizer::Tokenizer& tok, const ChatRequest& request) {
  tokenizer::ChatTemplateOptions options;
  options.add_generation_prompt = request.add_generation_prompt;
  if (!tok.bos_token().empty()) options.bos_token = tok.bos_token();
  if (!tok.eos_token().empty()) options.eos_token = tok.eos_token();
  options.tools = request.tools;
  options.extra_context = request.chat_template_kwargs;
  LANTERN_ASSIGN_OR_RETURN(std::string prompt, tmpl.Render(request.messages, options));
  if (request.continue_final_message && !request.messages.empty()) {
    // Cut the rendering right after the final message's content, so generation continues it.
    const auto& last = request.messages.back();
    if (last.contains("content") && last["content"].is_string()) {
      std::string content = last["content"].get<std::string>();
      size_t at = prompt.rfind(content);
      if (!content.empty() && at != std::string::npos) prompt.resize(at + content.size());
    }
  }
  return prompt;
}

// Renders a one-message conversation at start-up, so that a template that exceeds its budget
// on any input (a template bomb in a model's files) stops the server from starting, with the
// file named, rather than failing every chat request. Other errors (a template that rejects
// this conversation) are left for requests to report.
Status ProbeBudget(const tokenizer::CompiledChatTemplate& tmpl, const tokenizer::Tokenizer& tok,
                   const std::string& what) {
  ChatRequest probe;
  probe.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "Hello!"}])");
  probe.add_generation_prompt = true;
  auto rendered = Render(tmpl, tok, probe);
  if (!rendered.ok() && rendered.status().code() == StatusCode::kResourceExhausted) {
    // The message without the template's name, which `what` says better here.
    const std::string& message = rendered.status().message();
    size_t at = message.find("template exceeded its budget");
    return ResourceExhausted(what + ": " +
                             (at == std::string::npos ? message : message.substr(at)) +
                             ", rendering a one-message conversation");
  }
  return Status::Ok();
}

}  // namespace

Result<TextCodec> MakeTextCodec(std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                const std::optional<std::string>& chat_template) {
  TextCodec codec;
  codec.encode = [tokenizer](const std::string& text,
                             bool add_special) -> Result<std::vector<int32_t>> {
    return tokenizer->Encode(text, add_special);
  };
  codec.decode = [tokenizer](std::span<const int32_t> ids, bool skip_special) {
    return tokenizer->Decode(ids, skip_special);
  };
  codec.token_text = [tokenizer](int32_t id) {
    int32_t one[1] = {id};
    return tokenizer->Decode(one, false);
  };
  for (int32_t id = 0; id < tokenizer->vocab_size(); ++id) {
    codec.max_token_bytes = std::max(codec.max_token_bytes, codec.token_text(id).size());
  }
  // --chat-template replaces the model's templates; otherwise the model's are chosen per
  // request (its "tool_use" template when the request has tools, as transformers does).
  using Compiled = tokenizer::CompiledChatTemplate;
  std::shared_ptr<const Compiled> override_template;
  if (chat_template) {
    LANTERN_ASSIGN_OR_RETURN(std::string source, TemplateText(*chat_template));
    const bool from_file = source != *chat_template;
    auto compiled = Compiled::Compile(
        source, from_file ? "the --chat-template file " +
                                std::filesystem::path(*chat_template).filename().string()
                          : std::string("the --chat-template template"));
    if (!compiled.ok()) {
      return InvalidArgument(
          "--chat-template " + (from_file ? *chat_template + " " : "") +
          "does not parse: " + jinja::Template::Parse(source).status().message());
    }
    override_template = std::make_shared<const Compiled>(std::move(compiled).value());
    LANTERN_RETURN_IF_ERROR(ProbeBudget(
        *override_template, *tokenizer,
        from_file ? "--chat-template " + *chat_template : std::string("--chat-template")));
  }
  std::vector<std::pair<std::string, std::shared_ptr<const Compiled>>> own;
  for (const auto& t : tokenizer->chat_templates()) {
    // Errors in requests name the file, not where the server keeps it; start-up errors the path.
    const std::string file = t.file.empty() ? "tokenizer" : t.file;
    const std::string file_name = std::filesystem::path(file).filename().string();
    auto compiled = Compiled::Compile(
        t.source, "the model's chat template '" + t.name + "' (" + file_name + ")");
    if (!compiled.ok()) {
      return InvalidArgument(file + ": the chat template '" + t.name + "' does not parse: " +
                             jinja::Template::Parse(t.source).status().message());
    }
    own.emplace_back(t.name, std::make_shared<const Compiled>(std::move(compiled).value()));
    LANTERN_RETURN_IF_ERROR(
        ProbeBudget(*own.back().second, *tokenizer, file + ": the chat template '" + t.name + "'"));
  }
  codec.render_chat = [tokenizer, override_template,
                       own](const ChatRequest& request) -> Result<std::string> {
    if (request.chat_template) {
      auto compiled = Compiled::Compile(*request.chat_template, "the request's chat_template");
      if (!compiled.ok()) return compiled.status();
      return Render(*compiled, *tokenizer, request);
    }
    if (override_template) return Render(*override_template, *tokenizer, request);
    if (own.empty()) return NotFound("no chat template");
    std::vector<std::string> names;
    for (const auto& entry : own) names.push_back(entry.first);
    LANTERN_ASSIGN_OR_RETURN(size_t chosen,
                             tokenizer::SelectChatTemplate(names, "", request.tools.is_array()));
    return Render(*own[chosen].second, *tokenizer, request);
  };
  return codec;
}

engine::DetokenizerFactory MakeDetokenizerFactory(
    std::shared_ptr<const tokenizer::Tokenizer> tokenizer) {
  return [tokenizer](std::span<const int32_t> prompt_ids,
                     bool skip_special) -> std::unique_ptr<engine::IncrementalDetokenizer> {
    return std::make_unique<WindowDetokenizer>(tokenizer, prompt_ids, skip_special);
  };
}

}  // namespace lantern::server
