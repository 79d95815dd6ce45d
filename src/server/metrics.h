// A small metrics registry rendering the Prometheus text exposition format (0.0.4).
// Counters, gauges and histograms are lock-free to update from any thread; rendering takes
// a snapshot. Metrics sharing a name form one family (one HELP and TYPE line).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace lantern::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (the last one is +Inf).
  uint64_t bucket_count(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

class MetricsRegistry {
 public:
  // The returned pointers live as long as the registry. Names must be valid Prometheus
  // metric names; registering a name with another type is a programming error.
  Counter* AddCounter(const std::string& name, const std::string& help, MetricLabels labels);
  Gauge* AddGauge(const std::string& name, const std::string& help, MetricLabels labels);
  // A gauge read at scrape time (e.g. the engine's queue lengths).
  void AddCallbackGauge(const std::string& name, const std::string& help, MetricLabels labels,
                        std::function<double()> read);
  // A counter read at scrape time from a source that keeps its own monotonic total.
  void AddCallbackCounter(const std::string& name, const std::string& help, MetricLabels labels,
                          std::function<double()> read);
  Histogram* AddHistogram(const std::string& name, const std::string& help, MetricLabels labels,
                          std::vector<double> upper_bounds);

  std::string RenderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<std::unique_ptr<Series>> series;
  };
  Series& AddSeries(const std::string& name, const std::string& help, Type type,
                    MetricLabels labels);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// 1, 2, 5, 10, 20, 50, ... up to and including the first value >= max (vLLM's token buckets).
std::vector<double> OneTwoFiveBuckets(double max);

}  // namespace lantern::server
