// What every skinny GEMM shares, whatever its weight type (internal to tensor/): rows of A
// taken up to four at a time, each group computed by a kernel instantiated for its size;
// columns split into even, aligned slices over the pool's threads.
#pragma once

#include <algorithm>
#include <cstdint>

#include "base/thread_pool.h"

namespace lantern::tensor {

// Calls f.template operator()<M>() with M = min(4, m), m >= 1: a kernel instantiated for
// each row count it may be given.
template <class F>
void WithRowCount(int64_t m, F&& f) {
  switch (std::min<int64_t>(4, m)) {
    case 1:
      return f.template operator()<1>();
    case 2:
      return f.template operator()<2>();
    case 3:
      return f.template operator()<3>();
    default:
      return f.template operator()<4>();
  }
}

// Calls rows.template operator()<M>(r) for r = 0, 4, 8, ... with M = min(4, m - r). When k
// is 0 the product is an empty sum: C's columns [n0, n1) become 0 unless accumulating.
template <class Rows>
void ForRowGroups(int64_t m, int64_t n0, int64_t n1, int64_t k, float* c, int64_t ldc,
                  bool accumulate, Rows&& rows) {
  if (k == 0) {
    if (!accumulate) {
      for (int64_t r = 0; r < m; ++r) std::fill(c + r * ldc + n0, c + r * ldc + n1, 0.0f);
    }
    return;
  }
  for (int64_t r = 0; r < m; r += 4) {
    WithRowCount(m - r, [&]<int M>() { rows.template operator()<M>(r); });
  }
}

// Runs columns(begin, end) over slices of [0, n), a multiple of `align` columns each, one per
// thread of `pool` (the last takes the rest); on the calling thread alone when n is small.
template <class Columns>
void SplitColumns(ThreadPool& pool, int64_t n, int64_t align, Columns&& columns) {
  const int threads = pool.num_threads();
  const int64_t slice = std::max<int64_t>(align, (n / threads + align - 1) / align * align);
  if (threads == 1 || n <= slice) {
    columns(int64_t{0}, n);
    return;
  }
  pool.RunOnAllThreads([&](int t) {
    const int64_t begin = std::min(n, t * slice);
    const int64_t end = t == threads - 1 ? n : std::min(n, begin + slice);
    if (begin < end) columns(begin, end);
  });
}

}  // namespace lantern::tensor
