#include "tensor/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace lantern::tensor {
namespace {

struct Params {
  int block_size, num_heads, num_kv_heads, head_dim;
  int window = 0;  // sliding window (0: full causal attention)
};

// Several sequences with different histories compute new tokens in one call; results
// are compared with plain causal attention over contiguous K/V in double precision.
void CheckAgainstContiguous(const Params& p) {
  std::mt19937 rng(p.block_size * 1000 + p.head_dim);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int kv_width = p.num_kv_heads * p.head_dim, q_width = p.num_heads * p.head_dim;
  struct Seq {
    int history, num_new;
  };
  const std::vector<Seq> seqs = {{0, 37}, {40, 1}, {3, 5}, {100, 1}, {17, 16}};
  const int num_blocks = 64;
  // Shuffled block ids: each sequence's table is non-contiguous.
  std::vector<int32_t> ids(num_blocks);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  const int64_t block_stride = 2LL * kv_width * p.block_size;  // room to spare
  std::vector<float> keys(num_blocks * block_stride, NAN), values(keys.size(), NAN);
  PagedKvLayer kv{keys.data(),  values.data(),  block_stride,
                  p.block_size, p.num_kv_heads, p.head_dim};
  ThreadPool pool(2);

  std::vector<std::vector<float>> all_k, all_v;  // per sequence, every position
  std::vector<std::vector<int32_t>> tables;
  size_t next_id = 0;
  std::vector<AttentionSequence> batch;
  std::vector<float> q, k_new, v_new;
  int64_t rows = 0;
  for (const Seq& s : seqs) {
    const int total = s.history + s.num_new;
    std::vector<float> k(total * kv_width), v(total * kv_width);
    for (auto& x : k) x = dist(rng);
    for (auto& x : v) x = dist(rng);
    std::vector<int32_t> table((total + p.block_size - 1) / p.block_size);
    for (auto& b : table) b = ids[next_id++];
    // History is written by an earlier call (as a previous engine step would).
    if (s.history > 0) {
      AttentionSequence h{0, s.history, 0, table.data()};
      WritePagedKv(pool, kv, {&h, 1}, k.data(), kv_width, v.data(), kv_width);
    }
    batch.push_back({rows, s.num_new, s.history, nullptr});
    for (int t = s.history; t < total; ++t) {
      k_new.insert(k_new.end(), k.begin() + t * kv_width, k.begin() + (t + 1) * kv_width);
      v_new.insert(v_new.end(), v.begin() + t * kv_width, v.begin() + (t + 1) * kv_width);
      for (int i = 0; i < q_width; ++i) q.push_back(dist(rng) * 0.3f);
    }
    rows += s.num_new;
    all_k.push_back(std::move(k));
    all_v.push_back(std::move(v));
    tables.push_back(std::move(table));
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].block_table = tables[i].data();
  WritePagedKv(pool, kv, batch, k_new.data(), kv_width, v_new.data(), kv_width);
  std::vector<float> out(rows * q_width, NAN);
  PagedAttention(pool, kv, batch, q.data(), q_width, p.num_heads, out.data(), q_width, p.window);

  const int group = p.num_heads / p.num_kv_heads;
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (int t = 0; t < seqs[s].num_new; ++t) {
      const int pos = seqs[s].history + t;
      const int64_t row = batch[s].first_row + t;
      for (int h = 0; h < p.num_heads; ++h) {
        const int kvh = h / group;
        const int lo = p.window > 0 ? std::max(0, pos - p.window + 1) : 0;
        std::vector<double> scores(pos + 1, 0.0);
        double mx = -1e300;
        for (int j = lo; j <= pos; ++j) {
          double dot = 0;
          for (int d = 0; d < p.head_dim; ++d) {
            dot += double(q[row * q_width + h * p.head_dim + d]) *
                   all_k[s][j * kv_width + kvh * p.head_dim + d];
          }
          scores[j] = dot;
          mx = std::max(mx, dot);
        }
        double sum = 0;
        for (int j = lo; j <= pos; ++j) sum += (scores[j] = std::exp(scores[j] - mx));
        for (int d = 0; d < p.head_dim; ++d) {
          double want = 0;
          for (int j = lo; j <= pos; ++j) {
            want += scores[j] / sum * all_v[s][j * kv_width + kvh * p.head_dim + d];
          }
          ASSERT_NEAR(out[row * q_width + h * p.head_dim + d], want, 2e-5 * (1 + std::abs(want)))
              << "seq " << s << " pos " << pos << " head " << h << " dim " << d;
        }
      }
    }
  }
}

TEST(PagedAttentionTest, MatchesContiguousCausalAttention) {
  CheckAgainstContiguous({16, 4, 4, 64});
}
TEST(PagedAttentionTest, OddBlockSizeAndHeadDim) { CheckAgainstContiguous({5, 3, 3, 20}); }
TEST(PagedAttentionTest, LargeBlocks) { CheckAgainstContiguous({32, 2, 2, 8}); }
TEST(PagedAttentionTest, GroupedQueryHeads) { CheckAgainstContiguous({16, 8, 2, 16}); }
// Windows shorter and longer than a block, ending mid-block and on block boundaries.
TEST(PagedAttentionTest, SlidingWindow) {
  for (int window : {1, 7, 16, 21, 40, 200}) {
    SCOPED_TRACE("window " + std::to_string(window));
    CheckAgainstContiguous({16, 4, 2, 32, window});
    CheckAgainstContiguous({5, 2, 1, 20, window});
  }
}

}  // namespace
}  // namespace lantern::tensor
