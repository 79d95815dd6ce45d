// Progress while a model's weights load (LoadOptions::progress), on stderr: a live line on a
// terminal, otherwise a line at each quarter for checkpoints large enough to take a while.
#pragma once

#include <cstdint>
#include <functional>

namespace lantern::cli {

std::function<void(uint64_t done, uint64_t total)> MakeLoadProgressPrinter();

}  // namespace lantern::cli
