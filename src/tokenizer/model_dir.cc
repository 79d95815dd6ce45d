// Tokenizer::Load: finding the tokenizer files of a model directory and the settings
// spread over tokenizer_config.json, special_tokens_map.json and generation_config.json.
#include <charconv>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "tokenizer/json_util.h"
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

// Values that cannot be token ids (negative, beyond int32) are skipped like non-numbers:
// config.json's copies of these ids are advisory, and some carry -1 for "none".
std::vector<int32_t> IdList(const json& value) {
  std::vector<int32_t> ids;
  if (auto id = AsTokenId(value)) ids.push_back(*id);
  if (value.is_array()) {
    for (const json& item : value) {
      if (auto id = AsTokenId(item)) ids.push_back(*id);
    }
  }
  return ids;
}

// An optional boolean setting of a config file.
Result<bool> GetSetting(const json& config, const char* key, bool fallback, const fs::path& file) {
  if (!config.is_object()) return fallback;
  return GetBool(config, key, fallback, file.string());
}

// added_tokens_decoder's key: the id, in decimal.
Result<int32_t> DecoderKeyId(const std::string& key, int64_t limit) {
  int64_t id = -1;
  const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (error != std::errc() || end != key.data() + key.size() || id < 0 || id >= limit) {
    return InvalidArgument("added_tokens_decoder key " + Quote(key) + " is not a token id in [0, " +
                           std::to_string(limit) + ")");
  }
  return static_cast<int32_t>(id);
}

// Reads merges.txt, checking each merge against the vocabulary where the line is known.
Result<std::vector<std::pair<std::string, std::string>>> ReadMerges(const fs::path& path,
                                                                    const Vocab& vocab) {
  LANTERN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<std::pair<std::string, std::string>> merges;
  std::istringstream lines(text);
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#version")) continue;
    const std::string where = path.string() + ":" + std::to_string(number) + ": ";
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      return InvalidArgument(where + Quote(line) + " is not two tokens separated by one space");
    }
    std::string left = line.substr(0, space), right = line.substr(space + 1);
    for (const std::string& token : {left, right, left + right}) {
      if (!vocab.Find(token)) {
        return InvalidArgument(where + "the merge " + Quote(line) + " needs " + Quote(token) +
                               ", which is not in vocab.json");
      }
    }
    merges.emplace_back(std::move(left), std::move(right));
  }
  return merges;
}

constexpr const char* kSpecialTokenKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                             "pad_token", "cls_token", "mask_token"};

// GPT-2 / OPT: vocab.json + merges.txt, byte-level BPE, special tokens from the configs.
Status LoadVocabAndMerges(const fs::path& dir, const json& config, const json& special_map,
                          Tokenizer::Impl& impl) {
  const fs::path vocab_path = dir / "vocab.json";
  const fs::path config_path = dir / "tokenizer_config.json";
  LANTERN_ASSIGN_OR_RETURN(json vocab_json, ReadJsonIfExists(vocab_path));
  const json* decoder = nullptr;
  if (auto it = config.find("added_tokens_decoder"); it != config.end() && it->is_object()) {
    decoder = &*it;
  }
  const size_t decoder_count = decoder ? decoder->size() : 0;
  Result<Vocab> parsed = ParseVocab(vocab_json, decoder_count);
  if (!parsed.ok()) return InvalidArgument(vocab_path.string() + ": " + parsed.status().message());
  Vocab vocab = std::move(parsed).value();
  LANTERN_ASSIGN_OR_RETURN(auto merges, ReadMerges(dir / "merges.txt", vocab));

  // Special tokens: ids from added_tokens_decoder, else the vocabulary, else new ids.
  std::vector<AddedToken> added;
  std::set<std::string> seen;
  int32_t next_id = static_cast<int32_t>(vocab.id_bound());
  if (decoder) {
    const int64_t limit = TokenIdLimit(vocab.size(), decoder_count);
    std::set<int32_t> ids;
    for (auto entry = decoder->begin(); entry != decoder->end(); ++entry) {
      Result<int32_t> id = DecoderKeyId(entry.key(), limit);
      if (!id.ok()) return InvalidArgument(config_path.string() + ": " + id.status().message());
      // "5" and "05" are one id.
      if (!ids.insert(*id).second) {
        return InvalidArgument(config_path.string() + ": added_tokens_decoder lists id " +
                               std::to_string(*id) + " twice");
      }
      Result<AddedToken> token = ParseAddedToken(entry.value(), *id);
      if (!token.ok()) {
        return InvalidArgument(config_path.string() +
                               ": added_tokens_decoder: " + token.status().message());
      }
      next_id = std::max(next_id, *id + 1);
      seen.insert(token->content);
      added.push_back(std::move(token).value());
    }
  }
  auto add_special = [&](const json& value, const fs::path& file) -> Status {
    std::optional<std::string> content = TokenContent(value);
    if (!content || seen.count(*content)) return Status::Ok();
    AddedToken token;
    token.content = *content;
    token.special = true;
    if (value.is_object()) {
      const std::string where = file.string() + ": " + Quote(*content);
      LANTERN_ASSIGN_OR_RETURN(token.lstrip, GetBool(value, "lstrip", false, where));
      LANTERN_ASSIGN_OR_RETURN(token.rstrip, GetBool(value, "rstrip", false, where));
      LANTERN_ASSIGN_OR_RETURN(token.normalized, GetBool(value, "normalized", false, where));
      LANTERN_ASSIGN_OR_RETURN(token.single_word, GetBool(value, "single_word", false, where));
    }
    auto id = vocab.Find(*content);
    token.id = id ? *id : next_id++;
    seen.insert(*content);
    added.push_back(std::move(token));
    return Status::Ok();
  };
  const std::pair<const json*, fs::path> sources[] = {
      {&special_map, dir / "special_tokens_map.json"}, {&config, config_path}};
  for (const auto& [source, file] : sources) {
    if (!source->is_object()) continue;
    for (const char* key : kSpecialTokenKeys) {
      if (source->contains(key)) LANTERN_RETURN_IF_ERROR(add_special((*source)[key], file));
    }
    if (auto it = source->find("additional_special_tokens");
        it != source->end() && it->is_array()) {
      for (const json& value : *it) LANTERN_RETURN_IF_ERROR(add_special(value, file));
    }
  }

  // GPT-2 names no special tokens in its files: GPT2Tokenizer defaults them all to
  // <|endoftext|>.
  if (added.empty() && vocab.Find("<|endoftext|>")) {
    LANTERN_RETURN_IF_ERROR(add_special("<|endoftext|>", config_path));
  }

  LANTERN_ASSIGN_OR_RETURN(bool add_prefix_space,
                           GetSetting(config, "add_prefix_space", false, config_path));
  json pre_tokenizer = {
      {"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"use_regex", true}};
  LANTERN_ASSIGN_OR_RETURN(impl.pre_tokenizer, ParsePreTokenizer(pre_tokenizer));
  Result<std::unique_ptr<Bpe>> model = Bpe::Create(std::move(vocab), merges, BpeOptions());
  if (!model.ok()) {
    return InvalidArgument((dir / "merges.txt").string() + ": " + model.status().message());
  }
  impl.model = std::move(model).value();
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
          return InvalidArgument(config_file +
                                 ": chat_template entries must be {\"name\", \"template\"}");
        }
        impl.chat_templates.push_back(
            {entry["name"].get<std::string>(), entry["template"].get<std::string>(), config_file});
      }
    } else if (!it->is_null()) {
      return InvalidArgument(config_file + ": chat_template must be a string or a list");
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
    if (Status status = ParseTokenizerJson(root, *impl); !status.ok()) {
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
  // Compared as JSON, so that a model_type that is not a string is simply not "opt".
  const bool opt = model_config.is_object() && model_config.contains("model_type") &&
                   model_config["model_type"] == "opt";
  if (auto it = config.find("add_bos_token"); it != config.end() && it->is_boolean()) {
    settings.add_bos_token = it->get<bool>();
  } else if (legacy && opt) {
    settings.add_bos_token = true;  // OPT's tokenizer prepends </s> as its BOS
  }
  if (legacy) {
    LANTERN_ASSIGN_OR_RETURN(
        bool add_eos, GetSetting(config, "add_eos_token", false, dir / "tokenizer_config.json"));
    std::vector<int32_t> prefix, suffix;
    if (settings.add_bos_token.value_or(false) && settings.bos_id)
      prefix.push_back(*settings.bos_id);
    if (add_eos && !settings.eos_ids.empty()) {
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
