#include "toolcall/json_scanner.h"

namespace lantern::toolcall {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

JsonScanner::Step JsonScanner::Fail() {
  state_ = State::kError;
  Step step;
  step.error = true;
  return step;
}

JsonScanner::Step JsonScanner::Feed(char c) {
  Step step;
  auto scalar_role = [&] {
    if (scalar_depth_ != 1) return Role::kValue;
    return string_is_key_ ? Role::kKey : Role::kValue;
  };
  switch (state_) {
    case State::kError:
    case State::kDone:
      return Fail();
    case State::kString:
      step.role = scalar_role();
      if (c == '"') {
        state_ = string_is_key_ ? State::kColon : State::kAfterValue;
        step.value_end = scalar_depth_ == 1;
      } else if (c == '\\') {
        state_ = State::kEscape;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return Fail();
      }
      return step;
    case State::kEscape:
      step.role = scalar_role();
      if (c == 'u') {
        state_ = State::kUnicode;
        unicode_left_ = 4;
      } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                 c == 'r' || c == 't') {
        state_ = State::kString;
      } else {
        return Fail();
      }
      return step;
    case State::kUnicode:
      if (!IsHex(c)) return Fail();
      step.role = scalar_role();
      if (--unicode_left_ == 0) state_ = State::kString;
      return step;
    case State::kNumber:
      if (NumberByte(c)) {
        step.role = scalar_role();
        return step;
      }
      if (!NumberComplete()) return Fail();
      step.number_ended_before = scalar_depth_ == 1;
      state_ = State::kAfterValue;
      return Dispatch(c, step);
    case State::kLiteral:
      if (c != *literal_rest_) return Fail();
      step.role = scalar_role();
      if (*++literal_rest_ == '\0') {
        state_ = State::kAfterValue;
        step.value_end = scalar_depth_ == 1;
      }
      return step;
    default:
      return Dispatch(c, step);
  }
}

JsonScanner::Step JsonScanner::Dispatch(char c, Step step) {
  if (IsSpace(c)) {
    step.role = stack_.size() >= 2 ? Role::kValue : Role::kStructure;
    return step;
  }
  auto close = [&](char open) -> Step {
    if (stack_.empty() || stack_.back() != open) return Fail();
    step.role = stack_.size() >= 2 ? Role::kValue : Role::kStructure;
    step.value_end = stack_.size() == 2;
    stack_.pop_back();
    if (stack_.empty()) {
      state_ = State::kDone;
      step.done = true;
    } else {
      state_ = State::kAfterValue;
    }
    return step;
  };
  auto start_key = [&]() -> Step {
    string_is_key_ = true;
    scalar_depth_ = static_cast<int>(stack_.size());
    state_ = State::kString;
    step.role = scalar_depth_ == 1 ? Role::kKey : Role::kValue;
    return step;
  };
  switch (state_) {
    case State::kStart:
      if (c != '{' && c != '[') return Fail();
      stack_.push_back(c);
      state_ = c == '{' ? State::kKeyOrClose : State::kValueOrClose;
      return step;
    case State::kValue:
      return StartValue(c, step);
    case State::kValueOrClose:
      if (c == ']') return close('[');
      return StartValue(c, step);
    case State::kKeyOrClose:
      if (c == '}') return close('{');
      if (c == '"') return start_key();
      return Fail();
    case State::kKey:
      if (c == '"') return start_key();
      return Fail();
    case State::kColon:
      if (c != ':') return Fail();
      step.role = stack_.size() >= 2 ? Role::kValue : Role::kStructure;
      state_ = State::kValue;
      return step;
    case State::kAfterValue:
      if (c == ',') {
        step.role = stack_.size() >= 2 ? Role::kValue : Role::kStructure;
        state_ = stack_.back() == '{' ? State::kKey : State::kValue;
        return step;
      }
      if (c == '}') return close('{');
      if (c == ']') return close('[');
      return Fail();
    default:
      return Fail();
  }
}

JsonScanner::Step JsonScanner::StartValue(char c, Step step) {
  // Every value lies inside the top-level container: at depth 1 it is a member's value.
  step.role = Role::kValue;
  scalar_depth_ = static_cast<int>(stack_.size());
  string_is_key_ = false;
  if (c == '{' || c == '[') {
    if (static_cast<int>(stack_.size()) >= max_depth_) return Fail();
    stack_.push_back(c);
    state_ = c == '{' ? State::kKeyOrClose : State::kValueOrClose;
  } else if (c == '"') {
    state_ = State::kString;
  } else if (c == '-' || IsDigit(c)) {
    num_ = c == '-' ? Num::kMinus : c == '0' ? Num::kZero : Num::kInt;
    state_ = State::kNumber;
  } else if (c == 't') {
    literal_rest_ = "rue";
    state_ = State::kLiteral;
  } else if (c == 'f') {
    literal_rest_ = "alse";
    state_ = State::kLiteral;
  } else if (c == 'n') {
    literal_rest_ = "ull";
    state_ = State::kLiteral;
  } else {
    return Fail();
  }
  return step;
}

bool JsonScanner::NumberByte(char c) {
  bool digit = IsDigit(c);
  bool exp = c == 'e' || c == 'E';
  switch (num_) {
    case Num::kMinus:
      if (c == '0') return num_ = Num::kZero, true;
      if (digit) return num_ = Num::kInt, true;
      return false;
    case Num::kZero:
      if (c == '.') return num_ = Num::kDot, true;
      if (exp) return num_ = Num::kE, true;
      return false;
    case Num::kInt:
      if (digit) return true;
      if (c == '.') return num_ = Num::kDot, true;
      if (exp) return num_ = Num::kE, true;
      return false;
    case Num::kDot:
      if (digit) return num_ = Num::kFrac, true;
      return false;
    case Num::kFrac:
      if (digit) return true;
      if (exp) return num_ = Num::kE, true;
      return false;
    case Num::kE:
      if (c == '+' || c == '-') return num_ = Num::kESign, true;
      if (digit) return num_ = Num::kExp, true;
      return false;
    case Num::kESign:
      if (digit) return num_ = Num::kExp, true;
      return false;
    case Num::kExp:
      return digit;
  }
  return false;
}

bool JsonScanner::NumberComplete() const {
  return num_ == Num::kZero || num_ == Num::kInt || num_ == Num::kFrac || num_ == Num::kExp;
}

}  // namespace lantern::toolcall
