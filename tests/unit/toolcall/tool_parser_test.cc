// The three formats on replies written as each family's chat template teaches them, whole and
// streamed split at every byte, and what happens to malformed, cut-off and hostile text.
#include "toolcall/tool_parser.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace lantern::toolcall {
namespace {

using nlohmann::json;

struct Call {
  std::string name;
  std::string arguments;
  bool operator==(const Call&) const = default;
};

struct Message {
  std::optional<std::string> content;
  std::vector<Call> calls;
  bool operator==(const Message&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Message& m) {
  os << "content=" << (m.content ? json(*m.content).dump() : "null") << " calls=[";
  for (const auto& c : m.calls) os << c.name << "(" << c.arguments << ") ";
  return os << "]";
}

Message Whole(const Parser& parser, std::string_view text) {
  ParsedMessage parsed = parser.Extract(text);
  Message m{parsed.content, {}};
  for (const auto& c : parsed.calls) {
    EXPECT_FALSE(c.id.empty());
    m.calls.push_back({c.name, c.arguments});
  }
  return m;
}

// Streams `pieces`, checks the deltas are shaped as OpenAI's, and reassembles the message as
// a client does.
Message Streamed(const Parser& parser, const std::vector<std::string_view>& pieces) {
  auto stream = parser.NewStream();
  std::string content;
  std::vector<Call> calls;
  auto take = [&](const MessageDelta& d) {
    content += d.content;
    for (const auto& piece : d.calls) {
      if (piece.first) {
        EXPECT_EQ(piece.index, static_cast<int>(calls.size()));
        EXPECT_FALSE(piece.id.empty());
        EXPECT_FALSE(piece.name.empty());
        calls.push_back({piece.name, ""});
      } else {
        EXPECT_TRUE(piece.id.empty() && piece.name.empty());
        EXPECT_EQ(piece.index, static_cast<int>(calls.size()) - 1);
        EXPECT_FALSE(piece.arguments.empty());
      }
      if (!calls.empty()) calls.back().arguments += piece.arguments;
    }
  };
  for (auto piece : pieces) take(stream->Push(piece));
  take(stream->Finish());
  EXPECT_EQ(stream->calls(), static_cast<int>(calls.size()));
  Message m{content, calls};
  if (!calls.empty() && content.empty()) m.content.reset();
  return m;
}

// Whole == streamed in one piece == streamed split at every byte == byte by byte.
void ExpectSameEverySplit(const Parser& parser, std::string_view text, const Message& expected) {
  EXPECT_EQ(Whole(parser, text), expected) << json(std::string(text)).dump();
  for (size_t i = 0; i <= text.size(); ++i) {
    ASSERT_EQ(Streamed(parser, {text.substr(0, i), text.substr(i)}), expected)
        << "split at " << i << " of " << json(std::string(text)).dump();
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  EXPECT_EQ(Streamed(parser, bytes), expected);
}

std::unique_ptr<Parser> Make(const std::string& name) {
  auto parser = MakeParser(name);
  EXPECT_TRUE(parser.ok()) << parser.status().ToString();
  return std::move(parser).value();
}

const Message kPlainParis{"The capital of France is Paris.", {}};
const Call kWeather{"get_current_temperature", R"({"location": "San Francisco, CA, USA", "unit": "celsius"})"};
const Call kTime{"get_time", "{}"};

// --- hermes (Qwen 2.5 / Qwen 3 / Hermes 2 Pro templates) ---

TEST(Hermes, OneCallAsQwenWritesIt) {
  auto p = Make("hermes");
  ExpectSameEverySplit(
      *p,
      "<tool_call>\n{\"name\": \"get_current_temperature\", \"arguments\": {\"location\": \"San "
      "Francisco, CA, USA\", \"unit\": \"celsius\"}}\n</tool_call>",
      {std::nullopt, {kWeather}});
}

TEST(Hermes, ParallelCallsAfterText) {
  auto p = Make("hermes");
  ExpectSameEverySplit(
      *p,
      "Let me check both.\n<tool_call>\n{\"name\": \"get_current_temperature\", \"arguments\": "
      "{\"location\": \"San Francisco, CA, USA\", \"unit\": \"celsius\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>",
      {"Let me check both.\n", {kWeather, kTime}});
}

TEST(Hermes, Qwen3ThinkingBeforeTheCall) {
  auto p = Make("hermes");
  ExpectSameEverySplit(*p,
                       "<think>\nThe user wants the time.\n</think>\n\n<tool_call>\n{\"name\": "
                       "\"get_time\", \"arguments\": {}}\n</tool_call>",
                       {"<think>\nThe user wants the time.\n</think>\n\n", {kTime}});
}

TEST(Hermes, PlainTextAndLookalikes) {
  auto p = Make("hermes");
  ExpectSameEverySplit(*p, "The capital of France is Paris.", kPlainParis);
  ExpectSameEverySplit(*p, "Write <tool> or <tool_cal or </tool_call> as text.",
                       {"Write <tool> or <tool_cal or </tool_call> as text.", {}});
  ExpectSameEverySplit(*p, "ends with a partial tag <tool_ca", {"ends with a partial tag <tool_ca", {}});
  ExpectSameEverySplit(*p, "", {"", {}});
}

TEST(Hermes, MemberOrderEscapesAndNesting) {
  auto p = Make("hermes");
  // Arguments before the name: the call starts once both are known.
  ExpectSameEverySplit(
      *p, "<tool_call>\n{\"arguments\": {\"q\": [1, 2.5e3, true, null]}, \"name\": \"f\"}\n</tool_call>",
      {std::nullopt, {{"f", R"({"q": [1, 2.5e3, true, null]})"}}});
  // Escapes and UTF-8 stay as the model wrote them.
  ExpectSameEverySplit(
      *p,
      "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"caf\\u00e9 \\\"quoted\\\" "
      "\xE2\x9C\x93 }{\", \"deep\": {\"a\": {\"b\": []}}}}\n</tool_call>",
      {std::nullopt,
       {{"search",
         "{\"q\": \"caf\\u00e9 \\\"quoted\\\" \xE2\x9C\x93 }{\", \"deep\": {\"a\": {\"b\": []}}}"}}});
  // Arguments written as a JSON string are unquoted; numbers as arguments stay as written.
  ExpectSameEverySplit(*p,
                       "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>",
                       {std::nullopt, {{"f", R"({"a": 1})"}}});
  ExpectSameEverySplit(*p, "<tool_call>{\"name\": \"f\", \"arguments\": 12, \"x\": 1}</tool_call>",
                       {std::nullopt, {{"f", "12"}}});
  // "parameters" is read as "arguments"; other members are ignored.
  ExpectSameEverySplit(
      *p, "<tool_call>{\"id\": 3, \"name\": \"f\", \"parameters\": {}}</tool_call>",
      {std::nullopt, {{"f", "{}"}}});
}

TEST(Hermes, MissingClosingTagAtTheEndIsACall) {
  auto p = Make("hermes");
  ExpectSameEverySplit(*p, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n",
                       {std::nullopt, {kTime}});
  ExpectSameEverySplit(*p, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_",
                       {std::nullopt, {kTime}});
}

TEST(Hermes, TextAfterTheCallsIsContent) {
  auto p = Make("hermes");
  ExpectSameEverySplit(
      *p, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>\nDone.",
      {"\nDone.", {kTime}});
  ExpectSameEverySplit(
      *p, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>\n\n",
      {std::nullopt, {kTime}});
}

// Non-streaming: any malformed call makes the whole reply content, as vLLM does.
TEST(Hermes, MalformedOrCutOffCallsAreContent) {
  auto p = Make("hermes");
  for (std::string text : {
           "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": }}\n</tool_call>",
           "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1",  // max_tokens
           "<tool_call>\n{\"name\": \"f\"}\n</tool_call>",             // no arguments
           "<tool_call>\n{\"arguments\": {}}\n</tool_call>",            // no name
           "<tool_call>\n{\"name\": 7, \"arguments\": {}}\n</tool_call>",
           "<tool_call>\n{\"name\": \"\", \"arguments\": {}}\n</tool_call>",
           "<tool_call>\n[1, 2]\n</tool_call>",
           "<tool_call>\n{\"name\": \"f\", \"arguments\": {}} trailing</tool_call>",
           "<tool_call>{\"name\": \"f\", \"arguments\": {}, \"arguments\": {}}</tool_call>",
           "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call><tool_call>{bad",
           "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 01}}</tool_call>",
           "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": \"\x01\"}}</tool_call>",
       }) {
    EXPECT_EQ(Whole(*p, text), (Message{text, {}})) << text;
    // A stream sends what it could not take back; the rest is content, nothing is lost twice.
    auto stream = p->NewStream();
    MessageDelta d = stream->Push(text);
    MessageDelta end = stream->Finish();
    EXPECT_TRUE(stream->failed()) << text;
    if (stream->calls() == 0) {
      EXPECT_EQ(d.content + end.content, text);
    }
  }
}

// --- llama3_json (Llama 3.1 / 3.2 / 3.3 JSON tool templates) ---

TEST(Llama3Json, OneCallWithParameters) {
  auto p = Make("llama3_json");
  ExpectSameEverySplit(*p,
                       "{\"name\": \"get_current_temperature\", \"parameters\": {\"location\": "
                       "\"San Francisco, CA, USA\", \"unit\": \"celsius\"}}",
                       {std::nullopt, {kWeather}});
}

TEST(Llama3Json, PythonTagAndSemicolons) {
  auto p = Make("llama3_json");
  ExpectSameEverySplit(
      *p,
      "<|python_tag|>{\"name\": \"get_current_temperature\", \"parameters\": {\"location\": \"San "
      "Francisco, CA, USA\", \"unit\": \"celsius\"}}; {\"name\": \"get_time\", \"parameters\": {}}",
      {std::nullopt, {kWeather, kTime}});
  ExpectSameEverySplit(*p, "\n\n{\"name\": \"get_time\", \"arguments\": {}} ;\n",
                       {std::nullopt, {kTime}});
}

TEST(Llama3Json, RepliesThatAreNotCalls) {
  auto p = Make("llama3_json");
  ExpectSameEverySplit(*p, "The capital of France is Paris.", kPlainParis);
  ExpectSameEverySplit(*p, "{\"answer\": 42} is the JSON you asked for",
                       {"{\"answer\": 42} is the JSON you asked for", {}});
  ExpectSameEverySplit(*p, "{\"name\": \"John\", \"age\": 30}",
                       {"{\"name\": \"John\", \"age\": 30}", {}});
  ExpectSameEverySplit(*p, "  <|python_ta", {"  <|python_ta", {}});
  ExpectSameEverySplit(*p, "<|python_tag|>print(1)", {"<|python_tag|>print(1)", {}});
}

TEST(Llama3Json, MalformedCallsAreContent) {
  auto p = Make("llama3_json");
  for (std::string text : {
           "{\"name\": \"get_time\", \"parameters\": {}}; {\"name\": ",
           "{\"name\": \"get_time\", \"parameters\": {}}; {\"age\": 3}",
           "{\"name\": \"get_time\", \"parameters\": {}}; nonsense",
           "{\"name\": \"f\", \"parameters\": {\"a\": tru}}",
           "{\"name\": \"f\", \"parameters\": {}, \"arguments\": {}}",
       }) {
    EXPECT_EQ(Whole(*p, text), (Message{text, {}})) << text;
  }
}

// --- mistral (7B v0.3 / Nemo list form; v11+ name[ARGS] form) ---

TEST(Mistral, ListForm) {
  auto p = Make("mistral");
  EXPECT_TRUE(p->needs_special_tokens());
  ExpectSameEverySplit(
      *p,
      "[TOOL_CALLS] [{\"name\": \"get_current_temperature\", \"arguments\": {\"location\": \"San "
      "Francisco, CA, USA\", \"unit\": \"celsius\"}}, {\"name\": \"get_time\", \"arguments\": {}}]",
      {std::nullopt, {kWeather, kTime}});
  ExpectSameEverySplit(*p, "Sure.[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}}]",
                       {"Sure.", {kTime}});
  ExpectSameEverySplit(*p, "[TOOL_CALLS]{\"name\": \"get_time\", \"arguments\": {}}",
                       {std::nullopt, {kTime}});
}

TEST(Mistral, V11AndV13Forms) {
  auto p = Make("mistral");
  ExpectSameEverySplit(*p,
                       "[TOOL_CALLS]get_current_temperature[ARGS]{\"location\": \"San Francisco, "
                       "CA, USA\", \"unit\": \"celsius\"}[TOOL_CALLS]get_time[ARGS]{}",
                       {std::nullopt, {kWeather, kTime}});
  ExpectSameEverySplit(*p, "[TOOL_CALLS]get_time[CALL_ID]a1B2c3D4e[ARGS]{}",
                       {std::nullopt, {kTime}});
  ExpectSameEverySplit(*p, "[TOOL_CALLS]get_time{}", {std::nullopt, {kTime}});
}

TEST(Mistral, IdsAreNineLettersAndDigits) {
  auto p = Make("mistral");
  ParsedMessage m = p->Extract("[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}}]");
  ASSERT_EQ(m.calls.size(), 1u);
  EXPECT_TRUE(std::regex_match(m.calls[0].id, std::regex("[A-Za-z0-9]{9}"))) << m.calls[0].id;
  auto h = Make("hermes")->Extract("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>");
  ASSERT_EQ(h.calls.size(), 1u);
  EXPECT_TRUE(std::regex_match(h.calls[0].id, std::regex("chatcmpl-tool-[0-9a-f]{32}")));
}

TEST(Mistral, PlainAndMalformed) {
  auto p = Make("mistral");
  ExpectSameEverySplit(*p, "The capital of France is Paris.", kPlainParis);
  ExpectSameEverySplit(*p, "a [TOOL_CA", {"a [TOOL_CA", {}});
  for (std::string text : {
           "[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}},]",
           "[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}}",
           "[TOOL_CALLS]get_time[ARGS]{\"a\": }",
           "[TOOL_CALLS]get_time[OOPS]{}",
           "[TOOL_CALLS]get time{}",
           "[TOOL_CALLS]",
       }) {
    EXPECT_EQ(Whole(*p, text), (Message{text, {}})) << text;
  }
}

// --- forced calls (tool_choice "required" / named), whose grammar fixes the shape ---

TEST(Forced, RequiredList) {
  auto p = MakeRequiredParser();
  EXPECT_FALSE(p->needs_special_tokens());
  ExpectSameEverySplit(*p,
                       "[{\"name\": \"get_current_temperature\", \"parameters\": {\"location\": "
                       "\"San Francisco, CA, USA\", \"unit\": \"celsius\"}}, {\"name\": "
                       "\"get_time\", \"parameters\": {}}]",
                       {std::nullopt, {kWeather, kTime}});
}

TEST(Forced, NamedFunction) {
  auto p = MakeNamedParser("get_time");
  ExpectSameEverySplit(*p, "{\"tz\": \"UTC\"}", {std::nullopt, {{"get_time", "{\"tz\": \"UTC\"}"}}});
  auto stream = p->NewStream();
  MessageDelta end = stream->Finish();
  ASSERT_EQ(end.calls.size(), 1u);
  EXPECT_EQ(end.calls[0].name, "get_time");
}

TEST(Parsers, UnknownNameIsAnError) {
  auto p = MakeParser("pythonic");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("hermes, llama3_json, mistral"), std::string::npos);
}

// --- hostile text: bounded memory and time whatever the model writes ---

TEST(Hostile, DeepNestingFailsInsteadOfGrowing) {
  for (const std::string& name : ParserNames()) {
    auto p = Make(name);
    std::string prefix = name == "hermes"        ? "<tool_call>{\"name\": \"f\", \"arguments\": "
                         : name == "llama3_json" ? "{\"name\": \"f\", \"arguments\": "
                                                 : "[TOOL_CALLS]f[ARGS]";
    std::string text = prefix + std::string(200000, '[');
    ParsedMessage m = p->Extract(text);
    EXPECT_TRUE(m.calls.empty()) << name;
    EXPECT_EQ(m.content, text) << name;
  }
}

TEST(Hostile, ManyLookalikesAndHugeArgumentsStayLinear) {
  auto hermes = Make("hermes");
  std::string lookalikes;
  for (int i = 0; i < 50000; ++i) lookalikes += "<tool_cal<";
  EXPECT_EQ(hermes->Extract(lookalikes).content, lookalikes);
  std::string big = "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": \"" +
                    std::string(4 << 20, 'x') + "\"}}</tool_call>";
  auto stream = hermes->NewStream();
  size_t args = 0;
  for (size_t i = 0; i < big.size(); i += 3) {
    for (const auto& piece : stream->Push(std::string_view(big).substr(i, 3)).calls) {
      args += piece.arguments.size();
    }
  }
  stream->Finish();
  EXPECT_EQ(args, (4u << 20) + 9);
}

}  // namespace
}  // namespace lantern::toolcall
