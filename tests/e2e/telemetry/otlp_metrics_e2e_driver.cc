// Test driver for the OTLP metrics end-to-end tests: turns metrics on from OTEL_* (as the
// server does), records a known set of measurements in `--rounds` rounds, each followed by
// a flush (one export), shuts down (a last export) and prints the reader's outcome as one
// JSON line. The Node side (otlp_metrics_e2e.js) checks what the receiver decoded.
//
//   otlp_metrics_e2e_driver [--rounds N]
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "telemetry/meter_provider.h"
#include "telemetry/metrics_sdk.h"

namespace lantern::telemetry {
namespace {

int Run(int rounds) {
  Result<MetricsConfig> config =
      InitMetrics({.default_service_name = "metrics-e2e", .shutdown_at_exit = false});
  if (!config.ok()) {
    std::cerr << config.status().ToString() << "\n";
    return 2;
  }
  Meter meter = GlobalMeter("lantern.e2e", "1.0.0");
  Counter requests = meter.CreateCounter(
      "test.requests", {.description = "requests served", .unit = "{request}", .integer = true});
  UpDownCounter running = meter.CreateUpDownCounter("test.running", {.unit = "{request}"});
  Histogram duration =
      meter.CreateHistogram("test.duration", {.unit = "s", .advisory_boundaries = {0.01, 0.1, 1}});
  int round = 0;
  meter.CreateObservableGauge("test.round", {.unit = "1"}, [&round] {
    return std::vector<Observation>{{{{"kind", std::string("gauge")}}, double(round)}};
  });
  bool flushed = true;
  for (round = 1; round <= rounds; ++round) {
    requests.Add(1, {{"route", std::string("/a")}});
    requests.Add(2, {{"route", std::string("/b")}});
    running.Add(round % 2 == 1 ? 1 : -1);
    // One sampled measurement per round: its exemplar carries trace id 0x<round> x16.
    SpanContext span;
    span.trace_id.fill(static_cast<uint8_t>(round));
    span.span_id.fill(static_cast<uint8_t>(0x80 + round));
    span.trace_flags = kTraceFlagSampled;
    duration.Record(0.05, {{"error.type", std::string("none")}}, &span);
    duration.Record(0.5 * round, {{"error.type", std::string("none")}});
    flushed = ForceFlushMetrics(std::chrono::seconds(20)) && flushed;
  }
  bool shutdown = ShutdownMetrics(std::chrono::seconds(20));
  nlohmann::json report = {{"flushed", flushed},
                           {"shutdown", shutdown},
                           {"exporters", config->exporters},
                           {"endpoint", config->otlp_endpoint}};
  std::cout << report.dump() << std::endl;
  return 0;
}

}  // namespace
}  // namespace lantern::telemetry

int main(int argc, char** argv) {
  int rounds = 2;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::stoi(argv[i + 1]);
  }
  return lantern::telemetry::Run(rounds);
}
