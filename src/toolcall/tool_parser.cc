#include "toolcall/tool_parser.h"

#include <cstdio>
#include <random>

#include "toolcall/parser_parts.h"
#include "toolcall/parsers.h"

namespace lantern::toolcall {
namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// tool_choice naming a function: every byte is its arguments.
class NamedStream : public StreamParser {
 public:
  NamedStream(std::string name, IdMaker make_id) : name_(std::move(name)), make_id_(make_id) {}
  MessageDelta Push(std::string_view text) override {
    MessageDelta out;
    if (text.empty()) return out;
    Start(out);
    AddArguments(out, 0, text);
    return out;
  }
  MessageDelta Finish() override {
    MessageDelta out;
    Start(out);  // an empty reply is still the call that was asked for
    return out;
  }
  int calls() const override { return started_ ? 1 : 0; }
  bool failed() const override { return false; }

 private:
  void Start(MessageDelta& out) {
    if (started_) return;
    started_ = true;
    AddCallStart(out, 0, make_id_(), name_);
  }
  std::string name_;
  IdMaker make_id_;
  bool started_ = false;
};

class NamedParser : public Parser {
 public:
  NamedParser(std::string function, IdMaker make_id)
      : function_(std::move(function)), make_id_(make_id) {}
  const std::string& name() const override {
    static const std::string kName = "named";
    return kName;
  }
  std::unique_ptr<StreamParser> NewStream() const override {
    return std::make_unique<NamedStream>(function_, make_id_);
  }

 private:
  std::string function_;
  IdMaker make_id_;
};

}  // namespace

ParsedMessage Parser::Extract(std::string_view text) const {
  auto stream = NewStream();
  MessageDelta all = stream->Push(text);
  Append(all, stream->Finish());
  ParsedMessage message;
  if (stream->failed()) {
    message.content = std::string(text);
    return message;
  }
  for (auto& piece : all.calls) {
    if (piece.first) {
      message.calls.push_back(ToolCall{std::move(piece.id), std::move(piece.name), {}});
    }
    if (!message.calls.empty()) message.calls.back().arguments += piece.arguments;
  }
  if (message.calls.empty() || !all.content.empty()) message.content = std::move(all.content);
  return message;
}

const std::vector<std::string>& ParserNames() {
  static const std::vector<std::string> kNames = {"hermes", "llama3_json", "mistral"};
  return kNames;
}

Result<std::unique_ptr<Parser>> MakeParser(const std::string& name) {
  if (name == "hermes") return MakeHermesParser();
  if (name == "llama3_json") return MakeLlama3JsonParser();
  if (name == "mistral") return MakeMistralParser();
  std::string known;
  for (const auto& n : ParserNames()) known += (known.empty() ? "" : ", ") + n;
  return InvalidArgument("unknown tool-call parser '" + name + "'; this server has: " + known);
}

std::string NewToolCallId() {
  char hex[33];
  auto& rng = Rng();
  uint64_t a = rng(), b = rng();
  std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return std::string("chatcmpl-tool-") + hex;
}

std::string NewMistralToolCallId() {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 2);
  std::string id(9, 'a');
  for (char& c : id) c = kAlphabet[pick(Rng())];
  return id;
}

std::unique_ptr<Parser> MakeNamedParser(std::string function_name, bool mistral_ids) {
  return std::make_unique<NamedParser>(std::move(function_name),
                                       mistral_ids ? &NewMistralToolCallId : &NewToolCallId);
}

}  // namespace lantern::toolcall
