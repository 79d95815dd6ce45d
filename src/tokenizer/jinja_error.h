// The one exception type of the Jinja interpreter. It never leaves src/tokenizer: the public
// entry points (jinja.h, chat_template.h) turn it into a Status.
#pragma once

#include <stdexcept>
#include <string>

namespace lantern::jinja {

struct SourcePos {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
};

class Error : public std::runtime_error {
 public:
  enum class Kind {
    kSyntax,   // the template does not parse
    kRuntime,  // evaluation failed (type error, unknown filter, ...)
    kRaised,   // the template called raise_exception(message)
    kBudget,   // the render exceeded its RenderBudget (jinja_budget.h)
  };

  Error(Kind kind, const std::string& message, SourcePos pos = {})
      : std::runtime_error(message), kind_(kind), pos_(pos) {}

  Kind kind() const { return kind_; }
  const SourcePos& pos() const { return pos_; }
  void set_pos(SourcePos pos) { pos_ = pos; }

 private:
  Kind kind_;
  SourcePos pos_;
};

[[noreturn]] inline void ThrowRuntime(const std::string& message) {
  throw Error(Error::Kind::kRuntime, message);
}

}  // namespace lantern::jinja
