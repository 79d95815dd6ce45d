// OTLP logs (issue 17): the ExportLogsServiceRequest we write, read back with the classes
// protoc generated from OpenTelemetry's .proto files and as OTLP/JSON; and the logs SDK
// turning LANTERN_LOG lines into records that carry the writing thread's trace context.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/log.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "telemetry/ids.h"
#include "telemetry/log_record.h"
#include "telemetry/logs_sdk.h"
#include "test_env.h"

namespace lantern::telemetry {
namespace {

using ::opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;

log::Context SomeContext() {
  log::Context context;
  for (size_t i = 0; i < 16; ++i) context.trace_id[i] = static_cast<uint8_t>(0x10 + i);
  for (size_t i = 0; i < 8; ++i) context.span_id[i] = static_cast<uint8_t>(0xE0 + i);
  context.trace_flags = 1;
  return context;
}

std::unique_ptr<LogRecordData> SomeRecord(const log::Context* context) {
  log::Record record;
  record.level = log::Level::kError;
  record.component = "server";
  record.message = "request failed: bad \xFF byte";
  record.time =
      std::chrono::system_clock::time_point(std::chrono::nanoseconds(1796657785123456789));
  record.context = context;
  record.file = "/work/main/src/server/router.cc";
  record.line = 142;
  return MakeLogRecordData(record);
}

Resource SomeResource() {
  Resource resource;
  resource.attributes.push_back({"service.name", std::string("lantern-test")});
  resource.attributes.push_back({"process.pid", int64_t{42}});
  return resource;
}

TEST(OtlpLogsTest, ProtobufCarriesTimeSeverityBodyAttributesAndTraceContext) {
  log::Context context = SomeContext();
  std::vector<std::unique_ptr<LogRecordData>> records;
  records.push_back(SomeRecord(&context));
  records.push_back(SomeRecord(nullptr));
  Resource resource = SomeResource();
  InstrumentationScope scope{"lantern", ""};
  std::string bytes;
  AppendOtlpLogsProtobuf({&resource, &scope, records}, &bytes);
  ExportLogsServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));
  ASSERT_EQ(request.resource_logs_size(), 1);
  const auto& rl = request.resource_logs(0);
  ASSERT_EQ(rl.resource().attributes_size(), 2);
  EXPECT_EQ(rl.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rl.resource().attributes(0).value().string_value(), "lantern-test");
  ASSERT_EQ(rl.scope_logs_size(), 1);
  EXPECT_EQ(rl.scope_logs(0).scope().name(), "lantern");
  ASSERT_EQ(rl.scope_logs(0).log_records_size(), 2);
  const auto& r = rl.scope_logs(0).log_records(0);
  EXPECT_EQ(r.time_unix_nano(), 1796657785123456789u);
  EXPECT_EQ(r.observed_time_unix_nano(), 1796657785123456789u);
  EXPECT_EQ(r.severity_number(), 17);  // SEVERITY_NUMBER_ERROR
  EXPECT_EQ(r.severity_text(), "ERROR");
  EXPECT_EQ(r.body().string_value(), "request failed: bad \xEF\xBF\xBD byte");  // valid UTF-8
  ASSERT_EQ(r.attributes_size(), 3);
  EXPECT_EQ(r.attributes(0).key(), "logger");
  EXPECT_EQ(r.attributes(0).value().string_value(), "server");
  EXPECT_EQ(r.attributes(1).key(), "code.file.path");
  EXPECT_EQ(r.attributes(1).value().string_value(), "src/server/router.cc");
  EXPECT_EQ(r.attributes(2).key(), "code.line.number");
  EXPECT_EQ(r.attributes(2).value().int_value(), 142);
  EXPECT_EQ(r.trace_id(), std::string(reinterpret_cast<const char*>(context.trace_id.data()), 16));
  EXPECT_EQ(r.span_id(), std::string(reinterpret_cast<const char*>(context.span_id.data()), 8));
  EXPECT_EQ(r.flags(), 1u);
  const auto& outside = rl.scope_logs(0).log_records(1);
  EXPECT_TRUE(outside.trace_id().empty());
  EXPECT_TRUE(outside.span_id().empty());
  EXPECT_EQ(outside.flags(), 0u);
}

TEST(OtlpLogsTest, JsonFollowsTheOtlpJsonRules) {
  log::Context context = SomeContext();
  std::vector<std::unique_ptr<LogRecordData>> records;
  records.push_back(SomeRecord(&context));
  Resource resource = SomeResource();
  InstrumentationScope scope{"lantern", ""};
  std::string text;
  AppendOtlpLogsJson({&resource, &scope, records}, &text);
  nlohmann::json request = nlohmann::json::parse(text);
  const auto& rl = request["resourceLogs"][0];
  EXPECT_EQ(rl["resource"]["attributes"][1]["value"]["intValue"], "42");
  const auto& r = rl["scopeLogs"][0]["logRecords"][0];
  EXPECT_EQ(r["timeUnixNano"], "1796657785123456789");
  EXPECT_EQ(r["severityNumber"], 17);
  EXPECT_EQ(r["severityText"], "ERROR");
  EXPECT_EQ(r["traceId"], "101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(r["spanId"], "e0e1e2e3e4e5e6e7");
  EXPECT_EQ(r["flags"], 1);
  EXPECT_EQ(r["attributes"][2]["value"]["intValue"], "142");
  EXPECT_EQ(r["body"]["stringValue"], "request failed: bad \xEF\xBF\xBD byte");
}

TEST(LogsSdkTest, ChoosesExportersFromTheEnvironment) {
  EXPECT_TRUE(ChooseLogExporters(MapEnv({})).empty());  // default: none
  EXPECT_TRUE(
      ChooseLogExporters(MapEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}})).empty());
  EXPECT_EQ(
      ChooseLogExporters(MapEnv({{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://c:4318/v1/logs"}})),
      std::vector<std::string>{"otlp"});
  EXPECT_EQ(ChooseLogExporters(MapEnv({{"OTEL_LOGS_EXPORTER", " OTLP, console,bogus"}})),
            (std::vector<std::string>{"otlp", "console"}));
  EXPECT_TRUE(ChooseLogExporters(MapEnv({{"OTEL_LOGS_EXPORTER", "otlp,none"}})).empty());
}

struct Captured {
  std::mutex mu;
  std::vector<LogRecordData> records;
};

class CapturingExporter : public LogRecordExporter {
 public:
  explicit CapturingExporter(std::shared_ptr<Captured> out) : out_(std::move(out)) {}
  ExportResult Export(std::span<const std::unique_ptr<LogRecordData>> records) override {
    // What an exporter logs on the export thread must not come back as a record.
    LANTERN_LOG(kWarning, "otlp") << "exporting " << records.size() << " records";
    std::lock_guard lock(out_->mu);
    for (const auto& r : records) out_->records.push_back(*r);
    return ExportResult::kSuccess;
  }

 private:
  std::shared_ptr<Captured> out_;
};

TEST(LogsSdkTest, LinesBecomeRecordsWithTheWritingThreadsContext) {
  auto captured = std::make_shared<Captured>();
  LogsOptions options;
  options.env = MapEnv({{"OTEL_LOGS_EXPORTER", "none"}, {"OTEL_BLRP_SCHEDULE_DELAY", "10"}});
  options.extra_exporter = std::make_unique<CapturingExporter>(captured);
  options.shutdown_at_exit = false;
  auto config = InitLogs(std::move(options));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->enabled);
  {
    log::ScopedContext scope(SomeContext());
    LANTERN_LOG(kWarning, "server") << "unknown field 'foo'";
  }
  LANTERN_LOG(kInfo, "serve") << "outside any request";
  ASSERT_TRUE(ForceFlushLogs(std::chrono::seconds(10)));
  ASSERT_TRUE(ShutdownLogs(std::chrono::seconds(10)));
  LANTERN_LOG(kInfo, "serve") << "after shutdown: not exported";
  std::lock_guard lock(captured->mu);
  ASSERT_EQ(captured->records.size(), 2u);
  const LogRecordData& in_request = captured->records[0];
  EXPECT_EQ(in_request.body, "unknown field 'foo'");
  EXPECT_EQ(in_request.logger, "server");
  EXPECT_EQ(in_request.level, log::Level::kWarning);
  EXPECT_EQ(in_request.trace_id, SomeContext().trace_id);
  EXPECT_EQ(in_request.span_id, SomeContext().span_id);
  EXPECT_EQ(in_request.trace_flags, 1);
  EXPECT_NE(in_request.file.find("otlp_logs_test.cc"), std::string::npos);
  EXPECT_GT(in_request.line, 0);
  EXPECT_EQ(captured->records[1].body, "outside any request");
  EXPECT_FALSE(IsValid(captured->records[1].trace_id));
  LogProcessorStats stats = ReadLogsStats();
  EXPECT_GE(stats.exported, 2u);
}

}  // namespace
}  // namespace lantern::telemetry
