#include "server/chat_tools.h"

#include "server/api_error.h"
#include "server/json_fields.h"

namespace lantern::server {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json ReadTools(const json& tools, const ordered_json& ordered) {
  if (!tools.is_array()) {
    throw BadRequest("'tools' must be a list, got " + DescribeJson(tools), "tools");
  }
  for (size_t i = 0; i < tools.size(); ++i) {
    std::string param = "tools[" + std::to_string(i) + "]";
    const json& tool = tools[i];
    if (!tool.is_object()) {
      throw BadRequest("'" + param + "' must be an object, got " + DescribeJson(tool), param);
    }
    auto type = tool.find("type");
    if (type != tool.end() && *type != "function") {
      throw BadRequest("'" + param + ".type' must be \"function\", got " + DescribeJson(*type),
                       param + ".type");
    }
    auto function = tool.find("function");
    if (function == tool.end() || !function->is_object()) {
      throw BadRequest("'" + param + ".function' is required and must be an object",
                       param + ".function");
    }
    auto name = function->find("name");
    if (name == function->end() || !name->is_string() || name->get<std::string>().empty()) {
      throw BadRequest("'" + param + ".function.name' is required and must be a non-empty string",
                       param + ".function.name");
    }
    auto parameters = function->find("parameters");
    if (parameters != function->end() && !parameters->is_null() && !parameters->is_object()) {
      throw BadRequest("'" + param + ".function.parameters' must be a JSON Schema object, got " +
                           DescribeJson(*parameters),
                       param + ".function.parameters");
    }
  }
  return ordered;
}

ToolChoice ReadToolChoice(const json* choice, const json& tools) {
  bool has_tools = tools.is_array() && !tools.empty();
  ToolChoice out;
  out.mode = has_tools ? ToolChoice::Mode::kAuto : ToolChoice::Mode::kNone;
  if (!choice) return out;
  out.given = true;
  if (choice->is_string()) {
    std::string value = choice->get<std::string>();
    if (value == "none") {
      out.mode = ToolChoice::Mode::kNone;
    } else if (value == "auto") {
      out.mode = ToolChoice::Mode::kAuto;
    } else if (value == "required") {
      out.mode = ToolChoice::Mode::kRequired;
    } else {
      throw BadRequest("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": "
                       "\"function\", \"function\": {\"name\": ...}}, got \"" + value + "\"",
                       "tool_choice");
    }
  } else if (choice->is_object()) {
    auto function = choice->find("function");
    const json* name = nullptr;
    if (function != choice->end() && function->is_object() && function->contains("name")) {
      name = &(*function)["name"];
    }
    if (choice->value("type", "function") != "function" || !name || !name->is_string()) {
      throw BadRequest("'tool_choice' naming a function must be {\"type\": \"function\", "
                       "\"function\": {\"name\": ...}}",
                       "tool_choice");
    }
    out.mode = ToolChoice::Mode::kNamed;
    out.function = name->get<std::string>();
  } else {
    throw BadRequest("'tool_choice' must be a string or an object, got " + DescribeJson(*choice),
                     "tool_choice");
  }
  if (out.mode != ToolChoice::Mode::kNone && !has_tools) {
    throw BadRequest("'tool_choice' other than \"none\" needs 'tools'", "tool_choice");
  }
  if (out.mode == ToolChoice::Mode::kNamed) {
    bool found = false;
    for (const auto& tool : tools) found |= tool["function"]["name"] == out.function;
    if (!found) {
      throw BadRequest("'tool_choice' names the function \"" + out.function +
                           "\", which is not in 'tools'",
                       "tool_choice");
    }
  }
  return out;
}

void ArgumentsAsMappings(ordered_json& messages) {
  for (auto& message : messages) {
    if (!message.is_object() || message.value("role", "") != "assistant") continue;
    auto calls = message.find("tool_calls");
    if (calls == message.end() || !calls->is_array()) continue;
    for (auto& call : *calls) {
      if (!call.is_object()) continue;
      auto function = call.find("function");
      if (function == call.end() || !function->is_object()) continue;
      auto arguments = function->find("arguments");
      if (arguments == function->end() || !arguments->is_string()) continue;
      ordered_json parsed =
          ordered_json::parse(arguments->get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded()) *arguments = std::move(parsed);
    }
  }
}

namespace {

json ParametersOf(const ordered_json& function, json& defs) {
  json parameters = function.contains("parameters") && function["parameters"].is_object()
                        ? json(function["parameters"])
                        : json{{"type", "object"}, {"properties", json::object()}};
  // "#/$defs/..." references must resolve at the root of the combined schema.
  if (auto nested = parameters.find("$defs"); nested != parameters.end() && nested->is_object()) {
    for (auto& [key, value] : nested->items()) defs[key] = value;
    parameters.erase("$defs");
  }
  return parameters;
}

}  // namespace

json RequiredCallsSchema(const ordered_json& tools, bool parallel_tool_calls) {
  json defs = json::object();
  json any_of = json::array();
  for (const auto& tool : tools) {
    const ordered_json& function = tool["function"];
    any_of.push_back({{"type", "object"},
                      {"properties",
                       {{"name", {{"type", "string"}, {"enum", {function["name"]}}}},
                        {"parameters", ParametersOf(function, defs)}}},
                      {"required", {"name", "parameters"}}});
  }
  json schema = {{"type", "array"}, {"minItems", 1}, {"items", {{"anyOf", any_of}}}};
  if (!parallel_tool_calls) schema["maxItems"] = 1;
  if (!defs.empty()) schema["$defs"] = defs;
  return schema;
}

json NamedCallSchema(const ordered_json& tools, const std::string& name) {
  for (const auto& tool : tools) {
    if (tool["function"]["name"] != name) continue;
    json defs = json::object();
    json schema = ParametersOf(tool["function"], defs);
    if (!defs.empty()) schema["$defs"] = defs;
    return schema;
  }
  return {{"type", "object"}};
}

namespace {

json CallsJson(std::vector<toolcall::ToolCallDelta>& pieces) {
  json calls = json::array();
  for (auto& piece : pieces) {
    json call = {{"index", piece.index}};
    if (piece.first) {
      call["id"] = std::move(piece.id);
      call["type"] = "function";
      call["function"] = {{"name", std::move(piece.name)}, {"arguments", piece.arguments}};
    } else {
      call["function"] = {{"arguments", piece.arguments}};
    }
    calls.push_back(std::move(call));
  }
  return calls;
}

}  // namespace

json ChoiceToolCalls::Delta(std::string_view text, bool last) {
  toolcall::MessageDelta delta = stream_->Push(text);
  if (last) {
    toolcall::MessageDelta rest = stream_->Finish();
    delta.content += rest.content;
    for (auto& piece : rest.calls) {
      if (!piece.first && !delta.calls.empty() && delta.calls.back().index == piece.index) {
        delta.calls.back().arguments += piece.arguments;
      } else {
        delta.calls.push_back(std::move(piece));
      }
    }
  }
  json out = json::object();
  if (!delta.content.empty()) out["content"] = std::move(delta.content);
  if (!delta.calls.empty()) out["tool_calls"] = CallsJson(delta.calls);
  return out;
}

json ToolCallMessage(const toolcall::Parser& parser, std::string_view text, int* calls) {
  toolcall::ParsedMessage parsed = parser.Extract(text);
  json message = {{"role", "assistant"}};
  message["content"] = parsed.content ? json(*parsed.content) : json(nullptr);
  *calls = static_cast<int>(parsed.calls.size());
  if (!parsed.calls.empty()) {
    json list = json::array();
    for (auto& call : parsed.calls) {
      list.push_back({{"id", std::move(call.id)},
                      {"type", "function"},
                      {"function", {{"name", std::move(call.name)},
                                    {"arguments", std::move(call.arguments)}}}});
    }
    message["tool_calls"] = std::move(list);
  }
  return message;
}

}  // namespace lantern::server
