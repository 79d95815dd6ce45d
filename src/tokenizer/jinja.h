// A Jinja template compiled once and rendered many times, concurrently if need be.
//
//   LANTERN_ASSIGN_OR_RETURN(jinja::Template t, jinja::Template::Parse(source));
//   jinja::Dict vars;
//   vars.Set("name", jinja::Value("world"));
//   LANTERN_ASSIGN_OR_RETURN(std::string text, t.Render(vars));
//
// Semantics follow Python Jinja2 as Hugging Face transformers configures it for chat templates
// (trim_blocks, lstrip_blocks, loop controls, raise_exception, strftime_now, its tojson).
//
// A template is a program, often from a stranger (a downloaded model, a request), so every
// render runs under a RenderBudget: it stops with an error, never hangs or exhausts memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tokenizer/jinja_lexer.h"
#include "tokenizer/jinja_value.h"

namespace lantern::jinja {

struct Node;

// Hard limits on one render. Each is a counter the interpreter decrements as it goes (never a
// clock), and exceeding one ends the render with kResourceExhausted
// "template exceeded its budget of N steps" (or output bytes, bytes allocated, loop iterations,
// levels of nesting), with the line and column where it ran out. The defaults are far above
// what real chat templates need for the largest requests the server accepts (a 16 MiB body),
// and stop a runaway template within a fraction of a second.
struct RenderBudget {
  // Statements executed and expressions evaluated; builtins that walk their operand (filters,
  // methods, `in`, comparisons, printing containers) add one per element, or per 64 bytes of a
  // string, so a loop over a scan of a large string costs what it does.
  int64_t max_steps = 10'000'000;
  // Bytes of rendered text, in the result and in any captured block or macro output.
  int64_t max_output_bytes = int64_t{64} << 20;
  // Bytes of strings and list elements the template creates, summed over the render (memory
  // freed along the way is not given back), checked before each large string is built: a
  // string doubled 64 times stops at this size, not at the machine's memory.
  int64_t max_allocated_bytes = int64_t{128} << 20;
  // Iterations of all for loops together (filtered-out items count).
  int64_t max_loop_iterations = 1'000'000;
  // Nesting of blocks, expressions and macro calls at any moment: bounds macro recursion and
  // the interpreter's use of the C++ stack.
  int max_depth = 1000;
};

class Template {
 public:
  // Errors: kInvalidArgument "template syntax error at line L, column C: ...".
  static Result<Template> Parse(std::string_view source, const LexOptions& options = {});

  // Renders with `variables` visible as globals. Errors:
  //   kInvalidArgument      the template called raise_exception(message); the message is
  //                         exactly the template's (a client error: HTTP 400);
  //   kFailedPrecondition   evaluation failed ("template error at line L, column C: ...");
  //   kResourceExhausted    the template exceeded `budget` ("template exceeded its budget of
  //                         10000000 steps at line L, column C"), or memory ran out.
  Result<std::string> Render(const Dict& variables, const RenderBudget& budget = {}) const;

 private:
  struct Program;
  explicit Template(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

  std::shared_ptr<const Program> program_;
};

}  // namespace lantern::jinja
