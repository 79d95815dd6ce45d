#include "tokenizer/jinja.h"

#include <new>
#include <stdexcept>

#include "tokenizer/jinja_budget.h"
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

Result<std::string> Template::Render(const Dict& variables, const RenderBudget& budget) const {
  Scope globals(&GlobalFunctions());
  for (const auto& [name, value] : variables.entries()) globals.Set(name, value);
  std::string out;
  try {
    Evaluator::Render(program_->body, globals, budget, &out);
  } catch (const Error& e) {
    if (e.kind() == Error::Kind::kRaised) return InvalidArgument(e.what());
    if (e.kind() == Error::Kind::kBudget) {
      if (e.pos().line == 0) return ResourceExhausted(e.what());
      return ResourceExhausted(std::string(e.what()) + " at line " + std::to_string(e.pos().line) +
                               ", column " + std::to_string(e.pos().column));
    }
    return FailedPrecondition(Located("template error", e));
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while rendering the template");
  } catch (const std::length_error&) {
    return ResourceExhausted("a value too large for memory while rendering the template");
  }
  return out;
}

}  // namespace lantern::jinja
