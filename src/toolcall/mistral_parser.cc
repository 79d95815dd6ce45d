// Mistral: after any text, the [TOOL_CALLS] control token and either a JSON list of calls
// (Mistral 7B v0.3, Nemo, Small up to 3.1: tokenizers before v11)
//
//   [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}, {...}]
//
// or, from tokenizer v11 on (Small 3.2, Magistral, Devstral), one call per token, the name
// bare and the arguments after [ARGS] (and, in v13, an id after [CALL_ID]):
//
//   [TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{}
//
// The same reader serves tool_choice "required", whose grammar forces the list form,
// [{"name": ..., "parameters": {...}}], with no token before it.
#include <optional>

#include "toolcall/parser_parts.h"
#include "toolcall/parsers.h"

namespace lantern::toolcall {
namespace {

constexpr std::string_view kToolCalls = "[TOOL_CALLS]";
constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxTagBytes = 16;

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

class MistralStream : public StreamBase {
 public:
  // `list_only`: the text is a list of calls from its first byte (tool_choice "required").
  MistralStream(bool list_only, IdMaker make_id) : list_only_(list_only), make_id_(make_id) {
    if (list_only_) state_ = State::kListStart;
  }

  MessageDelta Finish() override {
    MessageDelta out;
    if (state_ == State::kContent) {
      sink_.Put(marker_.TakeHeld(), out.content);
    } else if (state_ != State::kFailed) {
      Fail(out);  // cut off inside a call or a list
    }
    state_ = State::kFailed;
    return out;
  }

 private:
  enum class State {
    kContent,
    kAfterMarker,
    kListStart,  // "required": blanks, then '['
    kListOpen,   // after '[': a call or ']'
    kListItem,   // after ',': a call
    kListNext,   // after a call: ',' or ']'
    kCall,       // a call object
    kName,
    kNameEnd,
    kTag,
    kCallId,
    kArguments,
    kFailed,
  };

  void Byte(char c, MessageDelta& out) override {
    if (state_ == State::kFailed) {
      out.content += c;
      return;
    }
    if (state_ == State::kContent) {
      std::string released;
      bool hit = marker_.Feed(c, released);
      sink_.Put(released, out.content);
      if (hit) {
        sink_.DropHeld();
        unsent_ = kToolCalls;
        state_ = State::kAfterMarker;
      }
      return;
    }
    if (state_ == State::kCall) return Call(c, out);
    if (state_ == State::kArguments) return Arguments(c, out);
    unsent_ += c;
    switch (state_) {
      case State::kAfterMarker:
        if (IsJsonSpace(c)) return;
        if (c == '[') return Go(State::kListOpen);
        if (c == '{') return StartCall(c, false, out);
        if (IsNameByte(c)) {
          name_.assign(1, c);
          return Go(State::kName);
        }
        break;
      case State::kListStart:
        if (IsJsonSpace(c)) return;
        if (c == '[') return Go(State::kListOpen);
        break;
      case State::kListOpen:
      case State::kListItem:
        if (IsJsonSpace(c)) return;
        if (c == '{') return StartCall(c, true, out);
        if (c == ']' && state_ == State::kListOpen) return EndCalls();
        break;
      case State::kListNext:
        if (IsJsonSpace(c)) return;
        if (c == ',') return Go(State::kListItem);
        if (c == ']') return EndCalls();
        break;
      case State::kName:
        if (IsNameByte(c) && name_.size() < kMaxNameBytes) {
          name_ += c;
          return;
        }
        [[fallthrough]];
      case State::kNameEnd:
        if (IsJsonSpace(c)) return Go(State::kNameEnd);
        if (c == '{') return StartArguments(c, out);
        if (c == '[') {
          tag_.assign(1, c);
          return Go(State::kTag);
        }
        break;
      case State::kTag:
        if (tag_.size() >= kMaxTagBytes) break;
        tag_ += c;
        if (c != ']') return;
        if (tag_ == "[ARGS]") return Go(State::kNameEnd);
        if (tag_ == "[CALL_ID]") {
          call_id_bytes_ = 0;
          return Go(State::kCallId);
        }
        break;
      case State::kCallId:
        if (c == '[') {
          tag_.assign(1, c);
          return Go(State::kTag);
        }
        if (IsNameByte(c) && ++call_id_bytes_ <= kMaxNameBytes) return;
        break;
      default:
        break;
    }
    FailHere(out);
  }

  void Go(State state) { state_ = state; }

  void EndCalls() {
    unsent_.clear();
    sink_.AfterCall();
    state_ = State::kContent;
  }

  void StartCall(char c, bool in_list, MessageDelta& out) {
    in_list_ = in_list;
    reader_.emplace(calls_, make_id_);
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
      if (in_list_) {
        state_ = State::kListNext;
      } else {
        EndCalls();
      }
    } else if (status != CallReader::Status::kReading) {
      FailHere(out);
    }
  }

  // v11: the call starts with its arguments' first byte.
  void StartArguments(char c, MessageDelta& out) {
    unsent_.clear();
    AddCallStart(out, calls_, make_id_(), std::move(name_));
    name_.clear();
    ++calls_;
    scanner_ = JsonScanner();
    state_ = State::kArguments;
    Arguments(c, out);
  }

  void Arguments(char c, MessageDelta& out) {
    JsonScanner::Step step = scanner_.Feed(c);
    if (step.error) return FailHere(out);
    AddArguments(out, calls_ - 1, std::string_view(&c, 1));
    if (step.done) EndCalls();
  }

  void FailHere(MessageDelta& out) {
    Fail(out);
    state_ = State::kFailed;
  }

  bool list_only_;
  IdMaker make_id_;
  State state_ = State::kContent;
  MarkerMatcher marker_{kToolCalls};
  ContentSink sink_;
  std::optional<CallReader> reader_;
  bool counted_ = false;
  bool in_list_ = false;
  std::string name_;
  std::string tag_;
  size_t call_id_bytes_ = 0;
  JsonScanner scanner_;
};

class MistralParser : public Parser {
 public:
  MistralParser(std::string name, bool list_only, IdMaker make_id)
      : name_(std::move(name)), list_only_(list_only), make_id_(make_id) {}
  const std::string& name() const override { return name_; }
  std::unique_ptr<StreamParser> NewStream() const override {
    return std::make_unique<MistralStream>(list_only_, make_id_);
  }
  bool needs_special_tokens() const override { return !list_only_; }

 private:
  std::string name_;
  bool list_only_;
  IdMaker make_id_;
};

}  // namespace

std::unique_ptr<Parser> MakeMistralParser() {
  return std::make_unique<MistralParser>("mistral", false, &NewMistralToolCallId);
}

std::unique_ptr<Parser> MakeRequiredParser(bool mistral_ids) {
  return std::make_unique<MistralParser>(
      "required", true, mistral_ids ? &NewMistralToolCallId : &NewToolCallId);
}

}  // namespace lantern::toolcall
