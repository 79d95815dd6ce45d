// `lantern bench serve`: drives a running OpenAI-compatible server over HTTP, as
// `vllm bench serve` does, at a fixed concurrency and/or a Poisson request rate, with random
// token-id prompts, and reports TTFT, time per output token, inter-token latency and
// end-to-end latency (mean, p50, p90, p99) and throughput.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "cli/bench_serve.h"

namespace lantern::cli {
namespace {

struct BenchFlags {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string endpoint = "/v1/completions";
  std::string model;
  std::string api_key;
  int num_prompts = 100;
  int max_concurrency = 0;  // 0: all at once (bounded by the rate)
  double request_rate = 0;  // requests/s, Poisson arrivals; 0: as fast as allowed
  int input_len = 32;
  int output_len = 64;
  int vocab_range = 10000;  // prompt token ids drawn from [100, 100 + vocab_range)
  uint64_t seed = 0;
  std::string result_json;
};

struct RequestResult {
  bool ok = false;
  std::string error;
  double ttft = 0, e2e = 0;
  std::vector<double> itl;  // gaps between chunks after the first
  int output_tokens = 0;
  int prompt_tokens = 0;
};

// A blocking HTTP/1.1 exchange on its own connection, reading a chunked SSE stream.
class SseClient {
 public:
  SseClient(const std::string& host, int port) : host_(host), port_(port) {}

  RequestResult Post(const std::string& path, const std::string& body, const std::string& api_key) {
    RequestResult result;
    int fd = Connect();
    if (fd < 0) {
      result.error = "connect failed";
      return result;
    }
    std::string request = "POST " + path + " HTTP/1.1\r\nHost: " + host_ +
                          "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n";
    if (!api_key.empty()) request += "Authorization: Bearer " + api_key + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    request += body;
    SteadyTime start = Now();
    if (!SendAll(fd, request)) {
      close(fd);
      result.error = "send failed";
      return result;
    }
    std::string raw, decoded;
    bool head_done = false, chunked = false;
    int status = 0;
    size_t parse_at = 0;
    std::optional<SteadyTime> last_chunk;
    char buffer[16384];
    while (true) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      SteadyTime now = Now();
      raw.append(buffer, static_cast<size_t>(n));
      if (!head_done) {
        size_t end = raw.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        status = std::atoi(raw.c_str() + 9);
        chunked = raw.substr(0, end).find("chunked") != std::string::npos;
        raw.erase(0, end + 4);
        head_done = true;
      }
      if (chunked) {
        DecodeChunks(raw, decoded);
      } else {
        decoded += raw;
        raw.clear();
      }
      // Events: "data: {...}\n\n".
      size_t at;
      while ((at = decoded.find("\n\n", parse_at)) != std::string::npos) {
        std::string event = decoded.substr(parse_at, at - parse_at);
        parse_at = at + 2;
        if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]") continue;
        auto chunk = nlohmann::json::parse(event.substr(6), nullptr, false);
        if (chunk.is_discarded()) continue;
        if (chunk.contains("usage") && chunk["usage"].is_object()) {
          result.output_tokens = chunk["usage"].value("completion_tokens", 0);
          result.prompt_tokens = chunk["usage"].value("prompt_tokens", 0);
        }
        if (!chunk.contains("choices") || chunk["choices"].empty()) continue;
        if (!last_chunk) {
          result.ttft = SecondsBetween(start, now);
        } else {
          result.itl.push_back(SecondsBetween(*last_chunk, now));
        }
        last_chunk = now;
      }
    }
    close(fd);
    result.e2e = SecondsBetween(start, Now());
    result.ok = status == 200 && last_chunk.has_value();
    if (!result.ok) result.error = "HTTP " + std::to_string(status) + " " + decoded.substr(0, 200);
    return result;
  }

 private:
  int Connect() {
    addrinfo hints{}, *info = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &info) != 0) return -1;
    int fd = socket(info->ai_family, info->ai_socktype, info->ai_protocol);
    if (fd >= 0 && connect(fd, info->ai_addr, info->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
    freeaddrinfo(info);
    if (fd >= 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
  }

  static bool SendAll(int fd, const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Moves every complete chunk of `raw` into `out`.
  static void DecodeChunks(std::string& raw, std::string& out) {
    while (true) {
      size_t line_end = raw.find("\r\n");
      if (line_end == std::string::npos) return;
      size_t size = std::strtoul(raw.c_str(), nullptr, 16);
      if (raw.size() < line_end + 2 + size + 2) return;
      out.append(raw, line_end + 2, size);
      raw.erase(0, line_end + 2 + size + 2);
      if (size == 0) return;
    }
  }

  std::string host_;
  int port_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double rank = p / 100.0 * (v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank)), hi = static_cast<size_t>(std::ceil(rank));
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

double Mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / v.size();
}

}  // namespace

int RunBenchServe(int argc, char** argv) {
  BenchFlags flags;
  CLI::App app{"Benchmark a running OpenAI-compatible server (like `vllm bench serve`)",
               "lantern bench serve"};
  app.add_option("--host", flags.host, "Server host");
  app.add_option("--port", flags.port, "Server port")->check(CLI::Range(1, 65535));
  app.add_option("--endpoint", flags.endpoint, "Completions endpoint path");
  app.add_option("--model", flags.model, "Model name to send")->required();
  app.add_option("--api-key", flags.api_key, "Bearer key")->envname("LANTERN_API_KEY");
  app.add_option("--num-prompts", flags.num_prompts, "Requests to send")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-concurrency", flags.max_concurrency,
                 "Requests in flight at most (0: no cap)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--request-rate", flags.request_rate, "Poisson arrival rate, requests/s (0: inf)")
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--random-input-len", flags.input_len, "Prompt tokens")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--random-output-len", flags.output_len, "Tokens to generate (ignore_eos)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--vocab-range", flags.vocab_range, "Prompt ids from [100, 100+N)")
      ->check(CLI::Range(1, 1 << 24));
  app.add_option("--seed", flags.seed, "Seed of the prompts and arrivals");
  app.add_option("--result-json", flags.result_json, "Also write the results to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  std::mt19937_64 rng(flags.seed);
  std::vector<std::string> bodies;
  for (int i = 0; i < flags.num_prompts; ++i) {
    std::vector<int> ids(flags.input_len);
    for (int& id : ids)
      id = 100 + static_cast<int>(rng() % static_cast<uint64_t>(flags.vocab_range));
    nlohmann::json body = {{"model", flags.model},
                           {"prompt", ids},
                           {"max_tokens", flags.output_len},
                           {"ignore_eos", true},
                           {"temperature", 0},
                           {"stream", true},
                           {"stream_options", {{"include_usage", true}}}};
    bodies.push_back(body.dump());
  }

  int concurrency = flags.max_concurrency > 0 ? flags.max_concurrency : flags.num_prompts;
  std::vector<RequestResult> results(flags.num_prompts);
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  std::vector<std::thread> threads;
  std::exponential_distribution<double> gaps(flags.request_rate > 0 ? flags.request_rate : 1.0);
  SteadyTime start = Now();
  SteadyTime next_arrival = start;
  for (int i = 0; i < flags.num_prompts; ++i) {
    if (flags.request_rate > 0) {
      std::this_thread::sleep_until(next_arrival);
      next_arrival += std::chrono::duration_cast<SteadyClock::duration>(
          std::chrono::duration<double>(gaps(rng)));
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < concurrency; });
      ++in_flight;
    }
    threads.emplace_back([&, i] {
      SseClient client(flags.host, flags.port);
      results[i] = client.Post(flags.endpoint, bodies[i], flags.api_key);
      std::lock_guard lock(mu);
      --in_flight;
      cv.notify_one();
    });
  }
  for (auto& t : threads) t.join();
  double duration = SecondsBetween(start, Now());

  std::vector<double> ttft, tpot, itl, e2e;
  int ok = 0;
  long output_tokens = 0, prompt_tokens = 0;
  std::string first_error;
  for (const auto& r : results) {
    if (!r.ok) {
      if (first_error.empty()) first_error = r.error;
      continue;
    }
    ++ok;
    output_tokens += r.output_tokens;
    prompt_tokens += r.prompt_tokens;
    ttft.push_back(r.ttft);
    e2e.push_back(r.e2e);
    if (r.output_tokens > 1) tpot.push_back((r.e2e - r.ttft) / (r.output_tokens - 1));
    itl.insert(itl.end(), r.itl.begin(), r.itl.end());
  }
  nlohmann::json report = {{"num_prompts", flags.num_prompts},
                           {"max_concurrency", flags.max_concurrency},
                           {"request_rate", flags.request_rate},
                           {"successful_requests", ok},
                           {"failed_requests", flags.num_prompts - ok},
                           {"duration_s", duration},
                           {"total_input_tokens", prompt_tokens},
                           {"total_output_tokens", output_tokens},
                           {"request_throughput", ok / duration},
                           {"output_throughput", output_tokens / duration},
                           {"total_token_throughput", (prompt_tokens + output_tokens) / duration}};
  std::printf("============ Serving Benchmark Result ============\n");
  std::printf("%-40s %d\n", "Successful requests:", ok);
  std::printf("%-40s %d\n", "Failed requests:", flags.num_prompts - ok);
  std::printf("%-40s %s\n", "Maximum request concurrency:",
              flags.max_concurrency ? std::to_string(flags.max_concurrency).c_str() : "none");
  std::printf("%-40s %.2f\n", "Benchmark duration (s):", duration);
  std::printf("%-40s %ld\n", "Total input tokens:", prompt_tokens);
  std::printf("%-40s %ld\n", "Total generated tokens:", output_tokens);
  std::printf("%-40s %.2f\n", "Request throughput (req/s):", ok / duration);
  std::printf("%-40s %.2f\n", "Output token throughput (tok/s):", output_tokens / duration);
  std::printf("%-40s %.2f\n",
              "Total token throughput (tok/s):", (prompt_tokens + output_tokens) / duration);
  auto section = [&](const char* title, const char* key, const std::vector<double>& v) {
    std::printf("%s\n", title);
    std::printf("%-40s %.2f\n", (std::string("Mean ") + key + " (ms):").c_str(), Mean(v) * 1e3);
    for (double p : {50.0, 90.0, 99.0}) {
      std::printf("%-40s %.2f\n",
                  ("P" + std::to_string(static_cast<int>(p)) + " " + key + " (ms):").c_str(),
                  Percentile(v, p) * 1e3);
      report[std::string("p") + std::to_string(static_cast<int>(p)) + "_" + key + "_ms"] =
          Percentile(v, p) * 1e3;
    }
    report[std::string("mean_") + key + "_ms"] = Mean(v) * 1e3;
  };
  section("---------------Time to First Token----------------", "ttft", ttft);
  section("-----Time per Output Token (excl. 1st token)------", "tpot", tpot);
  section("---------------Inter-token Latency----------------", "itl", itl);
  section("----------------End-to-end Latency----------------", "e2el", e2e);
  std::printf("==================================================\n");
  if (!first_error.empty()) std::fprintf(stderr, "first error: %s\n", first_error.c_str());
  if (!flags.result_json.empty()) std::ofstream(flags.result_json) << report.dump(2) << "\n";
  return ok == flags.num_prompts ? 0 : 1;
}

}  // namespace lantern::cli
