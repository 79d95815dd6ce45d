// Writes each exported batch as one line of OTLP JSON (an ExportTraceServiceRequest), the
// format of the OpenTelemetry Collector's file exporter, for use without a collector.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "telemetry/exporter.h"

namespace lantern::telemetry {

class OtlpFileExporter final : public SpanExporter {
 public:
  // Appends to `path`; "-" means standard output.
  static Result<std::unique_ptr<OtlpFileExporter>> Open(const std::string& path);
  ~OtlpFileExporter() override;

  ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) override;
  bool ForceFlush(std::chrono::microseconds timeout) override;
  bool Shutdown(std::chrono::microseconds timeout) override;

 private:
  OtlpFileExporter(std::FILE* file, bool owned, std::string path)
      : file_(file), owned_(owned), path_(std::move(path)) {}

  std::mutex mutex_;
  std::FILE* file_;  // guarded by mutex_; null after Shutdown
  const bool owned_;
  const std::string path_;
  std::string line_;  // reused buffer
};

}  // namespace lantern::telemetry
