// Structured outputs (guided decoding) as OpenAI and vLLM clients ask for them:
// `response_format` {type: json_object | json_schema}, vLLM's `structured_outputs`
// {json, regex, choice, grammar, json_object} and the older `guided_json`, `guided_regex`,
// `guided_choice`, `guided_grammar`. Each is compiled (cached by source) against the
// served model's vocabulary into SamplingParams::grammar; a malformed or unsupported one
// is a 400 naming the field and what is wrong.
#pragma once

#include <memory>

#include "engine/sampling_params.h"
#include "grammar/grammar.h"
#include "server/json_fields.h"

namespace lantern::server {

// The vocabulary grammars are compiled for (every token's bytes). Set once at start-up,
// before requests are served; without it, structured output requests are refused.
void SetGrammarVocabulary(std::shared_ptr<const grammar::Vocabulary> vocab);
std::shared_ptr<const grammar::Vocabulary> GrammarVocabulary();

// Reads the structured-output fields of a request (consuming them from `f`) and compiles
// the one asked for into params.grammar. Throws ApiError(400) for two kinds at once, a
// malformed field, an invalid or unsupported schema, regex or grammar. `body` (the request's
// text, when given) is read again for a schema's keys in the client's order.
void ReadStructuredOutput(FieldReader& f, engine::SamplingParams& params,
                          const std::string* body = nullptr);

// Compiles a JSON Schema for this request (e.g. a tool's parameters): ApiError(400) naming
// `param` when it cannot be compiled. Pass an ordered_json (converted) for properties in
// the schema's order; grammar::CompileJsonSchema takes one directly.
grammar::GrammarHandle CompileSchemaFor(const nlohmann::json& schema, const std::string& param);
grammar::GrammarHandle CompileSchemaFor(const nlohmann::ordered_json& schema,
                                        const std::string& param);

// "json" for JSON grammars, "text" otherwise (gen_ai.output.type).
const char* OutputTypeOf(const engine::SamplingParams& params);

}  // namespace lantern::server
