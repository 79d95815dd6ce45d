#include "server/http_metrics.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "base/clock.h"
#include "server/genai_metrics.h"

namespace lantern::server {
namespace {

// The instrumentator's default buckets for http_request_duration_seconds.
const std::vector<double> kDurationBuckets = {0.1, 0.5, 1.0};

// Series are made on first use (handler x method x status class) and then reused.
class HttpMetrics {
 public:
  explicit HttpMetrics(MetricsRegistry* registry) : registry_(registry) {}

  // One exchange's duration, recorded once: through `otlp` (which also aggregates it into
  // the /metrics histogram) when OTLP metrics are on, else into the histogram alone.
  void Record(const std::string& handler, const std::string& method, int status, double seconds,
              HttpServerDuration* otlp, int otlp_status, bool client_gone) {
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
    if (otlp != nullptr) {
      otlp->Record(otlp_status, client_gone, seconds, duration);
    } else {
      duration->Observe(seconds);
    }
  }

 private:
  MetricsRegistry* registry_;
  std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, Counter*> requests_;
  std::map<std::pair<std::string, std::string>, Histogram*> durations_;
};

// Times an exchange once for both outputs: vLLM's http_* series (not for probes and
// scrapes) and, when OTLP metrics are on, http.server.request.duration.
class HttpMetricsObserver : public ExchangeObserver {
 public:
  HttpMetricsObserver(std::shared_ptr<HttpMetrics> metrics, std::string handler, std::string method,
                      std::unique_ptr<HttpServerDuration> otlp)
      : metrics_(std::move(metrics)),
        handler_(std::move(handler)),
        method_(std::move(method)),
        otlp_(std::move(otlp)),
        start_(Now()) {}

  // OnStatus and OnEnd may come from different threads.
  void OnStatus(int status) override { status_.store(status, std::memory_order_release); }
  void OnEnd(bool client_gone) override {
    const double seconds = SecondsBetween(start_, Now());
    const int sent = status_.load(std::memory_order_acquire);
    if (metrics_ == nullptr) {  // left out of vLLM's series: OTLP only
      otlp_->Record(sent, client_gone, seconds, nullptr);
      return;
    }
    // A client that left before any status saw nothing; vLLM's middleware counts a 500.
    int status = sent != 0 ? sent : (client_gone ? 499 : 500);
    metrics_->Record(handler_, method_, status, seconds, otlp_.get(), sent, client_gone);
  }

 private:
  std::shared_ptr<HttpMetrics> metrics_;  // null: not one of vLLM's series
  std::string handler_, method_;
  std::unique_ptr<HttpServerDuration> otlp_;
  SteadyTime start_;
  std::atomic<int> status_{0};
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
    std::unique_ptr<HttpServerDuration> otlp = HttpServerDuration::Begin(request, route);
    const bool vllm = !Excluded(route) && request.method != "OPTIONS";
    if (!vllm && otlp == nullptr) return nullptr;
    return std::make_unique<HttpMetricsObserver>(
        vllm ? metrics : nullptr, route.empty() ? "none" : route, request.method, std::move(otlp));
  };
}

}  // namespace lantern::server
