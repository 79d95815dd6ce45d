#include "cli/startup_trace.h"

#include <utility>

#include "base/clock.h"
#include "base/log.h"
#include "telemetry/propagation.h"
#include "telemetry/sdk.h"
#include "telemetry/tail_sampling.h"
#include "telemetry/tracer.h"

namespace lantern::cli {
namespace {

telemetry::Tracer TracerFor(telemetry::TracerProvider* provider, std::string_view version) {
  constexpr std::string_view kScope = "lantern.cli";
  return provider != nullptr ? provider->GetTracer(kScope, version)
                             : telemetry::tracer(kScope, version);
}

}  // namespace

StartupTraceOptions StartupTraceFromEnvironment(std::string served_model, std::string version) {
  StartupTraceOptions options;
  options.parent = telemetry::ExtractFromEnvironment().span_context;
  options.served_model = std::move(served_model);
  options.version = std::move(version);
  return options;
}

StartupTrace::StartupTrace(StartupTraceOptions options)
    : provider_(options.provider), tracer_(TracerFor(options.provider, options.version)) {
  telemetry::Attributes attributes;
  attributes.push_back({"gen_ai.request.model", options.served_model});
  attributes.push_back({"lantern.version", options.version});
  // A tail sampler (lantern_tail) keeps the start-up trace whatever its ratio: one per
  // process, and the one trace that tells why a start was slow.
  const telemetry::TracerProvider* provider =
      options.provider != nullptr ? options.provider : telemetry::GlobalTracerProvider();
  if (provider != nullptr && telemetry::TailSamplingOptionsOf(provider->sampler()) != nullptr) {
    attributes.push_back({telemetry::kForceKeepAttribute, int64_t{1}});
  }
  root_ = tracer_.StartSpan("lantern.startup", telemetry::SpanKind::kInternal, options.parent,
                            Now(), std::move(attributes));
}

StartupTrace::~StartupTrace() {
  if (finished_) return;
  if (!failed_) {
    std::string where = phase_name_.empty() ? "" : " during " + phase_name_;
    Fail(Status(StatusCode::kInternal, "start-up did not complete" + where));
  }
  Finish();
}

telemetry::Span& StartupTrace::Phase(std::string_view name) {
  SteadyTime now = Now();
  if (!phase_name_.empty()) phase_.End(now);
  phase_ = tracer_.StartSpan(name, telemetry::SpanKind::kInternal, root_.context(), now);
  phase_name_ = std::string(name);
  return phase_;
}

void StartupTrace::EndPhase() {
  if (phase_name_.empty()) return;
  phase_.End(Now());
  phase_name_.clear();
}

void StartupTrace::Fail(const Status& status) {
  failed_ = true;
  if (!phase_name_.empty()) {
    phase_.SetStatus(telemetry::StatusCode::kError, status.message());
    root_.SetStatus(telemetry::StatusCode::kError, phase_name_ + ": " + status.message());
  } else {
    root_.SetStatus(telemetry::StatusCode::kError, status.message());
  }
}

bool StartupTrace::Finish(std::chrono::milliseconds timeout) {
  if (finished_) return true;
  finished_ = true;
  // One reading ends both, so the last phase ends exactly with the root.
  SteadyTime now = Now();
  if (!phase_name_.empty()) phase_.End(now);
  phase_name_.clear();
  const bool recording = root_.IsRecording();
  root_.End(now);
  if (!recording) return true;  // nothing to flush (tracing off, or not sampled)
  bool flushed = Flush(timeout);
  if (!flushed) {
    LANTERN_LOG(kWarning, "serve")
        << "the start-up trace was not exported within " << timeout.count()
        << " ms; the exporter goes on trying in the background";
  }
  return flushed;
}

bool StartupTrace::Flush(std::chrono::milliseconds timeout) {
  return provider_ != nullptr ? provider_->ForceFlush(timeout) : telemetry::ForceFlush(timeout);
}

}  // namespace lantern::cli
