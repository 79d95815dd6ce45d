#include "telemetry/otlp_file_exporter.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/log.h"
#include "telemetry/otlp_json.h"

namespace lantern::telemetry {

Result<std::unique_ptr<OtlpFileExporter>> OtlpFileExporter::Open(const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<OtlpFileExporter>(new OtlpFileExporter(stdout, false, "stdout"));
  }
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    return InvalidArgument("cannot open the OTLP JSON output file \"" + path +
                           "\": " + std::strerror(errno));
  }
  return std::unique_ptr<OtlpFileExporter>(new OtlpFileExporter(file, true, path));
}

OtlpFileExporter::~OtlpFileExporter() { Shutdown(std::chrono::seconds(1)); }

ExportResult OtlpFileExporter::Export(std::span<const std::unique_ptr<SpanData>> spans) {
  std::vector<const SpanData*> batch;
  batch.reserve(spans.size());
  for (const auto& span : spans) {
    if (span) batch.push_back(span.get());
  }
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return ExportResult::kFailure;
  if (batch.empty()) return ExportResult::kSuccess;
  line_.clear();
  AppendOtlpJson(batch, &line_);
  line_.push_back('\n');
  // One write per line, then a flush, so readers never see half a request.
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size() ||
      std::fflush(file_) != 0) {
    LANTERN_LOG(kWarning, "otlp") << "writing spans to " << path_
                                  << " failed: " << std::strerror(errno);
    return ExportResult::kFailure;
  }
  return ExportResult::kSuccess;
}

bool OtlpFileExporter::ForceFlush(std::chrono::microseconds timeout) {
  std::lock_guard lock(mutex_);
  return file_ == nullptr || std::fflush(file_) == 0;
}

bool OtlpFileExporter::Shutdown(std::chrono::microseconds timeout) {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return true;
  bool ok = std::fflush(file_) == 0;
  if (owned_) ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  return ok;
}

}  // namespace lantern::telemetry
