#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

#include "telemetry/ids.h"

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

// Label values escape backslash, double quote and newline; so does OpenMetrics' HELP text.
std::string EscapeHelp(const std::string& help, bool openmetrics) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && openmetrics) {
      out += "\\\"";
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

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// OpenMetrics' UNIT, for the names that end in one (the unit must be the name's suffix).
std::string UnitOf(const std::string& name) {
  for (const char* unit : {"seconds", "bytes"}) {
    if (EndsWith(name, std::string("_") + unit)) return unit;
  }
  return {};
}

// ` # {trace_id="...",span_id="..."} value timestamp`; OpenMetrics caps the exemplar's
// label names and values at 128 characters together.
std::string FormatExemplar(const Histogram::Exemplar& e) {
  const auto& c = e.context;
  std::string labels = "trace_id=\"" + c.trace_id + "\"";
  if (8 + c.trace_id.size() + 7 + c.span_id.size() <= 128) {
    labels += ",span_id=\"" + c.span_id + "\"";
  }
  return " # {" + labels + "} " + FormatNumber(e.value) + " " + FormatNumber(e.unix_seconds);
}

}  // namespace

void Gauge::Add(double amount) { AtomicAdd(value_, amount); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(upper_bounds), series_(std::move(upper_bounds)) {}

void Histogram::Observe(double value, const ExemplarContext& exemplar) {
  telemetry::SpanContext span;
  span.trace_flags = telemetry::kTraceFlagSampled;
  if (!telemetry::ParseHex(exemplar.trace_id, &span.trace_id) ||
      !telemetry::ParseHex(exemplar.span_id, &span.span_id)) {
    series_.Record(value);
    return;
  }
  series_.Record(value, &span);
}

Histogram::Snapshot Histogram::Read() const {
  telemetry::PointData point = series_.Read();
  Snapshot snapshot;
  snapshot.counts = std::move(point.histogram.counts);
  snapshot.sum = point.value;
  snapshot.exemplars.resize(snapshot.counts.size());
  for (const telemetry::Exemplar& e : point.exemplars) {
    // The SDK keeps one exemplar per bucket: the bucket its value fell in.
    size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), e.value) -
                                   bounds_.begin());
    if (i >= snapshot.exemplars.size()) continue;
    snapshot.exemplars[i] = Exemplar{{telemetry::ToHex(e.trace_id), telemetry::ToHex(e.span_id)},
                                     e.value,
                                     static_cast<double>(e.time_unix_nano) / 1e9};
  }
  return snapshot;
}

bool Histogram::exemplar(size_t i, Exemplar* out) const {
  Snapshot snapshot = Read();
  if (i >= snapshot.exemplars.size() || !snapshot.exemplars[i]) return false;
  *out = *snapshot.exemplars[i];
  return true;
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

void MetricsRegistry::ServeAsVllm(const std::string& name) {
  std::lock_guard lock(mu_);
  for (auto& f : families_) {
    if (f->name == name) f->vllm = true;
  }
}

std::string MetricsRegistry::Render(const Exposition& exposition) const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(families_.size() * 512);
  for (const auto& family : families_) RenderFamily(*family, exposition, &out);
  if (exposition.openmetrics) out += "# EOF\n";
  return out;
}

void MetricsRegistry::RenderFamily(const Family& family, const Exposition& exposition,
                                   std::string* out_text) {
  std::string& out = *out_text;
  const bool vllm = family.vllm && exposition.naming == MetricsNaming::kVllm;
  const bool om = exposition.openmetrics;
  std::string name = family.name;
  if (vllm && name.rfind("lantern:", 0) == 0) name = "vllm:" + name.substr(8);
  // OpenMetrics names a counter family without `_total` and its sample with it.
  std::string family_name = name;
  std::string sample_name = name;
  if (om && family.type == Type::kCounter) {
    if (EndsWith(name, "_total")) {
      family_name = name.substr(0, name.size() - 6);
    } else {
      sample_name = name + "_total";
    }
  }
  const char* type = family.type == Type::kCounter ? "counter"
                     : family.type == Type::kGauge ? "gauge"
                                                   : "histogram";
  out += "# HELP " + family_name + " " + EscapeHelp(family.help, om) + "\n";
  out += "# TYPE " + family_name + " " + type + "\n";
  if (om) {
    std::string unit = UnitOf(family_name);
    if (!unit.empty()) out += "# UNIT " + family_name + " " + unit + "\n";
  }
  for (const auto& series : family.series) {
    const MetricLabels* labels = &series->labels;
    MetricLabels with_engine;
    if (vllm) {
      // vLLM labels every series with its engine core's index: model_name, engine, ...
      with_engine = series->labels;
      auto at = with_engine.begin();
      while (at != with_engine.end() && at->first != "model_name") ++at;
      with_engine.insert(at == with_engine.end() ? at : at + 1, {"engine", "0"});
      labels = &with_engine;
    }
    if (series->counter || series->gauge || series->read) {
      double value = series->counter ? series->counter->value()
                     : series->gauge ? series->gauge->value()
                                     : series->read();
      out += sample_name + FormatLabels(*labels) + " " + FormatNumber(value) + "\n";
    } else if (series->histogram) {
      // One reading of the SDK series: the count is the buckets' sum.
      const Histogram::Snapshot h = series->histogram->Read();
      uint64_t cumulative = 0;
      const auto& bounds = series->histogram->upper_bounds();
      for (size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += h.counts[i];
        std::string le = i < bounds.size() ? FormatNumber(bounds[i]) : "+Inf";
        out +=
            name + "_bucket" + FormatLabels(*labels, "le", le) + " " + std::to_string(cumulative);
        if (om && h.exemplars[i]) out += FormatExemplar(*h.exemplars[i]);
        out += "\n";
      }
      std::string sum = name + "_sum" + FormatLabels(*labels) + " " + FormatNumber(h.sum) + "\n";
      std::string count =
          name + "_count" + FormatLabels(*labels) + " " + std::to_string(cumulative) + "\n";
      out += om ? count + sum : sum + count;
    }
  }
}

bool WantsOpenMetrics(const std::string& accept_header) {
  return accept_header.find("application/openmetrics-text") != std::string::npos;
}

std::vector<double> OneTwoFiveBuckets(double max) {
  std::vector<double> buckets;
  for (double scale = 1;; scale *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      if (m * scale > max) return buckets;
      buckets.push_back(m * scale);
    }
  }
}

}  // namespace lantern::server
