// Tool calling on /v1/chat/completions, between the OpenAI schema and toolcall/: the
// request's tools and tool_choice read and checked, assistant tool calls handed back to the
// template as HF templates expect them, and each choice's text turned into a message with
// tool_calls (whole) or into OpenAI's tool-call deltas (streamed). Internal to the server.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "toolcall/tool_parser.h"

namespace lantern::server {

// tool_choice as asked (none when absent and no tools are given, auto when tools are).
struct ToolChoice {
  enum class Mode { kNone, kAuto, kRequired, kNamed };
  Mode mode = Mode::kNone;
  std::string function;  // kNamed: the function's name
  bool given = false;    // the request had a tool_choice
};

// Reads 'tools' (a list of {type: "function", function: {name, description?, parameters?}})
// and 'tool_choice' ("none", "auto", "required" or {type: "function", function: {name}});
// ApiError(400) naming the field for anything else, or for a named function not in tools.
nlohmann::ordered_json ReadTools(const nlohmann::json& tools, const nlohmann::ordered_json& ordered);
ToolChoice ReadToolChoice(const nlohmann::json* choice, const nlohmann::json& tools);

// Assistant messages' tool_calls with their arguments as a mapping, as HF chat templates
// (and vLLM) expect them: `arguments` sent as a JSON string is parsed (left as given when it
// is not JSON).
void ArgumentsAsMappings(nlohmann::ordered_json& messages);

// The JSON Schema the grammar forces for tool_choice "required": a list of calls
// [{"name": <one of the tools>, "parameters": <its parameters>}], one call when
// `parallel_tool_calls` is false.
nlohmann::json RequiredCallsSchema(const nlohmann::ordered_json& tools, bool parallel_tool_calls);
// The parameters schema of the named function (an empty object schema when it has none).
nlohmann::json NamedCallSchema(const nlohmann::ordered_json& tools, const std::string& name);

// One chat choice's tool calls as its text streams.
class ChoiceToolCalls {
 public:
  explicit ChoiceToolCalls(const toolcall::Parser& parser) : stream_(parser.NewStream()) {}
  // The chat chunk's delta for new text ({"content": ..., "tool_calls": [...]}, either
  // missing when empty); `last`: the text is complete.
  nlohmann::json Delta(std::string_view text, bool last);
  int calls() const { return stream_->calls(); }

 private:
  std::unique_ptr<toolcall::StreamParser> stream_;
};

// The assistant message of a whole response: content (null when the calls took all the
// text) and tool_calls.
nlohmann::json ToolCallMessage(const toolcall::Parser& parser, std::string_view text,
                               int* calls);

}  // namespace lantern::server
