// An incremental JSON validator fed one byte at a time, for reading a tool call as the model
// writes it: it says for each byte whether the object or array is still well formed, and
// where the members of the top-level object lie (keys and values at depth 1), so that a
// call's name can be read and its arguments streamed before the object is closed.
// Internal to toolcall/.
#pragma once

#include <cstdint>
#include <string>

namespace lantern::toolcall {

class JsonScanner {
 public:
  // Nesting beyond `max_depth` is an error: a model (or a hostile prompt steering it) cannot
  // make the reader's stack grow without bound.
  explicit JsonScanner(int max_depth = 128) : max_depth_(max_depth) {}

  // Where a byte lies relative to the top-level object's members.
  enum class Role : uint8_t {
    kStructure,  // whitespace, braces, commas and colons of the top-level container
    kKey,        // a byte of a member key at depth 1, its quotes included
    kValue,      // a byte of a member value at depth 1 (nested structure included)
  };
  struct Step {
    bool error = false;
    bool done = false;       // this byte closed the top-level container
    Role role = Role::kStructure;
    bool value_end = false;  // this byte was the last of a depth-1 value (or key, for kKey)
    // A depth-1 number ended just before this byte (numbers end at the byte after them).
    bool number_ended_before = false;
  };

  // The top level must be an object or an array; bytes after it are errors.
  Step Feed(char c);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State : uint8_t {
    kStart,
    kValue,         // a value is expected
    kKeyOrClose,    // after '{'
    kKey,           // after ',' in an object
    kColon,
    kAfterValue,    // ',' or a closing bracket
    kValueOrClose,  // after '['
    kString,
    kEscape,
    kUnicode,
    kNumber,
    kLiteral,
    kDone,
    kError,
  };
  enum class Num : uint8_t { kMinus, kZero, kInt, kDot, kFrac, kE, kESign, kExp };

  Step Fail();
  Step Dispatch(char c, Step step);
  Step StartValue(char c, Step step);
  bool NumberByte(char c);
  bool NumberComplete() const;

  int max_depth_;
  State state_ = State::kStart;
  std::string stack_;  // '{' or '[' per open container
  bool string_is_key_ = false;
  int unicode_left_ = 0;
  Num num_ = Num::kInt;
  const char* literal_rest_ = nullptr;
  int scalar_depth_ = 0;  // containers around the scalar being read
};

}  // namespace lantern::toolcall
