// Paged attention on the device (skipped without a device): the K/V writes byte for byte
// against the CPU path's WritePagedKv (same cache layout), the outputs against a float64
// reference over the stored 16-bit K/V, for decode (split-K over long contexts), prefill
// chunks, mixed batches, GQA, sliding windows, block sizes 16 and 32, bf16 and f16; and a
// row's result bit for bit independent of its batch and of how its prompt was chunked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/attention.h"
#include "tensor/cuda/cuda_ops.h"
#include "tests/unit/tensor/cuda/cuda_test_util.h"

namespace lantern::tensor::cuda {
namespace {

using testing::DeviceVector;
using testing::RandomFloats;
using testing::StreamHolder;

struct Config {
  const char* name = "";
  int block_size = 16;
  int num_heads = 8, num_kv_heads = 2, head_dim = 64;
  int window = 0;
  Half kv_type = Half::kBF16, out_type = Half::kBF16;
};

// One sequence's K, V and queries at every position it will ever have ([ctx][width] each),
// so that a row's inputs are the same however it is batched or chunked.
struct SeqData {
  int context = 0;
  std::vector<float> k, v, q;
  SeqData(const Config& c, int context, uint32_t seed) : context(context) {
    std::mt19937 rng(seed);
    const int kv_width = c.num_kv_heads * c.head_dim, q_width = c.num_heads * c.head_dim;
    k = RandomFloats(size_t(context) * kv_width, rng);
    v = RandomFloats(size_t(context) * kv_width, rng);
    // Scores of a few units: a softmax that is neither flat nor one-hot.
    q = RandomFloats(size_t(context) * q_width, rng, -4 / std::sqrt(float(c.head_dim)),
                     4 / std::sqrt(float(c.head_dim)));
  }
};

// The new tokens of one sequence in a batch: positions [start, start + num_new).
struct Chunk {
  const SeqData* seq;
  int start, num_new;
};

tensor::KvElement CpuKvType(Half type) {
  return type == Half::kBF16 ? tensor::KvElement::kBF16 : tensor::KvElement::kF16;
}

// Runs WritePagedKv and PagedAttention on one batch; returns each chunk's output rows
// ([num_new][num_heads * head_dim], 16-bit bits) and checks the cache against the CPU path's.
std::vector<std::vector<uint16_t>> RunBatch(const Config& c, const std::vector<Chunk>& chunks,
                                            Stream stream, uint32_t seed) {
  std::mt19937 rng(seed);
  const int bs = c.block_size, hd = c.head_dim;
  const int kv_width = c.num_kv_heads * hd, q_width = c.num_heads * hd;
  const int num_seqs = static_cast<int>(chunks.size());
  int num_rows = 0, max_blocks = 1, max_context = 0, max_num_new = 0, total_blocks = 1;
  for (const Chunk& ch : chunks) {
    const int ctx = ch.start + ch.num_new;
    num_rows += ch.num_new;
    max_blocks = std::max(max_blocks, (ctx + bs - 1) / bs);
    max_context = std::max(max_context, ctx);
    max_num_new = std::max(max_num_new, ch.num_new);
    total_blocks += (ctx + bs - 1) / bs;
  }
  // Blocks in a shuffled order (block 0 is the tables' padding), a padded block stride.
  std::vector<int32_t> ids(total_blocks - 1);
  std::iota(ids.begin(), ids.end(), 1);
  std::shuffle(ids.begin(), ids.end(), rng);
  const int64_t block_stride = int64_t(kv_width) * bs + 24;
  std::vector<int32_t> tables(size_t(num_seqs) * max_blocks, 0);
  size_t next_id = 0;
  for (int s = 0; s < num_seqs; ++s) {
    const int blocks = (chunks[s].start + chunks[s].num_new + bs - 1) / bs;
    for (int b = 0; b < blocks; ++b) tables[size_t(s) * max_blocks + b] = ids[next_id++];
  }

  // The positions before each chunk, written by the CPU path; the new ones stay for the GPU.
  ThreadPool pool(2);
  std::vector<uint16_t> keys(size_t(total_blocks) * block_stride, 0);
  std::vector<uint16_t> values(keys.size(), 0);
  tensor::PagedKvLayer cpu_kv{keys.data(), values.data(),       block_stride, bs, c.num_kv_heads,
                              hd,          CpuKvType(c.kv_type)};
  for (int s = 0; s < num_seqs; ++s) {
    if (chunks[s].start == 0) continue;
    const tensor::AttentionSequence prior{0, chunks[s].start, 0, &tables[size_t(s) * max_blocks]};
    tensor::WritePagedKv(pool, cpu_kv, {&prior, 1}, chunks[s].seq->k.data(), kv_width,
                         chunks[s].seq->v.data(), kv_width);
  }
  DeviceVector<uint16_t> d_keys(keys, stream), d_values(values, stream);

  // The batch's rows, with padded leading dimensions.
  const int64_t ldk = kv_width + 3, ldq = q_width + 5, ldo = q_width + 2;
  std::vector<float> k_rows(size_t(num_rows) * ldk), v_rows(k_rows.size()),
      q_rows(size_t(num_rows) * ldq);
  std::vector<int32_t> row_seq, row_pos, first_row, num_new, start_pos;
  std::vector<int64_t> row_slot;
  for (int s = 0; s < num_seqs; ++s) {
    const Chunk& ch = chunks[s];
    first_row.push_back(static_cast<int32_t>(row_seq.size()));
    num_new.push_back(ch.num_new);
    start_pos.push_back(ch.start);
    for (int t = 0; t < ch.num_new; ++t) {
      const int pos = ch.start + t;
      const size_t r = row_seq.size();
      std::copy_n(&ch.seq->k[size_t(pos) * kv_width], kv_width, &k_rows[r * ldk]);
      std::copy_n(&ch.seq->v[size_t(pos) * kv_width], kv_width, &v_rows[r * ldk]);
      std::copy_n(&ch.seq->q[size_t(pos) * q_width], q_width, &q_rows[r * ldq]);
      row_seq.push_back(s);
      row_pos.push_back(pos);
      row_slot.push_back(int64_t(tables[size_t(s) * max_blocks + pos / bs]) * bs + pos % bs);
    }
  }
  DeviceVector<float> dk(k_rows, stream), dv(v_rows, stream), dq(q_rows, stream);
  DeviceVector<int32_t> d_row_seq(row_seq, stream), d_row_pos(row_pos, stream),
      d_first(first_row, stream), d_num_new(num_new, stream), d_start(start_pos, stream),
      d_tables(tables, stream);
  DeviceVector<int64_t> d_row_slot(row_slot, stream);

  PagedKvLayer kv{d_keys.get(), d_values.get(), block_stride, bs, c.num_kv_heads, hd, c.kv_type};
  AttentionBatch batch;
  batch.num_rows = num_rows;
  batch.num_seqs = num_seqs;
  batch.d_row_seq = d_row_seq.get();
  batch.d_row_pos = d_row_pos.get();
  batch.d_row_slot = d_row_slot.get();
  batch.d_seq_first_row = d_first.get();
  batch.d_seq_num_new = d_num_new.get();
  batch.d_seq_start_pos = d_start.get();
  batch.d_block_tables = d_tables.get();
  batch.max_blocks_per_seq = max_blocks;
  batch.max_context = max_context;
  batch.max_num_new = max_num_new;

  WritePagedKv(kv, batch, dk.get(), ldk, dv.get(), ldk, stream);
  // The CPU path writes the same new tokens into its copy: the caches must agree bit for bit.
  for (int s = 0; s < num_seqs; ++s) {
    const tensor::AttentionSequence seq{first_row[s], chunks[s].num_new, chunks[s].start,
                                        &tables[size_t(s) * max_blocks]};
    tensor::WritePagedKv(pool, cpu_kv, {&seq, 1}, k_rows.data(), ldk, v_rows.data(), ldk);
  }
  EXPECT_EQ(d_keys.Read(), keys) << c.name << ": K cache differs from the CPU path's";
  EXPECT_EQ(d_values.Read(), values) << c.name << ": V cache differs from the CPU path's";

  const size_t workspace_bytes = PagedAttentionWorkspaceBytes(batch, c.num_heads, hd);
  DeviceVector<uint8_t> workspace(std::max<size_t>(workspace_bytes, 1), stream);
  // 0xFFFF is NaN in both types: a row or column the kernels never wrote shows up.
  DeviceVector<uint16_t> out(std::vector<uint16_t>(size_t(num_rows) * ldo, 0xFFFF), stream);
  PagedAttention(kv, batch, dq.get(), ldq, c.num_heads, out.get(), c.out_type, ldo, c.window,
                 workspace.get(), workspace_bytes, stream);
  const Status launched = LastLaunchError();
  EXPECT_TRUE(launched.ok()) << launched.ToString();
  const std::vector<uint16_t> bits = out.Read();

  std::vector<std::vector<uint16_t>> per_chunk(num_seqs);
  for (int s = 0; s < num_seqs; ++s) {
    for (int t = 0; t < chunks[s].num_new; ++t) {
      const size_t r = size_t(first_row[s]) + t;
      per_chunk[s].insert(per_chunk[s].end(), &bits[r * ldo], &bits[r * ldo] + q_width);
      for (int64_t col = q_width; col < ldo; ++col) {
        EXPECT_EQ(bits[r * ldo + col], 0xFFFF) << c.name << ": wrote past the row";
      }
    }
  }
  return per_chunk;
}

// The float64 reference of one row and head over the 16-bit K/V as stored.
std::vector<double> Reference(const Config& c, const SeqData& seq, int pos, int h) {
  const int hd = c.head_dim, kv_width = c.num_kv_heads * hd;
  const int kv_head = h / (c.num_heads / c.num_kv_heads);
  const int lo = c.window > 0 ? std::max(0, pos - c.window + 1) : 0;
  std::vector<double> scores;
  double max_score = -INFINITY;
  for (int t = lo; t <= pos; ++t) {
    double dot = 0;
    for (int d = 0; d < hd; ++d) {
      dot += double(seq.q[size_t(pos) * c.num_heads * hd + h * hd + d]) *
             testing::RoundTo(c.kv_type, seq.k[size_t(t) * kv_width + kv_head * hd + d]);
    }
    scores.push_back(dot);
    max_score = std::max(max_score, dot);
  }
  double sum = 0;
  for (double& s : scores) sum += s = std::exp(s - max_score);
  std::vector<double> out(hd, 0.0);
  for (int t = lo; t <= pos; ++t) {
    for (int d = 0; d < hd; ++d) {
      out[d] += scores[t - lo] / sum *
                testing::RoundTo(c.kv_type, seq.v[size_t(t) * kv_width + kv_head * hd + d]);
    }
  }
  return out;
}

void CheckAgainstReference(const Config& c, const std::vector<Chunk>& chunks,
                           const std::vector<std::vector<uint16_t>>& outputs) {
  const int hd = c.head_dim, q_width = c.num_heads * hd;
  for (size_t s = 0; s < chunks.size(); ++s) {
    const std::vector<float> got = testing::Widen(c.out_type, outputs[s]);
    for (int t = 0; t < chunks[s].num_new; ++t) {
      const int pos = chunks[s].start + t;
      for (int h = 0; h < c.num_heads; ++h) {
        const std::vector<double> want = Reference(c, *chunks[s].seq, pos, h);
        for (int d = 0; d < hd; ++d) {
          const float g = got[size_t(t) * q_width + h * hd + d];
          ASSERT_NEAR(g, want[d], 2 * testing::Epsilon(c.out_type) * std::fabs(want[d]) + 2e-4)
              << c.name << ": sequence " << s << " position " << pos << " head " << h << " d " << d;
        }
      }
    }
  }
}

struct Case {
  Config config;
  std::vector<std::pair<int, int>> chunks;  // (start, num_new)
};

class CudaAttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(CudaAttentionTest, MatchesTheFloat64Reference) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  const Case& test = GetParam();
  StreamHolder stream;
  std::vector<SeqData> data;
  for (size_t i = 0; i < test.chunks.size(); ++i) {
    data.emplace_back(test.config, test.chunks[i].first + test.chunks[i].second, 100 + i);
  }
  std::vector<Chunk> chunks;
  for (size_t i = 0; i < test.chunks.size(); ++i) {
    chunks.push_back({&data[i], test.chunks[i].first, test.chunks[i].second});
  }
  const auto outputs = RunBatch(test.config, chunks, stream.get(), 1);
  CheckAgainstReference(test.config, chunks, outputs);

  // Each sequence alone gives the same bits as in the batch.
  for (size_t i = 0; i < chunks.size(); ++i) {
    const auto alone = RunBatch(test.config, {chunks[i]}, stream.get(), 2 + i);
    EXPECT_EQ(alone[0], outputs[i])
        << test.config.name << ": sequence " << i << " differs alone and batched";
  }
}

Config Make(const char* name, int bs, int heads, int kv_heads, int hd, int window, Half kv,
            Half out) {
  return Config{name, bs, heads, kv_heads, hd, window, kv, out};
}
constexpr Half kB = Half::kBF16, kF = Half::kF16;

INSTANTIATE_TEST_SUITE_P(
    Cases, CudaAttentionTest,
    ::testing::Values(
        Case{Make("decode_short", 16, 8, 2, 64, 0, kB, kB),
             {{0, 1}, {15, 1}, {16, 1}, {100, 1}, {511, 1}, {512, 1}}},
        Case{Make("decode_split_k", 16, 4, 4, 128, 0, kF, kF), {{513, 1}, {3000, 1}, {20000, 1}}},
        Case{Make("decode_split_gqa_window_bs32", 32, 8, 1, 64, 700, kB, kF),
             {{2999, 1}, {600, 1}, {40000, 1}}},
        Case{Make("prefill_odd_head_dim", 16, 6, 2, 80, 0, kB, kB), {{0, 37}, {0, 5}, {20, 16}}},
        Case{Make("prefill_chunk_window_bs32", 32, 8, 2, 128, 50, kF, kB), {{100, 70}, {0, 200}}},
        Case{Make("mixed_prefill_decode", 16, 8, 2, 64, 0, kB, kB),
             {{0, 40}, {700, 1}, {10, 1}, {1000, 17}, {0, 1}, {5000, 1}}},
        Case{Make("mixed_window_split", 16, 4, 2, 64, 1000, kF, kF),
             {{6000, 1}, {1500, 33}, {999, 1}}},
        Case{Make("head_dim_256", 16, 2, 1, 256, 0, kB, kB), {{0, 20}, {1500, 1}}},
        Case{Make("head_dim_16", 16, 4, 2, 16, 0, kF, kF), {{0, 33}, {7, 1}}}),
    [](const auto& info) { return std::string(info.param.config.name); });

TEST(CudaAttentionChunkingTest, ChunkedPrefillGivesTheSameBitsAsOneChunk) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  StreamHolder stream;
  for (const Config& c : {Make("chunking", 16, 8, 2, 64, 0, kB, kB),
                          Make("chunking_window", 32, 8, 2, 64, 24, kF, kF)}) {
    const SeqData seq(c, 90, 7);
    const auto whole = RunBatch(c, {{&seq, 0, 90}}, stream.get(), 3);
    const auto first = RunBatch(c, {{&seq, 0, 30}}, stream.get(), 4);
    const auto second = RunBatch(c, {{&seq, 30, 60}}, stream.get(), 5);
    const size_t width = size_t(c.num_heads) * c.head_dim;
    const std::vector<uint16_t> head(whole[0].begin(), whole[0].begin() + 30 * width);
    const std::vector<uint16_t> tail(whole[0].begin() + 30 * width, whole[0].end());
    EXPECT_EQ(first[0], head) << c.name;
    EXPECT_EQ(second[0], tail) << c.name;
  }
}

}  // namespace
}  // namespace lantern::tensor::cuda
