#include "telemetry/console_exporter.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace lantern::telemetry {
namespace {

SpanData Example() {
  SpanData span;
  span.trace_id = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
                   0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c};
  span.span_id = {0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31};
  span.name = "llm_request";
  span.kind = SpanKind::kServer;
  span.start_time_unix_nano = 1700000000123456789;
  span.end_time_unix_nano = 1700000000123456789 + 2500000;
  span.attributes = {{"gen_ai.request.model", std::string("opt \"125m\"")},
                     {"n", int64_t{3}},
                     {"ok", true},
                     {"list", std::vector<int64_t>{1, 2}}};
  span.events.push_back({1700000000123456789 + 1000000, "first_token", {}, 0});
  span.status_code = StatusCode::kError;
  span.status_message = "bad\nthing";
  return span;
}

TEST(ConsoleExporter, OneReadableLinePerSpan) {
  std::string line = FormatSpanLine(Example());
  EXPECT_EQ(line,
            "\"llm_request\" trace=0af7651916cd43dd8448eb211c80319c span=b7ad6b7169203331 "
            "parent=- kind=SERVER start=2023-11-14T22:13:20.123456789Z duration=2.500ms "
            "status=ERROR(\"bad\\nthing\") attrs={gen_ai.request.model=\"opt \\\"125m\\\"\", "
            "n=3, ok=true, list=[1, 2]} events=[\"first_token\"@+1.000ms{}]");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(ConsoleExporter, WritesLinesAndRefusesAfterShutdown) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ConsoleSpanExporter exporter(file);
  std::unique_ptr<SpanData> spans[2] = {std::make_unique<SpanData>(Example()),
                                        std::make_unique<SpanData>(Example())};
  EXPECT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  EXPECT_TRUE(exporter.Shutdown(std::chrono::seconds(1)));
  EXPECT_EQ(exporter.Export(spans), ExportResult::kFailure);
  std::rewind(file);
  char buffer[4096];
  size_t n = std::fread(buffer, 1, sizeof buffer, file);
  std::string text(buffer, n);
  EXPECT_EQ(text, FormatSpanLine(Example()) + "\n" + FormatSpanLine(Example()) + "\n");
  std::fclose(file);
}

}  // namespace
}  // namespace lantern::telemetry
