#include "server/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

namespace lantern::server {
namespace {

void AtomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount, std::memory_order_relaxed)) {
  }
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back as the same double, written as Python's
  // prometheus_client (and so vLLM) writes it: "0.005", "1.0", "1e-05". Bucket bounds are
  // label values (`le`) that dashboards match as strings.
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (error != std::errc()) return std::to_string(value);
  std::string text(buffer, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

// Label values escape backslash, double quote and newline.
std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatLabels(const MetricLabels& labels, const std::string& extra_name = {},
                         const std::string& extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name + "=\"" + EscapeLabelValue(value) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name + "=\"" + extra_value + "\"";
  }
  out += '}';
  return out;
}

}  // namespace

void Counter::Increment(double amount) { AtomicAdd(value_, amount); }

void Gauge::Add(double amount) { AtomicAdd(value_, amount); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
}

MetricsRegistry::Series& MetricsRegistry::AddSeries(const std::string& name,
                                                    const std::string& help, Type type,
                                                    MetricLabels labels) {
  std::lock_guard lock(mu_);
  Family* family = nullptr;
  for (auto& f : families_) {
    if (f->name == name) family = f.get();
  }
  if (!family) {
    families_.push_back(std::make_unique<Family>(Family{name, help, type, {}}));
    family = families_.back().get();
  } else if (family->type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  family->series.push_back(std::make_unique<Series>());
  family->series.back()->labels = std::move(labels);
  return *family->series.back();
}

Counter* MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                     MetricLabels labels) {
  auto& series = AddSeries(name, help, Type::kCounter, std::move(labels));
  series.counter = std::make_unique<Counter>();
  return series.counter.get();
}

Gauge* MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                 MetricLabels labels) {
  auto& series = AddSeries(name, help, Type::kGauge, std::move(labels));
  series.gauge = std::make_unique<Gauge>();
  return series.gauge.get();
}

void MetricsRegistry::AddCallbackGauge(const std::string& name, const std::string& help,
                                       MetricLabels labels, std::function<double()> read) {
  AddSeries(name, help, Type::kGauge, std::move(labels)).read = std::move(read);
}

void MetricsRegistry::AddCallbackCounter(const std::string& name, const std::string& help,
                                         MetricLabels labels, std::function<double()> read) {
  AddSeries(name, help, Type::kCounter, std::move(labels)).read = std::move(read);
}

Histogram* MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         MetricLabels labels, std::vector<double> upper_bounds) {
  auto& series = AddSeries(name, help, Type::kHistogram, std::move(labels));
  series.histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return series.histogram.get();
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(families_.size() * 512);
  for (const auto& family : families_) {
    const char* type = family->type == Type::kCounter ? "counter"
                       : family->type == Type::kGauge ? "gauge"
                                                      : "histogram";
    out += "# HELP " + family->name + " " + family->help + "\n";
    out += "# TYPE " + family->name + " " + type + "\n";
    for (const auto& series : family->series) {
      if (series->counter || series->gauge || series->read) {
        double value = series->counter ? series->counter->value()
                       : series->gauge ? series->gauge->value()
                                       : series->read();
        out += family->name + FormatLabels(series->labels) + " " + FormatNumber(value) + "\n";
      } else if (series->histogram) {
        const Histogram& h = *series->histogram;
        // Read buckets first: the count is then at least their sum, never less.
        uint64_t cumulative = 0;
        const auto& bounds = h.upper_bounds();
        for (size_t i = 0; i <= bounds.size(); ++i) {
          cumulative += h.bucket_count(i);
          std::string le = i < bounds.size() ? FormatNumber(bounds[i]) : "+Inf";
          out += family->name + "_bucket" + FormatLabels(series->labels, "le", le) + " " +
                 std::to_string(cumulative) + "\n";
        }
        out += family->name + "_sum" + FormatLabels(series->labels) + " " + FormatNumber(h.sum()) +
               "\n";
        out += family->name + "_count" + FormatLabels(series->labels) + " " +
               std::to_string(cumulative) + "\n";
      }
    }
  }
  return out;
}

std::vector<double> OneTwoFiveBuckets(double max) {
  std::vector<double> buckets;
  for (double scale = 1;; scale *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      buckets.push_back(m * scale);
      if (m * scale >= max) return buckets;
    }
  }
}

}  // namespace lantern::server
