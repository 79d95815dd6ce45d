#include "engine/generation_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lantern::engine {
namespace {

using nlohmann::json;

Status WrongType(const std::string& source, const std::string& field, const char* expected,
                 const json& value) {
  return InvalidArgument(source + ": field '" + field + "' must be " + expected + ", got " +
                         value.dump());
}

Status ReadNumber(const json& doc, const std::string& source, const char* field,
                  std::optional<double>* out) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return WrongType(source, field, "a number", *it);
  *out = it->get<double>();
  return Status::Ok();
}

Status ReadInt(const json& doc, const std::string& source, const char* field,
               std::optional<int>* out) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return WrongType(source, field, "an integer", *it);
  const int64_t v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) return WrongType(source, field, "a 32-bit integer", *it);
  *out = static_cast<int>(v);
  return Status::Ok();
}

}  // namespace

Result<GenerationDefaults> ParseGenerationConfig(const std::string& json_text,
                                                 const std::string& source) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(source + ": not valid JSON");
  if (!doc.is_object()) return InvalidArgument(source + ": expected a JSON object");
  GenerationDefaults d;
  LANTERN_RETURN_IF_ERROR(ReadNumber(doc, source, "temperature", &d.temperature));
  LANTERN_RETURN_IF_ERROR(ReadNumber(doc, source, "top_p", &d.top_p));
  LANTERN_RETURN_IF_ERROR(ReadInt(doc, source, "top_k", &d.top_k));
  LANTERN_RETURN_IF_ERROR(ReadNumber(doc, source, "min_p", &d.min_p));
  LANTERN_RETURN_IF_ERROR(ReadNumber(doc, source, "repetition_penalty", &d.repetition_penalty));
  LANTERN_RETURN_IF_ERROR(ReadInt(doc, source, "max_new_tokens", &d.max_new_tokens));
  auto eos = doc.find("eos_token_id");
  if (eos != doc.end() && !eos->is_null()) {
    auto add = [&](const json& v) -> Status {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX) {
        return WrongType(source, "eos_token_id", "a token id or a list of token ids", *eos);
      }
      d.eos_token_ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
      return Status::Ok();
    };
    if (eos->is_array()) {
      for (const auto& v : *eos) LANTERN_RETURN_IF_ERROR(add(v));
    } else {
      LANTERN_RETURN_IF_ERROR(add(*eos));
    }
  }
  return d;
}

Result<GenerationDefaults> LoadGenerationConfig(const std::filesystem::path& model_dir) {
  const auto path = model_dir / "generation_config.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return GenerationDefaults{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseGenerationConfig(text.str(), path.string());
}

}  // namespace lantern::engine
