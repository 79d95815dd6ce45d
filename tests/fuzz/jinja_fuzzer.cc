// libFuzzer target: a chat template from a stranger, parsed and rendered under a small
// RenderBudget with the variables a chat request provides. Every input parses or fails
// cleanly, and every render finishes within the budget: no crash, no sanitizer report, no
// hang (libFuzzer's -timeout) and no memory beyond -rss_limit_mb.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/jinja.h"
#include "tokenizer/jinja_json.h"

namespace {

const lantern::jinja::Dict& Variables() {
  static const auto* vars = [] {
    auto* d = new lantern::jinja::Dict();
    d->Set("messages", lantern::jinja::FromJson(nlohmann::ordered_json::parse(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi \u00e9 <tool_response>x</tool_response>"},
      {"role": "assistant", "content": "<think>hm</think>Hello", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, null]}}}]},
      {"role": "tool", "content": "{\"t\": 1}"}])")));
    d->Set("tools", lantern::jinja::FromJson(nlohmann::ordered_json::parse(R"([
      {"type": "function", "function": {"name": "f", "description": "d",
       "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}])")));
    d->Set("add_generation_prompt", lantern::jinja::Value(true));
    d->Set("bos_token", lantern::jinja::Value("<s>"));
    d->Set("eos_token", lantern::jinja::Value("</s>"));
    return d;
  }();
  return *vars;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tmpl = lantern::jinja::Template::Parse(source);
  if (!tmpl.ok()) return 0;
  // Small enough that a render of the worst input takes milliseconds under the sanitizers.
  lantern::jinja::RenderBudget budget;
  budget.max_steps = 200'000;
  budget.max_output_bytes = 1 << 20;
  budget.max_allocated_bytes = 16 << 20;
  budget.max_loop_iterations = 50'000;
  budget.max_depth = 300;
  auto out = tmpl->Render(Variables(), budget);
  if (out.ok() && out->size() > static_cast<size_t>(budget.max_output_bytes)) __builtin_trap();
  if (!out.ok()) {
    auto code = out.status().code();
    if (code != lantern::StatusCode::kInvalidArgument &&
        code != lantern::StatusCode::kFailedPrecondition &&
        code != lantern::StatusCode::kResourceExhausted) {
      __builtin_trap();
    }
  }
  return 0;
}
