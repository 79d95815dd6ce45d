// `lantern bench <forward|throughput|serve>`: dispatches to one benchmark.
#include <cstdio>
#include <string>

#include "cli/bench_forward.h"
#include "cli/bench_serve.h"
#include "cli/bench_throughput.h"
#include "cli/command.h"

namespace lantern::cli {
namespace {

struct Benchmark {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

constexpr Benchmark kBenchmarks[] = {
    {"forward", "the model's forward pass against this machine's GEMM peak and bandwidth",
     RunBenchForward},
    {"throughput", "offline engine throughput at several concurrencies", RunBenchThroughput},
    {"serve", "drive a running server over HTTP (TTFT, TPOT, ITL, e2e latency)", RunBenchServe},
};

void PrintUsage(FILE* out) {
  std::fprintf(out, "usage: lantern bench <benchmark> [flags]\n\nbenchmarks:\n");
  for (const auto& b : kBenchmarks) std::fprintf(out, "  %-11s %s\n", b.name, b.summary);
}

}  // namespace
}  // namespace lantern::cli

LANTERN_COMMAND(bench, "Benchmarks: forward, throughput, serve") {
  using lantern::cli::kBenchmarks;
  if (argc < 2) {
    lantern::cli::PrintUsage(stderr);
    return 2;
  }
  std::string which = argv[1];
  if (which == "--help" || which == "-h") {
    lantern::cli::PrintUsage(stdout);
    return 0;
  }
  for (const auto& b : kBenchmarks) {
    if (which == b.name) {
      std::string program = "lantern bench " + which;
      argv[1] = program.data();
      return b.run(argc - 1, argv + 1);
    }
  }
  std::fprintf(stderr, "lantern bench: unknown benchmark '%s'\n\n", which.c_str());
  lantern::cli::PrintUsage(stderr);
  return 2;
}
