// `lantern bench serve`: drives a running server over HTTP, like `vllm bench serve`.
#pragma once

namespace lantern::cli {

// argv[0] is the program name ("lantern bench serve"); returns the exit code.
int RunBenchServe(int argc, char** argv);

}  // namespace lantern::cli
