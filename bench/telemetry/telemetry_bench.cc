// Cost of tracing on the request path: span start+end with 15 attributes, sampled and
// exported through the batch span processor to an exporter that discards (so the figure
// is the SDK's, not a network's); and an unsampled or disabled span, which must cost
// about nothing. Run: build-*/bench/telemetry/telemetry_bench
#include <benchmark/benchmark.h>

#include <atomic>

#include "telemetry/batch_span_processor.h"
#include "telemetry/health.h"
#include "telemetry/ids.h"
#include "telemetry/trace_context.h"
#include "telemetry/tracer.h"

namespace lantern::telemetry {
namespace {

class NullExporter : public SpanExporter {
 public:
  ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) override {
    benchmark::DoNotOptimize(spans.data());
    return ExportResult::kSuccess;
  }
};

TracerProvider& Provider(std::unique_ptr<Sampler> (*make_sampler)()) {
  TracerProviderOptions options;
  options.sampler = make_sampler();
  options.resource.attributes.push_back({"service.name", std::string("bench")});
  options.processors.push_back(std::make_unique<BatchSpanProcessor>(
      std::make_unique<NullExporter>(), BatchSpanProcessorOptions{}));
  return *new TracerProvider(std::move(options));  // lives for the whole run
}

TracerProvider& Sampled() {
  static TracerProvider& provider = Provider(&MakeAlwaysOnSampler);
  return provider;
}
TracerProvider& Unsampled() {
  static TracerProvider& provider =
      Provider([] { return MakeParentBasedSampler(MakeAlwaysOffSampler()); });
  return provider;
}

// The attributes of an llm_request span, as the engine sets them.
void SetFifteenAttributes(Span& span, int64_t i) {
  span.SetAttribute("gen_ai.request.id", "cmpl-8f14e45fceea167a5a36dedd4bea2543");
  span.SetAttribute("gen_ai.request.model", "facebook/opt-125m");
  span.SetAttribute("gen_ai.system", "lantern");
  span.SetAttribute("gen_ai.request.max_tokens", int64_t{256});
  span.SetAttribute("gen_ai.request.temperature", 0.7);
  span.SetAttribute("gen_ai.request.top_p", 0.95);
  span.SetAttribute("gen_ai.request.n", int64_t{1});
  span.SetAttribute("gen_ai.usage.prompt_tokens", i);
  span.SetAttribute("gen_ai.usage.completion_tokens", i + 1);
  span.SetAttribute("gen_ai.latency.time_in_queue", 0.0012);
  span.SetAttribute("gen_ai.latency.time_to_first_token", 0.034);
  span.SetAttribute("gen_ai.latency.e2e", 1.25);
  span.SetAttribute("gen_ai.latency.time_in_model_prefill", 0.021);
  span.SetAttribute("gen_ai.latency.time_in_model_decode", 1.2);
  span.SetAttribute("gen_ai.response.finish_reasons", std::vector<std::string>{"stop"});
}

void ReportDrops(benchmark::State& state, const TelemetryHealth& before) {
  TelemetryHealth after = ReadHealth();
  state.counters["dropped_queue_full"] =
      static_cast<double>(after.spans_dropped_queue_full - before.spans_dropped_queue_full);
}

void BM_SpanSampled15AttributesThroughBatchProcessor(benchmark::State& state) {
  Tracer tracer = Sampled().GetTracer("bench");
  TelemetryHealth before = ReadHealth();
  int64_t i = 0;
  for (auto _ : state) {
    Span span = tracer.StartSpan("llm_request", SpanKind::kServer);
    SetFifteenAttributes(span, ++i);
    span.End();
  }
  ReportDrops(state, before);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanSampled15AttributesThroughBatchProcessor)->Threads(1)->Threads(2)->UseRealTime();

void BM_SpanSampledNoAttributes(benchmark::State& state) {
  Tracer tracer = Sampled().GetTracer("bench");
  for (auto _ : state) tracer.StartSpan("step").End();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanSampledNoAttributes);

void BM_SpanUnsampled(benchmark::State& state) {
  Tracer tracer = Unsampled().GetTracer("bench");
  for (auto _ : state) {
    Span span = tracer.StartSpan("llm_request");
    benchmark::DoNotOptimize(span.context().span_id);
    span.End();
  }
}
BENCHMARK(BM_SpanUnsampled);

void BM_SpanUnsampled15Attributes(benchmark::State& state) {
  Tracer tracer = Unsampled().GetTracer("bench");
  int64_t i = 0;
  for (auto _ : state) {
    Span span = tracer.StartSpan("llm_request");
    SetFifteenAttributes(span, ++i);
    span.End();
  }
}
BENCHMARK(BM_SpanUnsampled15Attributes);

void BM_SpanDisabled(benchmark::State& state) {
  Tracer tracer = telemetry::tracer("bench");  // no global provider installed: tracing off
  for (auto _ : state) {
    Span span = tracer.StartSpan("llm_request");
    benchmark::DoNotOptimize(span.context().span_id);
    span.End();
  }
}
BENCHMARK(BM_SpanDisabled);

void BM_NewSpanId(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(NewSpanId());
}
BENCHMARK(BM_NewSpanId);

void BM_ParseTraceParent(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ParseTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
  }
}
BENCHMARK(BM_ParseTraceParent);

}  // namespace
}  // namespace lantern::telemetry

BENCHMARK_MAIN();
