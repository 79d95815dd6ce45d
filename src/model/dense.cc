#include "model/dense.h"

#include <algorithm>
#include <cstring>

#include "tensor/gemm.h"
#include "tensor/gemm16.h"
#include "tensor/gemm8.h"
#include "tensor/kernels.h"

namespace lantern::model {
namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

namespace {

thread_local LoadProgressScope* current_progress = nullptr;

tensor::HalfFormat FormatOf(DType dtype) {
  return dtype == DType::kBF16 ? tensor::HalfFormat::kBFloat16 : tensor::HalfFormat::kFloat16;
}

// Whether weights kept as `dtype` go pair-interleaved (DenseLinear::bf16_pairs).
bool UseBf16Pairs(DType dtype) { return dtype == DType::kBF16 && tensor::Bf16PairsPreferred(); }

}  // namespace

void DenseLinear::Multiply(ThreadPool& pool, const float* x, int64_t rows, float* y,
                           bool accumulate) const {
  if (int8) {
    tensor::Gemm8(pool, rows, x, in, weight8, y, out, accumulate);
  } else if (dtype == DType::kF32) {
    tensor::Gemm(pool, rows, out, in, x, in, weight.data(), out, y, out, accumulate);
  } else if (bf16_pairs) {
    tensor::Gemm16Pairs(pool, rows, out, in, x, in, weight16.data(), y, out, accumulate);
  } else {
    tensor::Gemm16(pool, FormatOf(dtype), rows, out, in, x, in, weight16.data(), out, y, out,
                   accumulate);
  }
}

void DenseLinear::Apply(ThreadPool& pool, const float* x, int64_t rows, float* y,
                        bool accumulate) const {
  Multiply(pool, x, rows, y, accumulate);
  if (!bias.empty()) tensor::AddBias(pool, y, rows, out, bias.data());
}

void DenseLinear::StoreAs(ThreadPool& pool, DType target) {
  if (target == dtype || target == DType::kF32) return;
  const tensor::HalfFormat format = FormatOf(target);
  const int64_t n = in * out;
  bf16_pairs = UseBf16Pairs(target);
  if (bf16_pairs) {
    weight16.assign(static_cast<size_t>(tensor::Bf16PairsSize(in, out)), 0);
    pool.ParallelFor(in, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        for (int64_t o = 0; o < out; ++o) {
          weight16[tensor::Bf16PairIndex(i, o, out)] =
              tensor::FloatToBFloat16Bits(weight[i * out + o]);
        }
      }
    });
    std::vector<float>().swap(weight);
    dtype = target;
    return;
  }
  weight16.resize(static_cast<size_t>(n));
  const int64_t chunk = 1 << 16;
  pool.ParallelFor((n + chunk - 1) / chunk, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const int64_t first = c * chunk;
      tensor::FloatToHalfRow(format, weight.data() + first, weight16.data() + first,
                             std::min(chunk, n - first));
    }
  });
  std::vector<float>().swap(weight);
  dtype = target;
}

void DenseLinear::QuantizeInt8(ThreadPool& pool) {
  if (int8) return;
  weight8 = tensor::QuantizeInt8(pool, weight.data(), in, out, out);
  std::vector<float>().swap(weight);
  int8 = true;
}

void DenseLinear::ReadColumn(int64_t column, float* dst) const {
  if (int8) {
    weight8.ReadColumn(column, dst);
  } else if (dtype == DType::kF32) {
    for (int64_t i = 0; i < in; ++i) dst[i] = weight[i * out + column];
  } else {
    const tensor::HalfFormat format = FormatOf(dtype);
    for (int64_t i = 0; i < in; ++i) {
      const int64_t at = bf16_pairs ? tensor::Bf16PairIndex(i, column, out) : i * out + column;
      dst[i] = tensor::HalfFormatToFloat(format, weight16[at]);
    }
  }
}

void DenseLinear::ReadRow(int64_t row, float* dst) const {
  if (int8) {
    weight8.ReadRow(row, dst);
  } else if (dtype == DType::kF32) {
    std::copy_n(weight.data() + row * out, out, dst);
  } else if (bf16_pairs) {
    for (int64_t j = 0; j < out; ++j) {
      dst[j] = tensor::BFloat16BitsToFloat(weight16[tensor::Bf16PairIndex(row, j, out)]);
    }
  } else {
    tensor::HalfToFloatRow(FormatOf(dtype), weight16.data() + row * out, dst, out);
  }
}

uint64_t DenseLinear::bytes() const {
  return weight.size() * sizeof(float) + weight16.size() * sizeof(uint16_t) + weight8.bytes() +
         bias.size() * sizeof(float);
}

LoadProgressScope::LoadProgressScope(std::function<void(uint64_t, uint64_t)> progress,
                                     uint64_t total)
    : progress_(std::move(progress)), total_(total), previous_(current_progress) {
  current_progress = this;
}

LoadProgressScope::~LoadProgressScope() { current_progress = previous_; }

void LoadProgressScope::Add(uint64_t bytes) {
  LoadProgressScope* scope = current_progress;
  if (scope == nullptr || !scope->progress_) return;
  scope->done_ += bytes;
  scope->progress_(std::min(scope->done_, scope->total_), scope->total_);
}

void WidenValues(const WeightView& view, int64_t first, int64_t count, float* out) {
  const auto* half = reinterpret_cast<const uint16_t*>(view.data) + first;
  switch (view.dtype) {
    case DType::kF32:
      std::memcpy(out, view.data + first * 4, static_cast<size_t>(count) * 4);
      break;
    case DType::kF16:
      tensor::HalfToFloat(half, out, count);
      break;
    case DType::kBF16:
      tensor::BFloat16ToFloat(half, out, count);
      break;
  }
}

DType ResolveWeightDType(std::optional<DType> requested, const WeightStore& store) {
  if (requested) return *requested;
  uint64_t values[3] = {0, 0, 0};
  for (const std::string& name : store.Names()) {
    const WeightView* view = store.Find(name);
    values[static_cast<int>(view->dtype)] += static_cast<uint64_t>(view->numel());
  }
  const DType order[3] = {DType::kF32, DType::kF16, DType::kBF16};
  DType most = DType::kF32;
  for (DType d : order) {
    if (values[static_cast<int>(d)] > values[static_cast<int>(most)]) most = d;
  }
  return most;
}

const WeightView* WeightReader::Lookup(const std::string& name) const {
  for (const std::string& prefix : prefixes_) {
    if (const WeightView* view = store_.Find(prefix + name)) return view;
  }
  return nullptr;
}

Result<const WeightView*> WeightReader::Checked(const std::string& name,
                                                const std::vector<int64_t>& shape) const {
  const WeightView* view = Lookup(name);
  if (view == nullptr) {
    return NotFound("checkpoint has no tensor \"" + prefixes_.front() + name + "\"");
  }
  if (view->shape != shape) {
    return InvalidArgument("tensor \"" + name + "\" has shape " + ShapeString(view->shape) +
                           ", expected " + ShapeString(shape) + " from config.json");
  }
  const int64_t n = view->numel();
  if (static_cast<size_t>(n) * DTypeSize(view->dtype) != view->nbytes) {
    return DataLoss("tensor \"" + name + "\" holds " + std::to_string(view->nbytes) +
                    " bytes, not " + std::to_string(n) + " " + DTypeName(view->dtype) + " values");
  }
  return view;
}

Result<std::vector<float>> WeightReader::Read(const std::string& name,
                                              std::vector<int64_t> shape) const {
  LANTERN_ASSIGN_OR_RETURN(const WeightView* view, Checked(name, shape));
  const int64_t n = view->numel();
  std::vector<float> out(n);
  LoadProgressScope::Add(view->nbytes);
  const int64_t chunk = 1 << 16;
  pool_.ParallelFor((n + chunk - 1) / chunk, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const int64_t first = c * chunk, count = std::min(chunk, n - first);
      WidenValues(*view, first, count, out.data() + first);
    }
  });
  store_.ReleasePages(*view);
  return out;
}

// A 16-bit checkpoint kept in its own type goes straight into weight16, transposed and fused
// in place: never widened, so loading a BF16 model takes its served size plus one tensor's
// 16-bit copy, not three fp32 copies of each tensor. Returns false where it does not apply
// (another type, scaled parts).
Result<bool> WeightReader::ReadHalfDirect(const std::vector<Part>& parts, int64_t in, bool scaled,
                                          DenseLinear* linear) const {
  if (scaled || dtype_ == DType::kF32) return false;
  std::vector<const WeightView*> views;
  for (const Part& p : parts) {
    LANTERN_ASSIGN_OR_RETURN(const WeightView* view, Checked(p.name + ".weight", {p.out, in}));
    if (view->dtype != dtype_) return false;
    views.push_back(view);
  }
  const int64_t out = linear->out;
  const bool pairs = UseBf16Pairs(dtype_);
  linear->bf16_pairs = pairs;
  if (pairs) {
    linear->weight16.assign(static_cast<size_t>(tensor::Bf16PairsSize(in, out)), 0);
  } else {
    linear->weight16.resize(static_cast<size_t>(in * out));
  }
  uint16_t* dst = linear->weight16.data();
  int64_t column = 0;
  for (size_t part = 0; part < parts.size(); ++part) {
    const auto* src = reinterpret_cast<const uint16_t*>(views[part]->data);
    const int64_t rows = parts[part].out;
    // Tiles of 64 x 64 so that both the reads and the writes stay within a few cache lines.
    constexpr int64_t kTile = 64;
    pool_.ParallelFor((in + kTile - 1) / kTile, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i0 = begin * kTile; i0 < std::min(in, end * kTile); i0 += kTile) {
        const int64_t i1 = std::min(in, i0 + kTile);
        for (int64_t o0 = 0; o0 < rows; o0 += kTile) {
          const int64_t o1 = std::min(rows, o0 + kTile);
          for (int64_t i = i0; i < i1; ++i) {
            if (pairs) {
              for (int64_t o = o0; o < o1; ++o) {
                dst[tensor::Bf16PairIndex(i, column + o, out)] = src[o * in + i];
              }
            } else {
              for (int64_t o = o0; o < o1; ++o) dst[i * out + column + o] = src[o * in + i];
            }
          }
        }
      }
    });
    LoadProgressScope::Add(views[part]->nbytes);
    store_.ReleasePages(*views[part]);
    column += rows;
  }
  linear->dtype = dtype_;
  return true;
}

Result<bool> WeightReader::ReadDirect(const std::vector<Part>& parts, int64_t in,
                                      const std::vector<float>& scales, DenseLinear* linear) const {
  if (int8_) {
    LANTERN_RETURN_IF_ERROR(ReadInt8Direct(parts, in, scales, linear));
    return true;
  }
  const bool scaled = std::any_of(scales.begin(), scales.end(), [](float x) { return x != 1.0f; });
  return ReadHalfDirect(parts, in, scaled, linear);
}

Status WeightReader::ReadBiases(const std::vector<Part>& parts, bool with_bias,
                                const std::vector<float>& scales, DenseLinear* linear) const {
  if (!with_bias) return Status::Ok();
  int64_t column = 0;
  for (size_t part = 0; part < parts.size(); ++part) {
    const Part& p = parts[part];
    const float scale = scales.empty() ? 1.0f : scales[part];
    LANTERN_ASSIGN_OR_RETURN(std::vector<float> b, Read(p.name + ".bias", {p.out}));
    for (int64_t o = 0; o < p.out; ++o) linear->bias[column + o] = b[o] * scale;
    column += p.out;
  }
  return Status::Ok();
}

Result<DenseLinear> WeightReader::ReadLinear(std::initializer_list<std::string> names, int64_t in,
                                             int64_t out_each, bool with_bias,
                                             std::vector<float> scales) const {
  DenseLinear linear;
  linear.in = in;
  linear.out = out_each * static_cast<int64_t>(names.size());
  if (with_bias) linear.bias.resize(linear.out);
  std::vector<Part> parts;
  for (const std::string& name : names) parts.push_back({name, out_each});
  LANTERN_ASSIGN_OR_RETURN(bool direct, ReadDirect(parts, in, scales, &linear));
  if (direct) {
    LANTERN_RETURN_IF_ERROR(ReadBiases(parts, with_bias, scales, &linear));
    return linear;
  }
  linear.weight.resize(linear.in * linear.out);
  std::vector<float> transposed(in * out_each);
  int64_t part = 0;
  for (const std::string& name : names) {
    const float scale = scales.empty() ? 1.0f : scales[part];
    LANTERN_ASSIGN_OR_RETURN(std::vector<float> w, Read(name + ".weight", {out_each, in}));
    tensor::Transpose(pool_, w.data(), out_each, in, transposed.data());
    for (int64_t i = 0; i < in; ++i) {
      float* dst = linear.weight.data() + i * linear.out + part * out_each;
      const float* src = transposed.data() + i * out_each;
      for (int64_t o = 0; o < out_each; ++o) dst[o] = src[o] * scale;
    }
    if (with_bias) {
      LANTERN_ASSIGN_OR_RETURN(std::vector<float> b, Read(name + ".bias", {out_each}));
      for (int64_t o = 0; o < out_each; ++o) linear.bias[part * out_each + o] = b[o] * scale;
    }
    ++part;
  }
  linear.Store(pool_, dtype_, int8_);
  return linear;
}

}  // namespace lantern::model

namespace lantern::model {

Result<DenseLinear> WeightReader::ReadFused(const std::vector<Part>& parts, int64_t in,
                                            bool with_bias) const {
  DenseLinear linear;
  linear.in = in;
  for (const Part& p : parts) linear.out += p.out;
  if (with_bias) linear.bias.resize(linear.out);
  LANTERN_ASSIGN_OR_RETURN(bool direct, ReadDirect(parts, in, {}, &linear));
  if (direct) {
    LANTERN_RETURN_IF_ERROR(ReadBiases(parts, with_bias, {}, &linear));
    return linear;
  }
  linear.weight.resize(linear.in * linear.out);
  int64_t column = 0;
  for (const Part& p : parts) {
    LANTERN_ASSIGN_OR_RETURN(std::vector<float> w, Read(p.name + ".weight", {p.out, in}));
    std::vector<float> transposed(in * p.out);
    tensor::Transpose(pool_, w.data(), p.out, in, transposed.data());
    for (int64_t i = 0; i < in; ++i) {
      std::copy_n(transposed.data() + i * p.out, p.out,
                  linear.weight.data() + i * linear.out + column);
    }
    if (with_bias) {
      LANTERN_ASSIGN_OR_RETURN(std::vector<float> b, Read(p.name + ".bias", {p.out}));
      std::copy_n(b.data(), p.out, linear.bias.data() + column);
    }
    column += p.out;
  }
  linear.Store(pool_, dtype_, int8_);
  return linear;
}

}  // namespace lantern::model
