// Hermes 2 Pro / Qwen 2.5 / Qwen 3: each call is a JSON object between tags, usually on
// lines of their own, after any text the model wrote first:
//
//   I'll look that up.<tool_call>
//   {"name": "get_weather", "arguments": {"city": "Paris"}}
//   </tool_call>
//   <tool_call>
//   {"name": "get_time", "arguments": {}}
//   </tool_call>
//
// A closing tag missing at the very end is tolerated (as vLLM's regex does).
#include <optional>

#include "toolcall/parser_parts.h"
#include "toolcall/parsers.h"

namespace lantern::toolcall {
namespace {

constexpr std::string_view kOpenTag = "<tool_call>";
constexpr std::string_view kCloseTag = "</tool_call>";

class HermesStream : public StreamBase {
 public:
  MessageDelta Finish() override {
    MessageDelta out;
    if (state_ == State::kContent) {
      sink_.Put(open_.TakeHeld(), out.content);
    } else if (state_ == State::kOpen || state_ == State::kCall) {
      Fail(out);  // cut off inside a call
    }
    state_ = State::kFailed;
    return out;
  }

 private:
  enum class State { kContent, kOpen, kCall, kClose, kFailed };

  void Byte(char c, MessageDelta& out) override {
    switch (state_) {
      case State::kFailed:
        out.content += c;
        return;
      case State::kContent: {
        std::string released;
        bool hit = open_.Feed(c, released);
        sink_.Put(released, out.content);
        if (hit) {
          sink_.DropHeld();
          unsent_ = kOpenTag;
          state_ = State::kOpen;
        }
        return;
      }
      case State::kOpen:
        unsent_ += c;
        if (IsJsonSpace(c)) return;
        if (c != '{') return FailHere(out);
        reader_.emplace(calls_, &NewToolCallId);
        counted_ = false;
        state_ = State::kCall;
        unsent_.pop_back();  // Call() adds it again
        return Call(c, out);
      case State::kCall:
        return Call(c, out);
      case State::kClose:
        unsent_ += c;
        if (closed_ == 0 && IsJsonSpace(c)) return;
        if (c != kCloseTag[closed_]) return FailHere(out);
        if (++closed_ == kCloseTag.size()) {
          unsent_.clear();
          sink_.AfterCall();
          state_ = State::kContent;
        }
        return;
    }
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
      closed_ = 0;
      state_ = State::kClose;
    } else if (status != CallReader::Status::kReading) {
      FailHere(out);
    }
  }

  void FailHere(MessageDelta& out) {
    Fail(out);
    state_ = State::kFailed;
  }

  State state_ = State::kContent;
  MarkerMatcher open_{kOpenTag};
  ContentSink sink_;
  std::optional<CallReader> reader_;
  bool counted_ = false;  // the current call is in calls_
  size_t closed_ = 0;     // bytes of the closing tag read
};

class HermesParser : public Parser {
 public:
  const std::string& name() const override {
    static const std::string kName = "hermes";
    return kName;
  }
  std::unique_ptr<StreamParser> NewStream() const override {
    return std::make_unique<HermesStream>();
  }
};

}  // namespace

std::unique_ptr<Parser> MakeHermesParser() { return std::make_unique<HermesParser>(); }

}  // namespace lantern::toolcall
