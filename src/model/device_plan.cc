#include "model/device_plan.h"

#include <algorithm>
#include <cstdio>

namespace lantern::model {
namespace {

size_t Align16(size_t n) { return (n + 15) / 16 * 16; }

// The offsets of every array for a capacity; returns the image's size.
size_t PlaceArrays(const LayoutCapacity& c, DeviceBatchLayout* l) {
  size_t at = 0;
  auto take = [&at](size_t bytes) {
    const size_t offset = at;
    at = Align16(at + bytes);
    return offset;
  };
  const size_t rows = static_cast<size_t>(std::max(c.rows, 0));
  const size_t seqs = static_cast<size_t>(std::max(c.seqs, 0));
  l->row_slot = take(rows * sizeof(int64_t));  // first: 8-byte elements
  l->token_ids = take(rows * sizeof(int32_t));
  l->row_seq = take(rows * sizeof(int32_t));
  l->row_pos = take(rows * sizeof(int32_t));
  l->seq_first_row = take(seqs * sizeof(int32_t));
  l->seq_num_new = take(seqs * sizeof(int32_t));
  l->seq_start_pos = take(seqs * sizeof(int32_t));
  l->block_tables = take(seqs * static_cast<size_t>(std::max(c.blocks_per_seq, 0)) * 4);
  l->logit_row_ids = take(static_cast<size_t>(std::max(c.logit_rows, 0)) * sizeof(int32_t));
  return at;
}

int64_t LogitRowsOf(const SequenceChunk& seq) {
  const int64_t n = static_cast<int64_t>(seq.tokens.size());
  return seq.logits == SequenceChunk::Logits::kAll    ? n
         : seq.logits == SequenceChunk::Logits::kLast ? 1
                                                      : 0;
}

}  // namespace

size_t DeviceBatchLayoutBytes(const LayoutCapacity& capacity) {
  DeviceBatchLayout layout;
  return PlaceArrays(capacity, &layout);
}

LayoutCapacity CapacityFor(const Batch& batch, int block_size) {
  LayoutCapacity c;
  int64_t rows = 0, logit_rows = 0, blocks = 0;
  for (const SequenceChunk& seq : batch.sequences) {
    const int64_t n = static_cast<int64_t>(seq.tokens.size());
    rows += n;
    logit_rows += LogitRowsOf(seq);
    blocks = std::max<int64_t>(blocks, (seq.start_position + n + block_size - 1) / block_size);
  }
  c.rows = static_cast<int>(rows);
  c.seqs = static_cast<int>(batch.sequences.size());
  c.blocks_per_seq = static_cast<int>(std::max<int64_t>(blocks, 1));
  c.logit_rows = static_cast<int>(logit_rows);
  return c;
}

bool IsPureDecode(const Batch& batch) {
  if (batch.sequences.empty()) return false;
  for (const SequenceChunk& seq : batch.sequences) {
    if (seq.tokens.size() != 1) return false;
  }
  return true;
}

Status BuildDeviceBatchLayout(const Batch& batch, int block_size, const LayoutCapacity& capacity,
                              int pad_block, int max_context, DeviceBatchLayout* out) {
  const LayoutCapacity need = CapacityFor(batch, block_size);
  if (need.rows > capacity.rows || need.seqs > capacity.seqs ||
      need.blocks_per_seq > capacity.blocks_per_seq || need.logit_rows > capacity.logit_rows) {
    return Internal("batch layout: the batch (" + std::to_string(need.rows) + " rows, " +
                    std::to_string(need.seqs) + " sequences, " +
                    std::to_string(need.blocks_per_seq) + " blocks) exceeds the room reserved");
  }
  const int padding = capacity.rows - need.rows;
  if (need.seqs + padding > capacity.seqs) {
    return Internal("batch layout: no room for " + std::to_string(padding) + " padding rows");
  }
  DeviceBatchLayout& l = *out;
  l.image.assign(PlaceArrays(capacity, &l), std::byte{0});
  auto i32 = [&l](size_t offset) { return reinterpret_cast<int32_t*>(l.image.data() + offset); };
  int64_t* row_slot = reinterpret_cast<int64_t*>(l.image.data() + l.row_slot);
  int32_t *token_ids = i32(l.token_ids), *row_seq = i32(l.row_seq), *row_pos = i32(l.row_pos);
  int32_t *first_row = i32(l.seq_first_row), *num_new = i32(l.seq_num_new);
  int32_t *start_pos = i32(l.seq_start_pos), *tables = i32(l.block_tables);
  int32_t* logit_ids = i32(l.logit_row_ids);
  const int bps = capacity.blocks_per_seq;
  std::fill_n(tables, static_cast<size_t>(capacity.seqs) * bps, pad_block);

  int row = 0, logit_row = 0, context = 0, most_new = 0;
  for (size_t s = 0; s < batch.sequences.size(); ++s) {
    const SequenceChunk& seq = batch.sequences[s];
    const int n = static_cast<int>(seq.tokens.size());
    first_row[s] = row;
    num_new[s] = n;
    start_pos[s] = seq.start_position;
    const int blocks = (seq.start_position + n + block_size - 1) / block_size;
    std::copy_n(seq.block_table.data(), blocks, tables + s * bps);
    for (int t = 0; t < n; ++t) {
      const int pos = seq.start_position + t;
      token_ids[row + t] = seq.tokens[t];
      row_seq[row + t] = static_cast<int32_t>(s);
      row_pos[row + t] = pos;
      row_slot[row + t] =
          int64_t{seq.block_table[pos / block_size]} * block_size + pos % block_size;
    }
    const int64_t asked = LogitRowsOf(seq);
    for (int64_t k = 0; k < asked; ++k)
      logit_ids[logit_row++] = static_cast<int32_t>(row + n - asked + k);
    row += n;
    context = std::max(context, seq.start_position + n);
    most_new = std::max(most_new, n);
  }
  l.real_rows = row;
  // Padding: one sequence per row, token 0 at position 0, K/V into the pad block's slot 0.
  int seqs = static_cast<int>(batch.sequences.size());
  for (; row < capacity.rows; ++row, ++seqs) {
    first_row[seqs] = row;
    num_new[seqs] = 1;
    start_pos[seqs] = 0;
    token_ids[row] = 0;
    row_seq[row] = seqs;
    row_pos[row] = 0;
    row_slot[row] = int64_t{pad_block} * block_size;
    context = std::max(context, 1);
    most_new = std::max(most_new, 1);
  }
  l.num_rows = capacity.rows;
  l.num_seqs = seqs;
  l.blocks_per_seq = bps;
  l.max_context = std::max(context, max_context);
  l.max_num_new = most_new;
  l.num_logit_rows = logit_row;
  return Status::Ok();
}

size_t LlamaActivationBytes(const ModelConfig& c, int64_t rows, int64_t logit_rows) {
  const size_t r = static_cast<size_t>(rows), lr = static_cast<size_t>(logit_rows);
  const size_t h = static_cast<size_t>(c.hidden_size);
  const size_t q_dim = static_cast<size_t>(c.num_attention_heads) * c.head_dim;
  const size_t qkv_dim = q_dim + 2 * static_cast<size_t>(c.num_key_value_heads) * c.head_dim;
  const size_t ffn = static_cast<size_t>(c.intermediate_size);
  auto buffer = [](size_t bytes) { return (bytes + 255) / 256 * 256; };
  return buffer(r * h * 4)          // residual stream x, fp32
         + buffer(r * h * 2)        // normed, 16-bit (also the LM head's input)
         + buffer(r * qkv_dim * 4)  // q|k|v, fp32
         + buffer(r * q_dim * 2)    // attention output, 16-bit
         + buffer(r * 2 * ffn * 4)  // gate|up, fp32
         + buffer(r * ffn * 2)      // silu(gate) * up, 16-bit
         + buffer(lr * h * 4)       // the rows whose logits are asked for, fp32
         + buffer(lr * static_cast<size_t>(c.vocab_size) * 4);  // logits, fp32
}

Result<DeviceMemoryPlan> PlanDeviceMemory(const DeviceMemoryInput& in) {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  auto gib = [&](double bytes) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.2f GiB", bytes / kGiB);
    return std::string(text);
  };
  if (!(in.utilization > 0 && in.utilization <= 1)) {
    return InvalidArgument("--gpu-memory-utilization must be in (0, 1], got " +
                           std::to_string(in.utilization));
  }
  if (in.kv_bytes_per_block == 0) return InvalidArgument("memory plan: empty KV blocks");
  DeviceMemoryPlan plan;
  plan.budget_bytes = static_cast<size_t>(static_cast<double>(in.total_bytes) * in.utilization);
  const size_t ours = in.weight_bytes + in.workspace_bytes;
  const size_t used = in.total_bytes > in.free_bytes ? in.total_bytes - in.free_bytes : 0;
  plan.other_bytes = used > ours ? used - ours : 0;
  const size_t needed = ours + in.graph_bytes + plan.other_bytes;
  if (needed >= plan.budget_bytes) {
    return ResourceExhausted(
        "the GPU's memory budget of " + gib(plan.budget_bytes) + " (--gpu-memory-utilization " +
        std::to_string(in.utilization).substr(0, 4) + " of " + gib(in.total_bytes) +
        ") leaves nothing for the KV cache: weights " + gib(in.weight_bytes) + ", activations " +
        gib(in.workspace_bytes) + ", CUDA graphs " + gib(in.graph_bytes) +
        ", CUDA context and other processes " + gib(plan.other_bytes) +
        "; raise --gpu-memory-utilization, lower --max-num-batched-tokens, or use a smaller "
        "--dtype or model");
  }
  // Never more than is free, less a margin for the allocator's rounding and cuBLAS.
  constexpr size_t kMargin = size_t{64} << 20;
  const size_t free_after =
      in.free_bytes > in.graph_bytes + kMargin ? in.free_bytes - in.graph_bytes - kMargin : 0;
  plan.kv_bytes = std::min(plan.budget_bytes - needed, free_after);
  plan.kv_blocks = static_cast<int64_t>(plan.kv_bytes / in.kv_bytes_per_block);
  plan.kv_bytes = static_cast<size_t>(plan.kv_blocks) * in.kv_bytes_per_block;
  return plan;
}

std::vector<int> DecodeGraphSizes(int max_num_seqs) {
  std::vector<int> sizes;
  const int limit = std::clamp(max_num_seqs, 1, 512);
  for (int size = 1;; size = size < 8 ? size * 2 : size < 64 ? size + 8 : size + 32) {
    sizes.push_back(size);
    if (size >= limit) break;
  }
  return sizes;
}

int GraphSizeFor(const std::vector<int>& sizes, int num_seqs) {
  auto it = std::lower_bound(sizes.begin(), sizes.end(), num_seqs);
  return it == sizes.end() ? 0 : *it;
}

}  // namespace lantern::model
