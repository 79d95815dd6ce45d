// WeightReader's int8 path (dense.h): checkpoint rows quantized straight into the packed
// int8 panels (tensor/gemm8.h).
#include <vector>

#include "model/dense.h"
#include "tensor/gemm8.h"

namespace lantern::model {

// int8 from any checkpoint type: each output's row of the checkpoint holds its inputs
// contiguous, which is one column of the packed matrix, so it is widened on its own and
// quantized into place. Loading takes the int8 matrix plus a row per thread, instead of the
// fp32 matrix, its transpose and the fused copy (13 bytes a weight; an 8B model spent minutes
// of start-up there).
Status WeightReader::ReadInt8Direct(const std::vector<Part>& parts, int64_t in,
                                    const std::vector<float>& scales, DenseLinear* linear) const {
  std::vector<const WeightView*> views;
  for (const Part& p : parts) {
    LANTERN_ASSIGN_OR_RETURN(const WeightView* view, Checked(p.name + ".weight", {p.out, in}));
    views.push_back(view);
  }
  linear->weight8 = tensor::ZeroInt8Weights(in, linear->out);
  tensor::Int8Weights& q = linear->weight8;
  int64_t column = 0;
  for (size_t part = 0; part < parts.size(); ++part) {
    const WeightView& view = *views[part];
    const float scale = scales.empty() ? 1.0f : scales[part];
    pool_.ParallelFor(parts[part].out, tensor::kInt8PanelColumns, [&](int64_t begin, int64_t end) {
      std::vector<float> row(static_cast<size_t>(in));
      for (int64_t o = begin; o < end; ++o) {
        WidenValues(view, o * in, in, row.data());
        if (scale != 1.0f) {
          for (float& x : row) x *= scale;
        }
        tensor::QuantizeInt8Column(row.data(), column + o, q);
      }
    });
    LoadProgressScope::Add(view.nbytes);
    store_.ReleasePages(view);
    column += parts[part].out;
  }
  linear->int8 = true;
  return Status::Ok();
}

}  // namespace lantern::model
