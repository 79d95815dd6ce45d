// The CUDA backend's kernels and GEMMs (issue 20), callable from plain C++: every pointer
// named d_* is device memory, every call is asynchronous on the given stream and returns at
// once (errors of a launch come back from the next Synchronize()). Built only when CMake
// finds nvcc (LANTERN_CUDA); the model backend in src/model/cuda/ composes them.
//
// Numerics, as the CPU path: weights and GEMM inputs in the weights' 16-bit type
// (Half::kBF16 or Half::kF16), the residual stream, norms' weights, biases, RoPE and every
// accumulation in fp32; GEMMs accumulate in fp32 on tensor cores and write fp32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

struct CUstream_st;  // = cudaStream_t, without <cuda_runtime.h> in this header

namespace lantern::tensor::cuda {

using Stream = CUstream_st*;

enum class Half : uint8_t { kBF16, kF16 };
// The element type of a KV cache on the device (--kv-cache-dtype): 16-bit only.
using KvHalf = Half;

// ---- Device and memory -------------------------------------------------------------------

// Number of CUDA devices; 0 (and no error) when the driver or a device is missing, with the
// reason in *why ("no NVIDIA driver", "CUDA driver version is insufficient ...").
int DeviceCount(std::string* why = nullptr);
struct DeviceInfo {
  std::string name;  // "NVIDIA H100 80GB HBM3"
  int sm_major = 0, sm_minor = 0;
  int multiprocessors = 0;
  size_t total_bytes = 0, free_bytes = 0;
};
Result<DeviceInfo> GetDeviceInfo(int device);
Status SetDevice(int device);

// Owns device memory (cudaMalloc/cudaFree); movable.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static Result<DeviceBuffer> Allocate(size_t bytes);
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  ~DeviceBuffer();
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory (cudaHostAlloc): staging for uploads and the per-step metadata.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  static Result<PinnedBuffer> Allocate(size_t bytes);
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  ~PinnedBuffer();
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

Result<Stream> CreateStream();
void DestroyStream(Stream stream);
Status CopyToDevice(void* d_dst, const void* src, size_t bytes, Stream stream);
Status CopyToHost(void* dst, const void* d_src, size_t bytes, Stream stream);
Status Memset(void* d_dst, int value, size_t bytes, Stream stream);
Status Synchronize(Stream stream);

// Times device work: Record() before and after, then ElapsedSeconds() (synchronizes on the
// second event). CUDA events, so it is the GPU's time, not the host's.
class EventTimer {
 public:
  static Result<EventTimer> Create();
  EventTimer(EventTimer&& other) noexcept;
  EventTimer& operator=(EventTimer&& other) noexcept;
  ~EventTimer();
  Status RecordStart(Stream stream);
  Status RecordStop(Stream stream);
  Result<double> ElapsedSeconds();

 private:
  EventTimer() = default;
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

// Host-side conversions for uploading fp32 weights of a checkpoint (round to nearest even).
void ConvertF32ToHalf(const float* src, size_t n, Half type, uint16_t* dst);

// ---- GEMM (cuBLASLt) ---------------------------------------------------------------------

// One cuBLASLt handle and workspace per stream; plans (matmul descriptors and the heuristic's
// algorithm) cached per shape.
class Gemm {
 public:
  static Result<Gemm> Create(Stream stream, size_t workspace_bytes = 32u << 20);
  Gemm(Gemm&& other) noexcept;
  Gemm& operator=(Gemm&& other) noexcept;
  ~Gemm();
  // y[rows][out] (= or +=, fp32, leading dimension ldy) = x[rows][in] · W^T, x and W in
  // `type`, W stored as the checkpoint stores nn.Linear: [out][in] row-major. `accumulate`
  // adds to y (the residual add of o_proj and down_proj, fused).
  Status Linear(const void* d_x, int64_t rows, int64_t in, const void* d_w, int64_t out, Half type,
                float* d_y, int64_t ldy, bool accumulate);

 private:
  Gemm() = default;
  struct State;
  State* state_ = nullptr;
};

// ---- Row kernels -------------------------------------------------------------------------

// out[r] = x[r] / rms(x[r]) * weight, written in `out_type` (the next GEMM's input).
void RmsNorm(const float* d_x, int64_t rows, int64_t dim, const float* d_weight, float eps,
             void* d_out, Half out_type, Stream stream);
// LayerNorm with optional affine weight/bias (null: none), for OPT/GPT-2-style models.
void LayerNorm(const float* d_x, int64_t rows, int64_t dim, const float* d_weight,
               const float* d_bias, float eps, void* d_out, Half out_type, Stream stream);
// Qwen3's per-head RMSNorm in place over `heads` vectors of head_dim at the start of each
// row (stride ld).
void GroupRmsNormInPlace(float* d_x, int64_t rows, int64_t ld, int heads, int head_dim,
                         const float* d_weight, float eps, Stream stream);
// y[r][c] += bias[c] over rows × cols (stride ld).
void AddBias(float* d_y, int64_t rows, int64_t cols, int64_t ld, const float* d_bias,
             Stream stream);

// Rotates, in place, `heads` vectors of head_dim at the start of each row (stride ld) in the
// rotate-half convention at position d_positions[r]: angle_i = pos * inv_freq[i] computed in
// double, cos/sin times attention_factor (YaRN), the result times `mul` (the queries'
// 1/sqrt(head_dim)). d_inv_freq holds head_dim / 2 doubles.
void ApplyRope(float* d_x, int64_t rows, int64_t ld, int heads, int head_dim,
               const int32_t* d_positions, const double* d_inv_freq, double attention_factor,
               float mul, Stream stream);

// Activations: fp32 in, `out_type` out (the next GEMM's input).
// out[r][c] = silu(gate_up[r][c]) * gate_up[r][ffn + c]   (gate|up fused, as the CPU path)
void SiluMul(const float* d_gate_up, int64_t rows, int64_t ffn, void* d_out, Half out_type,
             Stream stream);
void GeluTanh(const float* d_x, int64_t rows, int64_t cols, void* d_out, Half out_type,
              Stream stream);
void Relu(const float* d_x, int64_t rows, int64_t cols, void* d_out, Half out_type, Stream stream);
// fp32 -> 16-bit copy (e.g. the attention output when no activation sits between).
void ToHalf(const float* d_x, int64_t n, void* d_out, Half out_type, Stream stream);

// out[r] = table[ids[r]] (rows of dim in `table_type`), widened to fp32.
void EmbeddingGather(const void* d_table, Half table_type, int64_t dim, const int32_t* d_ids,
                     int64_t rows, float* d_out, Stream stream);
// out[i] = x[row_ids[i]] (fp32 rows of dim): the rows whose logits were asked for.
void GatherRows(const float* d_x, int64_t dim, const int32_t* d_row_ids, int64_t n, float* d_out,
                Stream stream);
// out[r] = argmax_c logits[r][c] (lowest index on ties): greedy sampling on the device.
void ArgmaxRows(const float* d_logits, int64_t rows, int64_t vocab, int32_t* d_out, Stream stream);

// ---- Paged attention ---------------------------------------------------------------------

// One layer's K/V blocks on the device, the CPU cache's layout (model/model.h): block b at
// element b * block_stride; per KV head, K is [head_dim][block_size] (slots fastest) and V is
// [block_size][head_dim].
struct PagedKvLayer {
  void* keys = nullptr;
  void* values = nullptr;
  int64_t block_stride = 0;  // elements
  int block_size = 16;
  int num_kv_heads = 0;
  int head_dim = 0;
  KvHalf type = KvHalf::kBF16;
};

// A batch's layout on the device (built on the host, uploaded once per step): rows are the
// new tokens of all sequences, sequence s owning rows [seq_first_row[s], + seq_num_new[s])
// at positions [seq_start_pos[s], + seq_num_new[s]); its block table is row s of
// block_tables ([num_seqs][max_blocks_per_seq], padded with 0).
struct AttentionBatch {
  int num_rows = 0;
  int num_seqs = 0;
  const int32_t* d_row_seq = nullptr;        // [num_rows] sequence of each row
  const int32_t* d_row_pos = nullptr;        // [num_rows] position of each row
  const int64_t* d_row_slot = nullptr;       // [num_rows] block * block_size + slot of its K/V
  const int32_t* d_seq_first_row = nullptr;  // [num_seqs]
  const int32_t* d_seq_num_new = nullptr;    // [num_seqs]
  const int32_t* d_seq_start_pos = nullptr;  // [num_seqs]
  const int32_t* d_block_tables = nullptr;   // [num_seqs][max_blocks_per_seq]
  int max_blocks_per_seq = 0;
  int max_context = 0;  // max over sequences of start_pos + num_new
  int max_num_new = 0;  // 1 for a pure decode batch
  // max_context and max_num_new may overstate the batch (e.g. fixed upper bounds for a
  // captured CUDA graph): they size the launch grids and the workspace, and the blocks past
  // a sequence's own context or new tokens exit. A row's result depends on its own sequence
  // only (split-K partitions follow its own context), never on the rest of the batch.
};

// Stores each row's K and V (fp32 rows of num_kv_heads * head_dim at ldk/ldv) into its slot,
// rounded to nearest even.
void WritePagedKv(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_k,
                  int64_t ldk, const float* d_v, int64_t ldv, Stream stream);

// Bytes of scratch PagedAttention needs for a batch (split-K partial sums of long contexts).
size_t PagedAttentionWorkspaceBytes(const AttentionBatch& batch, int num_heads, int head_dim);

// out[row][h*head_dim..] = softmax(q_h · K^T) V over positions [0, pos] of the row's
// sequence (causal; with sliding_window W > 0 only (pos - W, pos]), num_heads query heads
// over num_kv_heads (GQA). q (fp32, stride ldq) already carries 1/sqrt(head_dim); out is
// written in `out_type` (o_proj's input), stride ldo. Decode rows use a split-K kernel over
// the context; prefill chunks a tiled kernel with online softmax; both read the paged cache.
void PagedAttention(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_q,
                    int64_t ldq, int num_heads, void* d_out, Half out_type, int64_t ldo,
                    int sliding_window, void* d_workspace, size_t workspace_bytes, Stream stream);

// A launch error, if any, of the calls above since the last check (cudaGetLastError).
Status LastLaunchError();

}  // namespace lantern::tensor::cuda
