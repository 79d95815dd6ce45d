// Test driver for the OTLP end-to-end tests: reads spans written as OTLP JSON (the
// fixture, which the Node receiver decodes independently), turns them into SpanData,
// exports them with the exporter configured from OTEL_EXPORTER_OTLP_* (or to a file),
// and prints the outcome and the exporter's counters as one JSON line.
//
//   otlp_e2e_driver --fixture spans.json [--file-out PATH] [--shutdown-after-ms N]
//   otlp_e2e_driver --sdk-spans N   (the whole SDK: Init from OTEL_*, N request spans
//                                    each with a child, batch processor, Shutdown)
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "telemetry/env.h"
#include "telemetry/health.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_exporter.h"
#include "telemetry/otlp_file_exporter.h"
#include "telemetry/sdk.h"
#include "telemetry/tracer.h"

namespace lantern::telemetry {
namespace {

using nlohmann::json;

template <size_t N>
std::array<uint8_t, N> HexId(const json& value) {
  std::array<uint8_t, N> id{};
  std::string hex = value.is_string() ? value.get<std::string>() : "";
  if (hex.size() != 2 * N) throw std::runtime_error("bad id \"" + hex + "\"");
  for (size_t i = 0; i < N; ++i) {
    id[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return id;
}

uint64_t Uint64(const json& value) {
  std::string text = value.get<std::string>();
  uint64_t parsed = 0;
  std::from_chars(text.data(), text.data() + text.size(), parsed);
  return parsed;
}

int64_t Int64(const json& value) {
  std::string text = value.get<std::string>();
  int64_t parsed = 0;
  std::from_chars(text.data(), text.data() + text.size(), parsed);
  return parsed;
}

double Double(const json& value) {
  if (value.is_string()) return std::stod(value.get<std::string>());  // NaN, Infinity
  return value.get<double>();
}

AttributeValue Value(const json& any) {
  if (any.contains("stringValue")) return any["stringValue"].get<std::string>();
  if (any.contains("boolValue")) return any["boolValue"].get<bool>();
  if (any.contains("intValue")) return Int64(any["intValue"]);
  if (any.contains("doubleValue")) return Double(any["doubleValue"]);
  const json values = any["arrayValue"].value("values", json::array());
  if (values.empty()) return std::vector<std::string>{};
  const json& first = values[0];
  if (first.contains("boolValue")) {
    std::vector<bool> out;
    for (const json& v : values) out.push_back(v["boolValue"].get<bool>());
    return out;
  }
  if (first.contains("intValue")) {
    std::vector<int64_t> out;
    for (const json& v : values) out.push_back(Int64(v["intValue"]));
    return out;
  }
  if (first.contains("doubleValue")) {
    std::vector<double> out;
    for (const json& v : values) out.push_back(Double(v["doubleValue"]));
    return out;
  }
  std::vector<std::string> out;
  for (const json& v : values) out.push_back(v["stringValue"].get<std::string>());
  return out;
}

Attributes AttributesOf(const json& object) {
  Attributes attributes;
  for (const json& kv : object.value("attributes", json::array())) {
    attributes.push_back({kv["key"].get<std::string>(), Value(kv["value"])});
  }
  return attributes;
}

std::vector<std::unique_ptr<SpanData>> LoadFixture(const std::string& path) {
  std::ifstream file(path);
  json request = json::parse(file);
  std::vector<std::unique_ptr<SpanData>> spans;
  for (const json& rs : request["resourceSpans"]) {
    auto resource = std::make_shared<Resource>();
    resource->attributes = AttributesOf(rs["resource"]);
    for (const json& ss : rs["scopeSpans"]) {
      auto scope = std::make_shared<InstrumentationScope>();
      scope->name = ss["scope"].value("name", "");
      scope->version = ss["scope"].value("version", "");
      for (const json& s : ss["spans"]) {
        auto span = std::make_unique<SpanData>();
        span->trace_id = HexId<16>(s["traceId"]);
        span->span_id = HexId<8>(s["spanId"]);
        if (s.contains("parentSpanId")) span->parent_span_id = HexId<8>(s["parentSpanId"]);
        span->trace_state = s.value("traceState", "");
        span->flags = s.value("flags", 0u);
        span->name = s.value("name", "");
        span->kind = static_cast<SpanKind>(s.value("kind", 0));
        span->start_time_unix_nano = static_cast<int64_t>(Uint64(s["startTimeUnixNano"]));
        span->end_time_unix_nano = static_cast<int64_t>(Uint64(s["endTimeUnixNano"]));
        span->attributes = AttributesOf(s);
        span->dropped_attributes_count = s.value("droppedAttributesCount", 0u);
        for (const json& e : s.value("events", json::array())) {
          SpanEvent event;
          event.time_unix_nano = static_cast<int64_t>(Uint64(e["timeUnixNano"]));
          event.name = e.value("name", "");
          event.attributes = AttributesOf(e);
          event.dropped_attributes_count = e.value("droppedAttributesCount", 0u);
          span->events.push_back(std::move(event));
        }
        span->dropped_events_count = s.value("droppedEventsCount", 0u);
        for (const json& l : s.value("links", json::array())) {
          SpanLink link;
          link.trace_id = HexId<16>(l["traceId"]);
          link.span_id = HexId<8>(l["spanId"]);
          link.trace_state = l.value("traceState", "");
          link.flags = l.value("flags", 0u);
          link.attributes = AttributesOf(l);
          link.dropped_attributes_count = l.value("droppedAttributesCount", 0u);
          span->links.push_back(std::move(link));
        }
        span->dropped_links_count = s.value("droppedLinksCount", 0u);
        if (s.contains("status")) {
          span->status_code = static_cast<StatusCode>(s["status"].value("code", 0));
          span->status_message = s["status"].value("message", "");
        }
        span->resource = resource;
        span->scope = scope;
        spans.push_back(std::move(span));
      }
    }
  }
  return spans;
}

json StatsJson(const OtlpExporterStats& stats) {
  return {{"requests_sent", stats.requests_sent},
          {"retries", stats.retries},
          {"spans_exported", stats.spans_exported},
          {"spans_rejected", stats.spans_rejected},
          {"spans_failed", stats.spans_failed},
          {"spans_timed_out", stats.spans_timed_out},
          {"spans_too_large", stats.spans_too_large},
          {"spans_after_shutdown", stats.spans_after_shutdown}};
}

// Spans through the SDK's public API, exported by whatever Init chose from OTEL_*.
int RunSdk(int spans) {
  TelemetryOptions options;
  options.shutdown_at_exit = false;
  Result<TelemetryConfig> config = Init(std::move(options));
  if (!config.ok()) {
    std::cerr << config.status().ToString() << "\n";
    return 1;
  }
  Tracer tracer = telemetry::tracer("lantern.e2e", "1.0.0");
  for (int i = 0; i < spans; ++i) {
    Span request = tracer.StartSpan("request", SpanKind::kServer);
    request.SetAttribute("request.index", int64_t{i});
    Span child = tracer.StartSpan("child", SpanKind::kInternal, request.context());
    child.End();
    request.End();
  }
  json report;
  report["shutdown_returned"] = Shutdown(std::chrono::seconds(20));
  TelemetryHealth health = ReadHealth();
  report["health"] = {{"spans_ended", health.spans_ended},
                      {"spans_exported", health.spans_exported},
                      {"spans_dropped_queue_full", health.spans_dropped_queue_full},
                      {"spans_dropped_export_failed", health.spans_dropped_export_failed},
                      {"export_retries", health.export_retries}};
  report["otlp_endpoint"] = config->otlp_endpoint;
  std::cout << report.dump() << std::endl;
  return 0;
}

int Run(int argc, char** argv) {
  std::string fixture, file_out;
  int shutdown_after_ms = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--fixture") {
      fixture = argv[i + 1];
    } else if (flag == "--file-out") {
      file_out = argv[i + 1];
    } else if (flag == "--shutdown-after-ms") {
      shutdown_after_ms = std::stoi(argv[i + 1]);
    } else if (flag == "--sdk-spans") {
      return RunSdk(std::stoi(argv[i + 1]));
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  std::vector<std::unique_ptr<SpanData>> spans = LoadFixture(fixture);
  json report;
  if (!file_out.empty()) {
    auto exporter = OtlpFileExporter::Open(file_out);
    if (!exporter.ok()) {
      std::cerr << exporter.status().ToString() << "\n";
      return 1;
    }
    report["result"] = (*exporter)->Export(spans) == ExportResult::kSuccess ? "success" : "failure";
    report["shutdown_returned"] = (*exporter)->Shutdown(std::chrono::seconds(1));
    std::cout << report.dump() << std::endl;
    return 0;
  }
  auto options = OtlpExporterOptionsFromEnv(ProcessEnv(), "");
  if (!options.ok()) {
    std::cerr << options.status().ToString() << "\n";
    return 1;
  }
  auto exporter = CreateOtlpExporter(*options);
  if (!exporter.ok()) {
    std::cerr << exporter.status().ToString() << "\n";
    return 1;
  }
  // --shutdown-after-ms: Shutdown from another thread while Export is (probably) blocked
  // on a dead collector; both must return promptly.
  std::thread shutdown_thread;
  bool shutdown_returned = false;  // written by shutdown_thread, read after join
  if (shutdown_after_ms >= 0) {
    shutdown_thread = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(shutdown_after_ms));
      shutdown_returned = (*exporter)->Shutdown(std::chrono::seconds(2));
    });
  }
  report["result"] = (*exporter)->Export(spans) == ExportResult::kSuccess ? "success" : "failure";
  if (shutdown_thread.joinable()) {
    shutdown_thread.join();
    report["shutdown_returned"] = shutdown_returned;
  }
  report["stats"] = StatsJson((*exporter)->stats());
  report["spans"] = spans.size();
  std::cout << report.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace lantern::telemetry

int main(int argc, char** argv) {
  try {
    return lantern::telemetry::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "otlp_e2e_driver: " << e.what() << "\n";
    return 1;
  }
}
