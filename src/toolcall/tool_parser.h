// Tool calls in a model's text: the formats model families are trained to write (Hermes'
// <tool_call> tags, Llama 3's bare JSON, Mistral's [TOOL_CALLS]) read back into OpenAI's
// tool_calls, whole (a finished response) or as the text streams (OpenAI's tool-call deltas).
//
//   LANTERN_ASSIGN_OR_RETURN(auto parser, toolcall::MakeParser("hermes"));  // --tool-call-parser
//   toolcall::ParsedMessage m = parser->Extract(text);                      // non-streaming
//   auto stream = parser->NewStream();                                      // per choice
//   toolcall::MessageDelta d = stream->Push(delta_text);  ...  stream->Finish();
//
// Both paths run the same byte-driven reader, so a text split anywhere streams the same
// content and calls as Extract returns. Where they differ is a malformed call: Extract
// then returns the whole text as content with no calls (as vLLM does), while a stream, which
// cannot take back what it has sent, turns the rest of the text into content. Arguments are
// the JSON text the model wrote (arguments given as a JSON string are unquoted).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lantern::toolcall {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text
};

struct ParsedMessage {
  std::optional<std::string> content;  // nullopt when calls were found and no text was left
  std::vector<ToolCall> calls;
};

// One piece of a streamed tool call, as OpenAI sends it: the first piece of a call carries
// its id and name (and maybe arguments); later pieces only argument text.
struct ToolCallDelta {
  int index = 0;          // the call's position among the message's calls
  std::string id;         // first piece only
  std::string name;       // first piece only
  std::string arguments;  // the next fragment of the arguments' JSON text
  bool first = false;
};

struct MessageDelta {
  std::string content;
  std::vector<ToolCallDelta> calls;
  bool empty() const { return content.empty() && calls.empty(); }
};

class StreamParser {
 public:
  virtual ~StreamParser() = default;
  // Text as it is generated; returns what can be sent now (content may be held back while
  // it could still be the start of a tool call).
  virtual MessageDelta Push(std::string_view text) = 0;
  // The text is complete: what was held back.
  virtual MessageDelta Finish() = 0;
  // Calls started so far (their first pieces were returned).
  virtual int calls() const = 0;
  // A call was malformed or cut off (Extract then falls back to plain content).
  virtual bool failed() const = 0;
};

class Parser {
 public:
  virtual ~Parser() = default;
  virtual const std::string& name() const = 0;
  virtual std::unique_ptr<StreamParser> NewStream() const = 0;
  // The model's marker is a special token the detokenizer must not drop (Mistral's
  // [TOOL_CALLS]): requests with tools then keep special tokens in the text.
  virtual bool needs_special_tokens() const { return false; }
  // The whole text at once: every call or, when any call is malformed, no call at all.
  ParsedMessage Extract(std::string_view text) const;
};

// The --tool-call-parser names: "hermes", "llama3_json", "mistral".
const std::vector<std::string>& ParserNames();
// InvalidArgument naming the known parsers for any other name.
Result<std::unique_ptr<Parser>> MakeParser(const std::string& name);

// Ids as vLLM makes them: "chatcmpl-tool-" and 32 hex digits; for Mistral, whose templates
// insist on it, 9 letters and digits.
std::string NewToolCallId();
std::string NewMistralToolCallId();

// tool_choice naming a function: the whole text is that function's arguments (the grammar
// made it so); one call whose name is known from the first byte.
std::unique_ptr<Parser> MakeNamedParser(std::string function_name, bool mistral_ids = false);
// tool_choice "required": the text is the JSON array the grammar forces,
// [{"name": ..., "parameters": {...}}, ...], one call per item.
std::unique_ptr<Parser> MakeRequiredParser(bool mistral_ids = false);

}  // namespace lantern::toolcall
