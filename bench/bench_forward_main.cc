// Standalone entry point of `lantern bench forward` (same code, same flags).
#include <string>

#include "cli/bench_forward.h"

int main(int argc, char** argv) {
  std::string program = "bench_forward";
  argv[0] = program.data();
  return lantern::cli::RunBenchForward(argc, argv);
}
