// http_requests_total and http_request_duration_seconds as vLLM's API server exposes them
// (prometheus-fastapi-instrumentator): per route template (`handler`), method and status
// class ("2xx"), probes and scrapes left out. vLLM's dashboards chart API traffic and its
// 5xx share from them. Same names in both namings.
#pragma once

#include "server/metrics.h"
#include "server/router.h"

namespace lantern::server {

// An observer factory for Router::AddObserverFactory recording into `registry`, which
// must outlive the router. When StartGenAiMetrics turned OTLP metrics on, the same
// observer also records http.server.request.duration, from the same timing in the same
// call (so MakeHttpServerMetricsObserverFactory is not needed beside it).
Router::ObserverFactory MakeHttpMetricsObserverFactory(MetricsRegistry* registry);

}  // namespace lantern::server
