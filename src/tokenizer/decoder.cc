#include "tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"
#include "tokenizer/json_util.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

using json = nlohmann::json;

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

class ByteLevel : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      // A token with any character outside the byte alphabet (an added token such as
      // "<｜end▁of▁sentence｜>") contributes its own UTF-8 bytes.
      const size_t mark = bytes.size();
      size_t pos = 0;
      bool all_mapped = true;
      while (pos < token.size()) {
        const int byte = CharToByte(NextCodePoint(token, pos));
        if (byte < 0) {
          all_mapped = false;
          break;
        }
        bytes.push_back(static_cast<char>(byte));
      }
      if (!all_mapped) {
        bytes.resize(mark);
        bytes.append(token);
      }
    }
    tokens.assign(1, Utf8Lossy(bytes));
  }
};

class Metaspace : public Decoder {
 public:
  Metaspace(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void DecodeChain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement_.size(), replacement_) == 0) {
          if (i != 0 || !strip_first_) out.push_back(' ');
          pos += replacement_.size();
        } else {
          out.push_back(token[pos++]);
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;  // drop the replacement characters of the first token
};

class ByteFallback : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    size_t byte_tokens = 0;
    auto flush = [&] {
      if (byte_tokens == 0) return;
      if (IsValidUtf8(bytes)) {
        out.push_back(bytes);
      } else {
        for (size_t i = 0; i < byte_tokens; ++i) out.emplace_back(kReplacementChar);
      }
      bytes.clear();
      byte_tokens = 0;
    };
    for (std::string& token : tokens) {
      int byte = ParseByteToken(token);
      if (byte >= 0) {
        bytes.push_back(static_cast<char>(byte));
        ++byte_tokens;
        continue;
      }
      flush();
      out.push_back(std::move(token));
    }
    flush();
    tokens = std::move(out);
  }

 private:
  // The byte of a "<0xXX>" token, or -1.
  static int ParseByteToken(const std::string& token) {
    if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return -1;
    auto hex = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int high = hex(token[3]), low = hex(token[4]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
  }
};

class Fuse : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const std::string& token : tokens) joined.append(token);
    tokens.assign(1, std::move(joined));
  }
};

class Strip : public Decoder {
 public:
  Strip(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) {
      size_t begin = 0, end = token.size();
      for (size_t i = 0;
           i < start_ && token.compare(begin, content_.size(), content_) == 0 && begin < end; ++i) {
        begin += content_.size();
      }
      for (size_t i = 0; i < stop_ && end >= begin + content_.size() &&
                         token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i) {
        end -= content_.size();
      }
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class Replace : public Decoder {
 public:
  Replace(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>& tokens) const override {
    std::vector<Span> matches;
    for (std::string& token : tokens) {
      matches.clear();
      pattern_->FindAll(token, matches);
      if (matches.empty()) continue;
      std::string out;
      size_t pos = 0;
      for (const auto& [begin, end] : matches) {
        out.append(token, pos, begin - pos);
        out.append(content_);
        pos = end;
      }
      out.append(token, pos, std::string::npos);
      token = std::move(out);
    }
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// The end-of-word suffix becomes a space, except at the very end.
class BpeSuffix : public Decoder {
 public:
  explicit BpeSuffix(std::string suffix) : suffix_(std::move(suffix)) {}
  void DecodeChain(std::vector<std::string>& tokens) const override {
    if (suffix_.empty()) return;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string replacement = i + 1 == tokens.size() ? "" : " ";
      std::string& token = tokens[i];
      size_t pos = 0;
      while ((pos = token.find(suffix_, pos)) != std::string::npos) {
        token.replace(pos, suffix_.size(), replacement);
        pos += replacement.size();
      }
    }
  }

 private:
  std::string suffix_;
};

class Sequence : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void DecodeChain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->DecodeChain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

Result<std::unique_ptr<Decoder>> ParseMetaspace(const json& config) {
  const std::string where = "Metaspace decoder";
  LANTERN_ASSIGN_OR_RETURN(std::string replacement, GetString(config, "replacement", where));
  LANTERN_ASSIGN_OR_RETURN(bool add_prefix_space, GetBool(config, "add_prefix_space", true, where));
  bool strip_first = add_prefix_space;
  if (auto it = config.find("prepend_scheme"); it != config.end() && it->is_string()) {
    strip_first = it->get<std::string>() != "never";
  }
  return std::unique_ptr<Decoder>(new Metaspace(std::move(replacement), strip_first));
}

Result<std::unique_ptr<Decoder>> ParseStrip(const json& config) {
  const std::string where = "Strip decoder";
  LANTERN_ASSIGN_OR_RETURN(std::string content, GetString(config, "content", where));
  // tokenizers' content is one character; an empty one would never stop stripping.
  if (content.empty()) return InvalidArgument(where + ": 'content' must not be empty");
  auto count = [&](const char* key) -> Result<size_t> {
    auto it = config.find(key);
    if (it == config.end() || !it->is_number_unsigned()) {
      return InvalidArgument(where + ": '" + key + "' must be a non-negative integer");
    }
    return it->get<size_t>();
  };
  LANTERN_ASSIGN_OR_RETURN(size_t start, count("start"));
  LANTERN_ASSIGN_OR_RETURN(size_t stop, count("stop"));
  return std::unique_ptr<Decoder>(new Strip(std::move(content), start, stop));
}

}  // namespace

std::unique_ptr<Decoder> MakeByteLevelDecoder() { return std::make_unique<ByteLevel>(); }

Result<std::unique_ptr<Decoder>> ParseDecoder(const json& config) {
  LANTERN_ASSIGN_OR_RETURN(std::string type, GetType(config, "decoder"));
  if (type == "ByteLevel") return MakeByteLevelDecoder();
  if (type == "Metaspace") return ParseMetaspace(config);
  if (type == "ByteFallback") return std::unique_ptr<Decoder>(new ByteFallback());
  if (type == "Fuse") return std::unique_ptr<Decoder>(new Fuse());
  if (type == "Strip") return ParseStrip(config);
  if (type == "Replace") {
    LANTERN_ASSIGN_OR_RETURN(std::string pattern,
                             GetPattern(config.value("pattern", json()), "Replace decoder"));
    LANTERN_ASSIGN_OR_RETURN(std::string content, GetString(config, "content", "Replace decoder"));
    LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<Regex> regex, Regex::Compile(pattern));
    return std::unique_ptr<Decoder>(new Replace(std::move(regex), std::move(content)));
  }
  if (type == "BPEDecoder") {
    std::string suffix = "</w>";
    if (auto it = config.find("suffix"); it != config.end() && !it->is_null()) {
      if (!it->is_string()) return InvalidArgument("BPEDecoder: 'suffix' must be a string");
      suffix = it->get<std::string>();
    }
    return std::unique_ptr<Decoder>(new BpeSuffix(std::move(suffix)));
  }
  if (type == "Sequence") {
    auto it = config.find("decoders");
    if (it == config.end() || !it->is_array()) {
      return InvalidArgument("Sequence decoder: 'decoders' must be a list");
    }
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const json& step : *it) {
      LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<Decoder> decoder, ParseDecoder(step));
      steps.push_back(std::move(decoder));
    }
    return std::unique_ptr<Decoder>(new Sequence(std::move(steps)));
  }
  return Unimplemented("decoder type '" + type + "' is not supported");
}

}  // namespace lantern::tokenizer
