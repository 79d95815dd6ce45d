// ParseResponsesRequest: the Responses request as an equivalent chat completions body, so
// that one parser validates both (sampling fields, message contents, the model name).
#include <string>

#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/responses.h"

namespace lantern::server {
namespace {

using nlohmann::json;
using ordered = nlohmann::ordered_json;

// One message's content: a string, or a list of text parts (input_text, output_text).
ordered ContentOf(const ordered& content, const std::string& param) {
  if (content.is_string()) return content;
  if (!content.is_array()) {
    throw BadRequest("'" + param + "' must be a string or a list of content parts", param);
  }
  ordered parts = ordered::array();
  for (size_t i = 0; i < content.size(); ++i) {
    std::string part_param = param + "[" + std::to_string(i) + "]";
    const ordered& part = content[i];
    std::string type = part.is_object() ? part.value("type", "") : "";
    if (type != "input_text" && type != "output_text" && type != "text") {
      throw BadRequest("'" + part_param + ".type' " +
                           (type.empty() ? std::string("is missing") : "\"" + type + "\"") +
                           " is not supported: this model takes text parts only "
                           "(input_text, output_text)",
                       part_param + ".type");
    }
    if (!part.contains("text") || !part["text"].is_string()) {
      throw BadRequest("'" + part_param + ".text' is required and must be a string",
                       part_param + ".text");
    }
    parts.push_back({{"type", "text"}, {"text", part["text"]}});
  }
  return parts;
}

ordered MessagesOf(const ordered& input) {
  ordered messages = ordered::array();
  if (input.is_string()) {
    messages.push_back({{"role", "user"}, {"content", input}});
    return messages;
  }
  if (!input.is_array()) {
    throw BadRequest("'input' must be a string or a list of input items", "input");
  }
  if (input.empty()) throw BadRequest("'input' must not be empty", "input");
  for (size_t i = 0; i < input.size(); ++i) {
    std::string param = "input[" + std::to_string(i) + "]";
    const ordered& item = input[i];
    if (!item.is_object()) throw BadRequest("'" + param + "' must be an object", param);
    std::string type = item.value("type", "message");
    if (type != "message") {
      throw BadRequest("'" + param + ".type' \"" + type +
                           "\" is not supported: this server takes message items only (no "
                           "tool calls, reasoning or item references)",
                       param + ".type");
    }
    if (!item.contains("role") || !item["role"].is_string()) {
      throw BadRequest("'" + param + ".role' is required", param + ".role");
    }
    if (!item.contains("content")) {
      throw BadRequest("'" + param + ".content' is required", param + ".content");
    }
    messages.push_back(
        {{"role", item["role"]}, {"content", ContentOf(item["content"], param + ".content")}});
  }
  return messages;
}

// Fields that ask for what this server does not do: a 400 rather than a silent answer
// without them.
void RejectUnsupported(const ordered& body) {
  auto given = [&](const char* name) {
    auto it = body.find(name);
    return it != body.end() && !it->is_null() && !(it->is_boolean() && !it->get<bool>()) &&
           !((it->is_array() || it->is_object()) && it->empty());
  };
  if (given("previous_response_id")) {
    throw BadRequest(
        "'previous_response_id' is not supported: this server does not store responses; send "
        "the earlier turns in 'input'",
        "previous_response_id");
  }
  if (given("conversation")) {
    throw BadRequest("'conversation' is not supported: this server does not store responses",
                     "conversation");
  }
  if (given("background")) {
    throw BadRequest("'background' is not supported: responses are not stored", "background");
  }
  if (given("prompt")) {
    throw BadRequest("'prompt' (stored prompt templates) is not supported", "prompt");
  }
  if (given("tools")) {
    const ordered& tools = body["tools"];
    if (!tools.is_array()) throw BadRequest("'tools' must be a list", "tools");
    for (size_t i = 0; i < tools.size(); ++i) {
      std::string type = tools[i].is_object() ? tools[i].value("type", "") : "";
      if (type != "function") {
        throw BadRequest("'tools[" + std::to_string(i) + "].type' \"" + type +
                             "\" is not supported: this server has no built-in tools",
                         "tools[" + std::to_string(i) + "].type");
      }
    }
    throw BadRequest(
        "'tools' are not supported on /v1/responses: this server has no tool-call parser", "tools");
  }
  if (auto text = body.find("text"); text != body.end() && text->is_object()) {
    auto format = text->find("format");
    const std::string type =
        format != text->end() && format->is_object() ? format->value("type", "text") : "text";
    if (type != "text" && type != "json_schema" && type != "json_object") {
      throw BadRequest("'text.format' \"" + type +
                           "\" is not supported; use \"text\", \"json_schema\" or \"json_object\"",
                       "text.format");
    }
    if (type == "json_schema" && (!format->contains("schema") || (*format)["schema"].is_null())) {
      throw BadRequest("'text.format.schema' is required for \"json_schema\"", "text.format");
    }
  }
}

}  // namespace

ResponsesRequest ParseResponsesRequest(const std::string& body,
                                       const engine::SamplingParams& defaults) {
  json checked = ParseJsonObject(body);  // plain-worded syntax errors and depth bounds
  ordered in = ordered::parse(body);
  RejectUnsupported(in);
  if (!in.contains("input") || in["input"].is_null()) {
    throw BadRequest("'input' is required", "input");
  }
  ordered chat = ordered::object();
  ordered messages = MessagesOf(in["input"]);
  ResponsesRequest out;
  if (auto instructions = in.find("instructions");
      instructions != in.end() && !instructions->is_null()) {
    if (!instructions->is_string()) {
      throw BadRequest("'instructions' must be a string", "instructions");
    }
    messages.insert(messages.begin(), ordered{{"role", "system"}, {"content", *instructions}});
  }
  chat["messages"] = std::move(messages);
  if (auto stream = in.find("stream"); stream != in.end() && !stream->is_null()) {
    if (!stream->is_boolean()) throw BadRequest("'stream' must be a boolean", "stream");
    out.stream = stream->get<bool>();
  }
  // Sampling fields keep their names (vLLM's extras too); the rest is translated, echoed
  // or known to be harmless. Anything else is warned about as on the other endpoints.
  for (auto& [key, value] : in.items()) {
    if (key == "input" || key == "instructions" || key == "stream" || key == "text" ||
        key == "previous_response_id" || key == "conversation" || key == "background" ||
        key == "prompt" || key == "tools" || key == "tool_choice" || key == "include" ||
        key == "truncation" || key == "reasoning" || key == "parallel_tool_calls" ||
        key == "max_tool_calls" || key == "stream_options") {
      continue;
    }
    if (key == "max_output_tokens") {
      chat["max_tokens"] = value;
    } else if (key == "top_logprobs") {
      if (!value.is_null()) chat["logprobs"] = true;
      chat["top_logprobs"] = value;
    } else {
      chat[key] = value;
    }
  }
  // text.format is chat's response_format, flattened: {type, name, schema, strict}.
  if (auto text = in.find("text"); text != in.end() && text->is_object()) {
    if (auto format = text->find("format"); format != text->end() && format->is_object()) {
      const std::string type = format->value("type", "text");
      if (type == "json_object") chat["response_format"] = {{"type", "json_object"}};
      if (type == "json_schema") {
        ordered schema = {{"name", format->value("name", "response")},
                          {"schema", (*format)["schema"]}};
        if (format->contains("strict")) schema["strict"] = (*format)["strict"];
        chat["response_format"] = {{"type", "json_schema"}, {"json_schema", schema}};
      }
    }
  }
  chat["stream"] = true;  // the writer gathers the chunks when the client asked for a body
  chat["stream_options"] = {{"include_usage", true}};
  out.chat = ParseChatRequest(chat.dump(), defaults);
  for (const char* name : {"instructions", "temperature", "top_p", "max_output_tokens", "user",
                           "metadata", "tool_choice", "truncation", "reasoning", "text",
                           "parallel_tool_calls", "top_logprobs", "service_tier"}) {
    if (auto it = checked.find(name); it != checked.end()) out.echoed[name] = *it;
  }
  return out;
}

}  // namespace lantern::server
