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
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/engine_stats.h"
#include "engine/request.h"
#include "server/router.h"
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

// Records http.server.request.duration (s, the conventions' advised buckets) when each
// exchange ends, by http.request.method, http.route, http.response.status_code,
// url.scheme and network.protocol.version; error.type on 5xx and on clients gone
// before the end (client_disconnected, as on the HTTP span). For Router::AddObserverFactory;
// observes nothing unless StartGenAiMetrics turned metrics on first.
Router::ObserverFactory MakeHttpServerMetricsObserverFactory();

}  // namespace lantern::server
