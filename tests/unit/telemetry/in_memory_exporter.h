// A real SpanExporter that keeps what it is given, for tests of the SDK.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "telemetry/exporter.h"

namespace lantern::telemetry {

class InMemoryExporter : public SpanExporter {
 public:
  struct Store {
    std::mutex mu;
    std::vector<SpanData> spans;
    std::vector<size_t> batch_sizes;
    int shutdowns = 0;
    int flushes = 0;
  };

  explicit InMemoryExporter(std::shared_ptr<Store> store) : store_(std::move(store)) {}

  ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    for (const auto& s : spans) store_->spans.push_back(*s);
    store_->batch_sizes.push_back(spans.size());
    return ExportResult::kSuccess;
  }
  bool ForceFlush(std::chrono::microseconds) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    ++store_->flushes;
    return true;
  }
  bool Shutdown(std::chrono::microseconds) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    ++store_->shutdowns;
    return true;
  }

 private:
  std::shared_ptr<Store> store_;
};

}  // namespace lantern::telemetry
