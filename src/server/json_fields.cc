#include "server/json_fields.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "base/log.h"
#include "server/api_error.h"

namespace lantern::server {
namespace {

using nlohmann::json;

// Deepest nesting of arrays and objects in `text` (strings skipped): bounds the parser's
// recursion and the work of destroying the result, whatever a client sends.
size_t NestingDepth(const std::string& text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

// SAX events that build nothing and keep the path of the value being read, so that a parse
// error can name its field. Run only on a body that failed to parse.
class PathTracker {
 public:
  bool null() { return Value(); }
  bool boolean(bool) { return Value(); }
  bool number_integer(json::number_integer_t) { return Value(); }
  bool number_unsigned(json::number_unsigned_t) { return Value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return Value(); }
  bool string(json::string_t&) { return Value(); }
  bool binary(json::binary_t&) { return Value(); }
  bool start_object(std::size_t) { return Open(false); }
  bool key(json::string_t& key) {
    frames_.back().key = key;
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(true); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string& token, const json::exception& error) {
    position_ = position;
    token_ = token;
    id_ = error.id;
    what_ = error.what();
    return false;
  }

  // The path ("foo.bar[0]", "" at the top) of the value the error came at.
  std::string Path() const {
    std::string path;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& frame = frames_[i];
      if (frame.array) {
        // Read values counted; the last frame's value is the one that failed (uncounted).
        size_t index = i + 1 == frames_.size() ? frame.values : frame.values - 1;
        path += '[';
        path += std::to_string(index);
        path += ']';
      } else {
        constexpr size_t kMaxKey = 64;
        std::string key =
            frame.key.size() > kMaxKey ? frame.key.substr(0, kMaxKey) + "..." : frame.key;
        if (!path.empty()) path += '.';
        path += key;
      }
    }
    return path;
  }
  int id() const { return id_; }
  size_t position() const { return position_; }
  const std::string& token() const { return token_; }
  const std::string& what() const { return what_; }

 private:
  struct Frame {
    bool array;
    size_t values = 0;  // arrays: values begun
    std::string key;    // objects: the current key
  };
  bool Value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().values;
    return true;
  }
  bool Open(bool array) {
    Value();
    frames_.push_back(Frame{array, 0, {}});
    return true;
  }
  bool Close() {
    frames_.pop_back();
    return true;
  }

  std::vector<Frame> frames_;
  int id_ = 0;
  size_t position_ = 0;
  std::string token_, what_;
};

// nlohmann::json's message in plain words: "[json.exception.parse_error.101] parse error at
// line 1, column 9: syntax error while parsing object - unexpected end of input; expected
// '}'" becomes "line 1, column 9: unexpected end of input; expected '}'". Users read the
// position and the problem; the library's error ids and grammar terms mean nothing to them.
std::string PlainParseError(const std::string& what) {
  std::string text = what;
  if (size_t bracket = text.find("] ");
      text.rfind("[json.exception", 0) == 0 && bracket != text.npos) {
    text.erase(0, bracket + 2);
  }
  if (text.rfind("parse error at ", 0) == 0) text.erase(0, 15);
  if (size_t syntax = text.find("syntax error while parsing "); syntax != text.npos) {
    size_t dash = text.find(" - ", syntax);
    text.erase(syntax, dash == text.npos ? 27 : dash + 3 - syntax);
  }
  for (auto [from, to] : {std::pair<std::string, std::string>{"expected string literal",
                                                              "expected a field name in quotes"},
                          {"; expected end of input", "; expected nothing after the JSON value"},
                          {"last read: ", "near "}}) {
    if (size_t at = text.find(from); at != text.npos) text.replace(at, from.size(), to);
  }
  constexpr size_t kMax = 200;
  return text.size() > kMax ? text.substr(0, kMax) + "..." : text;
}

// The 400 for a body nlohmann::json refused, naming the field of a number beyond a double.
[[noreturn]] void ThrowParseError(const std::string& body) {
  PathTracker tracker;
  json::sax_parse(body, &tracker);
  if (tracker.id() == 406) {  // out_of_range.406: number overflow
    constexpr size_t kMaxToken = 40;
    std::string number = tracker.token().size() > kMaxToken
                             ? tracker.token().substr(0, kMaxToken) + "..."
                             : tracker.token();
    std::string path = tracker.Path();
    std::string what = path.empty() ? "The request body" : "'" + path + "'";
    throw BadRequest(what + " is a number beyond the range of a double: " + number, path);
  }
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw BadRequest("The request body is empty: send a JSON object");
  }
  if (tracker.id() == 0) throw BadRequest("The request body is not valid JSON");
  throw BadRequest("The request body is not valid JSON: " + PlainParseError(tracker.what()));
}

}  // namespace

json ParseJsonObject(const std::string& body) {
  constexpr size_t kMaxDepth = 64;
  if (NestingDepth(body) > kMaxDepth) {
    throw BadRequest("The request body nests arrays/objects deeper than " +
                     std::to_string(kMaxDepth) + " levels");
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) ThrowParseError(body);
  if (!parsed.is_object()) {
    throw BadRequest("The request body must be a JSON object, got " + DescribeJson(parsed));
  }
  return parsed;
}

std::string DescribeJson(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::string: {
      std::string s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (s.size() > 40) s = s.substr(0, 37) + "...\"";
      return "string " + s;
    }
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "number " + value.dump();
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "a value of unexpected type";
  }
}

FieldReader::FieldReader(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

std::string FieldReader::PathOf(const std::string& name) const {
  return path_.empty() ? name : path_ + "." + name;
}

const nlohmann::json* FieldReader::Get(const std::string& name) {
  known_.insert(name);
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> FieldReader::String(const std::string& name) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    throw BadRequest("'" + PathOf(name) + "' must be a string, got " + DescribeJson(*value),
                     PathOf(name));
  }
  return value->get<std::string>();
}

std::optional<bool> FieldReader::Bool(const std::string& name) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) {
    throw BadRequest("'" + PathOf(name) + "' must be a boolean, got " + DescribeJson(*value),
                     PathOf(name));
  }
  return value->get<bool>();
}

std::optional<double> FieldReader::Number(const std::string& name) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  if (!value->is_number()) {
    throw BadRequest("'" + PathOf(name) + "' must be a number, got " + DescribeJson(*value),
                     PathOf(name));
  }
  double number = value->get<double>();
  if (!std::isfinite(number)) {
    throw BadRequest("'" + PathOf(name) + "' must be a finite number", PathOf(name));
  }
  return number;
}

int64_t JsonInteger(const nlohmann::json& value, const std::string& param, int64_t min,
                    int64_t max) {
  auto range = [&] {
    return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  };
  int64_t result;
  // Unsigned first: is_number_integer() is true for unsigned numbers too, and 2^64 - 1 read
  // as an int64 would be -1.
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      throw BadRequest("'" + param + "' must be " + range() + ", got " + value.dump(), param);
    }
    result = static_cast<int64_t>(u);
  } else if (value.is_number_integer()) {
    result = value.get<int64_t>();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < -9.2e18 || d > 9.2e18) {
      throw BadRequest("'" + param + "' must be " + range() + ", got " + DescribeJson(value),
                       param);
    }
    result = static_cast<int64_t>(d);
  } else {
    throw BadRequest("'" + param + "' must be " + range() + ", got " + DescribeJson(value), param);
  }
  if (result < min || result > max) {
    throw BadRequest("'" + param + "' must be " + range() + ", got " + std::to_string(result),
                     param);
  }
  return result;
}

std::optional<int64_t> FieldReader::Integer(const std::string& name, int64_t min, int64_t max) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  return JsonInteger(*value, PathOf(name), min, max);
}

void FieldReader::WarnUnknown() const {
  for (const auto& [name, value] : object_.items()) {
    // null is how clients spell "not given" (the Python client's None): nothing to say.
    if (!known_.count(name) && !value.is_null()) WarnIgnoredField(PathOf(name));
  }
}

void WarnIgnoredField(const std::string& path) {
  // Array indices are dropped ("messages[3].mood" -> "messages[].mood"), so that one
  // field name is one line whatever message it came in.
  std::string name;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '[') {
      name += "[]";
      i = path.find(']', i);
      if (i == std::string::npos) break;
    } else {
      name += path[i];
    }
  }
  constexpr size_t kMaxNames = 1024;  // a client inventing names cannot grow this forever
  constexpr size_t kMaxName = 100;
  if (name.size() > kMaxName) name = name.substr(0, kMaxName) + "...";
  static std::mutex mu;
  static std::set<std::string> warned;
  {
    std::lock_guard lock(mu);
    if (warned.size() >= kMaxNames || !warned.insert(name).second) return;
  }
  LANTERN_LOG(kWarning, "server") << "request field '" << EscapeControlCharacters(name)
                                  << "' is not supported and was ignored (said once per field)";
}

}  // namespace lantern::server
