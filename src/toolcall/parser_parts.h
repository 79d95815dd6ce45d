// The pieces every format's reader is built from: a matcher for a marker that may arrive
// split across deltas, a content sink that drops the blank lines between calls, and a
// reader for one call object {"name": ..., "arguments": {...}}. Internal to toolcall/.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "toolcall/json_scanner.h"
#include "toolcall/tool_parser.h"

namespace lantern::toolcall {

using IdMaker = std::string (*)();

bool IsJsonSpace(char c);

// Appends to `out` the start of a call, or a fragment of the arguments of the call being
// written (merged into the previous fragment of the same call).
void AddCallStart(MessageDelta& out, int index, std::string id, std::string name);
void AddArguments(MessageDelta& out, int index, std::string_view text);
void Append(MessageDelta& out, MessageDelta&& more);

// Finds `marker` in text fed byte by byte, holding back the bytes that may be its start.
class MarkerMatcher {
 public:
  explicit MarkerMatcher(std::string_view marker) : marker_(marker) {}
  // True when `c` completed the marker. Bytes that turned out not to start it go to `released`.
  bool Feed(char c, std::string& released);
  // The bytes held back (at the end of the text, they were content after all).
  std::string TakeHeld() { return std::exchange(held_, {}); }

 private:
  std::string_view marker_;
  std::string held_;
};

// Content as the model wrote it, except whitespace right after a call, which is held back
// and dropped when another call or the end follows (models put newlines between calls).
class ContentSink {
 public:
  void Put(char c, std::string& content);
  void Put(std::string_view text, std::string& content) {
    for (char c : text) Put(c, content);
  }
  void AfterCall() { after_call_ = true; }
  void DropHeld() {
    held_.clear();
    after_call_ = false;
  }

 private:
  bool after_call_ = false;
  std::string held_;
};

// Reads one call object, from its '{', byte by byte. The call starts (id and name sent) once
// its name is read and its arguments have begun, in either order; argument bytes stream as
// they come. A string value for the arguments is sent unquoted once complete.
class CallReader {
 public:
  enum class Status { kReading, kComplete, kNotACall, kFailed };
  CallReader(int index, IdMaker make_id) : index_(index), make_id_(make_id) {}

  Status Feed(char c, MessageDelta& out);
  bool started() const { return started_; }
  // Every byte fed so far.
  const std::string& raw() const { return raw_; }

 private:
  enum class Member { kOther, kName, kArguments };
  void MaybeStart(MessageDelta& out);

  int index_;
  IdMaker make_id_;
  JsonScanner scanner_;
  std::string raw_;
  std::string key_;
  Member member_ = Member::kOther;
  std::string name_token_;
  std::string name_;
  bool have_name_ = false;
  bool arguments_seen_ = false;
  bool arguments_string_ = false;
  bool arguments_done_ = false;
  std::string arguments_token_;  // a string value, until it is complete
  std::string held_arguments_;   // argument text read before the name
  bool started_ = false;
};

// What the formats' streams share: byte-by-byte reading, the count of calls started, and the
// failure rule (the bytes not yet sent, and all that follows, become content).
class StreamBase : public StreamParser {
 public:
  MessageDelta Push(std::string_view text) final {
    MessageDelta out;
    for (char c : text) Byte(c, out);
    return out;
  }
  int calls() const final { return calls_; }
  bool failed() const final { return failed_; }

 protected:
  virtual void Byte(char c, MessageDelta& out) = 0;
  // Reading as content from here on (state kFailed in each format).
  void Fail(MessageDelta& out) {
    failed_ = true;
    out.content += unsent_;
    unsent_.clear();
  }
  int calls_ = 0;
  bool failed_ = false;
  // Bytes read since the last one that was sent, while no started call is being read.
  std::string unsent_;
};

}  // namespace lantern::toolcall
