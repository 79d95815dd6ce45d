// The start-up trace of `lantern serve`: one root span `lantern.startup` (a child of the
// TRACEPARENT/TRACESTATE environment variables when a launcher sets them) with one child
// span per phase, in order: load_config, load_tokenizer, load_weights, init_kv_cache,
// warmup, listen. Phases are sequential, so one phase span is open at a time; every
// timestamp is a steady-clock reading, so the phases nest exactly inside the root.
//
// Finish() ends the trace and flushes it (bounded) so that it has left the process before
// the server says it is ready; a start-up that fails leaves the trace with status ERROR
// on the phase that was running and on the root.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"
#include "telemetry/span.h"
#include "telemetry/tracer.h"

namespace lantern::cli {

struct StartupTraceOptions {
  // The caller's context; invalid: the start-up trace is a new trace.
  telemetry::SpanContext parent;
  // `gen_ai.request.model` on the root: the served model name.
  std::string served_model;
  // `lantern.version` on the root.
  std::string version;
  // Where spans go; null: the global provider (tracing off: nothing is recorded).
  telemetry::TracerProvider* provider = nullptr;
};

// Options with the parent taken from TRACEPARENT/TRACESTATE in the process environment.
StartupTraceOptions StartupTraceFromEnvironment(std::string served_model, std::string version);

class StartupTrace {
 public:
  explicit StartupTrace(StartupTraceOptions options);  // starts the root span now
  // Not finished: marks the open phase and the root as failed, ends them and flushes.
  ~StartupTrace();
  StartupTrace(const StartupTrace&) = delete;
  StartupTrace& operator=(const StartupTrace&) = delete;

  // Ends the open phase, if any, and starts the phase `name` at the same instant. The
  // returned span (valid until the next Phase/EndPhase/Finish) takes the phase's attributes.
  telemetry::Span& Phase(std::string_view name);
  // Ends the open phase now (work between phases belongs to no phase).
  void EndPhase();
  // Records a failure on the open phase and on the root (status ERROR, the message).
  void Fail(const Status& status);
  // Ends the open phase and the root, then flushes within `timeout`. Returns false when
  // the flush did not complete in time (the export goes on in the background). Later
  // calls do nothing and return true.
  bool Finish(std::chrono::milliseconds timeout = std::chrono::seconds(2));

  const telemetry::SpanContext& context() const { return root_.context(); }
  // The lantern.startup span itself, for attributes of the whole start-up.
  telemetry::Span& root() { return root_; }
  const std::string& current_phase() const { return phase_name_; }

 private:
  bool Flush(std::chrono::milliseconds timeout);

  telemetry::TracerProvider* provider_;
  telemetry::Tracer tracer_;
  telemetry::Span root_;
  telemetry::Span phase_;
  std::string phase_name_;  // "" when no phase is open
  bool failed_ = false;
  bool finished_ = false;
};

}  // namespace lantern::cli
