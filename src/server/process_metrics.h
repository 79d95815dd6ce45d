// The process_* series Python's prometheus_client writes on Linux (and so vLLM's /metrics):
// CPU time, resident and virtual memory, start time, open and maximum file descriptors,
// read from /proc at each scrape. Same names in both namings.
#pragma once

#include "server/metrics.h"

namespace lantern::server {

void AddProcessMetrics(MetricsRegistry* registry);

}  // namespace lantern::server
