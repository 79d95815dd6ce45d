// A tracer provider whose spans land in memory (SimpleSpanProcessor: exported as they
// end), optionally installed as the global provider, for tests of the server's spans.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "telemetry/exporter.h"
#include "telemetry/span_processor.h"
#include "telemetry/tracer.h"

namespace lantern::server::testing {

class SpanCapture {
 public:
  explicit SpanCapture(bool global = false, std::unique_ptr<telemetry::Sampler> sampler = nullptr)
      : store_(std::make_shared<Store>()), global_(global) {
    telemetry::TracerProviderOptions options;
    options.sampler = std::move(sampler);
    options.processors.push_back(
        std::make_unique<telemetry::SimpleSpanProcessor>(std::make_unique<Exporter>(store_)));
    auto provider = std::make_unique<telemetry::TracerProvider>(std::move(options));
    if (global_) {
      provider_ = telemetry::SetGlobalTracerProvider(std::move(provider));
    } else {
      owned_ = std::move(provider);
      provider_ = owned_.get();
    }
  }
  ~SpanCapture() {
    provider_->Shutdown(std::chrono::seconds(1));
    if (global_) telemetry::SetGlobalTracerProvider(nullptr);  // the old one is kept, never freed
  }

  telemetry::Tracer tracer() const { return provider_->GetTracer("test"); }

  std::vector<telemetry::SpanData> spans() const {
    std::lock_guard lock(store_->mu);
    return store_->spans;
  }
  // The spans named `name`, in the order they ended.
  std::vector<telemetry::SpanData> named(const std::string& name) const {
    std::vector<telemetry::SpanData> out;
    for (auto& s : spans()) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }

 private:
  struct Store {
    std::mutex mu;
    std::vector<telemetry::SpanData> spans;
  };
  class Exporter : public telemetry::SpanExporter {
   public:
    explicit Exporter(std::shared_ptr<Store> store) : store_(std::move(store)) {}
    telemetry::ExportResult Export(
        std::span<const std::unique_ptr<telemetry::SpanData>> spans) override {
      std::lock_guard lock(store_->mu);
      for (const auto& s : spans) store_->spans.push_back(*s);
      return telemetry::ExportResult::kSuccess;
    }

   private:
    std::shared_ptr<Store> store_;
  };

  std::shared_ptr<Store> store_;
  bool global_;
  std::unique_ptr<telemetry::TracerProvider> owned_;
  telemetry::TracerProvider* provider_ = nullptr;
};

// The value of attribute `key` (nullptr when absent).
inline const telemetry::AttributeValue* Attr(const telemetry::Attributes& attributes,
                                             const std::string& key) {
  for (const auto& a : attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

}  // namespace lantern::server::testing
