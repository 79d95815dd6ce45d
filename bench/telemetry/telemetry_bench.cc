// Cost of tracing on the request path: span start+end with 15 attributes, sampled and
// exported through the batch span processor to an exporter that discards (so the figure
// is the SDK's, not a network's); and an unsampled or disabled span, which must cost
// about nothing. Run: build-*/bench/telemetry/telemetry_bench
//
// The sampled benchmark flushes the batch processor every 2048 spans so that no span is
// dropped (a dropped span costs less than an exported one), and reports the process's CPU
// time per span, the exporter thread's included (`cpu_all_threads_ns`), and the heap
// allocations per span on all threads (`allocs`).
#include <benchmark/benchmark.h>
#include <time.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "telemetry/batch_span_processor.h"
#include "telemetry/health.h"
#include "telemetry/ids.h"
#include "telemetry/trace_context.h"
#include "telemetry/tracer.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Counts every heap allocation of the process (std::string, std::vector, new). (GCC sees
// the inlined malloc and free of these replacements as a mismatch.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace lantern::telemetry {
namespace {

int64_t ProcessCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

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
  Sampled().ForceFlush(std::chrono::seconds(10));
  TelemetryHealth before = ReadHealth();
  int64_t cpu_before = ProcessCpuNanos();
  uint64_t allocations_before = g_allocations.load();
  int64_t i = 0;
  for (auto _ : state) {
    Span span = tracer.StartSpan("llm_request", SpanKind::kServer);
    SetFifteenAttributes(span, ++i);
    span.End();
    // Let the exporter keep up (the default queue holds 2048 spans).
    if ((i & 1023) == 0) Sampled().ForceFlush(std::chrono::seconds(10));
  }
  Sampled().ForceFlush(std::chrono::seconds(10));
  if (state.thread_index() == 0) {
    // Process-wide: meaningful for the single-threaded run.
    double spans = static_cast<double>(state.iterations() * state.threads());
    state.counters["cpu_all_threads_ns"] =
        static_cast<double>(ProcessCpuNanos() - cpu_before) / spans;
    state.counters["allocs"] =
        static_cast<double>(g_allocations.load() - allocations_before) / spans;
  }
  ReportDrops(state, before);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanSampled15AttributesThroughBatchProcessor)->Threads(1)->Threads(2)->UseRealTime();

void BM_SpanSampledNoAttributes(benchmark::State& state) {
  Tracer tracer = Sampled().GetTracer("bench");
  Sampled().ForceFlush(std::chrono::seconds(10));
  TelemetryHealth before = ReadHealth();
  int64_t i = 0;
  for (auto _ : state) {
    tracer.StartSpan("step").End();
    if ((++i & 1023) == 0) Sampled().ForceFlush(std::chrono::seconds(10));
  }
  ReportDrops(state, before);
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
