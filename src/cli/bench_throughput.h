// `lantern bench throughput`: offline engine throughput, like vLLM's throughput benchmark.
#pragma once

namespace lantern::cli {

// argv[0] is the program name ("lantern bench throughput"); returns the exit code.
int RunBenchThroughput(int argc, char** argv);

}  // namespace lantern::cli
