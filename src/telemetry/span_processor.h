// Span processors receive every ended recording span from the tracer provider.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "telemetry/exporter.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Called on the thread that ended the span; must not block.
  virtual void OnEnd(std::unique_ptr<SpanData> span) = 0;
  // Exports everything ended so far; false when `timeout` passed first.
  virtual bool ForceFlush(std::chrono::microseconds timeout) = 0;
  // Flushes, then shuts the exporter down. Idempotent. False when `timeout` passed first.
  virtual bool Shutdown(std::chrono::microseconds timeout) = 0;
};

// Exports each sampled span synchronously on the ending thread, one at a time. For tests
// and debugging only: it makes End() wait on the exporter.
class SimpleSpanProcessor : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter);
  void OnEnd(std::unique_ptr<SpanData> span) override;
  bool ForceFlush(std::chrono::microseconds timeout) override;
  bool Shutdown(std::chrono::microseconds timeout) override;

 private:
  std::mutex mu_;
  std::unique_ptr<SpanExporter> exporter_;
  bool shut_down_ = false;
};

}  // namespace lantern::telemetry
