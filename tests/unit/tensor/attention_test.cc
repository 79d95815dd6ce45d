#include "tensor/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "tensor/half.h"

namespace lantern::tensor {
namespace {

struct Params {
  int block_size, num_heads, num_kv_heads, head_dim;
  int window = 0;  // sliding window (0: full causal attention)
  KvElement type = KvElement::kF32;
};

// x as the cache holds it.
float RoundTo(KvElement type, float x) {
  switch (type) {
    case KvElement::kBF16:
      return BFloat16BitsToFloat(FloatToBFloat16Bits(x));
    case KvElement::kF16:
      return HalfBitsToFloat(FloatToHalfBits(x));
    case KvElement::kF32:
      break;
  }
  return x;
}

// Several sequences with different histories compute new tokens in one call; results
// are compared with plain causal attention over contiguous K/V in double precision (K and
// V rounded as the cache keeps them). Returns the attention's output rows.
std::vector<float> CheckAgainstContiguous(const Params& p) {
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
  // All bits set: NaN as fp32, bfloat16 and half, so a slot read before written shows.
  std::vector<float> keys(num_blocks * block_stride), values(keys.size());
  std::memset(keys.data(), 0xFF, keys.size() * sizeof(float));
  std::memset(values.data(), 0xFF, values.size() * sizeof(float));
  PagedKvLayer kv{keys.data(),    values.data(), block_stride, p.block_size,
                  p.num_kv_heads, p.head_dim,    p.type};
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
                   RoundTo(p.type, all_k[s][j * kv_width + kvh * p.head_dim + d]);
          }
          scores[j] = dot;
          mx = std::max(mx, dot);
        }
        double sum = 0;
        for (int j = lo; j <= pos; ++j) sum += (scores[j] = std::exp(scores[j] - mx));
        for (int d = 0; d < p.head_dim; ++d) {
          double want = 0;
          for (int j = lo; j <= pos; ++j) {
            want +=
                scores[j] / sum * RoundTo(p.type, all_v[s][j * kv_width + kvh * p.head_dim + d]);
          }
          EXPECT_NEAR(out[row * q_width + h * p.head_dim + d], want, 2e-5 * (1 + std::abs(want)))
              << "seq " << s << " pos " << pos << " head " << h << " dim " << d;
          if (::testing::Test::HasFailure()) return out;
        }
      }
    }
  }
  return out;
}

const KvElement kAllTypes[] = {KvElement::kF32, KvElement::kBF16, KvElement::kF16};

const char* Name(KvElement type) {
  return type == KvElement::kBF16 ? "bfloat16" : type == KvElement::kF16 ? "float16" : "float32";
}

// Every shape of the tests below through the fp32 and both 16-bit caches.
void CheckEveryType(Params p) {
  for (KvElement type : kAllTypes) {
    SCOPED_TRACE(Name(type));
    p.type = type;
    CheckAgainstContiguous(p);
  }
}

TEST(PagedAttentionTest, MatchesContiguousCausalAttention) { CheckEveryType({16, 4, 4, 64}); }
TEST(PagedAttentionTest, OddBlockSizeAndHeadDim) { CheckEveryType({5, 3, 3, 20}); }
TEST(PagedAttentionTest, LargeBlocks) { CheckEveryType({32, 2, 2, 8}); }
TEST(PagedAttentionTest, GroupedQueryHeads) { CheckEveryType({16, 8, 2, 16}); }
// Head dims past the kernels' 64-wide value groups, with a tail of single vectors and lanes.
TEST(PagedAttentionTest, WideHeadsWithTails) {
  CheckEveryType({16, 2, 1, 128});
  CheckEveryType({8, 4, 2, 84});
}
// Windows shorter and longer than a block, ending mid-block and on block boundaries.
TEST(PagedAttentionTest, SlidingWindow) {
  for (int window : {1, 7, 16, 21, 40, 200}) {
    SCOPED_TRACE("window " + std::to_string(window));
    CheckEveryType({16, 4, 2, 32, window});
    CheckEveryType({5, 2, 1, 20, window});
  }
}

// A 16-bit cache is written rounded to nearest even (as PyTorch's .to() rounds), and read
// exactly as the values it holds: attention over it equals fp32 attention over K and V
// rounded beforehand, up to the order of the sums.
TEST(PagedAttentionTest, SixteenBitCacheHoldsRoundedValues) {
  for (KvElement type : {KvElement::kBF16, KvElement::kF16}) {
    SCOPED_TRACE(Name(type));
    const int bs = 16, heads = 4, kv_heads = 2, hd = 48;
    const int width = kv_heads * hd, total = 40;
    std::mt19937 rng(5);
    std::normal_distribution<float> dist(0.0f, 2.0f);
    std::vector<float> k(total * width), v(total * width), q(total * heads * hd);
    for (auto* a : {&k, &v, &q}) {
      for (auto& x : *a) x = dist(rng);
    }
    std::vector<float> k_rounded(k), v_rounded(v);
    for (auto& x : k_rounded) x = RoundTo(type, x);
    for (auto& x : v_rounded) x = RoundTo(type, x);
    const std::vector<int32_t> table = {2, 0, 1};
    const int64_t stride = int64_t{width} * bs;
    std::vector<float> keys32(3 * stride), values32(3 * stride);
    std::vector<uint16_t> keys16(3 * stride), values16(3 * stride);
    PagedKvLayer kv32{keys32.data(), values32.data(), stride, bs, kv_heads, hd};
    PagedKvLayer kv16{keys16.data(), values16.data(), stride, bs, kv_heads, hd, type};
    ThreadPool pool(2);
    AttentionSequence seq{0, total, 0, table.data()};
    WritePagedKv(pool, kv32, {&seq, 1}, k_rounded.data(), width, v_rounded.data(), width);
    WritePagedKv(pool, kv16, {&seq, 1}, k.data(), width, v.data(), width);
    for (int t = 0; t < total; ++t) {  // slot t % bs of block table[t / bs], head 0, dim 3
      const int64_t base = table[t / bs] * stride;
      const uint16_t key = keys16[base + 3 * bs + t % bs];
      const uint16_t value = values16[base + (t % bs) * hd + 3];
      const uint16_t want_key = type == KvElement::kBF16 ? FloatToBFloat16Bits(k[t * width + 3])
                                                         : FloatToHalfBits(k[t * width + 3]);
      const uint16_t want_value = type == KvElement::kBF16 ? FloatToBFloat16Bits(v[t * width + 3])
                                                           : FloatToHalfBits(v[t * width + 3]);
      ASSERT_EQ(key, want_key) << "position " << t;
      ASSERT_EQ(value, want_value) << "position " << t;
    }
    std::vector<float> out32(q.size()), out16(q.size());
    PagedAttention(pool, kv32, {&seq, 1}, q.data(), heads * hd, heads, out32.data(), heads * hd);
    PagedAttention(pool, kv16, {&seq, 1}, q.data(), heads * hd, heads, out16.data(), heads * hd);
    for (size_t i = 0; i < out32.size(); ++i) {
      ASSERT_NEAR(out16[i], out32[i], 1e-5f * (1 + std::abs(out32[i]))) << "element " << i;
    }
  }
}

}  // namespace
}  // namespace lantern::tensor
