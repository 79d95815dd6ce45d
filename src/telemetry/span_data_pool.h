// Recycled SpanData records. A sampled span used to cost a SpanData allocation on the
// request thread and its free on the exporter thread, which in glibc keeps both sides on
// their slow paths. Instead, processors hand exported (or dropped) records back here; they
// are cleared (capacity kept: the attribute vector, the name) and reused by the next span.
//
// Each thread keeps a small cache; the shared reserve behind it is taken under a mutex
// once per few dozen spans. Both are bounded: beyond them records are freed.
#pragma once

#include <cstddef>
#include <memory>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

// A cleared record (as if default-constructed), from the pool when one is there.
std::unique_ptr<SpanData> AcquireSpanData();

// Clears `span` and keeps it for reuse (or frees it when the pool is full). Null is fine.
void RecycleSpanData(std::unique_ptr<SpanData> span);

// Records kept in the shared reserve now (for tests).
size_t SpanDataPoolReserveSize();

}  // namespace lantern::telemetry
