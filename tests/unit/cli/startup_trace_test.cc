// The start-up trace through a real tracer provider and batch span processor into an
// in-memory exporter: span tree, timestamps, attributes, failures, and the bounded flush.
#include "cli/startup_trace.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "../telemetry/in_memory_exporter.h"
#include "telemetry/batch_span_processor.h"
#include "telemetry/ids.h"
#include "telemetry/tracer.h"

namespace lantern::cli {
namespace {

using telemetry::AttributeValue;
using telemetry::SpanData;

// A provider whose batch processor would wait an hour before exporting on its own: spans
// reach the exporter only when someone flushes.
struct Harness {
  std::shared_ptr<telemetry::InMemoryExporter::Store> store =
      std::make_shared<telemetry::InMemoryExporter::Store>();
  std::unique_ptr<telemetry::TracerProvider> provider;

  Harness() {
    telemetry::BatchSpanProcessorOptions batch;
    batch.schedule_delay = std::chrono::hours(1);
    telemetry::TracerProviderOptions options;
    options.processors.push_back(std::make_unique<telemetry::BatchSpanProcessor>(
        std::make_unique<telemetry::InMemoryExporter>(store), batch));
    provider = std::make_unique<telemetry::TracerProvider>(std::move(options));
  }
  StartupTraceOptions Options() const {
    StartupTraceOptions options;
    options.served_model = "facebook/opt-125m";
    options.version = "9.9.9";
    options.provider = provider.get();
    return options;
  }
  std::vector<SpanData> Spans() {
    std::lock_guard<std::mutex> lock(store->mu);
    return store->spans;
  }
};

const SpanData* Find(const std::vector<SpanData>& spans, const std::string& name) {
  for (const SpanData& span : spans)
    if (span.name == name) return &span;
  return nullptr;
}

const AttributeValue* Attr(const SpanData& span, const std::string& key) {
  for (const auto& attribute : span.attributes)
    if (attribute.key == key) return &attribute.value;
  return nullptr;
}

TEST(StartupTrace, PhasesAreOrderedChildrenInsideTheRoot) {
  Harness h;
  {
    StartupTrace trace(h.Options());
    trace.Phase("load_config");
    trace.Phase("load_tokenizer");
    telemetry::Span& weights = trace.Phase("load_weights");
    weights.SetAttribute("lantern.weights.bytes", int64_t{1234});
    trace.Phase("init_kv_cache").SetAttribute("lantern.kv.blocks", int64_t{64});
    trace.EndPhase();
    trace.Phase("warmup");
    trace.Phase("listen").SetAttribute("server.port", int64_t{8000});
    EXPECT_EQ(trace.current_phase(), "listen");
    EXPECT_TRUE(trace.Finish());
  }
  std::vector<SpanData> spans = h.Spans();  // exported by Finish's flush, not by the timer
  ASSERT_EQ(spans.size(), 7u);
  const SpanData* root = Find(spans, "lantern.startup");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->parent_span_id, telemetry::SpanId{});
  EXPECT_EQ(root->status_code, telemetry::StatusCode::kUnset);
  ASSERT_NE(Attr(*root, "gen_ai.request.model"), nullptr);
  EXPECT_EQ(std::get<std::string>(*Attr(*root, "gen_ai.request.model")), "facebook/opt-125m");
  EXPECT_EQ(std::get<std::string>(*Attr(*root, "lantern.version")), "9.9.9");

  const std::vector<std::string> order = {"load_config",   "load_tokenizer", "load_weights",
                                          "init_kv_cache", "warmup",         "listen"};
  int64_t previous_end = root->start_time_unix_nano;
  for (const std::string& name : order) {
    const SpanData* phase = Find(spans, name);
    ASSERT_NE(phase, nullptr) << name;
    EXPECT_EQ(phase->trace_id, root->trace_id) << name;
    EXPECT_EQ(phase->parent_span_id, root->span_id) << name;
    EXPECT_EQ(phase->kind, telemetry::SpanKind::kInternal);
    EXPECT_GE(phase->start_time_unix_nano, previous_end) << name;  // sequential, in order
    EXPECT_LE(phase->start_time_unix_nano, phase->end_time_unix_nano) << name;
    EXPECT_LE(phase->end_time_unix_nano, root->end_time_unix_nano) << name;
    previous_end = phase->end_time_unix_nano;
  }
  // Phase() ends the previous phase at the instant the next one starts.
  EXPECT_EQ(Find(spans, "load_config")->end_time_unix_nano,
            Find(spans, "load_tokenizer")->start_time_unix_nano);
  // The last phase ends with the root.
  EXPECT_EQ(Find(spans, "listen")->end_time_unix_nano, root->end_time_unix_nano);
  EXPECT_EQ(std::get<int64_t>(*Attr(*Find(spans, "load_weights"), "lantern.weights.bytes")), 1234);
  EXPECT_EQ(std::get<int64_t>(*Attr(*Find(spans, "init_kv_cache"), "lantern.kv.blocks")), 64);
}

TEST(StartupTrace, ChildOfTheGivenParent) {
  Harness h;
  StartupTraceOptions options = h.Options();
  options.parent.trace_id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  options.parent.span_id = {1, 1, 1, 1, 2, 2, 2, 2};
  options.parent.trace_flags = telemetry::kTraceFlagSampled;
  options.parent.is_remote = true;
  {
    StartupTrace trace(options);
    trace.Phase("load_config");
    EXPECT_EQ(trace.context().trace_id, options.parent.trace_id);
    trace.Finish();
  }
  std::vector<SpanData> spans = h.Spans();
  const SpanData* root = Find(spans, "lantern.startup");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->trace_id, options.parent.trace_id);
  EXPECT_EQ(root->parent_span_id, options.parent.span_id);
  EXPECT_EQ(Find(spans, "load_config")->trace_id, options.parent.trace_id);
}

TEST(StartupTrace, ParentFromTraceparentInTheEnvironment) {
  ASSERT_EQ(setenv("TRACEPARENT", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 1), 0);
  ASSERT_EQ(setenv("TRACESTATE", "vendor=value", 1), 0);
  StartupTraceOptions options = StartupTraceFromEnvironment("m", "1");
  unsetenv("TRACEPARENT");
  unsetenv("TRACESTATE");
  EXPECT_EQ(telemetry::ToHex(options.parent.trace_id), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(telemetry::ToHex(options.parent.span_id), "b7ad6b7169203331");
  EXPECT_EQ(options.parent.trace_state, "vendor=value");
  EXPECT_EQ(options.served_model, "m");

  StartupTraceOptions none = StartupTraceFromEnvironment("m", "1");
  EXPECT_FALSE(none.parent.IsValid());
}

TEST(StartupTrace, FailureMarksThePhaseAndTheRoot) {
  Harness h;
  {
    StartupTrace trace(h.Options());
    trace.Phase("load_config");
    trace.Phase("load_weights");
    trace.Fail(Status(StatusCode::kNotFound, "model.safetensors: no such file"));
    trace.Finish();
  }
  std::vector<SpanData> spans = h.Spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(Find(spans, "load_config")->status_code, telemetry::StatusCode::kUnset);
  const SpanData* weights = Find(spans, "load_weights");
  EXPECT_EQ(weights->status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(weights->status_message, "model.safetensors: no such file");
  const SpanData* root = Find(spans, "lantern.startup");
  EXPECT_EQ(root->status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(root->status_message, "load_weights: model.safetensors: no such file");
}

TEST(StartupTrace, AbandonedTraceEndsAsAnErrorAndIsFlushed) {
  Harness h;
  {
    StartupTrace trace(h.Options());
    trace.Phase("load_tokenizer");
    // An early return in serve: no Finish.
  }
  std::vector<SpanData> spans = h.Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(Find(spans, "load_tokenizer")->status_code, telemetry::StatusCode::kError);
  const SpanData* root = Find(spans, "lantern.startup");
  EXPECT_EQ(root->status_code, telemetry::StatusCode::kError);
  EXPECT_NE(root->status_message.find("during load_tokenizer"), std::string::npos)
      << root->status_message;
}

TEST(StartupTrace, FinishTwiceExportsOnce) {
  Harness h;
  StartupTrace trace(h.Options());
  trace.Phase("listen");
  EXPECT_TRUE(trace.Finish());
  EXPECT_TRUE(trace.Finish());
  EXPECT_EQ(h.Spans().size(), 2u);
}

TEST(StartupTrace, TracingOffRecordsNothing) {
  ASSERT_EQ(telemetry::GlobalTracerProvider(), nullptr);
  StartupTraceOptions options;  // the global provider: none installed
  StartupTrace trace(options);
  EXPECT_FALSE(trace.Phase("load_config").IsRecording());
  EXPECT_FALSE(trace.context().IsValid());
  EXPECT_TRUE(trace.Finish());
}

// An exporter that blocks until released: the flush must give up at its deadline.
class BlockingExporter : public telemetry::SpanExporter {
 public:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    int exported = 0;
  };
  explicit BlockingExporter(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  telemetry::ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) override {
    std::unique_lock<std::mutex> lock(gate_->mu);
    gate_->cv.wait(lock, [&] { return gate_->open; });
    gate_->exported += static_cast<int>(spans.size());
    return telemetry::ExportResult::kSuccess;
  }

 private:
  std::shared_ptr<Gate> gate_;
};

TEST(StartupTrace, FlushIsBoundedWhenTheExporterHangs) {
  auto gate = std::make_shared<BlockingExporter::Gate>();
  telemetry::TracerProviderOptions provider_options;
  provider_options.processors.push_back(std::make_unique<telemetry::BatchSpanProcessor>(
      std::make_unique<BlockingExporter>(gate), telemetry::BatchSpanProcessorOptions{}));
  telemetry::TracerProvider provider(std::move(provider_options));
  StartupTraceOptions options;
  options.provider = &provider;
  StartupTrace trace(options);
  trace.Phase("load_config");
  EXPECT_FALSE(trace.Finish(std::chrono::milliseconds(50)));  // returns although stuck
  {
    std::lock_guard<std::mutex> lock(gate->mu);
    gate->open = true;
  }
  gate->cv.notify_all();
  EXPECT_TRUE(provider.Shutdown(std::chrono::seconds(30)));
  std::lock_guard<std::mutex> lock(gate->mu);
  EXPECT_EQ(gate->exported, 2);
}

}  // namespace
}  // namespace lantern::cli
