#include "tokenizer/pre_tokenizer.h"

#include <functional>

#include "tokenizer/byte_level.h"
#include "tokenizer/json_util.h"
#include "tokenizer/regex.h"
#include "tokenizer/split_patterns.h"
#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

using json = nlohmann::json;

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

Result<Behavior> ParseBehavior(const json& config, const std::string& where, Behavior fallback) {
  auto it = config.find("behavior");
  if (it == config.end() || it->is_null()) return fallback;
  const std::string name = it->is_string() ? it->get<std::string>() : "";
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  return InvalidArgument(where + ": unknown behavior '" + it->dump() + "'");
}

struct Segment {
  size_t begin, end;
  bool is_match;
};

// Turns the matches of a pattern in `piece` into the parts that `behavior` keeps, the
// way tokenizers' NormalizedString::split does, and appends them to `out`.
void SplitByMatches(const Piece& piece, const std::vector<Span>& matches, Behavior behavior,
                    bool invert, std::vector<Piece>& out) {
  const std::string& text = piece.text;
  std::vector<Segment> segments;
  segments.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (prev != begin) segments.push_back({prev, begin, invert});
    segments.push_back({begin, end, !invert});
    prev = end;
  }
  if (prev != text.size()) segments.push_back({prev, text.size(), invert});

  std::vector<Segment> parts;
  parts.reserve(segments.size());
  switch (behavior) {
    case Behavior::kIsolated:
      for (const Segment& s : segments) parts.push_back({s.begin, s.end, false});
      break;
    case Behavior::kRemoved:
      parts = segments;
      break;
    case Behavior::kContiguous: {
      bool previous_match = false;
      for (const Segment& s : segments) {
        if (s.is_match == previous_match && !parts.empty()) {
          parts.back().end = s.end;
        } else {
          parts.push_back({s.begin, s.end, false});
        }
        previous_match = s.is_match;
      }
      break;
    }
    case Behavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Segment& s : segments) {
        if (s.is_match && !previous_match && !parts.empty()) {
          parts.back().end = s.end;
        } else {
          parts.push_back({s.begin, s.end, false});
        }
        previous_match = s.is_match;
      }
      break;
    }
    case Behavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->is_match && !previous_match && !parts.empty()) {
          parts.back().begin = it->begin;
        } else {
          parts.push_back({it->begin, it->end, false});
        }
        previous_match = it->is_match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
  }
  for (const Segment& p : parts) {
    if (p.is_match || p.begin == p.end) continue;  // removed delimiters, empty parts
    out.push_back({text.substr(p.begin, p.end - p.begin), piece.at_origin && p.begin == 0});
  }
}

// Each code point for which `predicate` holds is one match (tokenizers' char patterns).
void CharMatches(const std::string& text, const std::function<bool(char32_t)>& predicate,
                 std::vector<Span>& matches) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    if (predicate(NextCodePoint(text, pos))) matches.emplace_back(start, pos);
  }
}

class RegexSplit : public PreTokenizer {
 public:
  RegexSplit(std::unique_ptr<Regex> regex, Behavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void PreTokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    out.reserve(pieces.size() * 4);
    std::vector<Span> matches;
    for (const Piece& piece : pieces) {
      matches.clear();
      regex_->FindAll(piece.text, matches);
      if (behavior_ == Behavior::kIsolated && !invert_ && Tiles(matches, piece.text.size())) {
        // Fast path: the matches cover the text, so each one is a piece.
        for (const auto& [begin, end] : matches) {
          out.push_back({piece.text.substr(begin, end - begin), piece.at_origin && begin == 0});
        }
        continue;
      }
      SplitByMatches(piece, matches, behavior_, invert_, out);
    }
    pieces = std::move(out);
  }

 private:
  static bool Tiles(const std::vector<Span>& matches, size_t size) {
    size_t pos = 0;
    for (const auto& [begin, end] : matches) {
      if (begin != pos || end == begin) return false;
      pos = end;
    }
    return pos == size;
  }

  std::unique_ptr<Regex> regex_;
  Behavior behavior_;
  bool invert_;
};

class CharSplit : public PreTokenizer {
 public:
  CharSplit(std::function<bool(char32_t)> predicate, Behavior behavior)
      : predicate_(std::move(predicate)), behavior_(behavior) {}
  void PreTokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    std::vector<Span> matches;
    for (const Piece& piece : pieces) {
      matches.clear();
      CharMatches(piece.text, predicate_, matches);
      SplitByMatches(piece, matches, behavior_, /*invert=*/false, out);
    }
    pieces = std::move(out);
  }

 private:
  std::function<bool(char32_t)> predicate_;
  Behavior behavior_;
};

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, std::unique_ptr<Regex> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}
  void PreTokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    out.reserve(pieces.size());
    std::vector<Span> matches;
    for (Piece& piece : pieces) {
      if (add_prefix_space_ && piece.text[0] != ' ') piece.text = " " + piece.text;
      if (!regex_) {
        out.push_back({ToByteLevel(piece.text), piece.at_origin});
        continue;
      }
      matches.clear();
      regex_->FindAll(piece.text, matches);
      std::vector<Piece> parts;
      SplitByMatches(piece, matches, Behavior::kIsolated, false, parts);
      for (Piece& part : parts) out.push_back({ToByteLevel(part.text), part.at_origin});
    }
    pieces = std::move(out);
  }

 private:
  static std::string ToByteLevel(std::string_view text) {
    std::string mapped;
    mapped.reserve(text.size() + text.size() / 2);
    AppendByteLevel(text, mapped);
    return mapped;
  }

  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class Metaspace : public PreTokenizer {
 public:
  Metaspace(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement), scheme_(scheme), split_(split) {
    AppendUtf8(replacement, replacement_utf8_);
  }
  void PreTokenize(std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    std::vector<Span> matches;
    for (Piece& piece : pieces) {
      std::string replaced;
      for (char c : piece.text) {
        if (c == ' ') {
          replaced.append(replacement_utf8_);
        } else {
          replaced.push_back(c);
        }
      }
      const bool starts_with_replacement = replaced.starts_with(replacement_utf8_);
      if (!starts_with_replacement && (scheme_ == PrependScheme::kAlways ||
                                       (scheme_ == PrependScheme::kFirst && piece.at_origin))) {
        replaced = replacement_utf8_ + replaced;
      }
      Piece rewritten{std::move(replaced), piece.at_origin};
      if (!split_) {
        out.push_back(std::move(rewritten));
        continue;
      }
      matches.clear();
      CharMatches(
          rewritten.text, [this](char32_t cp) { return cp == replacement_; }, matches);
      SplitByMatches(rewritten, matches, Behavior::kMergedWithNext, false, out);
    }
    pieces = std::move(out);
  }

 private:
  char32_t replacement_;
  std::string replacement_utf8_;
  PrependScheme scheme_;
  bool split_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void PreTokenize(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) step->PreTokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// Whitespace relies on Oniguruma's Unicode \w: Alphabetic, marks, decimal digits,
// connector punctuation and the joiners.
constexpr char kWordOrSymbolRuns[] =
    R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}\s]+)";

Result<std::unique_ptr<PreTokenizer>> ParseMetaspace(const json& config) {
  const std::string where = "Metaspace pre-tokenizer";
  LANTERN_ASSIGN_OR_RETURN(std::string replacement, GetString(config, "replacement", where));
  size_t pos = 0;
  if (replacement.empty() || !IsValidUtf8(replacement) ||
      (NextCodePoint(replacement, pos), pos != replacement.size())) {
    return InvalidArgument(where + ": 'replacement' must be one character");
  }
  pos = 0;
  const char32_t cp = NextCodePoint(replacement, pos);
  LANTERN_ASSIGN_OR_RETURN(bool add_prefix_space, GetBool(config, "add_prefix_space", true, where));
  PrependScheme scheme = add_prefix_space ? PrependScheme::kAlways : PrependScheme::kNever;
  if (auto it = config.find("prepend_scheme"); it != config.end() && !it->is_null()) {
    const std::string name = it->is_string() ? it->get<std::string>() : "";
    if (name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      return InvalidArgument(where + ": unknown prepend_scheme " + it->dump());
    }
  }
  LANTERN_ASSIGN_OR_RETURN(bool split, GetBool(config, "split", true, where));
  return std::unique_ptr<PreTokenizer>(new Metaspace(cp, scheme, split));
}

}  // namespace

Result<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const json& config) {
  LANTERN_ASSIGN_OR_RETURN(std::string type, GetType(config, "pre_tokenizer"));
  const std::string where = type + " pre-tokenizer";
  if (type == "ByteLevel") {
    LANTERN_ASSIGN_OR_RETURN(bool add_prefix_space,
                             GetBool(config, "add_prefix_space", true, where));
    LANTERN_ASSIGN_OR_RETURN(bool use_regex, GetBool(config, "use_regex", true, where));
    std::unique_ptr<Regex> regex;
    if (use_regex) {
      LANTERN_ASSIGN_OR_RETURN(regex, Regex::Compile(std::string(kGpt2Pattern)));
    }
    return std::unique_ptr<PreTokenizer>(new ByteLevel(add_prefix_space, std::move(regex)));
  }
  if (type == "Split") {
    LANTERN_ASSIGN_OR_RETURN(std::string pattern,
                             GetPattern(config.value("pattern", json()), where));
    LANTERN_ASSIGN_OR_RETURN(Behavior behavior, ParseBehavior(config, where, Behavior::kIsolated));
    LANTERN_ASSIGN_OR_RETURN(bool invert, GetBool(config, "invert", false, where));
    LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<Regex> regex, Regex::Compile(pattern));
    return std::unique_ptr<PreTokenizer>(new RegexSplit(std::move(regex), behavior, invert));
  }
  if (type == "Metaspace") return ParseMetaspace(config);
  if (type == "Digits") {
    LANTERN_ASSIGN_OR_RETURN(bool individual, GetBool(config, "individual_digits", false, where));
    return std::unique_ptr<PreTokenizer>(
        new CharSplit(IsNumber, individual ? Behavior::kIsolated : Behavior::kContiguous));
  }
  if (type == "Whitespace") {
    LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<Regex> regex, Regex::Compile(kWordOrSymbolRuns));
    return std::unique_ptr<PreTokenizer>(
        new RegexSplit(std::move(regex), Behavior::kRemoved, /*invert=*/true));
  }
  if (type == "WhitespaceSplit") {
    return std::unique_ptr<PreTokenizer>(new CharSplit(IsWhitespace, Behavior::kRemoved));
  }
  if (type == "Punctuation") {
    LANTERN_ASSIGN_OR_RETURN(Behavior behavior, ParseBehavior(config, where, Behavior::kIsolated));
    return std::unique_ptr<PreTokenizer>(new CharSplit(IsPunctuation, behavior));
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    steps.emplace_back(new CharSplit(IsWhitespace, Behavior::kRemoved));
    steps.emplace_back(new CharSplit(IsPunctuation, Behavior::kIsolated));
    return std::unique_ptr<PreTokenizer>(new Sequence(std::move(steps)));
  }
  if (type == "Sequence") {
    auto it = config.find("pretokenizers");
    if (it == config.end() || !it->is_array()) {
      return InvalidArgument("Sequence pre-tokenizer: 'pretokenizers' must be a list");
    }
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (const auto& step : *it) {
      LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<PreTokenizer> pre_tokenizer,
                               ParsePreTokenizer(step));
      steps.push_back(std::move(pre_tokenizer));
    }
    return std::unique_ptr<PreTokenizer>(new Sequence(std::move(steps)));
  }
  return Unimplemented("pre-tokenizer type '" + type + "' is not supported");
}

}  // namespace lantern::tokenizer
