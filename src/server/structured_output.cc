#include "server/structured_output.h"

#include <mutex>

#include "server/api_error.h"

namespace lantern::server {
namespace {

using nlohmann::json;

std::mutex vocab_mu;
std::shared_ptr<const grammar::Vocabulary>& VocabSlot() {
  static auto* slot = new std::shared_ptr<const grammar::Vocabulary>();
  return *slot;
}

// What was asked for, before compiling.
struct Spec {
  grammar::GrammarKind kind = grammar::GrammarKind::kJsonObject;
  json value;         // schema, regex, choices or grammar text
  std::string param;  // the field, for errors
  // A schema's place in the body, to read it again with its keys in order.
  std::vector<std::string> where;
  nlohmann::ordered_json ordered;  // the schema with its keys in order, once found
};

std::shared_ptr<const grammar::Vocabulary> RequireVocabulary(const std::string& param) {
  auto vocab = GrammarVocabulary();
  if (!vocab) {
    throw BadRequest("structured output is not available: the server has no vocabulary to "
                     "compile grammars for",
                     param);
  }
  return vocab;
}

// A schema given as an object, or as JSON text (vLLM accepts both for guided_json).
json SchemaValue(const json& v, const std::string& param) {
  if (v.is_object() || v.is_boolean()) return v;
  if (v.is_string()) {
    try {
      json parsed = json::parse(v.get<std::string>());
      if (parsed.is_object() || parsed.is_boolean()) return parsed;
    } catch (const json::exception& e) {
      throw BadRequest("'" + param + "' is not valid JSON: " + e.what(), param);
    }
  }
  throw BadRequest("'" + param + "' must be a JSON Schema (an object), got " + DescribeJson(v),
                   param);
}

std::string StringValue(const json& v, const std::string& param) {
  if (!v.is_string()) {
    throw BadRequest("'" + param + "' must be a string, got " + DescribeJson(v), param);
  }
  return v.get<std::string>();
}

json ChoiceValue(const json& v, const std::string& param) {
  if (!v.is_array() || v.empty()) {
    throw BadRequest("'" + param + "' must be a non-empty list of strings, got " + DescribeJson(v),
                     param);
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      throw BadRequest("'" + param + "[" + std::to_string(i) + "]' must be a string, got " +
                           DescribeJson(v[i]),
                       param);
    }
  }
  return v;
}

void Add(std::vector<Spec>& specs, grammar::GrammarKind kind, json value, std::string param,
         std::vector<std::string> where = {}) {
  specs.push_back({kind, std::move(value), std::move(param), std::move(where), nullptr});
}

// The schema of `spec` with its keys in the client's order: read again from the body (the
// parsed request has its keys sorted), or from the JSON text it was given as.
void OrderSchema(Spec& spec, const std::string* body) {
  if (spec.kind != grammar::GrammarKind::kJsonSchema || spec.where.empty() || !body) return;
  try {
    nlohmann::ordered_json at = nlohmann::ordered_json::parse(*body);
    for (const auto& key : spec.where) {
      if (!at.is_object() || !at.contains(key)) return;
      at = nlohmann::ordered_json(at[key]);
    }
    if (at.is_string()) at = nlohmann::ordered_json::parse(at.get<std::string>());
    if (at.is_object()) spec.ordered = std::move(at);
  } catch (const std::exception&) {
    // Keep the sorted schema: it was already read and checked once.
  }
}

void ReadResponseFormat(const json& v, std::vector<Spec>& specs) {
  if (!v.is_object() || !v.contains("type") || !v["type"].is_string()) {
    throw BadRequest(
        "'response_format' must be an object with a string 'type', got " + DescribeJson(v),
        "response_format");
  }
  const std::string type = v["type"].get<std::string>();
  if (type == "text") return;
  if (type == "json_object") {
    Add(specs, grammar::GrammarKind::kJsonObject, nullptr, "response_format");
    return;
  }
  if (type == "json_schema") {
    const json* js = v.contains("json_schema") ? &v["json_schema"] : nullptr;
    if (!js || !js->is_object()) {
      throw BadRequest("'response_format.json_schema' must be an object with the 'schema'",
                       "response_format");
    }
    // OpenAI's name is `schema`; some clients send `json_schema` (vLLM reads both).
    const char* key = js->contains("schema") ? "schema" : "json_schema";
    if (!js->contains(key) || (*js)[key].is_null()) {
      throw BadRequest("'response_format.json_schema.schema' is required", "response_format");
    }
    Add(specs, grammar::GrammarKind::kJsonSchema,
        SchemaValue((*js)[key], "response_format.json_schema.schema"), "response_format",
        {"response_format", "json_schema", key});
    return;
  }
  throw BadRequest("'response_format' type \"" + type +
                       "\" is not supported; use \"text\", \"json_object\" or \"json_schema\"",
                   "response_format");
}

void ReadVllmStructuredOutputs(const json& v, std::vector<Spec>& specs) {
  if (!v.is_object()) {
    throw BadRequest("'structured_outputs' must be an object, got " + DescribeJson(v),
                     "structured_outputs");
  }
  FieldReader so(v, "structured_outputs");
  if (const json* j = so.Get("json")) {
    Add(specs, grammar::GrammarKind::kJsonSchema, SchemaValue(*j, "structured_outputs.json"),
        "structured_outputs", {"structured_outputs", "json"});
  }
  if (const json* r = so.Get("regex")) {
    Add(specs, grammar::GrammarKind::kRegex, StringValue(*r, "structured_outputs.regex"),
        "structured_outputs");
  }
  if (const json* c = so.Get("choice")) {
    Add(specs, grammar::GrammarKind::kChoice, ChoiceValue(*c, "structured_outputs.choice"),
        "structured_outputs");
  }
  if (const json* g = so.Get("grammar")) {
    Add(specs, grammar::GrammarKind::kGrammar, StringValue(*g, "structured_outputs.grammar"),
        "structured_outputs");
  }
  if (auto b = so.Bool("json_object"); b && *b) {
    Add(specs, grammar::GrammarKind::kJsonObject, nullptr, "structured_outputs");
  }
  if (so.Get("structural_tag")) {
    throw BadRequest("'structured_outputs.structural_tag' is not supported", "structured_outputs");
  }
  // Backend knobs: ours has one behaviour (see docs/api.md, "Structured outputs").
  for (const char* name : {"disable_fallback", "disable_any_whitespace",
                           "disable_additional_properties", "whitespace_pattern", "backend",
                           "_backend", "_backend_was_auto"}) {
    so.Ignore(name);
  }
  so.WarnUnknown();
}

grammar::GrammarHandle Compile(const Spec& spec) {
  auto vocab = RequireVocabulary(spec.param);
  Result<grammar::GrammarHandle> g = Internal("no grammar kind");
  switch (spec.kind) {
    case grammar::GrammarKind::kJsonSchema:
      g = spec.ordered.is_object() ? grammar::CompileJsonSchema(spec.ordered, vocab)
                                   : grammar::CompileJsonSchema(spec.value, vocab);
      break;
    case grammar::GrammarKind::kJsonObject:
      g = grammar::CompileJsonObject(vocab);
      break;
    case grammar::GrammarKind::kRegex:
      g = grammar::CompileRegex(spec.value.get<std::string>(), vocab);
      break;
    case grammar::GrammarKind::kChoice:
      g = grammar::CompileChoice(spec.value.get<std::vector<std::string>>(), vocab);
      break;
    case grammar::GrammarKind::kGrammar:
      g = grammar::CompileGbnf(spec.value.get<std::string>(), vocab);
      break;
  }
  if (!g.ok()) throw BadRequest(g.status().message(), spec.param);
  return *g;
}

}  // namespace

void SetGrammarVocabulary(std::shared_ptr<const grammar::Vocabulary> vocab) {
  std::lock_guard<std::mutex> lock(vocab_mu);
  VocabSlot() = std::move(vocab);
}

std::shared_ptr<const grammar::Vocabulary> GrammarVocabulary() {
  std::lock_guard<std::mutex> lock(vocab_mu);
  return VocabSlot();
}

void ReadStructuredOutput(FieldReader& f, engine::SamplingParams& params,
                          const std::string* body) {
  std::vector<Spec> specs;
  if (const json* v = f.Get("response_format")) ReadResponseFormat(*v, specs);
  if (const json* v = f.Get("structured_outputs")) ReadVllmStructuredOutputs(*v, specs);
  if (const json* v = f.Get("guided_json")) {
    Add(specs, grammar::GrammarKind::kJsonSchema, SchemaValue(*v, "guided_json"), "guided_json",
        {"guided_json"});
  }
  if (const json* v = f.Get("guided_regex")) {
    Add(specs, grammar::GrammarKind::kRegex, StringValue(*v, "guided_regex"), "guided_regex");
  }
  if (const json* v = f.Get("guided_choice")) {
    Add(specs, grammar::GrammarKind::kChoice, ChoiceValue(*v, "guided_choice"), "guided_choice");
  }
  if (const json* v = f.Get("guided_grammar")) {
    Add(specs, grammar::GrammarKind::kGrammar, StringValue(*v, "guided_grammar"),
        "guided_grammar");
  }
  if (specs.empty()) return;
  if (specs.size() > 1) {
    throw BadRequest("only one kind of structured output may be requested, got '" +
                         specs[0].param + "' and '" + specs[1].param + "'",
                     specs[1].param);
  }
  OrderSchema(specs[0], body);
  params.grammar = Compile(specs[0]);
}

grammar::GrammarHandle CompileSchemaFor(const json& schema, const std::string& param) {
  Spec spec;
  spec.kind = grammar::GrammarKind::kJsonSchema;
  spec.value = schema;
  spec.param = param;
  return Compile(spec);
}

grammar::GrammarHandle CompileSchemaFor(const nlohmann::ordered_json& schema,
                                        const std::string& param) {
  Spec spec;
  spec.kind = grammar::GrammarKind::kJsonSchema;
  spec.value = json::parse(schema.dump());
  spec.param = param;
  spec.ordered = schema;
  return Compile(spec);
}

const char* OutputTypeOf(const engine::SamplingParams& params) {
  if (!params.grammar) return "text";
  const auto kind = grammar::KindOf(*params.grammar);
  return kind == grammar::GrammarKind::kJsonSchema || kind == grammar::GrammarKind::kJsonObject
             ? "json"
             : "text";
}

}  // namespace lantern::server
