#include "tokenizer/normalizer.h"

#include <vector>

#include "tokenizer/json_util.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

using json = nlohmann::json;

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(std::string (*form)(std::string_view)) : form_(form) {}
  void Normalize(std::string& text) const override { text = form_(text); }

 private:
  std::string (*form_)(std::string_view);
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void Normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class Replace : public Normalizer {
 public:
  Replace(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void Normalize(std::string& text) const override {
    std::vector<Span> matches;
    pattern_->FindAll(text, matches);
    if (matches.empty()) return;
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    for (const auto& [begin, end] : matches) {
      out.append(text, pos, begin - pos);
      out.append(content_);
      pos = end;
    }
    out.append(text, pos, std::string::npos);
    text = std::move(out);
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

class Lowercase : public Normalizer {
 public:
  void Normalize(std::string& text) const override { text = ToLower(text); }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void Normalize(std::string& text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < end) {
        size_t next = begin;
        if (!IsWhitespace(NextCodePoint(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t pos = start;
        if (!IsWhitespace(NextCodePoint(text, pos))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

// Removes combining marks (categories Mn, Mc, Me) as tokenizers does; meant to follow
// NFD or NFKD.
class StripAccents : public Normalizer {
 public:
  void Normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t start = pos;
      const char32_t cp = NextCodePoint(text, pos);
      if (cp >= 0x80 && IsMark(cp)) continue;
      out.append(text, start, pos - start);
    }
    text = std::move(out);
  }
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  void Normalize(std::string& text) const override {
    for (const auto& step : steps_) step->Normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

Result<std::unique_ptr<Normalizer>> ParseNormalizer(const json& config) {
  const std::string where = "normalizer";
  LANTERN_ASSIGN_OR_RETURN(std::string type, GetType(config, where));
  if (type == "NFC") return std::unique_ptr<Normalizer>(new UnicodeForm(ToNfc));
  if (type == "NFKC") return std::unique_ptr<Normalizer>(new UnicodeForm(ToNfkc));
  if (type == "NFD") return std::unique_ptr<Normalizer>(new UnicodeForm(ToNfd));
  if (type == "NFKD") return std::unique_ptr<Normalizer>(new UnicodeForm(ToNfkd));
  if (type == "Lowercase") return std::unique_ptr<Normalizer>(new Lowercase());
  if (type == "StripAccents") return std::unique_ptr<Normalizer>(new StripAccents());
  if (type == "Prepend") {
    LANTERN_ASSIGN_OR_RETURN(std::string prefix,
                             GetString(config, "prepend", "Prepend normalizer"));
    return std::unique_ptr<Normalizer>(new Prepend(std::move(prefix)));
  }
  if (type == "Replace") {
    LANTERN_ASSIGN_OR_RETURN(std::string pattern,
                             GetPattern(config.value("pattern", json()), "Replace normalizer"));
    LANTERN_ASSIGN_OR_RETURN(std::string content,
                             GetString(config, "content", "Replace normalizer"));
    LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<Regex> regex, Regex::Compile(pattern));
    return std::unique_ptr<Normalizer>(new Replace(std::move(regex), std::move(content)));
  }
  if (type == "Strip") {
    LANTERN_ASSIGN_OR_RETURN(bool left, GetBool(config, "strip_left", true, "Strip normalizer"));
    LANTERN_ASSIGN_OR_RETURN(bool right, GetBool(config, "strip_right", true, "Strip normalizer"));
    return std::unique_ptr<Normalizer>(new Strip(left, right));
  }
  if (type == "Sequence") {
    auto it = config.find("normalizers");
    if (it == config.end() || !it->is_array()) {
      return InvalidArgument("Sequence normalizer: 'normalizers' must be a list");
    }
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (const auto& step : *it) {
      LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<Normalizer> normalizer, ParseNormalizer(step));
      steps.push_back(std::move(normalizer));
    }
    return std::unique_ptr<Normalizer>(new Sequence(std::move(steps)));
  }
  return Unimplemented("normalizer type '" + type + "' is not supported");
}

}  // namespace lantern::tokenizer
