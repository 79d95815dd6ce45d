// Weights of a checkpoint as the F32 layouts our kernels want, shared by the
// architectures: matrices transposed to [in][out] for row-major GEMMs, several
// projections fused side by side (q|k|v), names resolved across the prefixes HF uses.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/weights.h"

namespace lantern::model {

// y[rows][out] = x[rows][in] * weight + bias.
struct DenseLinear {
  int64_t in = 0;
  int64_t out = 0;
  std::vector<float> weight;  // [in][out]
  std::vector<float> bias;    // [out] or empty

  void Apply(ThreadPool& pool, const float* x, int64_t rows, float* y, bool accumulate) const;
};

// Looks names up under several prefixes ("model.decoder." then "decoder." for OPT),
// converts tensors to F32 and checks their shapes. Errors name the tensor.
class WeightReader {
 public:
  WeightReader(const WeightStore& store, std::vector<std::string> prefixes, ThreadPool& pool)
      : store_(store), prefixes_(std::move(prefixes)), pool_(pool) {}

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

  const WeightStore& store_;
  std::vector<std::string> prefixes_;
  ThreadPool& pool_;
};

}  // namespace lantern::model
