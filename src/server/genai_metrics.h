// The OpenTelemetry GenAI server metrics (semantic conventions: names, units, attributes,
// advised buckets), recorded into the telemetry metrics SDK and exported over OTLP when
// OTEL_METRICS_EXPORTER / OTEL_EXPORTER_OTLP_* say so:
//   gen_ai.server.request.duration, gen_ai.server.time_to_first_token,
//   gen_ai.server.time_per_output_token (histograms, s), gen_ai.server.token.usage
//   (histogram, {token}, by gen_ai.token.type: the shape of gen_ai.client.token.usage, named
//   for the server so a client's own metric is not double counted), and lantern's own
//   (queue, prefill and decode time; running and waiting requests, KV usage, preemptions,
//   prefix-cache hits, span export drops). Histogram points made inside a sampled
//   llm_request span carry its trace id as an exemplar. Also the HTTP server metric
//   http.server.request.duration, one point per exchange.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/engine_stats.h"
#include "engine/request.h"
#include "server/metrics.h"
#include "server/router.h"
#include "telemetry/metrics.h"
#include "telemetry/span_context.h"

namespace lantern::server {

// Turns the metrics SDK on from the environment and creates the instruments; `counters`
// is read by the observable instruments at each collection. Failing to build an exporter
// is logged, never fatal: the server serves without OTLP metrics.
void StartGenAiMetrics(std::function<engine::EngineCounters()> counters);

// One finished engine request of a chat (`chat`) or text completion, served as `model`.
// `span`: the llm_request span (exemplar candidate), or null. No-op before
// StartGenAiMetrics.
void RecordGenAiRequest(bool chat, std::string_view model, const engine::RequestMetrics& metrics,
                        const telemetry::SpanContext* span, std::string_view error_type = "");

// What the GenAI metrics know of a request, for ServingMetrics::FinishedRequest.
struct GenAiRequest {
  bool chat = false;
  std::string_view model = {};
  const telemetry::SpanContext* span = nullptr;  // the llm_request span, or null
  std::string_view error_type = {};
};

// The /metrics histograms (vLLM's, served by ServingMetrics) that show the same request
// timings as gen_ai.server.request.duration, gen_ai.server.time_to_first_token and
// lantern.request.queue/prefill/decode.duration. Each timing is recorded once, by one
// SDK call that aggregates it into the OTLP instrument and into its /metrics series,
// `sequences` times there (vLLM counts each of a request's n sequences as a request).
struct RequestTimingSeries {
  Histogram* e2e = nullptr;
  Histogram* ttft = nullptr;
  Histogram* queue = nullptr;
  Histogram* prefill = nullptr;
  Histogram* decode = nullptr;
  int sequences = 1;
};

// RecordGenAiRequest that also feeds `series` from the same recordings. Before (or
// without) StartGenAiMetrics, only `series` is recorded.
void RecordRequestTimings(const GenAiRequest& request, const engine::RequestMetrics& metrics,
                          const RequestTimingSeries& series);

// http.server.request.duration of one exchange: its attributes known at the start, Record
// adds the status (and error.type) at the end and records the duration once, into the
// OTLP instrument and into `also`, the /metrics histogram of the same exchange (may be
// null): one timing for both outputs (http_metrics.h's observer holds one).
class HttpServerDuration {
 public:
  // Null unless StartGenAiMetrics turned metrics on.
  static std::unique_ptr<HttpServerDuration> Begin(const HttpRequest& request,
                                                   const std::string& route);
  HttpServerDuration(const telemetry::Histogram* instrument, telemetry::Attributes attributes)
      : instrument_(instrument), attributes_(std::move(attributes)) {}
  // `status` 0: none was sent.
  void Record(int status, bool client_gone, double seconds, Histogram* also);

 private:
  const telemetry::Histogram* instrument_;
  telemetry::Attributes attributes_;
};

// Records http.server.request.duration (s, the conventions' advised buckets) when each
// exchange ends, by http.request.method, http.route, http.response.status_code,
// url.scheme and network.protocol.version; error.type on 5xx and on clients gone
// before the end (client_disconnected, as on the HTTP span). For Router::AddObserverFactory;
// observes nothing unless StartGenAiMetrics turned metrics on first.
Router::ObserverFactory MakeHttpServerMetricsObserverFactory();

}  // namespace lantern::server
