#include "server/http_metrics.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "base/clock.h"

namespace lantern::server {
namespace {

// The instrumentator's default buckets for http_request_duration_seconds.
const std::vector<double> kDurationBuckets = {0.1, 0.5, 1.0};

// Series are made on first use (handler x method x status class) and then reused.
class HttpMetrics {
 public:
  explicit HttpMetrics(MetricsRegistry* registry) : registry_(registry) {}

  void Record(const std::string& handler, const std::string& method, int status, double seconds) {
    std::string status_class = std::to_string(status / 100) + "xx";
    Counter* requests;
    Histogram* duration;
    {
      std::lock_guard lock(mu_);
      Counter*& counter = requests_[{handler, method, status_class}];
      if (counter == nullptr) {
        counter = registry_->AddCounter(
            "http_requests_total", "Total number of requests by method, status and handler.",
            {{"handler", handler}, {"method", method}, {"status", status_class}});
      }
      Histogram*& histogram = durations_[{handler, method}];
      if (histogram == nullptr) {
        histogram = registry_->AddHistogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by "
            "handler is important.",
            {{"handler", handler}, {"method", method}}, kDurationBuckets);
      }
      requests = counter;
      duration = histogram;
    }
    requests->Increment();
    duration->Observe(seconds);
  }

 private:
  MetricsRegistry* registry_;
  std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, Counter*> requests_;
  std::map<std::pair<std::string, std::string>, Histogram*> durations_;
};

class HttpMetricsObserver : public ExchangeObserver {
 public:
  HttpMetricsObserver(std::shared_ptr<HttpMetrics> metrics, std::string handler, std::string method)
      : metrics_(std::move(metrics)),
        handler_(std::move(handler)),
        method_(std::move(method)),
        start_(Now()) {}

  void OnStatus(int status) override { status_ = status; }
  void OnEnd(bool client_gone) override {
    // A client that left before any status saw nothing; vLLM's middleware counts a 500.
    int status = status_ != 0 ? status_ : (client_gone ? 499 : 500);
    metrics_->Record(handler_, method_, status, SecondsBetween(start_, Now()));
  }

 private:
  std::shared_ptr<HttpMetrics> metrics_;
  std::string handler_, method_;
  SteadyTime start_;
  int status_ = 0;
};

bool Excluded(const std::string& route) {
  for (const char* path : {"/metrics", "/health", "/ping", "/version", "/load", "/server_info"}) {
    if (route == path) return true;
  }
  return false;
}

}  // namespace

Router::ObserverFactory MakeHttpMetricsObserverFactory(MetricsRegistry* registry) {
  auto metrics = std::make_shared<HttpMetrics>(registry);
  return [metrics](const HttpRequest& request,
                   const std::string& route) -> std::unique_ptr<ExchangeObserver> {
    if (Excluded(route) || request.method == "OPTIONS") return nullptr;
    return std::make_unique<HttpMetricsObserver>(metrics, route.empty() ? "none" : route,
                                                 request.method);
  };
}

}  // namespace lantern::server
