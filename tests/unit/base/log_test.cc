// The log line formats (issue 17): JSON lines that any JSON parser reads whatever the
// message holds, RFC 3339 UTC times, the thread's trace context on every line written
// under it (and only there), and the sink seeing what was written.
#include "base/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace lantern::log {
namespace {

using nlohmann::json;

Context SomeContext(uint8_t seed, uint8_t flags = 1) {
  Context context;
  for (size_t i = 0; i < context.trace_id.size(); ++i)
    context.trace_id[i] = static_cast<uint8_t>(seed + i);
  for (size_t i = 0; i < context.span_id.size(); ++i)
    context.span_id[i] = static_cast<uint8_t>(0xA0 + seed + i);
  context.trace_flags = flags;
  return context;
}

Record MakeRecord(std::string_view message, const Context* context = nullptr) {
  Record record;
  record.level = Level::kWarning;
  record.component = "http";
  record.message = message;
  // 2026-12-07T15:36:25.000042Z
  record.time = std::chrono::system_clock::time_point(std::chrono::microseconds(1796657785000042));
  record.context = context;
  return record;
}

json ParseLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per record: " << line;
  return json::parse(line);  // throws (failing the test) on anything but valid JSON
}

TEST(LogFormatTest, JsonLineHasTheFieldsAndAnRfc3339UtcTime) {
  json line = ParseLine(FormatLine(Format::kJson, MakeRecord("served")));
  EXPECT_EQ(line["time"], "2026-12-07T15:36:25.000042Z");
  EXPECT_EQ(line["level"], "WARNING");
  EXPECT_EQ(line["logger"], "http");
  EXPECT_EQ(line["message"], "served");
  EXPECT_FALSE(line.contains("trace_id"));  // outside a request: no ids at all
  EXPECT_FALSE(line.contains("span_id"));
}

TEST(LogFormatTest, JsonLineCarriesTheTraceContext) {
  Context context = SomeContext(1, 0);
  json line = ParseLine(FormatLine(Format::kJson, MakeRecord("x", &context)));
  EXPECT_EQ(line["trace_id"], "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(line["span_id"], "a1a2a3a4a5a6a7a8");
  EXPECT_EQ(line["trace_flags"], "00");  // an unsampled trace still names its id
}

TEST(LogFormatTest, JsonEscapesQuotesBackslashesAndEveryControlCharacter) {
  std::string message = "say \"hi\" \\ now\nnext\rline\ttab";
  for (int c = 0; c < 0x20; ++c) message.push_back(static_cast<char>(c));
  message.push_back('\x7f');
  std::string text = FormatLine(Format::kJson, MakeRecord(message));
  for (char c : text.substr(0, text.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in " << text;
    EXPECT_NE(c, '\x7f');
  }
  json line = ParseLine(text);
  EXPECT_EQ(line["message"], message);  // decodes back to exactly the message
  EXPECT_NE(text.find("\\u0000"), std::string::npos);
  EXPECT_NE(text.find("\\u007f"), std::string::npos);
}

TEST(LogFormatTest, JsonReplacesInvalidUtf8AndKeepsValidText) {
  // Valid: é, €, 🙂; invalid: a lone continuation byte, an overlong '/', a surrogate,
  // a truncated sequence at the end.
  std::string message =
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x99\x82 |\x80|\xC0\xAF|\xED\xA0\x80|\xE2\x82";
  json line = ParseLine(FormatLine(Format::kJson, MakeRecord(message)));
  std::string decoded = line["message"];
  EXPECT_EQ(decoded.substr(0, 16), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x99\x82 |");
  EXPECT_EQ(decoded.find('\x80', 16), std::string::npos);
  const std::string kReplacement = "\xEF\xBF\xBD";
  size_t replaced = 0;
  for (size_t at = decoded.find(kReplacement); at != std::string::npos;
       at = decoded.find(kReplacement, at + 1)) {
    ++replaced;
  }
  EXPECT_EQ(replaced, 1u + 2u + 3u + 2u);  // one per byte that is not part of valid UTF-8
}

TEST(LogFormatTest, JsonEscapesTheJavaScriptLineSeparators) {
  std::string text = FormatLine(Format::kJson, MakeRecord("a\xE2\x80\xA8"
                                                          "b\xE2\x80\xA9"));
  EXPECT_NE(text.find("a\\u2028b\\u2029"), std::string::npos) << text;
  EXPECT_EQ(ParseLine(text)["message"],
            "a\xE2\x80\xA8"
            "b\xE2\x80\xA9");
}

TEST(LogFormatTest, TextLineGetsTheTraceIdOnRequestLinesOnly) {
  Context context = SomeContext(1);
  std::string with = FormatLine(Format::kText, MakeRecord("served", &context));
  EXPECT_TRUE(std::regex_search(
      with,
      std::regex(
          R"(^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} WARNING http: served trace_id=0102030405060708090a0b0c0d0e0f10 span_id=a1a2a3a4a5a6a7a8\n$)")))
      << with;
  std::string without = FormatLine(Format::kText, MakeRecord("served"));
  EXPECT_EQ(without.find("trace_id"), std::string::npos) << without;
}

TEST(LogFormatTest, ParsesTheFormatNames) {
  EXPECT_EQ(ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("JSON"), Format::kJson);
  EXPECT_EQ(ParseFormat("text"), Format::kText);
  EXPECT_EQ(ParseFormat("yaml"), std::nullopt);
  EXPECT_EQ(ParseFormat(""), std::nullopt);
}

TEST(LogContextTest, ScopedContextNestsAndRestores) {
  EXPECT_FALSE(CurrentContext().valid());
  {
    ScopedContext outer(SomeContext(1));
    EXPECT_EQ(CurrentContext().trace_id[0], 1);
    {
      ScopedContext inner(SomeContext(7));
      EXPECT_EQ(CurrentContext().trace_id[0], 7);
    }
    EXPECT_EQ(CurrentContext().trace_id[0], 1);
  }
  EXPECT_FALSE(CurrentContext().valid());
}

TEST(LogContextTest, TheContextBelongsToItsThread) {
  ScopedContext scope(SomeContext(3));
  bool other_thread_sees_one = true;
  std::thread([&] { other_thread_sees_one = CurrentContext().valid(); }).join();
  EXPECT_FALSE(other_thread_sees_one);
  EXPECT_TRUE(CurrentContext().valid());
}

std::vector<std::string>* g_seen = nullptr;

TEST(LogSinkTest, TheSinkSeesEachWrittenRecordWithTheThreadsContext) {
  std::vector<std::string> seen;
  g_seen = &seen;
  SetSink([](const Record& record) {
    std::string line = FormatLine(Format::kJson, record);
    g_seen->push_back(line);
  });
  {
    ScopedContext scope(SomeContext(2));
    LANTERN_LOG(kWarning, "engine") << "request " << 42 << " aborted";
  }
  LANTERN_LOG(kDebug, "engine") << "below the level: neither written nor seen";
  SetSink(nullptr);
  LANTERN_LOG(kWarning, "engine") << "after the sink was removed";
  g_seen = nullptr;
  ASSERT_EQ(seen.size(), 1u);
  json line = json::parse(seen[0]);
  EXPECT_EQ(line["message"], "request 42 aborted");
  EXPECT_EQ(line["logger"], "engine");
  EXPECT_EQ(line["trace_id"], "02030405060708090a0b0c0d0e0f1011");
}

}  // namespace
}  // namespace lantern::log
