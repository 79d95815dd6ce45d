// The chat template API the server calls: the variables it provides, its errors, template
// selection, and concurrent rendering of one compiled template.
#include "tokenizer/chat_template.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace lantern::tokenizer {
namespace {

using nlohmann::ordered_json;

// Shows how each variable reaches the template.
constexpr const char* kProbe =
    "{{ messages | length }}|{{ 'none' if tools is none else tools | length }}|"
    "{{ bos_token is defined }}|{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|"
    "{{ documents is none }}|{{ enable_thinking is defined }}";

ordered_json Messages() { return ordered_json::parse(R"([{"role": "user", "content": "hi"}])"); }

TEST(ChatTemplateTest, ProvidesTheVariablesTransformersProvides) {
  auto tmpl = CompiledChatTemplate::Compile(kProbe);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();
  ChatTemplateOptions options;
  auto out = tmpl->Render(Messages(), options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "1|none|False|||False|True|False");

  options.bos_token = "<s>";
  options.eos_token = "</s>";
  options.add_generation_prompt = true;
  options.tools = ordered_json::parse(R"([{"type": "function"}])");
  options.extra_context = {{"enable_thinking", false}};
  out = tmpl->Render(Messages(), options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "1|1|True|<s>|</s>|True|True|True");
}

TEST(ChatTemplateTest, ExtraContextOverridesDefaults) {
  ChatTemplateOptions options;
  options.add_generation_prompt = false;
  options.extra_context = {{"add_generation_prompt", "custom"}};
  auto out = RenderChatTemplate("{{ add_generation_prompt }}", Messages(), options);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "custom");
}

TEST(ChatTemplateTest, ContentPartsAndToolCallsReachTheTemplate) {
  auto messages = ordered_json::parse(R"([
    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"},
                                 {"type": "text", "text": "b"}]},
    {"role": "assistant", "content": null,
     "tool_calls": [{"function": {"name": "f", "arguments": {"z": 1, "a": "é"}}}]}])");
  const char* source =
      "{% for m in messages %}{% if m.content is string %}{{ m.content }}"
      "{% elif m.content is none %}{% for c in m.tool_calls %}{{ c.function.name }}"
      "{{ c.function.arguments | tojson }}{% endfor %}"
      "{% else %}{{ m.content | selectattr('type', 'equalto', 'text') | map(attribute='text') "
      "| join('+') }}{% endif %};{% endfor %}";
  auto out = RenderChatTemplate(source, messages, {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "a+b;f{\"z\": 1, \"a\": \"é\"};");  // client key order is kept
}

TEST(ChatTemplateTest, ErrorsCarryTheirKind) {
  EXPECT_EQ(CompiledChatTemplate::Compile("{% if %}").status().code(),
            StatusCode::kInvalidArgument);
  auto raised = RenderChatTemplate(
      "{% if messages[0].role != 'system' %}{{ raise_exception('need a system prompt') }}"
      "{% endif %}",
      Messages(), {});
  EXPECT_EQ(raised.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(raised.status().message(), "need a system prompt");
  auto failed = RenderChatTemplate("{{ messages[0].content + 1 }}", Messages(), {});
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(RenderChatTemplate("x", ordered_json::object(), {}).status().code(),
            StatusCode::kInvalidArgument);
  ChatTemplateOptions bad_tools;
  bad_tools.tools = "not a list";
  EXPECT_EQ(RenderChatTemplate("x", Messages(), bad_tools).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ChatTemplateTest, SelectsNamedTemplatesLikeTransformers) {
  std::vector<std::string> names = {"default", "tool_use", "rag"};
  EXPECT_EQ(*SelectChatTemplate(names, "", false), 0u);
  EXPECT_EQ(*SelectChatTemplate(names, "", true), 1u);
  EXPECT_EQ(*SelectChatTemplate(names, "rag", true), 2u);
  EXPECT_EQ(*SelectChatTemplate({"only"}, "", false), 0u);
  auto missing = SelectChatTemplate(names, "nope", false);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("default, tool_use, rag"), std::string::npos);
  EXPECT_FALSE(SelectChatTemplate({}, "", false).ok());
}

TEST(ChatTemplateTest, OneCompiledTemplateRendersConcurrently) {
  auto tmpl = CompiledChatTemplate::Compile(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
      "{{ m.role }}:{{ m.content }};{% endfor %}{{ ns.n }}");
  ASSERT_TRUE(tmpl.ok());
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      ordered_json messages = ordered_json::array();
      for (size_t i = 0; i <= t; ++i) {
        messages.push_back({{"role", "user"}, {"content", std::to_string(t)}});
      }
      for (int rep = 0; rep < 200; ++rep) {
        auto out = tmpl->Render(messages, {});
        if (!out.ok() || (rep > 0 && *out != results[t])) {
          results[t] = "inconsistent";
          return;
        }
        results[t] = *out;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < results.size(); ++t) {
    std::string expected;
    for (size_t i = 0; i <= t; ++i) expected += "user:" + std::to_string(t) + ";";
    EXPECT_EQ(results[t], expected + std::to_string(t + 1));
  }
}

}  // namespace
}  // namespace lantern::tokenizer
