// Where batches of log records go: the OTLP log exporter, the console one, tests' own.
#pragma once

#include <chrono>
#include <memory>
#include <span>

#include "telemetry/exporter.h"
#include "telemetry/log_record.h"

namespace lantern::telemetry {

class LogRecordExporter {
 public:
  virtual ~LogRecordExporter() = default;
  // Called from one thread at a time (the batch processor's). Must return within the
  // exporter's own timeout.
  virtual ExportResult Export(std::span<const std::unique_ptr<LogRecordData>> records) = 0;
  // After Shutdown, Export returns kFailure at once. Idempotent.
  virtual bool Shutdown(std::chrono::microseconds timeout) { return true; }
};

}  // namespace lantern::telemetry
