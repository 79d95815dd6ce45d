// Sustained OTLP export throughput: one thread exports batches of typical request spans
// (15 attributes, one event) as fast as the collector takes them, with the exporter that
// OTEL_EXPORTER_OTLP_* configures. Prints one JSON line: spans/s of wall time, and spans
// per second of CPU time of the exporting thread and of the whole process (robust to a
// shared, noisy machine).
//
//   otlp_export_bench [--seconds 5] [--batch 512]      (run.js starts a receiver)
#include <time.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "base/clock.h"
#include "telemetry/env.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_exporter.h"

namespace lantern::telemetry {
namespace {

double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A span shaped like Lantern's llm_request span: gen_ai.* and vLLM attributes.
std::vector<std::unique_ptr<SpanData>> MakeBatch(size_t count, uint64_t seed) {
  auto resource = std::make_shared<Resource>();
  resource->attributes = {{"service.name", std::string("lantern")},
                          {"service.version", std::string("0.1.0")},
                          {"host.name", std::string("bench-host")},
                          {"process.pid", int64_t{4242}},
                          {"telemetry.sdk.name", std::string("lantern")},
                          {"telemetry.sdk.language", std::string("cpp")}};
  auto scope = std::make_shared<InstrumentationScope>(InstrumentationScope{"engine", "0.1.0"});
  std::vector<std::unique_ptr<SpanData>> spans;
  for (size_t i = 0; i < count; ++i) {
    auto span = std::make_unique<SpanData>();
    uint64_t id = seed * 1000003 + i;
    std::memcpy(span->trace_id.data(), &id, 8);
    std::memcpy(span->span_id.data(), &id, 8);
    span->parent_span_id[0] = 1;
    span->flags = 1;
    span->name = "llm_request";
    span->kind = SpanKind::kInternal;
    span->start_time_unix_nano = 1700000000000000000 + static_cast<int64_t>(id);
    span->end_time_unix_nano = span->start_time_unix_nano + 123456789;
    span->attributes = {
        {"gen_ai.request.id", "cmpl-" + std::to_string(id)},
        {"gen_ai.request.model", std::string("facebook/opt-125m")},
        {"gen_ai.response.model", std::string("facebook/opt-125m")},
        {"gen_ai.system", std::string("lantern")},
        {"gen_ai.operation.name", std::string("text_completion")},
        {"gen_ai.request.max_tokens", int64_t{128}},
        {"gen_ai.request.temperature", 0.7},
        {"gen_ai.request.top_p", 0.95},
        {"gen_ai.request.n", int64_t{1}},
        {"gen_ai.usage.prompt_tokens", int64_t{37}},
        {"gen_ai.usage.completion_tokens", int64_t{128}},
        {"gen_ai.latency.time_to_first_token", 0.0213},
        {"gen_ai.latency.e2e", 1.2345},
        {"gen_ai.latency.time_in_queue", 0.0012},
        {"gen_ai.response.finish_reasons", std::vector<std::string>{"length"}},
    };
    span->events.push_back({span->start_time_unix_nano + 21300000, "first_token", {}, 0});
    span->resource = resource;
    span->scope = scope;
    spans.push_back(std::move(span));
  }
  return spans;
}

int Run(int argc, char** argv) {
  double seconds = 5;
  size_t batch_size = 512;  // OTEL_BSP_MAX_EXPORT_BATCH_SIZE's default
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::stod(argv[i + 1]);
    if (std::strcmp(argv[i], "--batch") == 0) batch_size = std::stoul(argv[i + 1]);
  }
  auto options = OtlpExporterOptionsFromEnv(ProcessEnv(), "");
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", options.status().ToString().c_str());
    return 1;
  }
  auto exporter = CreateOtlpExporter(*options);
  if (!exporter.ok()) {
    std::fprintf(stderr, "%s\n", exporter.status().ToString().c_str());
    return 1;
  }
  // Distinct batches, built up front so that building SpanData is not measured.
  std::vector<std::vector<std::unique_ptr<SpanData>>> batches;
  for (uint64_t b = 0; b < 8; ++b) batches.push_back(MakeBatch(batch_size, b));
  (*exporter)->Export(batches[0]);  // connect and warm up

  uint64_t spans = 0, failures = 0;
  const double cpu_start = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
  // The whole process too: gRPC and curl may do part of the work on their own threads.
  const double process_cpu_start = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const SteadyTime start = Now();
  const SteadyTime stop = start + std::chrono::duration_cast<SteadyClock::duration>(
                                      std::chrono::duration<double>(seconds));
  for (size_t i = 0; Now() < stop; ++i) {
    if ((*exporter)->Export(batches[i % batches.size()]) == ExportResult::kSuccess) {
      spans += batch_size;
    } else {
      ++failures;
    }
  }
  const double wall = SecondsBetween(start, Now());
  const double cpu = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  const double process_cpu = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu_start;
  (*exporter)->Shutdown(std::chrono::seconds(5));
  const char* protocol = options->protocol == OtlpProtocol::kGrpc           ? "grpc"
                         : options->protocol == OtlpProtocol::kHttpProtobuf ? "http/protobuf"
                                                                            : "http/json";
  std::printf(
      "{\"protocol\":\"%s\",\"gzip\":%s,\"batch\":%zu,\"spans\":%llu,\"failed_batches\":%llu,"
      "\"wall_s\":%.3f,\"spans_per_s\":%.0f,\"exporter_cpu_s\":%.3f,"
      "\"spans_per_exporter_cpu_s\":%.0f,\"process_cpu_s\":%.3f,"
      "\"spans_per_process_cpu_s\":%.0f}\n",
      protocol, options->compression == OtlpCompression::kGzip ? "true" : "false", batch_size,
      static_cast<unsigned long long>(spans), static_cast<unsigned long long>(failures), wall,
      static_cast<double>(spans) / wall, cpu, static_cast<double>(spans) / cpu, process_cpu,
      static_cast<double>(spans) / process_cpu);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace lantern::telemetry

int main(int argc, char** argv) { return lantern::telemetry::Run(argc, argv); }
