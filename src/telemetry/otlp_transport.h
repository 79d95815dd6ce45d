// The part of an OTLP exporter that differs between gRPC and HTTP: encoding a batch and
// sending it once. Retries, deadlines, splitting and counting live in OtlpExporter.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/clock.h"
#include "base/log.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

// An encoded ExportTraceServiceRequest, ready to be sent (and re-sent).
class OtlpRequest {
 public:
  virtual ~OtlpRequest() = default;
  // Bytes on the wire before compression; compared with the 64 MiB request limit.
  virtual size_t ByteSize() const = 0;
};

struct SendOutcome {
  enum class Kind {
    kOk,         // accepted, perhaps partially (rejected_spans, message)
    kRetryable,  // a transient failure: try again after retry_after or a backoff
    kFailed,     // refused or broken for good: drop the batch
    kCancelled,  // Cancel() was called
  };
  Kind kind = Kind::kOk;
  std::optional<std::chrono::milliseconds> retry_after;  // the server's hint
  int64_t rejected_spans = 0;                            // partial success
  std::string message;  // why it failed, or the partial success's error_message
  // The transport already explained this kind of failure in a warning (once): the exporter
  // logs it at debug level instead of repeating it.
  bool explained = false;
};

// LANTERN_LOG with a level chosen at run time (a log::Level value).
#define LANTERN_LOG_AT(level_value, component)                       \
  if (const ::lantern::log::Level lantern_log_level = (level_value); \
      !::lantern::log::Enabled(lantern_log_level)) {                 \
  } else                                                             \
    ::lantern::log::LineBuilder(lantern_log_level, component, __FILE__, __LINE__)

// The level an exporter logs a dropped batch at: debug once the transport explained why.
inline log::Level DropLogLevel(const SendOutcome& outcome) {
  return outcome.explained ? log::Level::kDebug : log::Level::kWarning;
}

class OtlpTransport {
 public:
  virtual ~OtlpTransport() = default;
  virtual std::unique_ptr<OtlpRequest> Encode(std::span<const SpanData* const> spans) = 0;
  // Encodes another signal's request (metrics, logs): `write` appends the body as JSON
  // (true) or protobuf (false), whichever this transport sends. The default (test
  // transports that only carry spans) returns null.
  using BodyWriter = std::function<void(bool json, std::string* out)>;
  virtual std::unique_ptr<OtlpRequest> EncodeBody(const BodyWriter& write) { return nullptr; }
  // Sends once; returns by `deadline`. Called from one thread at a time.
  virtual SendOutcome Send(const OtlpRequest& request, SteadyTime deadline) = 0;
  // Thread-safe: aborts a Send in progress; later Sends return kCancelled at once.
  virtual void Cancel() = 0;
  // "OTLP/gRPC to localhost:4317", for log lines.
  virtual std::string Describe() const = 0;
};

}  // namespace lantern::telemetry
