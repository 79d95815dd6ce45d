// The exporter interface: the batch span processor's single exporter thread calls
// Export with a batch; an exporter may block up to its own timeout there, never longer.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

enum class ExportResult { kSuccess, kFailure };

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Sends the spans; returns when they are delivered, refused, or the export timeout
  // (retries included) has passed. Called from one thread at a time.
  virtual ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) = 0;
  virtual bool ForceFlush(std::chrono::microseconds timeout) { return true; }
  // After Shutdown, Export returns kFailure at once. Idempotent.
  virtual bool Shutdown(std::chrono::microseconds timeout) { return true; }
};

}  // namespace lantern::telemetry
