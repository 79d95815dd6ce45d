// Weights of a checkpoint as the F32 layouts our kernels want, shared by the
// architectures: matrices transposed to [in][out] for row-major GEMMs, several
// projections fused side by side (q|k|v), names resolved across the prefixes HF uses.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/weights.h"
#include "tensor/gemm8.h"

namespace lantern::model {

// y[rows][out] = x[rows][in] * weight + bias. The weights are kept in `dtype`: F32 in
// `weight`, or 16-bit (--dtype bfloat16/float16) in `weight16`, read by the kernels as they
// are; the bias stays F32 (it is small and added once).
struct DenseLinear {
  int64_t in = 0;
  int64_t out = 0;
  DType dtype = DType::kF32;
  std::vector<float> weight;       // [in][out] when dtype is F32 (and not int8)
  std::vector<uint16_t> weight16;  // [in][out] when dtype is F16 or BF16 (and not int8)
  // BF16 weight16 pair-interleaved instead, [ceil(in/2)][out][2] (tensor/gemm16.h), where
  // the CPU multiplies bfloat16 pairs natively (tensor::Bf16PairsPreferred()).
  bool bf16_pairs = false;
  std::vector<float> bias;  // [out] or empty
  // --quantization int8: weight8 packed for the int8 kernels (gemm8.h).
  bool int8 = false;
  tensor::Int8Weights weight8;

  void Apply(ThreadPool& pool, const float* x, int64_t rows, float* y, bool accumulate) const;
  // y = x * weight (+ y when accumulate), without the bias.
  void Multiply(ThreadPool& pool, const float* x, int64_t rows, float* y, bool accumulate) const;
  // Keeps the weights as `target` from now on: F32 weights are rounded to nearest even and
  // their F32 copy freed. Only from F32 (what the readers build); a no-op for F32.
  void StoreAs(ThreadPool& pool, DType target);
  // Quantizes the F32 weights to int8 in blocks of 32 input rows (gemm8.h), freeing them.
  void QuantizeInt8(ThreadPool& pool);
  // StoreAs(target), or QuantizeInt8 when `int8`.
  void Store(ThreadPool& pool, DType target, bool int8) {
    int8 ? QuantizeInt8(pool) : StoreAs(pool, target);
  }
  // out[i] = weight[i][column] for every i < in: the embedding of a token when the LM head
  // is tied to the embeddings.
  void ReadColumn(int64_t column, float* out) const;
  // out[j] = weight[row][j] for every j < out: a row of a table kept as a DenseLinear
  // (untied embeddings, [vocab][hidden]).
  void ReadRow(int64_t row, float* out) const;
  // Bytes of weights and bias in memory.
  uint64_t bytes() const;
};

// While alive, every tensor a WeightReader on this thread reads is reported to `progress`
// (LoadOptions::progress), against `total` bytes.
class LoadProgressScope {
 public:
  LoadProgressScope(std::function<void(uint64_t, uint64_t)> progress, uint64_t total);
  ~LoadProgressScope();
  LoadProgressScope(const LoadProgressScope&) = delete;
  LoadProgressScope& operator=(const LoadProgressScope&) = delete;
  static void Add(uint64_t bytes);  // no-op without a scope

 private:
  std::function<void(uint64_t, uint64_t)> progress_;
  uint64_t total_;
  uint64_t done_ = 0;
  LoadProgressScope* previous_;
};

// out[0, count) = the tensor's values [first, first + count), widened to F32.
void WidenValues(const WeightView& view, int64_t first, int64_t count, float* out);

// The type to keep a checkpoint's weights in: `requested`, or when none was, the type most
// of the checkpoint's values have (a 16-bit checkpoint stays 16-bit, as vLLM's `auto`).
DType ResolveWeightDType(std::optional<DType> requested, const WeightStore& store);

// Looks names up under several prefixes ("model.decoder." then "decoder." for OPT),
// converts tensors to F32 and checks their shapes. Errors name the tensor.
class WeightReader {
 public:
  // Linear layers come out stored as `dtype`, or quantized to int8 (DenseLinear::Store).
  WeightReader(const WeightStore& store, std::vector<std::string> prefixes, ThreadPool& pool,
               DType dtype = DType::kF32, bool int8 = false)
      : store_(store), prefixes_(std::move(prefixes)), pool_(pool), dtype_(dtype), int8_(int8) {}

  bool Has(const std::string& name) const { return Lookup(name) != nullptr; }
  // The tensor `name` (after a prefix) with exactly `shape`, as F32, row-major.
  Result<std::vector<float>> Read(const std::string& name, std::vector<int64_t> shape) const;
  // Linear layers stored as HF does, weight [out][in] (+ bias [out]); several fused along
  // `out` in the given order; weights and biases multiplied by `scales` (one per part,
  // empty: 1).
  Result<DenseLinear> ReadLinear(std::initializer_list<std::string> names, int64_t in,
                                 int64_t out_each, bool with_bias,
                                 std::vector<float> scales = {}) const;
  // The same with parts of different widths (q|k|v under grouped-query attention).
  struct Part {
    std::string name;
    int64_t out = 0;
  };
  Result<DenseLinear> ReadFused(const std::vector<Part>& parts, int64_t in, bool with_bias) const;

 private:
  const WeightView* Lookup(const std::string& name) const;
  // The tensor `name` after the checks of Read (present, `shape`, its bytes).
  Result<const WeightView*> Checked(const std::string& name,
                                    const std::vector<int64_t>& shape) const;
  // Where the weights can go straight from the checkpoint to their served form (16-bit kept
  // 16-bit, or int8): fills `linear` and returns true; false where the fp32 path must run.
  Result<bool> ReadDirect(const std::vector<Part>& parts, int64_t in,
                          const std::vector<float>& scales, DenseLinear* linear) const;
  Result<bool> ReadHalfDirect(const std::vector<Part>& parts, int64_t in, bool scaled,
                              DenseLinear* linear) const;
  Status ReadInt8Direct(const std::vector<Part>& parts, int64_t in,
                        const std::vector<float>& scales, DenseLinear* linear) const;
  // Biases of `parts` side by side, each multiplied by its part's scale (scales empty: 1).
  Status ReadBiases(const std::vector<Part>& parts, bool with_bias,
                    const std::vector<float>& scales, DenseLinear* linear) const;

  const WeightStore& store_;
  std::vector<std::string> prefixes_;
  ThreadPool& pool_;
  DType dtype_;
  bool int8_;
};

}  // namespace lantern::model
