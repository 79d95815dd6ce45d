#include "tokenizer/jinja.h"

#include <new>

#include "tokenizer/jinja_eval.h"
#include "tokenizer/jinja_parser.h"

namespace lantern::jinja {

struct Template::Program {
  Body body;
};

namespace {

std::string Located(const char* what, const Error& e) {
  if (e.pos().line == 0) return std::string(what) + ": " + e.what();
  return std::string(what) + " at line " + std::to_string(e.pos().line) + ", column " +
         std::to_string(e.pos().column) + ": " + e.what();
}

}  // namespace

Result<Template> Template::Parse(std::string_view source, const LexOptions& options) {
  try {
    auto program = std::make_shared<Program>();
    program->body = ParseTemplate(Tokenize(source, options));
    return Template(std::move(program));
  } catch (const Error& e) {
    return InvalidArgument(Located("template syntax error", e));
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("template too large to parse");
  }
}

Result<std::string> Template::Render(const Dict& variables) const {
  Scope globals(&GlobalFunctions());
  for (const auto& [name, value] : variables.entries()) globals.Set(name, value);
  std::string out;
  try {
    Evaluator::Render(program_->body, globals, &out);
  } catch (const Error& e) {
    if (e.kind() == Error::Kind::kRaised) return InvalidArgument(e.what());
    return FailedPrecondition(Located("template error", e));
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while rendering the template");
  }
  return out;
}

}  // namespace lantern::jinja
