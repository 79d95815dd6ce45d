// Llama 3.1 / 3.2 / 3.3 with JSON tools: the reply is the call itself, a JSON object whose
// arguments are named "parameters" (or "arguments"), maybe after <|python_tag|> (when special
// tokens are kept), several separated by ';':
//
//   {"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", ...}
//
// A reply that does not start with an object holding a name and arguments is plain content.
#include <optional>

#include "toolcall/parser_parts.h"
#include "toolcall/parsers.h"

namespace lantern::toolcall {
namespace {

constexpr std::string_view kPythonTag = "<|python_tag|>";

class Llama3JsonStream : public StreamBase {
 public:
  MessageDelta Finish() override {
    MessageDelta out;
    if (state_ == State::kStart) {
      out.content += unsent_;  // blank, or the start of the tag: text after all
    } else if (state_ == State::kCall) {
      if (calls_ == 0 && !reader_->started()) {
        out.content += unsent_;  // a JSON reply cut off before it named a function
        unsent_.clear();
      }
      Fail(out);
    }
    state_ = State::kFailed;
    return out;
  }

 private:
  enum class State { kStart, kCall, kAfter, kBetween, kTrailing, kFailed };

  void Byte(char c, MessageDelta& out) override {
    switch (state_) {
      case State::kFailed:
        out.content += c;
        return;
      case State::kStart:
        unsent_ += c;
        if (tag_ > 0 && tag_ < kPythonTag.size()) {
          if (c == kPythonTag[tag_]) {
            ++tag_;
            return;
          }
          return Plain(out);
        }
        if (IsJsonSpace(c)) return;
        if (tag_ == 0 && c == kPythonTag[0]) {
          tag_ = 1;
          return;
        }
        if (c == '{') return StartCall(c, out);
        return Plain(out);
      case State::kCall:
        return Call(c, out);
      case State::kAfter:
        if (IsJsonSpace(c)) return;
        if (c == ';') {
          state_ = State::kBetween;
          return;
        }
        state_ = State::kTrailing;
        sink_.AfterCall();
        sink_.Put(c, out.content);
        return;
      case State::kBetween:
        unsent_ += c;
        if (IsJsonSpace(c)) return;
        if (c == '{') return StartCall(c, out);
        Fail(out);
        state_ = State::kFailed;
        return;
      case State::kTrailing:
        sink_.Put(c, out.content);
        return;
    }
  }

  // Not a call after all: the reply is text.
  void Plain(MessageDelta& out) {
    out.content += unsent_;
    unsent_.clear();
    state_ = State::kFailed;  // reading as content from here on; not a failure
  }

  void StartCall(char c, MessageDelta& out) {
    reader_.emplace(calls_, &NewToolCallId);
    counted_ = false;
    state_ = State::kCall;
    unsent_.pop_back();  // Call() adds it again
    Call(c, out);
  }

  void Call(char c, MessageDelta& out) {
    if (!reader_->started()) unsent_ += c;
    auto status = reader_->Feed(c, out);
    if (reader_->started() && !counted_) {
      counted_ = true;
      ++calls_;
      unsent_.clear();
    }
    if (status == CallReader::Status::kComplete) {
      state_ = State::kAfter;
      return;
    }
    if (status == CallReader::Status::kReading) return;
    if (calls_ == 0 && status == CallReader::Status::kNotACall) return Plain(out);
    Fail(out);
    state_ = State::kFailed;
  }

  State state_ = State::kStart;
  size_t tag_ = 0;  // bytes of <|python_tag|> read
  std::optional<CallReader> reader_;
  bool counted_ = false;
  ContentSink sink_;
};

class Llama3JsonParser : public Parser {
 public:
  const std::string& name() const override {
    static const std::string kName = "llama3_json";
    return kName;
  }
  std::unique_ptr<StreamParser> NewStream() const override {
    return std::make_unique<Llama3JsonStream>();
  }
};

}  // namespace

std::unique_ptr<Parser> MakeLlama3JsonParser() { return std::make_unique<Llama3JsonParser>(); }

}  // namespace lantern::toolcall
