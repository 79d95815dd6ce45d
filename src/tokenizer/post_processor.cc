#include "tokenizer/post_processor.h"

#include <nlohmann/json.hpp>

#include "tokenizer/json_util.h"

namespace lantern::tokenizer {
namespace {

using json = nlohmann::json;

class Affix : public PostProcessor {
 public:
  Affix(std::vector<int32_t> prefix, std::vector<int32_t> suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)) {}
  void Process(std::vector<int32_t>& ids) const override {
    ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  }

 private:
  std::vector<int32_t> prefix_, suffix_;
};

class Sequence : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  void Process(std::vector<int32_t>& ids) const override {
    for (const auto& step : steps_) step->Process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

Result<std::unique_ptr<PostProcessor>> ParseTemplate(const json& config) {
  const std::string where = "TemplateProcessing post-processor";
  auto single = config.find("single");
  if (single == config.end() || !single->is_array()) {
    return InvalidArgument(where + ": 'single' must be a list");
  }
  const json specials = config.value("special_tokens", json::object());
  std::vector<int32_t> prefix, suffix;
  bool seen_sequence = false;
  for (const json& item : *single) {
    if (item.contains("Sequence")) {
      if (seen_sequence) return InvalidArgument(where + ": 'single' has two sequences");
      seen_sequence = true;
      continue;
    }
    auto special = item.find("SpecialToken");
    if (special == item.end()) {
      return InvalidArgument(where + ": unknown template piece " + item.dump());
    }
    LANTERN_ASSIGN_OR_RETURN(std::string name, GetString(*special, "id", where));
    auto entry = specials.find(name);
    if (entry == specials.end() || !entry->is_object() || !entry->contains("ids") ||
        !(*entry)["ids"].is_array()) {
      return InvalidArgument(where + ": special token '" + name + "' has no ids");
    }
    for (const json& id : (*entry)["ids"]) {
      std::optional<int32_t> value = AsTokenId(id);
      if (!value) {
        return InvalidArgument(where + ": an id of " + Quote(name) + " is " + Describe(id) +
                               ", not a token id");
      }
      (seen_sequence ? suffix : prefix).push_back(*value);
    }
  }
  return MakeAffixProcessor(std::move(prefix), std::move(suffix));
}

// RobertaProcessing and BertProcessing: cls $A sep, with cls/sep as [token, id].
Result<std::unique_ptr<PostProcessor>> ParseClsSep(const json& config, const std::string& where) {
  auto id_of = [&](const char* key) -> Result<int32_t> {
    auto it = config.find(key);
    std::optional<int32_t> id;
    if (it != config.end() && it->is_array() && it->size() == 2) id = AsTokenId((*it)[1]);
    if (!id) return InvalidArgument(where + ": '" + key + "' must be [token, id]");
    return *id;
  };
  LANTERN_ASSIGN_OR_RETURN(int32_t cls, id_of("cls"));
  LANTERN_ASSIGN_OR_RETURN(int32_t sep, id_of("sep"));
  return MakeAffixProcessor({cls}, {sep});
}

}  // namespace

std::unique_ptr<PostProcessor> MakeAffixProcessor(std::vector<int32_t> prefix,
                                                  std::vector<int32_t> suffix) {
  return std::make_unique<Affix>(std::move(prefix), std::move(suffix));
}

Result<std::unique_ptr<PostProcessor>> ParsePostProcessor(const json& config) {
  LANTERN_ASSIGN_OR_RETURN(std::string type, GetType(config, "post_processor"));
  if (type == "TemplateProcessing") return ParseTemplate(config);
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return ParseClsSep(config, type + " post-processor");
  }
  // ByteLevel only adjusts offsets, which we do not report.
  if (type == "ByteLevel") return MakeAffixProcessor({}, {});
  if (type == "Sequence") {
    auto it = config.find("processors");
    if (it == config.end() || !it->is_array()) {
      return InvalidArgument("Sequence post-processor: 'processors' must be a list");
    }
    std::vector<std::unique_ptr<PostProcessor>> steps;
    for (const json& step : *it) {
      LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<PostProcessor> processor, ParsePostProcessor(step));
      steps.push_back(std::move(processor));
    }
    return std::unique_ptr<PostProcessor>(new Sequence(std::move(steps)));
  }
  return Unimplemented("post-processor type '" + type + "' is not supported");
}

}  // namespace lantern::tokenizer
