// `lantern bench forward`: the model's forward pass against this machine's own limits.
#pragma once

namespace lantern::cli {

// argv[0] is the program name ("lantern bench forward"); returns the exit code.
int RunBenchForward(int argc, char** argv);

}  // namespace lantern::cli
