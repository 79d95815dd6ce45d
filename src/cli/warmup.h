// The warm-up step of `lantern serve`: one forward pass of a single token on a scratch KV
// cache before the server listens, so the first request does not pay for paging the
// weights in and starting the compute threads.
#pragma once

#include "base/status.h"
#include "model/model.h"

namespace lantern::cli {

// Runs before the engine serves anything (the engine thread is idle, waiting for its first
// request), so the model is not used by two threads at once.
Status WarmUp(model::Model& model);

}  // namespace lantern::cli
