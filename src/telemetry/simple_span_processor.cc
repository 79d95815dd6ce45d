#include "telemetry/health.h"
#include "telemetry/span_context.h"
#include "telemetry/span_processor.h"

namespace lantern::telemetry {

SimpleSpanProcessor::SimpleSpanProcessor(std::unique_ptr<SpanExporter> exporter)
    : exporter_(std::move(exporter)) {}

void SimpleSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) {
  if ((span->flags & kTraceFlagSampled) == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) {
    RecordSpansDropped(DropReason::kShutdown, 1);
    return;
  }
  std::unique_ptr<SpanData> batch[1] = {std::move(span)};
  bool ok = exporter_->Export(batch) == ExportResult::kSuccess;
  RecordExportBatch(ok);
  if (ok) {
    RecordSpansExported(1);
  } else {
    RecordSpansDropped(DropReason::kExportFailed, 1);
  }
}

bool SimpleSpanProcessor::ForceFlush(std::chrono::microseconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  return shut_down_ || exporter_->ForceFlush(timeout);
}

bool SimpleSpanProcessor::Shutdown(std::chrono::microseconds timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) return true;
  shut_down_ = true;
  return exporter_->Shutdown(timeout);
}

}  // namespace lantern::telemetry
