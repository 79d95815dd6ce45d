// Host-side planning for a device model (issue 20), plain C++ so that it is built and
// unit-tested on every machine: how a batch is laid out for one upload, how the device's
// memory is shared between weights, activations and the KV pool under
// --gpu-memory-utilization, and which batch sizes get a CUDA graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/model.h"

namespace lantern::model {

// ---- Batch layout --------------------------------------------------------------------------

// Room reserved for each array of a layout. A layout for a CUDA graph has fixed room (the
// graph's batch size, the longest block table) so its arrays sit at the same offsets at
// every replay; an eager step's room is the batch's own.
struct LayoutCapacity {
  int rows = 0;
  int seqs = 0;
  int blocks_per_seq = 0;
  int logit_rows = 0;
};

// A batch as the device kernels read it (tensor/cuda/cuda_ops.h's AttentionBatch, plus the
// token ids and the rows whose logits are asked for), all arrays in one host image that is
// uploaded in one copy. Offsets are in bytes from the image's start, 16-byte aligned.
struct DeviceBatchLayout {
  std::vector<std::byte> image;
  size_t token_ids = 0;      // int32 [rows]
  size_t row_seq = 0;        // int32 [rows]
  size_t row_pos = 0;        // int32 [rows]
  size_t row_slot = 0;       // int64 [rows]: block * block_size + slot
  size_t seq_first_row = 0;  // int32 [seqs]
  size_t seq_num_new = 0;    // int32 [seqs]
  size_t seq_start_pos = 0;  // int32 [seqs]
  size_t block_tables = 0;   // int32 [seqs][blocks_per_seq], padded with pad_block
  size_t logit_row_ids = 0;  // int32 [logit_rows]: rows whose logits are returned, in order
  int num_rows = 0;          // rows computed (the batch's, or the padded graph size)
  int num_seqs = 0;
  int real_rows = 0;  // the batch's own rows; rows past it are padding
  int blocks_per_seq = 0;
  int max_context = 0;
  int max_num_new = 0;
  int num_logit_rows = 0;
};

// Bytes of the image for a capacity.
size_t DeviceBatchLayoutBytes(const LayoutCapacity& capacity);
// The smallest capacity that holds `batch` (an eager step).
LayoutCapacity CapacityFor(const Batch& batch, int block_size);
// True when every sequence computes one new token and asks for at most its logits: the
// batches CUDA graphs replay.
bool IsPureDecode(const Batch& batch);

// Lays `batch` out within `capacity` (which must hold it: CapacityFor or larger). Rows past
// the batch's own, up to capacity.rows, are padding sequences of one token at position 0
// whose K/V go to slot 0 of `pad_block` (a block no sequence owns), so a graph of a fixed
// size computes them harmlessly. `max_context` is at least the batch's longest context
// (a graph passes the longest any sequence may have).
Status BuildDeviceBatchLayout(const Batch& batch, int block_size, const LayoutCapacity& capacity,
                              int pad_block, int max_context, DeviceBatchLayout* out);

// ---- Memory plan ---------------------------------------------------------------------------

// Bytes of the activation workspace of a Llama-family forward over `rows` rows, `logit_rows`
// of them through the LM head (fp32 residual, 16-bit GEMM inputs, fp32 GEMM outputs).
size_t LlamaActivationBytes(const ModelConfig& config, int64_t rows, int64_t logit_rows);

struct DeviceMemoryInput {
  size_t total_bytes = 0;      // the device's memory
  size_t free_bytes = 0;       // free now (after the weights and workspace were allocated)
  size_t weight_bytes = 0;     // allocated by the model
  size_t workspace_bytes = 0;  // activations, attention scratch, GEMM workspaces
  size_t graph_bytes = 0;      // estimated memory of the captured graphs
  double utilization = 0.9;    // --gpu-memory-utilization
  size_t kv_bytes_per_block = 0;
};

struct DeviceMemoryPlan {
  size_t budget_bytes = 0;  // total × utilization
  size_t other_bytes = 0;   // the context and other processes: what is used beyond ours
  size_t kv_bytes = 0;      // left for the KV pool
  int64_t kv_blocks = 0;
};

// budget = total × utilization; the KV pool gets the budget less the weights, workspace,
// graphs and what the CUDA context and others already use, and never more than is free
// (less a small margin). An error says what does not fit and what to change.
Result<DeviceMemoryPlan> PlanDeviceMemory(const DeviceMemoryInput& input);

// ---- CUDA graphs ---------------------------------------------------------------------------

// The decode batch sizes that get a graph: 1, 2, 4, 8, then multiples of 8 up to 64, then
// of 32, up to the first size >= max_num_seqs (at most 512, as vLLM's default capture list).
std::vector<int> DecodeGraphSizes(int max_num_seqs);
// The smallest size in `sizes` (ascending) that holds `num_seqs`; 0 when none does (the
// step runs eagerly).
int GraphSizeFor(const std::vector<int>& sizes, int num_seqs);

}  // namespace lantern::model
