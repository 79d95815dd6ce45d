// The CPU that tracing adds to one request on the server's I/O threads, measured on the
// server's own code: the HTTP SERVER span (observer made by the router's factory, status,
// traceresponse header, end) and `llm_request` with its queue, prefill and decode children
// built from a finished request's engine figures, all through a batch span processor. The
// exporter thread's share (OTLP encoding and sending) is measured by bench/otlp_export and
// in `lantern serve` by bench/trace_overhead; here the exporter discards, so the figure is
// what request-handling threads pay.
//
//   build/bench/request_tracing/request_tracing_bench
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "engine/request.h"
#include "engine/sampling_params.h"
#include "server/http_tracing.h"
#include "server/http_types.h"
#include "server/request_tracing.h"
#include "server/router.h"
#include "telemetry/batch_span_processor.h"
#include "telemetry/context.h"
#include "telemetry/exporter.h"
#include "telemetry/tracer.h"

namespace lantern::server {
namespace {

using namespace std::chrono_literals;

class DiscardingExporter : public telemetry::SpanExporter {
 public:
  explicit DiscardingExporter(std::atomic<uint64_t>* count) : count_(count) {}
  telemetry::ExportResult Export(
      std::span<const std::unique_ptr<telemetry::SpanData>> spans) override {
    count_->fetch_add(spans.size(), std::memory_order_relaxed);
    return telemetry::ExportResult::kSuccess;
  }
  bool ForceFlush(std::chrono::microseconds) override { return true; }
  bool Shutdown(std::chrono::microseconds) override { return true; }

 private:
  std::atomic<uint64_t>* count_;
};

std::atomic<uint64_t> exported{0};
telemetry::TracerProvider* provider = nullptr;

// Installed once: the global provider, as `lantern serve` has it (batch processor with the
// specification's defaults, parent-based always-on sampler).
void InstallProvider() {
  static bool installed = [] {
    telemetry::TracerProviderOptions options;
    options.processors.push_back(std::make_unique<telemetry::BatchSpanProcessor>(
        std::make_unique<DiscardingExporter>(&exported), telemetry::BatchSpanProcessorOptions{}));
    provider = telemetry::SetGlobalTracerProvider(
        std::make_unique<telemetry::TracerProvider>(std::move(options)));
    return true;
  }();
  (void)installed;
}

HttpRequest CompletionRequest(bool with_traceparent) {
  HttpRequest r;
  r.method = "POST";
  r.target = r.path = "/v1/completions";
  r.client_address = "127.0.0.1";
  r.client_port = 40000;
  r.server_address = "127.0.0.1";
  r.server_port = 8000;
  r.headers = {{"host", "127.0.0.1:8000"},
               {"user-agent", "OpenAI/JS 4.0"},
               {"content-type", "application/json"}};
  if (with_traceparent) {
    r.headers.emplace_back("traceparent",
                           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  }
  return r;
}

// A streamed completion: 32 prompt tokens, one stay in the queue, 32 generated tokens.
void BM_RequestTracing(benchmark::State& state) {
  InstallProvider();
  const bool with_traceparent = state.range(0) != 0;
  Router::ObserverFactory factory = MakeHttpTracingObserverFactory();
  const telemetry::Tracer tracer = telemetry::tracer("lantern.server");
  const RequestTracingOptions options;
  HttpRequest request = CompletionRequest(with_traceparent);
  engine::SamplingParams params;
  params.temperature = 0.7;
  params.top_p = 0.95;
  params.max_tokens = 32;
  uint64_t exported_before = exported.load();
  for (auto _ : state) {
    std::unique_ptr<ExchangeObserver> observer = factory(request, "/v1/completions");
    const telemetry::Context* http_context = observer->trace_context();
    SteadyTime t0 = Now();
    LlmRequestStart start;
    start.request_id = "cmpl-8f1e2d3c4b5a69788796a5b4c3d2e1f0-0";
    start.response_id = "cmpl-8f1e2d3c4b5a69788796a5b4c3d2e1f0";
    start.model = "tiny";
    start.stream = true;
    start.max_tokens = 32;
    start.params = &params;
    start.arrival = t0;
    telemetry::Span span = StartLlmRequestSpan(tracer, http_context->span_context, start);
    observer->OnStatus(200);
    HeaderList headers;
    observer->AddResponseHeaders(headers);
    LlmRequestEnd end;
    engine::RequestMetrics& m = end.metrics;
    m.arrival = t0;
    m.queue_intervals = {{t0 + 100us, t0 + 300us}};
    m.first_scheduled = t0 + 300us;
    m.first_token = t0 + 3ms;
    m.last_token = t0 + 40ms;
    m.finished = t0 + 40ms;
    m.num_prompt_tokens = 32;
    m.num_computed_prompt_tokens = 32;
    m.num_generation_tokens = 32;
    m.num_prefill_chunks = 1;
    end.finish_reasons = {"length"};
    end.first_chunk = t0 + 3100us;
    EndLlmRequestSpan(tracer, span, end, options);
    observer->OnEnd(false);
    benchmark::DoNotOptimize(headers);
  }
  provider->ForceFlush(std::chrono::seconds(10));
  state.counters["spans_per_request"] =
      benchmark::Counter(static_cast<double>(exported.load() - exported_before) /
                         static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RequestTracing)->Arg(0)->Arg(1)->ArgName("traceparent");

}  // namespace
}  // namespace lantern::server

BENCHMARK_MAIN();
