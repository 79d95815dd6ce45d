#include <gtest/gtest.h>

#include <string>

#include "server/api_error.h"
#include "server/openai_protocol.h"

namespace lantern::server {
namespace {

// Runs `parse` on `body` and returns the ApiError it throws (or fails the test).
template <typename F>
ApiError ErrorOf(F parse, const std::string& body) {
  try {
    parse(body);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << body;
  return ApiError(0, "");
}

ApiError CompletionError(const std::string& body) {
  return ErrorOf([](const std::string& b) { ParseCompletionRequest(b); }, body);
}
ApiError ChatError(const std::string& body) {
  return ErrorOf([](const std::string& b) { ParseChatRequest(b); }, body);
}

TEST(CompletionRequestTest, PromptForms) {
  auto one = ParseCompletionRequest(R"({"prompt": "hi"})");
  ASSERT_EQ(one.prompts.size(), 1u);
  EXPECT_FALSE(one.prompts[0].is_tokens);
  EXPECT_EQ(one.prompts[0].text, "hi");
  EXPECT_EQ(one.params.max_tokens, 16);  // OpenAI's default for completions

  auto many = ParseCompletionRequest(R"({"prompt": ["a", "b", "c"]})");
  EXPECT_EQ(many.prompts.size(), 3u);

  auto ids = ParseCompletionRequest(R"({"prompt": [1, 2, 3]})");
  ASSERT_EQ(ids.prompts.size(), 1u);
  EXPECT_TRUE(ids.prompts[0].is_tokens);
  EXPECT_EQ(ids.prompts[0].token_ids, (std::vector<int32_t>{1, 2, 3}));

  auto lists = ParseCompletionRequest(R"({"prompt": [[1, 2], [3]]})");
  ASSERT_EQ(lists.prompts.size(), 2u);
  EXPECT_EQ(lists.prompts[1].token_ids, (std::vector<int32_t>{3}));
}

TEST(CompletionRequestTest, SamplingFieldsLandInParams) {
  auto r = ParseCompletionRequest(
      R"({"prompt": "x", "temperature": 0, "top_p": 0.5, "top_k": 7, "min_p": 0.1,
          "presence_penalty": 0.5, "frequency_penalty": -0.5, "repetition_penalty": 1.2,
          "seed": 42, "stop": ["a", "b"], "stop_token_ids": [5], "ignore_eos": true,
          "min_tokens": 2, "max_tokens": 9, "skip_special_tokens": false,
          "include_stop_str_in_output": true, "n": 3, "best_of": 3, "logprobs": 2,
          "echo": true, "stream": true, "stream_options": {"include_usage": true},
          "logit_bias": {"17": -100}, "user": "u"})");
  const auto& p = r.params;
  EXPECT_EQ(p.temperature, 0);
  EXPECT_EQ(p.top_p, 0.5);
  EXPECT_EQ(p.top_k, 7);
  EXPECT_EQ(p.min_p, 0.1);
  EXPECT_EQ(p.presence_penalty, 0.5);
  EXPECT_EQ(p.frequency_penalty, -0.5);
  EXPECT_EQ(p.repetition_penalty, 1.2);
  EXPECT_EQ(p.seed, 42u);
  EXPECT_EQ(p.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.stop_token_ids, (std::vector<int32_t>{5}));
  EXPECT_TRUE(p.ignore_eos);
  EXPECT_EQ(p.min_tokens, 2);
  EXPECT_EQ(p.max_tokens, 9);
  EXPECT_FALSE(p.skip_special_tokens);
  EXPECT_TRUE(p.include_stop_str_in_output);
  EXPECT_EQ(p.n, 3);
  EXPECT_EQ(p.logprobs, 2);
  EXPECT_EQ(p.logit_bias.at(17), -100);
  EXPECT_TRUE(r.echo);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.stream_options.include_usage);
}

TEST(CompletionRequestTest, NullMaxTokensMeansUpToTheContext) {
  EXPECT_FALSE(ParseCompletionRequest(R"({"prompt": "x", "max_tokens": null})").params.max_tokens);
}

TEST(CompletionRequestTest, EchoWithZeroMaxTokensScoresThePrompt) {
  auto r =
      ParseCompletionRequest(R"({"prompt": "x", "echo": true, "max_tokens": 0, "logprobs": 1})");
  EXPECT_TRUE(r.score_prompt_only);
  EXPECT_EQ(r.params.max_tokens, 1);  // the engine's one token, dropped from the answer
  EXPECT_FALSE(ParseCompletionRequest(R"({"prompt": "x", "echo": true, "max_tokens": 1})")
                   .score_prompt_only);
  ApiError e =
      CompletionError(R"({"prompt": "x", "echo": true, "max_tokens": 0, "min_tokens": 1})");
  EXPECT_EQ(e.param(), "min_tokens") << e.what();
}

TEST(CompletionRequestTest, DefaultsComeFromGenerationConfig) {
  engine::SamplingParams defaults;
  defaults.temperature = 0.3;
  defaults.top_k = 5;
  auto r = ParseCompletionRequest(R"({"prompt": "x", "top_k": 9})", defaults);
  EXPECT_EQ(r.params.temperature, 0.3);
  EXPECT_EQ(r.params.top_k, 9);
}

struct BadCase {
  const char* body;
  const char* param;       // expected "param" of the error
  const char* in_message;  // a fragment the message must contain
};

class CompletionRejects : public testing::TestWithParam<BadCase> {};

TEST_P(CompletionRejects, WithA400NamingTheField) {
  const BadCase& c = GetParam();
  ApiError e = CompletionError(c.body);
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.param(), c.param) << e.what();
  EXPECT_NE(std::string(e.what()).find(c.in_message), std::string::npos) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    Table, CompletionRejects,
    testing::Values(
        BadCase{R"({"prompt": "x",})", "", "not valid JSON"},
        BadCase{R"([1, 2])", "", "must be a JSON object"},
        BadCase{R"({})", "prompt", "'prompt' is required"},
        BadCase{R"({"prompt": 5})", "prompt", "must be a string"},
        BadCase{R"({"prompt": []})", "prompt", "must not be an empty list"},
        BadCase{R"({"prompt": ["a", 1]})", "prompt", "prompt[1]"},
        BadCase{R"({"prompt": [1, -2]})", "prompt[1]", "[0, 2147483647]"},
        BadCase{R"({"prompt": [[1], []]})", "prompt", "prompt[1]"},
        BadCase{R"({"prompt": [1.5]})", "prompt[0]", "integer"},
        BadCase{R"({"prompt": "x", "temperature": "hot"})", "temperature", "must be a number"},
        BadCase{R"({"prompt": "x", "max_tokens": 0})", "max_tokens", "[1, "},
        BadCase{R"({"prompt": "x", "echo": false, "max_tokens": 0})", "max_tokens",
                "only with 'echo'"},
        BadCase{R"({"prompt": "x", "max_tokens": 2.5})", "max_tokens", "integer"},
        BadCase{R"({"prompt": "x", "n": 0})", "n", "[1, 128]"},
        BadCase{R"({"prompt": "x", "n": 2, "best_of": 3})", "best_of", "not supported"},
        BadCase{R"({"prompt": "x", "n": 3, "best_of": 2})", "best_of", "at least 'n'"},
        BadCase{R"({"prompt": "x", "suffix": "s"})", "suffix", "not supported"},
        BadCase{R"({"prompt": "x", "logprobs": 21})", "logprobs", "[0, 20]"},
        BadCase{R"({"prompt": "x", "stream": "yes"})", "stream", "boolean"},
        BadCase{R"({"prompt": "x", "stream_options": {"include_usage": true}})", "stream_options",
                "only be set when 'stream' is true"},
        BadCase{R"({"prompt": "x", "stop": [""]})", "stop", "must not be empty"},
        BadCase{R"({"prompt": "x", "stop": 3})", "stop", "string or a list"},
        BadCase{R"({"prompt": "x", "stop_token_ids": "a"})", "stop_token_ids", "list"},
        BadCase{R"({"prompt": "x", "logit_bias": {"a": 1}})", "logit_bias", "token ids"},
        BadCase{R"({"prompt": "x", "seed": "s"})", "seed", "integer"},
        BadCase{R"({"prompt": "x", "top_k": -2})", "top_k", "[-1, "},
        BadCase{R"({"prompt": "x", "model": 7})", "model", "must be a string"},
        BadCase{R"({"prompt": "x", "response_format": {"type": "xml"}})", "response_format",
                "not supported"},
        BadCase{R"({"prompt": "x", "response_format": "json"})", "response_format",
                "string 'type'"},
        BadCase{R"({"prompt": "x", "guided_json": 5})", "guided_json", "JSON Schema"},
        BadCase{R"({"prompt": "x", "guided_choice": "a"})", "guided_choice", "list of strings"},
        BadCase{R"({"prompt": "x", "use_beam_search": true})", "use_beam_search", "beam search"},
        BadCase{R"({"prompt": "x", "allowed_token_ids": [1, 2]})", "allowed_token_ids",
                "not supported"},
        BadCase{R"({"prompt": "x", "modalities": ["text", "audio"]})", "modalities", "text"},
        BadCase{R"({"prompt": "x", "stream": true, "prompt_logprobs": 1})", "prompt_logprobs",
                "not available when 'stream'"},
        BadCase{R"({"prompt": "x", "truncate_prompt_tokens": 0})", "truncate_prompt_tokens",
                "at least 1"},
        BadCase{R"({"prompt": "x", "truncate_prompt_tokens": -2})", "truncate_prompt_tokens",
                "[-1, "}));

TEST(CompletionRequestTest, NullsAndHarmlessExtrasAreAccepted) {
  // The Python client sends None as null; unknown fields that are null ask for nothing.
  auto r = ParseCompletionRequest(
      R"({"prompt": "x", "frobnicate": null, "temperature": null, "stop": null,
          "user": "u", "prompt_cache_key": "k", "spaces_between_special_tokens": true,
          "use_beam_search": false, "bad_words": [], "modalities": ["text"],
          "truncate_prompt_tokens": 5})");
  EXPECT_EQ(r.truncate_prompt_tokens, 5);
  EXPECT_TRUE(r.params.stop.empty());
}

TEST(CompletionRequestTest, UnknownFieldsAreIgnoredAsInVllm) {
  // Clients built for vLLM send extras; vLLM accepts them with a warning, and so do we.
  auto r = ParseCompletionRequest(R"({"prompt": "x", "frobnicate": 1, "nested": {"a": [1]}})");
  EXPECT_EQ(r.prompts.size(), 1u);
  auto chat = ParseChatRequest(
      R"({"messages": [{"role": "user", "content": "x", "mood": 1}], "frobnicate": true})");
  EXPECT_EQ(chat.messages.size(), 1u);
}

TEST(ChatRequestTest, DocumentsReachTheTemplate) {
  // vLLM's RAG field: the template sees `documents` as it sees chat_template_kwargs.
  auto chat = ParseChatRequest(
      R"({"messages": [{"role": "user", "content": "x"}], "documents": [{"title": "t", "text": "d"}]})");
  ASSERT_TRUE(chat.chat_template_kwargs.contains("documents"));
  EXPECT_EQ(chat.chat_template_kwargs["documents"][0]["text"], "d");
}

class ChatRejects : public testing::TestWithParam<BadCase> {};

TEST_P(ChatRejects, WithA400NamingTheField) {
  const BadCase& c = GetParam();
  ApiError e = ChatError(c.body);
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.param(), c.param) << e.what();
  EXPECT_NE(std::string(e.what()).find(c.in_message), std::string::npos) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ChatRejects,
    testing::Values(
        BadCase{R"({})", "messages", "'messages' is required"},
        BadCase{R"({"messages": ["hi"]})", "messages[0]", "must be an object"},
        BadCase{R"({"messages": [{"content": "hi"}]})", "messages[0].role", "required"},
        BadCase{R"({"messages": [{"role": "wizard", "content": "hi"}]})", "messages[0].role",
                "\"wizard\""},
        BadCase{R"({"messages": [{"role": "user"}]})", "messages[0].content", "required"},
        BadCase{R"({"messages": [{"role": "user", "content": 3}]})", "messages[0].content",
                "string or a list"},
        BadCase{R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
                "messages[0].content[0].type", "not supported"},
        BadCase{R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})",
                "messages[0].content[0].text", "required"},
        BadCase{R"({"messages": []})", "messages", "'messages' must not be empty"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})",
                "top_logprobs", "requires 'logprobs'"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "tools": {}})", "tools",
                "must be a list"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": -1})",
                "max_completion_tokens", "[1, "},
        // tool_choice "auto" needs the server's parser, forced calls its grammar: the service
        // decides (tests/e2e/server/tool_calling_test.js); parsing checks the shapes.
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "tool_choice": "always",
                    "tools": [{"type": "function", "function": {"name": "f"}}]})",
                "tool_choice", "\"none\", \"auto\", \"required\""},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}],
                    "tool_choice": {"type": "function", "function": {"name": "g"}},
                    "tools": [{"type": "function", "function": {"name": "f"}}]})",
                "tool_choice", "not in 'tools'"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}],
                    "tools": [{"type": "function", "function": {"description": "f"}}]})",
                "tools[0].function.name", "non-empty string"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "tool_choice": "auto"})",
                "tool_choice", "needs 'tools'"},
        BadCase{R"({"messages": [{"role": "user", "content": "x"}], "functions": [{"name": "f"}]})",
                "functions", "see 'tools'"}));

TEST(ChatRequestTest, ContentPartsAreJoinedAndMaxCompletionTokensWins) {
  auto r = ParseChatRequest(
      R"({"messages": [{"role": "system", "content": "s"},
                       {"role": "user", "content": [{"type": "text", "text": "a"},
                                                    {"type": "text", "text": "b"}]},
                       {"role": "assistant", "content": null, "tool_calls": []},
                       {"role": "tool", "content": "r", "tool_call_id": "1"}],
          "max_tokens": 5, "max_completion_tokens": 7, "logprobs": true, "top_logprobs": 3,
          "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"})");
  EXPECT_EQ(r.messages[1]["content"], "a\nb");
  EXPECT_EQ(r.params.max_tokens, 7);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.params.logprobs, 3);
  EXPECT_TRUE(r.tools.is_array());
  EXPECT_TRUE(r.add_generation_prompt);
  EXPECT_FALSE(r.params.max_tokens == 16);
}

TEST(ChatRequestTest, ToolChoicesAndToolHistoryForTheTemplate) {
  const std::string tools = R"("tools": [{"type": "function", "function": {"name": "f"}}])";
  auto choice = [&](const std::string& field) {
    return ParseChatRequest(R"({"messages": [{"role": "user", "content": "x"}], )" + tools + field +
                            "}")
        .tool_choice;
  };
  EXPECT_EQ(choice("").mode, ToolChoice::Mode::kAuto);  // the default with tools
  EXPECT_FALSE(choice("").given);
  EXPECT_EQ(choice(R"(, "tool_choice": "none")").mode, ToolChoice::Mode::kNone);
  EXPECT_EQ(choice(R"(, "tool_choice": "required")").mode, ToolChoice::Mode::kRequired);
  auto named = choice(R"(, "tool_choice": {"type": "function", "function": {"name": "f"}})");
  EXPECT_EQ(named.mode, ToolChoice::Mode::kNamed);
  EXPECT_EQ(named.function, "f");
  EXPECT_EQ(ParseChatRequest(R"({"messages": [{"role": "user", "content": "x"}]})").tool_choice.mode,
            ToolChoice::Mode::kNone);

  // Arguments reach the template as a mapping, key order kept; content-less turns as "".
  auto r = ParseChatRequest(R"({"messages": [{"role": "user", "content": "x"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{\"b\": 1, \"a\": [2]}"}},
        {"id": "2", "type": "function", "function": {"name": "f", "arguments": {"z": true}}},
        {"id": "3", "type": "function", "function": {"name": "f", "arguments": "not json"}}]},
      {"role": "tool", "content": "r", "tool_call_id": "1"}], "parallel_tool_calls": false})");
  const auto& calls = r.messages[1]["tool_calls"];
  EXPECT_EQ(calls[0]["function"]["arguments"].dump(), R"({"b":1,"a":[2]})");
  EXPECT_EQ(calls[1]["function"]["arguments"].dump(), R"({"z":true})");
  EXPECT_EQ(calls[2]["function"]["arguments"], "not json");
  EXPECT_EQ(r.messages[1]["content"], "");
  EXPECT_FALSE(r.parallel_tool_calls);
}

TEST(ChatRequestTest, NoMaxTokensMeansUpToTheContext) {
  auto r = ParseChatRequest(R"({"messages": [{"role": "user", "content": "x"}]})");
  EXPECT_FALSE(r.params.max_tokens.has_value());
}

TEST(TokenizeRequestTest, PromptOrMessages) {
  EXPECT_EQ(ParseTokenizeRequest(R"({"prompt": "hi"})").prompt, "hi");
  auto chat = ParseTokenizeRequest(
      R"({"messages": [{"role": "user", "content": "x"}], "add_generation_prompt": false})");
  EXPECT_TRUE(chat.is_chat);
  EXPECT_FALSE(chat.chat.add_generation_prompt);
  EXPECT_EQ(ErrorOf([](const std::string& b) { ParseTokenizeRequest(b); }, "{}").param(), "prompt");
  EXPECT_EQ(ParseDetokenizeRequest(R"({"tokens": [1, 2]})").tokens, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(ErrorOf([](const std::string& b) { ParseDetokenizeRequest(b); }, R"({"tokens": "ab"})")
                .param(),
            "tokens");
}

TEST(ErrorBodyTest, HasOpenAiShape) {
  auto body = nlohmann::json::parse(ErrorBody(400, "bad \xff value", "temperature"));
  EXPECT_EQ(body["error"]["type"], "BadRequestError");
  EXPECT_EQ(body["error"]["param"], "temperature");
  EXPECT_EQ(body["error"]["code"], 400);
  EXPECT_TRUE(body["error"]["message"].is_string());
  EXPECT_TRUE(nlohmann::json::parse(ErrorBody(404, "x"))["error"]["param"].is_null());
}

}  // namespace
}  // namespace lantern::server
