// Tokenizer::Load: finding the tokenizer files of a model directory and the settings
// spread over tokenizer_config.json, special_tokens_map.json and generation_config.json.
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "tokenizer/tokenizer_impl.h"

namespace lantern::tokenizer {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

Result<std::string> ReadFile(const fs::path& path) {
  LANTERN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return std::string(reinterpret_cast<const char*>(file.data()), file.size());
}

// The parsed file, or null when it does not exist.
Result<json> ReadJsonIfExists(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return json();
  LANTERN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return InvalidArgument(path.string() + ": not valid JSON");
  if (!parsed.is_object()) return InvalidArgument(path.string() + ": expected a JSON object");
  return parsed;
}

// A special token setting: "text", {"content": "text", ...} or null.
std::optional<std::string> TokenContent(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return std::nullopt;
}

std::vector<int32_t> IdList(const json& value) {
  std::vector<int32_t> ids;
  if (value.is_number_integer()) ids.push_back(value.get<int32_t>());
  if (value.is_array()) {
    for (const json& id : value) {
      if (id.is_number_integer()) ids.push_back(id.get<int32_t>());
    }
  }
  return ids;
}

constexpr const char* kSpecialTokenKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                             "pad_token", "cls_token", "mask_token"};

// GPT-2 / OPT: vocab.json + merges.txt, byte-level BPE, special tokens from the configs.
Status LoadVocabAndMerges(const fs::path& dir, const json& config, const json& special_map,
                          Tokenizer::Impl& impl) {
  const fs::path vocab_path = dir / "vocab.json";
  LANTERN_ASSIGN_OR_RETURN(json vocab_json, ReadJsonIfExists(vocab_path));
  if (!vocab_json.is_object()) return InvalidArgument(vocab_path.string() + ": expected an object");
  Vocab vocab;
  for (auto it = vocab_json.begin(); it != vocab_json.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > INT32_MAX) {
      return InvalidArgument(vocab_path.string() + ": id of '" + it.key() + "' is not a valid id");
    }
    vocab.Add(it.key(), it.value().get<int32_t>());
  }
  const fs::path merges_path = dir / "merges.txt";
  LANTERN_ASSIGN_OR_RETURN(std::string merges_text, ReadFile(merges_path));
  std::vector<std::pair<std::string, std::string>> merges;
  std::istringstream lines(merges_text);
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#version")) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      return InvalidArgument(merges_path.string() + ":" + std::to_string(number) +
                             ": expected two tokens separated by one space");
    }
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }

  // Special tokens: ids from added_tokens_decoder, else the vocabulary, else new ids.
  std::vector<AddedToken> added;
  std::set<std::string> seen;
  int32_t next_id = static_cast<int32_t>(vocab.id_bound());
  if (auto it = config.find("added_tokens_decoder"); it != config.end() && it->is_object()) {
    for (auto entry = it->begin(); entry != it->end(); ++entry) {
      int32_t id = 0;
      try {
        id = std::stoi(entry.key());
      } catch (const std::exception&) {
        return InvalidArgument("tokenizer_config.json: added_tokens_decoder key '" + entry.key() +
                               "' is not an id");
      }
      LANTERN_ASSIGN_OR_RETURN(AddedToken token, ParseAddedToken(entry.value(), id));
      next_id = std::max(next_id, id + 1);
      seen.insert(token.content);
      added.push_back(std::move(token));
    }
  }
  auto add_special = [&](const json& value) {
    std::optional<std::string> content = TokenContent(value);
    if (!content || seen.count(*content)) return;
    AddedToken token;
    token.content = *content;
    token.special = true;
    if (value.is_object()) {
      token.lstrip = value.value("lstrip", false);
      token.rstrip = value.value("rstrip", false);
      token.normalized = value.value("normalized", false);
      token.single_word = value.value("single_word", false);
    }
    auto id = vocab.Find(*content);
    token.id = id ? *id : next_id++;
    seen.insert(*content);
    added.push_back(std::move(token));
  };
  for (const json* source : {&special_map, &config}) {
    if (!source->is_object()) continue;
    for (const char* key : kSpecialTokenKeys) {
      if (source->contains(key)) add_special((*source)[key]);
    }
    if (auto it = source->find("additional_special_tokens");
        it != source->end() && it->is_array()) {
      for (const json& value : *it) add_special(value);
    }
  }

  // GPT-2 names no special tokens in its files: GPT2Tokenizer defaults them all to
  // <|endoftext|>.
  if (added.empty() && vocab.Find("<|endoftext|>")) add_special("<|endoftext|>");

  json pre_tokenizer = {{"type", "ByteLevel"},
                        {"add_prefix_space", config.value("add_prefix_space", false)},
                        {"use_regex", true}};
  LANTERN_ASSIGN_OR_RETURN(impl.pre_tokenizer, ParsePreTokenizer(pre_tokenizer));
  LANTERN_ASSIGN_OR_RETURN(impl.model, Bpe::Create(std::move(vocab), merges, BpeOptions()));
  impl.decoder = MakeByteLevelDecoder();
  impl.IndexAddedTokens(std::move(added));
  return Status::Ok();
}

std::optional<int32_t> IdOf(const Tokenizer& tokenizer, const json& value) {
  std::optional<std::string> content = TokenContent(value);
  if (!content) return std::nullopt;
  return tokenizer.TokenToId(*content);
}

Status ReadChatTemplates(const fs::path& dir, const json& config, Tokenizer::Impl& impl) {
  const std::string config_file = (dir / "tokenizer_config.json").string();
  if (auto it = config.find("chat_template"); it != config.end()) {
    if (it->is_string()) {
      impl.chat_templates.push_back({"default", it->get<std::string>(), config_file});
    } else if (it->is_array()) {
      for (const json& entry : *it) {
        if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
            !entry.contains("template") || !entry["template"].is_string()) {
          return InvalidArgument(
              "tokenizer_config.json: chat_template entries must be {\"name\", \"template\"}");
        }
        impl.chat_templates.push_back(
            {entry["name"].get<std::string>(), entry["template"].get<std::string>(), config_file});
      }
    } else if (!it->is_null()) {
      return InvalidArgument("tokenizer_config.json: chat_template must be a string or a list");
    }
  }
  // Newer transformers versions save the default template in its own file.
  std::error_code ec;
  const fs::path jinja = dir / "chat_template.jinja";
  if (fs::exists(jinja, ec)) {
    LANTERN_ASSIGN_OR_RETURN(std::string source, ReadFile(jinja));
    std::erase_if(impl.chat_templates, [](const ChatTemplate& t) { return t.name == "default"; });
    impl.chat_templates.insert(impl.chat_templates.begin(),
                               {"default", std::move(source), jinja.string()});
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::Load(const fs::path& dir) {
  LANTERN_ASSIGN_OR_RETURN(json config, ReadJsonIfExists(dir / "tokenizer_config.json"));
  if (config.is_null()) config = json::object();
  LANTERN_ASSIGN_OR_RETURN(json special_map, ReadJsonIfExists(dir / "special_tokens_map.json"));
  LANTERN_ASSIGN_OR_RETURN(json generation, ReadJsonIfExists(dir / "generation_config.json"));
  LANTERN_ASSIGN_OR_RETURN(json model_config, ReadJsonIfExists(dir / "config.json"));

  auto impl = std::make_unique<Impl>();
  std::error_code ec;
  const bool legacy = !fs::exists(dir / "tokenizer.json", ec);
  if (!legacy) {
    LANTERN_ASSIGN_OR_RETURN(std::string text, ReadFile(dir / "tokenizer.json"));
    json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded())
      return InvalidArgument((dir / "tokenizer.json").string() + ": not valid JSON");
    Status status = ParseTokenizerJson(root, *impl);
    if (!status.ok()) {
      return Status(status.code(), (dir / "tokenizer.json").string() + ": " + status.message());
    }
  } else if (fs::exists(dir / "vocab.json", ec) && fs::exists(dir / "merges.txt", ec)) {
    LANTERN_RETURN_IF_ERROR(LoadVocabAndMerges(dir, config, special_map, *impl));
  } else {
    return NotFound(dir.string() + ": no tokenizer.json, nor vocab.json with merges.txt");
  }

  // Settings: tokenizer_config.json first, special_tokens_map.json as the fallback.
  auto setting = [&](const char* key) -> json {
    if (config.contains(key) && !config[key].is_null()) return config[key];
    if (special_map.is_object() && special_map.contains(key)) return special_map[key];
    return json();
  };
  Impl& settings = *impl;
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer(std::move(impl)));
  if (legacy && setting("bos_token").is_null() && setting("eos_token").is_null() &&
      tokenizer->TokenToId("<|endoftext|>")) {
    config["bos_token"] = config["eos_token"] = "<|endoftext|>";  // GPT2Tokenizer's defaults
  }
  settings.bos_token = TokenContent(setting("bos_token")).value_or("");
  settings.eos_token = TokenContent(setting("eos_token")).value_or("");
  settings.bos_id = IdOf(*tokenizer, setting("bos_token"));
  settings.pad_id = IdOf(*tokenizer, setting("pad_token"));
  if (auto eos = IdOf(*tokenizer, setting("eos_token"))) settings.eos_ids.push_back(*eos);
  for (const json* source : {&generation, &model_config}) {
    if (!source->is_object()) continue;
    if (!settings.bos_id && source->contains("bos_token_id")) {
      std::vector<int32_t> bos = IdList((*source)["bos_token_id"]);
      if (!bos.empty()) settings.bos_id = bos.front();
    }
    // generation_config.json's list is authoritative; config.json only fills a gap.
    if (source == &model_config && !settings.eos_ids.empty()) continue;
    for (int32_t id : IdList(source->value("eos_token_id", json()))) {
      if (std::find(settings.eos_ids.begin(), settings.eos_ids.end(), id) ==
          settings.eos_ids.end()) {
        settings.eos_ids.push_back(id);
      }
    }
  }
  if (auto it = config.find("add_bos_token"); it != config.end() && it->is_boolean()) {
    settings.add_bos_token = it->get<bool>();
  } else if (legacy && model_config.is_object() && model_config.value("model_type", "") == "opt") {
    settings.add_bos_token = true;  // OPT's tokenizer prepends </s> as its BOS
  }
  if (legacy) {
    std::vector<int32_t> prefix, suffix;
    if (settings.add_bos_token.value_or(false) && settings.bos_id)
      prefix.push_back(*settings.bos_id);
    if (config.value("add_eos_token", false) && !settings.eos_ids.empty()) {
      suffix.push_back(settings.eos_ids.front());
    }
    if (!prefix.empty() || !suffix.empty()) {
      settings.post_processor = MakeAffixProcessor(std::move(prefix), std::move(suffix));
    }
  }
  LANTERN_RETURN_IF_ERROR(ReadChatTemplates(dir, config, settings));
  return tokenizer;
}

}  // namespace lantern::tokenizer
