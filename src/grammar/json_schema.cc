// JSON Schema to GBNF, in the manner of llama.cpp's json-schema-to-grammar: one rule per
// sub-schema that needs one, primitives shared. Values carry no whitespace of their own;
// separators allow a little (one space, or a newline and up to 20 blanks), so an output
// ends exactly where its value ends.
#include <cmath>
#include <map>
#include <stdexcept>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "grammar/grammar_ir.h"
#include "grammar/translate.h"

namespace lantern::grammar {
namespace {

// Ordered: properties are written in the order the schema lists them.
using json = nlohmann::ordered_json;

class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr int kMaxDigits = 16;  // integers and fractions (bounded so that outputs end)
constexpr size_t kMaxRules = 20000;

const std::map<std::string, std::string>& Primitives() {
  static const auto* rules = new std::map<std::string, std::string>{
      {"space", "( \" \" | \"\\n\" [ \\t]{0,20} )?"},
      {"sep", "space \",\" space"},
      {"colon", "space \":\" space"},
      {"char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4} )"},
      {"string", "\"\\\"\" char* \"\\\"\""},
      {"integral", "\"0\" | [1-9] [0-9]{0,15}"},
      {"integer", "\"-\"? integral"},
      {"number", "\"-\"? integral ( \".\" [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )?"},
      {"boolean", "\"true\" | \"false\""},
      {"null", "\"null\""},
      {"value", "object | array | string | number | boolean | null"},
      {"object", "\"{\" space ( string colon value ( sep string colon value )* )? space \"}\""},
      {"array", "\"[\" space ( value ( sep value )* )? space \"]\""},
      // Days per month as a date validator checks them (February: 28, leap days aside).
      {"date", "[0-9]{4} \"-\" ( ( \"0\" [13578] | \"1\" [02] ) \"-\" ( day28 | \"29\" | "
               "\"30\" | \"31\" ) | ( \"0\" [469] | \"11\" ) \"-\" ( day28 | \"29\" | "
               "\"30\" ) | \"02-\" day28 )"},
      {"day28", "\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]"},
      {"time", "( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] \":\" [0-5] [0-9] ( \".\" "
               "[0-9]{1,6} )? ( \"Z\" | [+-] ( [01] [0-9] | \"2\" [0-3] ) \":\" [0-5] [0-9] )"},
      {"date-time", "date \"T\" time"},
      {"uuid", "[0-9a-f]{8} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" [0-9a-f]{4} \"-\" "
               "[0-9a-f]{12}"},
      {"email", "email-atom ( \".\" email-atom ){0,4} \"@\" email-label ( \".\" email-label "
                "){1,4}"},
      {"email-atom", "[a-zA-Z0-9_+-]{1,20}"},
      {"email-label", "[a-zA-Z0-9] ( [a-zA-Z0-9-]{0,20} [a-zA-Z0-9] )?"},
  };
  return *rules;
}

// Keywords that only annotate, or that we honour elsewhere.
const std::set<std::string>& Known() {
  static const auto* known = new std::set<std::string>{
      "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated",
      "readOnly", "writeOnly", "$defs", "definitions", "type", "enum", "const", "anyOf", "oneOf",
      "allOf", "$ref", "properties", "required", "additionalProperties", "items", "prefixItems",
      "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
      "exclusiveMinimum", "exclusiveMaximum", "strict", "name", "contentMediaType",
      "contentEncoding", "nullable", "discriminator", "$anchor"};
  return *known;
}

std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '-';
  }
  if (out.size() > 40) out.resize(40);
  return out.empty() ? "x" : out;
}

// Decimal strings of the integers in [lo, hi], 0 <= lo <= hi, same number of digits.
std::string SameLength(const std::string& lo, const std::string& hi) {
  const size_t n = lo.size();
  if (lo.find_first_not_of('0') == std::string::npos &&
      hi.find_first_not_of('9') == std::string::npos) {
    return "[0-9]{" + std::to_string(n) + "}";
  }
  if (n == 1) return std::string("[") + lo[0] + "-" + hi[0] + "]";
  if (lo[0] == hi[0]) {
    return std::string("\"") + lo[0] + "\" " + SameLength(lo.substr(1), hi.substr(1));
  }
  std::string out = "( \"" + std::string(1, lo[0]) + "\" " +
                    SameLength(lo.substr(1), std::string(n - 1, '9'));
  if (lo[0] + 1 <= hi[0] - 1) {
    out += std::string(" | [") + static_cast<char>(lo[0] + 1) + "-" +
           static_cast<char>(hi[0] - 1) + "] [0-9]{" + std::to_string(n - 1) + "}";
  }
  out += " | \"" + std::string(1, hi[0]) + "\" " + SameLength(std::string(n - 1, '0'), hi.substr(1));
  return out + " )";
}

// Non-negative integers in [lo, hi] written without leading zeros.
std::string NonNegativeRange(int64_t lo, int64_t hi) {
  std::string out;
  const std::string hs = std::to_string(hi);
  for (size_t len = std::to_string(lo).size(); len <= hs.size(); ++len) {
    const int64_t first = len == 1 ? 0 : static_cast<int64_t>(std::pow(10.0, len - 1));
    const int64_t last = static_cast<int64_t>(std::pow(10.0, len)) - 1;
    const int64_t a = std::max(lo, first), b = std::min(hi, last);
    if (a > b) continue;
    if (!out.empty()) out += " | ";
    out += SameLength(std::to_string(a), std::to_string(b));
  }
  return "( " + out + " )";
}

std::string IntegerRange(int64_t lo, int64_t hi) {
  std::vector<std::string> parts;
  if (lo < 0) {
    const int64_t neg_hi = -lo, neg_lo = hi < 0 ? -hi : 1;
    parts.push_back("\"-\" " + NonNegativeRange(neg_lo, neg_hi));
  }
  if (hi >= 0) parts.push_back(NonNegativeRange(std::max<int64_t>(lo, 0), hi));
  std::string out = "( ";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
  return out + " )";
}

class Converter {
 public:
  Converter(const json& root, std::string prefix) : root_(root), prefix_(std::move(prefix)) {}

  std::string Convert() {
    rules_[prefix_ + "root"] = "";  // reserved: the start rule
    rules_[prefix_ + "root"] = Visit(root_, "root", "", 0);
    std::string out;
    for (const auto& name : used_primitives_) {
      out += prefix_ + name + " ::= " + Prefixed(Primitives().at(name)) + "\n";
    }
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    return out;
  }

 private:
  [[noreturn]] static void Fail(const std::string& path, const std::string& what) {
    throw SchemaError("schema" + (path.empty() ? std::string() : " at '" + path + "'") + ": " +
                      what);
  }

  // A primitive rule's name (marking it and the primitives it uses as needed).
  std::string Primitive(const std::string& name) {
    if (used_primitives_.insert(name).second) {
      static const std::map<std::string, std::vector<std::string>> kUses = {
          {"sep", {"space"}},
          {"colon", {"space"}},
          {"string", {"char"}},
          {"integer", {"integral"}},
          {"number", {"integral"}},
          {"value", {"object", "array", "string", "number", "boolean", "null"}},
          {"object", {"space", "string", "colon", "value", "sep"}},
          {"array", {"space", "value", "sep"}},
          {"date-time", {"date", "time"}},
          {"date", {"day28"}},
          {"email", {"email-atom", "email-label"}},
      };
      if (auto it = kUses.find(name); it != kUses.end()) {
        for (const auto& u : it->second) Primitive(u);
      }
    }
    return prefix_ + name;
  }

  // Primitive bodies name other primitives; give them the prefix.
  std::string Prefixed(const std::string& body) const {
    if (prefix_.empty()) return body;
    std::string out;
    size_t i = 0;
    while (i < body.size()) {
      if (body[i] == '"' || body[i] == '[') {
        const char close = body[i] == '"' ? '"' : ']';
        size_t j = i + 1;
        while (j < body.size() && body[j] != close) j += body[j] == '\\' ? 2 : 1;
        out += body.substr(i, j + 1 - i);
        i = j + 1;
      } else if (std::isalpha(static_cast<unsigned char>(body[i]))) {
        size_t j = i;
        while (j < body.size() && (std::isalnum(static_cast<unsigned char>(body[j])) ||
                                   body[j] == '-' || body[j] == '_')) {
          ++j;
        }
        out += prefix_ + body.substr(i, j - i);
        i = j;
      } else {
        out += body[i++];
      }
    }
    return out;
  }

  std::string NewRule(const std::string& hint, const std::string& body) {
    const std::string name = ReserveRule(hint);
    rules_[name] = body;
    return name;
  }

  std::string ReserveRule(const std::string& hint) {
    if (rules_.size() >= kMaxRules) Fail("", "the schema needs too many grammar rules");
    std::string name = prefix_ + Sanitize(hint);
    for (int i = 1; rules_.count(name) || Primitives().count(name.substr(prefix_.size())); ++i) {
      name = prefix_ + Sanitize(hint) + "-" + std::to_string(i);
    }
    rules_[name] = "";
    return name;
  }

  static std::string Literal(const json& value) { return GbnfLiteral(value.dump()); }

  std::string Visit(const json& schema, const std::string& hint, const std::string& path,
                    int depth) {
    if (depth > GrammarLimits::kMaxNesting) Fail(path, "nested too deeply");
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) Fail(path, "the schema false matches nothing");
      return Primitive("value");
    }
    if (!schema.is_object()) Fail(path, "a schema must be an object or a boolean");
    for (const auto& [key, v] : schema.items()) {
      if (!Known().count(key)) Fail(path, "keyword '" + key + "' is not supported");
    }
    if (schema.contains("$ref")) return Ref(schema, path, depth);
    if (schema.contains("const")) return Literal(schema["const"]);
    if (schema.contains("enum")) {
      const json& e = schema["enum"];
      if (!e.is_array() || e.empty()) Fail(path, "'enum' must be a non-empty array");
      std::string out = "( ";
      for (size_t i = 0; i < e.size(); ++i) out += (i ? " | " : "") + Literal(e[i]);
      return out + " )";
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!schema.contains(key)) continue;
      const json& alts = schema[key];
      if (!alts.is_array() || alts.empty()) {
        Fail(path, std::string("'") + key + "' must be a non-empty array");
      }
      std::string out = "( ";
      for (size_t i = 0; i < alts.size(); ++i) {
        out += (i ? " | " : "") +
               Visit(alts[i], hint + "-" + std::to_string(i),
                     path + "/" + key + "/" + std::to_string(i), depth + 1);
      }
      return out + " )";
    }
    if (schema.contains("allOf")) {
      const json& all = schema["allOf"];
      if (!all.is_array() || all.size() != 1) {
        Fail(path, "'allOf' is supported only with one schema");
      }
      return Visit(all[0], hint, path + "/allOf/0", depth + 1);
    }
    if (schema.contains("type")) {
      const json& t = schema["type"];
      if (t.is_string()) return Typed(schema, t.get<std::string>(), hint, path, depth);
      if (!t.is_array() || t.empty()) Fail(path, "'type' must be a string or a non-empty array");
      std::string out = "( ";
      for (size_t i = 0; i < t.size(); ++i) {
        if (!t[i].is_string()) Fail(path, "'type' entries must be strings");
        out += (i ? " | " : "") + Typed(schema, t[i].get<std::string>(), hint, path, depth);
      }
      return out + " )";
    }
    if (schema.contains("properties") || schema.contains("required") ||
        schema.contains("additionalProperties")) {
      return Typed(schema, "object", hint, path, depth);
    }
    if (schema.contains("items") || schema.contains("prefixItems")) {
      return Typed(schema, "array", hint, path, depth);
    }
    if (schema.contains("pattern") || schema.contains("format") || schema.contains("minLength") ||
        schema.contains("maxLength")) {
      return Typed(schema, "string", hint, path, depth);
    }
    return Primitive("value");
  }

  std::string Ref(const json& schema, const std::string& path, int depth) {
    if (!schema["$ref"].is_string()) Fail(path, "'$ref' must be a string");
    const std::string ref = schema["$ref"].get<std::string>();
    if (auto it = refs_.find(ref); it != refs_.end()) return it->second;
    if (ref.empty() || ref[0] != '#') {
      Fail(path, "'$ref' \"" + ref + "\" is not supported: only local references (#/...)");
    }
    const json* target = nullptr;
    try {
      target = &root_.at(json::json_pointer(ref.substr(1)));
    } catch (const std::exception&) {
      Fail(path, "'$ref' \"" + ref + "\" points to nothing in the schema");
    }
    const std::string name = ReserveRule(ref == "#" ? "root-ref" : ref.substr(ref.rfind('/') + 1));
    refs_[ref] = name;  // before visiting: the target may refer to itself
    rules_[name] = Visit(*target, name.substr(prefix_.size()), ref.substr(1), depth + 1);
    return name;
  }

  std::optional<double> NumberField(const json& schema, const char* key, const std::string& path) {
    if (!schema.contains(key)) return std::nullopt;
    if (!schema[key].is_number()) Fail(path, std::string("'") + key + "' must be a number");
    return schema[key].get<double>();
  }

  std::optional<int64_t> CountField(const json& schema, const char* key, const std::string& path) {
    if (!schema.contains(key)) return std::nullopt;
    const json& v = schema[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      Fail(path, std::string("'") + key + "' must be a non-negative integer");
    }
    if (v.get<int64_t>() > GrammarLimits::kMaxRepetition) {
      Fail(path, std::string("'") + key + "' above " +
                     std::to_string(GrammarLimits::kMaxRepetition) + " is not supported");
    }
    return v.get<int64_t>();
  }

  std::string Typed(const json& schema, const std::string& type, const std::string& hint,
                    const std::string& path, int depth) {
    if (type == "object") return Object(schema, hint, path, depth);
    if (type == "array") return Array(schema, hint, path, depth);
    if (type == "string") return String(schema, path);
    if (type == "integer") return Integer(schema, path);
    if (type == "number") return Number(schema, path);
    if (type == "boolean") return Primitive("boolean");
    if (type == "null") return Primitive("null");
    Fail(path, "unknown type \"" + type + "\"");
  }

  std::string String(const json& schema, const std::string& path) {
    const auto min = CountField(schema, "minLength", path);
    const auto max = CountField(schema, "maxLength", path);
    if (schema.contains("pattern")) {
      if (!schema["pattern"].is_string()) Fail(path, "'pattern' must be a string");
      if (min || max) Fail(path, "'pattern' together with 'minLength'/'maxLength' is not supported");
      auto expr = RegexToGbnf(schema["pattern"].get<std::string>(), /*json_string=*/true);
      if (!expr.ok()) Fail(path + "/pattern", expr.status().message());
      return "( \"\\\"\" " + *expr + " \"\\\"\" )";
    }
    if (schema.contains("format")) {
      if (!schema["format"].is_string()) Fail(path, "'format' must be a string");
      const std::string format = schema["format"].get<std::string>();
      if (format == "date" || format == "time" || format == "date-time" || format == "uuid" ||
          format == "email") {
        if (min || max) Fail(path, "'format' together with 'minLength'/'maxLength' is not supported");
        return "( \"\\\"\" " + Primitive(format) + " \"\\\"\" )";
      }
      // Other formats only annotate (as JSON Schema's default vocabulary has it).
    }
    if (!min && !max) return Primitive("string");
    if (min && max && *max < *min) Fail(path, "'maxLength' is below 'minLength'");
    return "( \"\\\"\" " + Primitive("char") + "{" + std::to_string(min.value_or(0)) + "," +
           (max ? std::to_string(*max) : "") + "} \"\\\"\" )";
  }

  // Bounds as integers: [lo, hi] after exclusive bounds, or nullopt for none.
  void IntegerBounds(const json& schema, const std::string& path, std::optional<int64_t>* lo,
                     std::optional<int64_t>* hi) {
    constexpr double kLimit = 9.0e15;
    auto clamp = [&](double v, const char* key) {
      if (std::fabs(v) > kLimit) Fail(path, std::string("'") + key + "' is beyond ±9e15");
      return v;
    };
    if (auto v = NumberField(schema, "minimum", path)) *lo = std::ceil(clamp(*v, "minimum"));
    if (auto v = NumberField(schema, "maximum", path)) *hi = std::floor(clamp(*v, "maximum"));
    if (auto v = NumberField(schema, "exclusiveMinimum", path)) {
      const int64_t e = static_cast<int64_t>(std::floor(clamp(*v, "exclusiveMinimum"))) + 1;
      *lo = lo->has_value() ? std::max(**lo, e) : e;
    }
    if (auto v = NumberField(schema, "exclusiveMaximum", path)) {
      const int64_t e = static_cast<int64_t>(std::ceil(clamp(*v, "exclusiveMaximum"))) - 1;
      *hi = hi->has_value() ? std::min(**hi, e) : e;
    }
  }

  std::string Integer(const json& schema, const std::string& path) {
    std::optional<int64_t> lo, hi;
    IntegerBounds(schema, path, &lo, &hi);
    if (!lo && !hi) return Primitive("integer");
    constexpr int64_t kMax = 9999999999999999;  // 16 digits, as unbounded integers
    const int64_t a = lo.value_or(-kMax), b = hi.value_or(kMax);
    if (a > b) Fail(path, "no integer lies between 'minimum' and 'maximum'");
    return IntegerRange(a, b);
  }

  std::string Number(const json& schema, const std::string& path) {
    const auto min = NumberField(schema, "minimum", path);
    const auto max = NumberField(schema, "maximum", path);
    for (const char* key : {"exclusiveMinimum", "exclusiveMaximum"}) {
      if (schema.contains(key)) Fail(path, std::string("'") + key + "' on a number is not supported");
    }
    if (!min && !max) return Primitive("number");
    // Integral, non-negative bounds (0..1, 0..100: the common ones): an integer part in
    // range and a fraction, the top bound only with zeros after the point.
    const double lo = min.value_or(0);
    if (lo < 0 || lo != std::floor(lo) || (max && *max != std::floor(*max)) || lo > 9.0e15 ||
        (max && *max > 9.0e15)) {
      Fail(path, "'minimum'/'maximum' on a number are supported only as integers >= 0");
    }
    const std::string fraction = " ( \".\" [0-9]{1," + std::to_string(kMaxDigits) + "} )?";
    if (!max) {
      return "( " + NonNegativeRange(static_cast<int64_t>(lo), 9999999999999999) + fraction + " )";
    }
    if (*max < lo) Fail(path, "'maximum' is below 'minimum'");
    const auto a = static_cast<int64_t>(lo), b = static_cast<int64_t>(*max);
    std::string out = "( ";
    if (a < b) out += NonNegativeRange(a, b - 1) + fraction + " | ";
    return out + NonNegativeRange(b, b) + " ( \".\" \"0\"{1," + std::to_string(kMaxDigits) +
           "} )? )";
  }

  // Strings other than `names` (JSON-escaped forms aside), over a trie of the names.
  std::string KeyExcept(const std::vector<std::string>& names, const std::string& hint) {
    if (names.empty()) return Primitive("string");
    struct TrieNode {
      std::map<uint32_t, int> children;
      bool word = false;
    };
    std::vector<TrieNode> trie(1);
    for (const auto& name : names) {
      int node = 0;
      for (size_t i = 0; i < name.size();) {
        const auto b0 = static_cast<unsigned char>(name[i]);
        const int len = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
        uint32_t cp = len == 1 ? b0 : len == 2 ? b0 & 0x1F : len == 3 ? b0 & 0x0F : b0 & 0x07;
        for (int k = 1; k < len && i + k < name.size(); ++k) cp = (cp << 6) | (name[i + k] & 0x3F);
        i += len;
        auto it = trie[node].children.find(cp);
        if (it == trie[node].children.end()) {
          trie.emplace_back();
          it = trie[node].children.emplace(cp, static_cast<int>(trie.size() - 1)).first;
        }
        node = it->second;
      }
      trie[node].word = true;
    }
    const std::string rest = NewRule(hint + "-rest", Primitive("char") + "* \"\\\"\"");
    std::vector<std::string> names_of(trie.size());
    for (size_t i = 0; i < trie.size(); ++i) names_of[i] = ReserveRule(hint + "-key");
    for (size_t i = 0; i < trie.size(); ++i) {
      std::vector<std::string> alts;
      if (!trie[i].word) alts.push_back("\"\\\"\"");
      std::vector<CodePointRange> excluded = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}, {0x7F, 0x7F}};
      for (const auto& [cp, child] : trie[i].children) {
        std::string bytes;
        AppendUtf8(cp, &bytes);
        alts.push_back(GbnfLiteral(bytes) + " " + names_of[child]);
        excluded.emplace_back(cp, cp);
      }
      alts.push_back("( " + GbnfClass(ComplementRanges(excluded)) + " | [\\\\] ( [\"\\\\/bfnrt] | "
                     "\"u\" [0-9a-fA-F]{4} ) ) " + rest);
      std::string body;
      for (size_t k = 0; k < alts.size(); ++k) body += (k ? " | " : "") + alts[k];
      rules_[names_of[i]] = body;
    }
    return "( \"\\\"\" " + names_of[0] + " )";
  }

  std::string Object(const json& schema, const std::string& hint, const std::string& path,
                     int depth) {
    const json empty = json::object();
    const json& props = schema.contains("properties") ? schema["properties"] : empty;
    if (!props.is_object()) Fail(path, "'properties' must be an object");
    std::set<std::string> required;
    if (schema.contains("required")) {
      if (!schema["required"].is_array()) Fail(path, "'required' must be an array of strings");
      for (const auto& r : schema["required"]) {
        if (!r.is_string()) Fail(path, "'required' must be an array of strings");
        required.insert(r.get<std::string>());
      }
    }
    // Unspecified additionalProperties: none, as OpenAI's strict mode and XGrammar have it.
    std::string extra;
    std::vector<std::string> known;
    if (schema.contains("additionalProperties")) {
      const json& ap = schema["additionalProperties"];
      if (!(ap.is_boolean() && !ap.get<bool>())) {
        for (const auto& [name, v] : props.items()) known.push_back(name);
        const std::string value = ap.is_boolean()
                                      ? Primitive("value")
                                      : Visit(ap, hint + "-additional",
                                              path + "/additionalProperties", depth + 1);
        extra = NewRule(hint + "-extra-kv",
                        KeyExcept(known, hint) + " " + Primitive("colon") + " " + value);
      }
    }
    // Properties in the schema's order, the optional ones free to be left out:
    // rest_i (something was written before i) ::= (sep p_i)? rest_{i+1}, or sep p_i rest_{i+1}
    // when p_i is required; first_i (nothing yet) ::= p_i rest_{i+1} | first_{i+1}, the
    // second alternative only when p_i is optional.
    std::vector<std::pair<std::string, bool>> items;  // kv, required
    auto kv = [&](const std::string& name, const json& sub) {
      return GbnfLiteral(json(name).dump()) + " " + Primitive("colon") + " " +
             Visit(sub, hint + "-" + name, path + "/properties/" + name, depth + 1);
    };
    for (const auto& [name, sub] : props.items()) items.emplace_back(kv(name, sub), required.count(name) > 0);
    for (const auto& name : required) {
      if (!props.contains(name)) items.emplace_back(kv(name, true), true);
    }
    const std::string sep = Primitive("sep");
    std::string rest = extra.empty() ? "" : "( " + sep + " " + extra + " )*";
    std::string first = extra.empty() ? "" : "( " + extra + " " + rest + " )?";
    for (size_t k = items.size(); k-- > 0;) {
      const auto& [item, req] = items[k];
      const std::string next_rest = rest.empty() ? "" : " " + rest;
      const std::string new_first =
          req ? item + next_rest
              : "( " + item + next_rest + (first.empty() ? " )?" : " | " + first + " )");
      rest = NewRule(hint + "-rest", req ? sep + " " + item + next_rest
                                         : "( " + sep + " " + item + " )?" + next_rest);
      first = NewRule(hint + "-first", new_first);
    }
    std::string body = first;
    const std::string space = Primitive("space");
    return NewRule(hint, "\"{\" " + space + " " + (body.empty() ? "" : body + " ") + space +
                             " \"}\"");
  }

  std::string Array(const json& schema, const std::string& hint, const std::string& path,
                    int depth) {
    const auto min = CountField(schema, "minItems", path).value_or(0);
    const auto max = CountField(schema, "maxItems", path);
    if (max && *max < min) Fail(path, "'maxItems' is below 'minItems'");
    const std::string sep = Primitive("sep"), space = Primitive("space");
    std::vector<std::string> prefix;
    const json* items = schema.contains("items") ? &schema["items"] : nullptr;
    if (schema.contains("prefixItems") || (items && items->is_array())) {
      const json& p = schema.contains("prefixItems") ? schema["prefixItems"] : *items;
      if (!p.is_array()) Fail(path, "'prefixItems' must be an array");
      for (size_t i = 0; i < p.size(); ++i) {
        prefix.push_back(Visit(p[i], hint + "-" + std::to_string(i),
                               path + "/prefixItems/" + std::to_string(i), depth + 1));
      }
      if (!schema.contains("prefixItems")) items = nullptr;  // draft-4 tuple: no more items
      if (min > static_cast<int64_t>(prefix.size())) {
        Fail(path, "'minItems' beyond the 'prefixItems' is not supported");
      }
    }
    std::string item;
    bool more = true;
    if (!items) {
      more = prefix.empty() || !schema.contains("items");
      if (!prefix.empty() && !schema.contains("prefixItems")) more = false;
      item = Primitive("value");
    } else if (items->is_boolean() && !items->get<bool>()) {
      more = false;
    } else {
      item = Visit(*items, hint + "-item", path + "/items", depth + 1);
    }
    std::string body;
    if (!prefix.empty()) {
      // Every prefix item, then further items up to maxItems.
      if (max && *max < static_cast<int64_t>(prefix.size())) {
        Fail(path, "'maxItems' below the number of 'prefixItems' is not supported");
      }
      for (size_t i = 0; i < prefix.size(); ++i) body += (i ? " " + sep + " " : "") + prefix[i];
      if (more) {
        const std::string count =
            max ? "{0," + std::to_string(*max - static_cast<int64_t>(prefix.size())) + "}" : "*";
        body += " ( " + sep + " " + item + " )" + count;
      }
    } else if (more && (!max || *max > 0)) {
      const int64_t lo = std::max<int64_t>(min, 1) - 1;
      const std::string count =
          max ? "{" + std::to_string(lo) + "," + std::to_string(*max - 1) + "}"
              : "{" + std::to_string(lo) + ",}";
      body = item + " ( " + sep + " " + item + " )" + count;
      if (min == 0) body = "( " + body + " )?";
    } else if (min > 0) {
      Fail(path, "'minItems' cannot be met");
    }
    return NewRule(hint, "\"[\" " + space + " " + (body.empty() ? "" : body + " ") + space +
                             " \"]\"");
  }

  const json& root_;
  const std::string prefix_;
  std::map<std::string, std::string> rules_;
  std::map<std::string, std::string> refs_;
  std::set<std::string> used_primitives_;
};

}  // namespace

Result<std::string> JsonSchemaToGbnf(const nlohmann::ordered_json& schema,
                                     std::string_view rule_prefix) {
  for (char c : rule_prefix) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return InvalidArgument("a rule prefix holds letters, digits, '-' and '_' only");
    }
  }
  try {
    return Converter(schema, std::string(rule_prefix)).Convert();
  } catch (const SchemaError& e) {
    return InvalidArgument(std::string("invalid JSON schema: ") + e.what());
  }
}

Result<std::string> JsonSchemaToGbnf(const nlohmann::json& schema, std::string_view rule_prefix) {
  return JsonSchemaToGbnf(nlohmann::ordered_json::parse(schema.dump()), rule_prefix);
}

}  // namespace lantern::grammar
