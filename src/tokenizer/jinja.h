// A Jinja template compiled once and rendered many times, concurrently if need be.
//
//   LANTERN_ASSIGN_OR_RETURN(jinja::Template t, jinja::Template::Parse(source));
//   jinja::Dict vars;
//   vars.Set("name", jinja::Value("world"));
//   LANTERN_ASSIGN_OR_RETURN(std::string text, t.Render(vars));
//
// Semantics follow Python Jinja2 as Hugging Face transformers configures it for chat templates
// (trim_blocks, lstrip_blocks, loop controls, raise_exception, strftime_now, its tojson).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tokenizer/jinja_lexer.h"
#include "tokenizer/jinja_value.h"

namespace lantern::jinja {

struct Node;

class Template {
 public:
  // Errors: kInvalidArgument "template syntax error at line L, column C: ...".
  static Result<Template> Parse(std::string_view source, const LexOptions& options = {});

  // Renders with `variables` visible as globals. Errors:
  //   kInvalidArgument      the template called raise_exception(message); the message is
  //                         exactly the template's (a client error: HTTP 400);
  //   kFailedPrecondition   evaluation failed ("template error at line L, column C: ...").
  Result<std::string> Render(const Dict& variables) const;

 private:
  struct Program;
  explicit Template(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

  std::shared_ptr<const Program> program_;
};

}  // namespace lantern::jinja
