#include "server/genai_metrics.h"

#include <array>
#include <atomic>
#include <memory>

#include "base/clock.h"
#include "base/log.h"
#include "telemetry/health.h"
#include "telemetry/meter_provider.h"
#include "telemetry/metrics_sdk.h"

namespace lantern::server {
namespace {

using telemetry::Attribute;
using telemetry::Attributes;
using telemetry::Histogram;
using telemetry::InstrumentOptions;
using telemetry::Observation;

// The semantic conventions' advised bucket boundaries.
const std::vector<double> kDurationBuckets = {0.01, 0.02, 0.04, 0.08,  0.16,  0.32,  0.64,
                                              1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                          0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
const std::vector<double> kTpotBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                          0.3,  0.4,   0.5,  0.75,  1.0, 2.5};
const std::vector<double> kTokenBuckets = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};

const std::vector<double> kHttpDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                  0.5,   0.75, 1,     2.5,  5,     7.5, 10};

struct Instruments {
  Histogram request_duration, ttft, tpot, token_usage, queue, prefill, decode, http_duration;
};

std::atomic<Instruments*> g_instruments{nullptr};

InstrumentOptions Seconds(std::string description, const std::vector<double>& buckets) {
  return {.description = std::move(description), .unit = "s", .advisory_boundaries = buckets};
}

}  // namespace

void StartGenAiMetrics(std::function<engine::EngineCounters()> counters) {
  Result<telemetry::MetricsConfig> config =
      telemetry::InitMetrics({.default_service_name = "lantern"});
  if (!config.ok()) {
    LANTERN_LOG(kError, "serve") << "OTLP metrics off: " << config.status().ToString();
    return;
  }
  if (!config->enabled) return;
  if (!config->exporters.empty()) {
    LANTERN_LOG(kInfo, "serve") << "metrics on: exporter " << config->exporters.front()
                                << (config->otlp_endpoint.empty()
                                        ? ""
                                        : ", endpoint " + config->otlp_endpoint)
                                << ", every " << config->reader.interval.count() << " ms";
  }
  telemetry::Meter meter = telemetry::GlobalMeter("lantern.server");
  auto* instruments = new Instruments{
      meter.CreateHistogram("gen_ai.server.request.duration",
                            Seconds("Generative AI server request duration", kDurationBuckets)),
      meter.CreateHistogram("gen_ai.server.time_to_first_token",
                            Seconds("Time to generate the first token", kTtftBuckets)),
      meter.CreateHistogram("gen_ai.server.time_per_output_token",
                            Seconds("Time per output token after the first", kTpotBuckets)),
      meter.CreateHistogram("gen_ai.server.token.usage",
                            {.description = "Input and output tokens per request",
                             .unit = "{token}",
                             .advisory_boundaries = kTokenBuckets,
                             .integer = true}),
      meter.CreateHistogram("lantern.request.queue.duration",
                            Seconds("Time waiting to be scheduled", kDurationBuckets)),
      meter.CreateHistogram("lantern.request.prefill.duration",
                            Seconds("First scheduled to first token", kDurationBuckets)),
      meter.CreateHistogram("lantern.request.decode.duration",
                            Seconds("First token to last token", kDurationBuckets)),
      meter.CreateHistogram("http.server.request.duration",
                            Seconds("Duration of HTTP server requests", kHttpDurationBuckets)),
  };
  // Never freed: threads finishing requests during shutdown may still read it.
  g_instruments.store(instruments, std::memory_order_release);

  auto read = std::make_shared<std::function<engine::EngineCounters()>>(std::move(counters));
  auto gauge = [read](auto pick) {
    return [read, pick] { return std::vector<Observation>{{{}, pick((*read)())}}; };
  };
  meter.CreateObservableUpDownCounter(
      "lantern.requests.running", {.unit = "{sequence}"},
      gauge([](const engine::EngineCounters& c) { return double(c.num_running); }));
  meter.CreateObservableUpDownCounter(
      "lantern.requests.waiting", {.unit = "{sequence}"},
      gauge([](const engine::EngineCounters& c) { return double(c.num_waiting); }));
  meter.CreateObservableGauge("lantern.kv_cache.usage", {.unit = "1"},
                              gauge([](const engine::EngineCounters& c) { return c.kv_usage(); }));
  meter.CreateObservableCounter(
      "lantern.preemptions", {.unit = "{preemption}", .integer = true},
      gauge([](const engine::EngineCounters& c) { return double(c.num_preemptions); }));
  meter.CreateObservableCounter(
      "lantern.prefix_cache.hits", {.unit = "{token}", .integer = true},
      gauge([](const engine::EngineCounters& c) { return double(c.prefix_cache_hits); }));
  meter.CreateObservableCounter(
      "lantern.prefix_cache.queries", {.unit = "{token}", .integer = true},
      gauge([](const engine::EngineCounters& c) { return double(c.prefix_cache_queries); }));
  meter.CreateObservableCounter("lantern.spans.dropped", {.unit = "{span}", .integer = true}, [] {
    telemetry::TelemetryHealth h = telemetry::ReadHealth();
    auto reason = [](const char* r) { return Attributes{{"reason", std::string(r)}}; };
    return std::vector<Observation>{
        {reason("queue_full"), double(h.spans_dropped_queue_full)},
        {reason("export_failed"), double(h.spans_dropped_export_failed)},
        {reason("rejected"), double(h.spans_dropped_rejected)},
        {reason("too_large"), double(h.spans_dropped_too_large)},
        {reason("shutdown"), double(h.spans_dropped_shutdown)}};
  });
}

namespace {

// One timing into its GenAI instrument (when metrics are on) and `times` times into its
// /metrics series (when given), in one recording.
void RecordTiming(const Histogram* instrument, const Attributes& attributes,
                  const telemetry::SpanContext* span, server::Histogram* series, int times,
                  double seconds) {
  telemetry::CumulativeSeries* also = series != nullptr ? series->series() : nullptr;
  if (instrument != nullptr) {
    instrument->Record(seconds, attributes, span, also, times);
  } else if (also != nullptr) {
    for (int i = 0; i < times; ++i) also->Record(seconds, span);
  }
}

void Record(const GenAiRequest& request, const engine::RequestMetrics& metrics,
            const RequestTimingSeries* series) {
  Instruments* in = g_instruments.load(std::memory_order_acquire);
  if (in == nullptr && series == nullptr) return;
  Attributes attributes;
  if (in != nullptr) {
    attributes = {
        {"gen_ai.operation.name", std::string(request.chat ? "chat" : "text_completion")},
        {"gen_ai.provider.name", std::string("lantern")},
        {"gen_ai.request.model", std::string(request.model)},
        {"gen_ai.response.model", std::string(request.model)},
    };
    if (!request.error_type.empty()) {
      attributes.push_back({"error.type", std::string(request.error_type)});
    }
  }
  const RequestTimingSeries none{.sequences = 0};
  const RequestTimingSeries& s = series != nullptr ? *series : none;
  const telemetry::SpanContext* span = request.span;
  const engine::RequestMetrics& m = metrics;
  // Each side keeps its own rules of when a timing exists; where vLLM's is narrower, its
  // series gets the measurement 0 times.
  auto times = [&s](bool vllm_has_it) { return vllm_has_it ? s.sequences : 0; };
  RecordTiming(in ? &in->request_duration : nullptr, attributes, span, s.e2e,
               times(m.finished.has_value()), m.e2e_s());
  if (m.first_token) {
    RecordTiming(in ? &in->ttft : nullptr, attributes, span, s.ttft, times(true), m.ttft_s());
  }
  RecordTiming(in ? &in->queue : nullptr, attributes, span, s.queue, times(true), m.queue_s());
  if (m.first_token) {
    RecordTiming(in ? &in->prefill : nullptr, attributes, span, s.prefill,
                 times(m.first_scheduled.has_value()), m.prefill_s());
  }
  if (m.last_token) {
    RecordTiming(in ? &in->decode : nullptr, attributes, span, s.decode,
                 times(m.first_token.has_value()), m.decode_s());
  }
  if (in == nullptr) return;
  if (m.num_generation_tokens > 1) {
    in->tpot.Record(m.decode_s() / (m.num_generation_tokens - 1), attributes, span);
  }
  Attributes tokens = attributes;
  tokens.push_back({"gen_ai.token.type", std::string("input")});
  in->token_usage.Record(m.num_prompt_tokens, tokens, span);
  tokens.back().value = std::string("output");
  in->token_usage.Record(m.num_generation_tokens, tokens, span);
}

}  // namespace

void RecordGenAiRequest(bool chat, std::string_view model, const engine::RequestMetrics& metrics,
                        const telemetry::SpanContext* span, std::string_view error_type) {
  Record({.chat = chat, .model = model, .span = span, .error_type = error_type}, metrics, nullptr);
}

void RecordRequestTimings(const GenAiRequest& request, const engine::RequestMetrics& metrics,
                          const RequestTimingSeries& series) {
  Record(request, metrics, &series);
}

namespace {

// The conventions' known methods; anything else is "_OTHER" (bounded cardinality).
std::string MethodAttribute(const std::string& method) {
  static constexpr std::array<std::string_view, 9> kKnown = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view known : kKnown) {
    if (method == known) return method;
  }
  return "_OTHER";
}

class HttpDurationObserver : public ExchangeObserver {
 public:
  explicit HttpDurationObserver(std::unique_ptr<HttpServerDuration> duration)
      : duration_(std::move(duration)), start_(Now()) {}

  // OnStatus and OnEnd may come from different threads.
  void OnStatus(int status) override { status_.store(status, std::memory_order_release); }

  void OnEnd(bool client_gone) override {
    duration_->Record(status_.load(std::memory_order_acquire), client_gone,
                      SecondsBetween(start_, Now()), nullptr);
  }

 private:
  std::unique_ptr<HttpServerDuration> duration_;
  SteadyTime start_;
  std::atomic<int> status_{0};
};

}  // namespace

std::unique_ptr<HttpServerDuration> HttpServerDuration::Begin(const HttpRequest& request,
                                                              const std::string& route) {
  Instruments* in = g_instruments.load(std::memory_order_acquire);
  if (in == nullptr) return nullptr;
  Attributes attributes = {
      {"http.request.method", MethodAttribute(request.method)},
      {"url.scheme", std::string("http")},
      {"network.protocol.version", std::string(request.http_version == 10 ? "1.0" : "1.1")}};
  if (!route.empty()) attributes.push_back({"http.route", route});
  return std::make_unique<HttpServerDuration>(&in->http_duration, std::move(attributes));
}

void HttpServerDuration::Record(int status, bool client_gone, double seconds,
                                server::Histogram* also) {
  if (status != 0) attributes_.push_back({"http.response.status_code", int64_t{status}});
  if (status >= 500) {
    attributes_.push_back({"error.type", std::to_string(status)});
  } else if (client_gone) {  // as the HTTP span says it
    attributes_.push_back({"error.type", std::string("client_disconnected")});
  }
  instrument_->Record(seconds, attributes_, nullptr, also != nullptr ? also->series() : nullptr, 1);
}

Router::ObserverFactory MakeHttpServerMetricsObserverFactory() {
  return [](const HttpRequest& request,
            const std::string& route) -> std::unique_ptr<ExchangeObserver> {
    std::unique_ptr<HttpServerDuration> duration = HttpServerDuration::Begin(request, route);
    if (duration == nullptr) return nullptr;
    return std::make_unique<HttpDurationObserver>(std::move(duration));
  };
}

}  // namespace lantern::server
