// OTEL_TRACES_EXPORTER=console: one human-readable line per span, for a quick look
// without a collector (the OTLP JSON lines of otlp_file_exporter.h are for machines).
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "telemetry/exporter.h"

namespace lantern::telemetry {

class ConsoleSpanExporter final : public SpanExporter {
 public:
  // Writes to `out` (not owned; default standard output).
  explicit ConsoleSpanExporter(std::FILE* out = stdout) : out_(out) {}

  ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) override;
  bool ForceFlush(std::chrono::microseconds timeout) override;
  bool Shutdown(std::chrono::microseconds timeout) override;

 private:
  std::mutex mu_;
  std::FILE* out_;  // guarded by mu_; null after Shutdown
};

// The line for one span (no trailing newline):
// <name> trace=<hex> span=<hex> parent=<hex or -> kind=<KIND> start=<RFC 3339 UTC>
//   duration=<ms>ms status=<UNSET|OK|ERROR("msg")> service=<name> scope=<name>
//   attrs={k=v, ...} events=[name@+<ms>ms{...}] links=[<trace>/<span>]
// Strings are JSON-quoted; dropped counts appear as dropped_*=N when non-zero.
std::string FormatSpanLine(const SpanData& span);

}  // namespace lantern::telemetry
