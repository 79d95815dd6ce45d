#include "tensor/gemm_bf16.h"

#if defined(LANTERN_HAVE_ONEDNN)
#include <dnnl.hpp>
#endif

#include <cstring>
#include <map>
#include <tuple>

#include "tensor/cpu_isa.h"
#include "tensor/dispatch.h"
#include "tensor/onednn_setup.h"

namespace lantern::tensor {

#if defined(LANTERN_HAVE_ONEDNN)
namespace {

using Shape = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool>;

dnnl::engine& CpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::matmul::primitive_desc Describe(const Shape& shape) {
  const auto [m, n, k, lda, ldb, ldc, accumulate] = shape;
  using dt = dnnl::memory::data_type;
  const dnnl::memory::desc a({m, k}, dt::bf16, {lda, 1});
  const dnnl::memory::desc b({k, n}, dt::bf16, {ldb, 1});
  const dnnl::memory::desc c({m, n}, dt::f32, {ldc, 1});
  dnnl::primitive_attr attr;
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, CpuEngine());
}

// Primitives by shape, one cache per thread: oneDNN 2.6's bf16 GEMM kernel fails when one
// primitive executes on two threads at once. Prefill chunks come in many lengths, so a cache
// is bounded: past kMaxPrimitives it starts over (creating a primitive costs tens of
// microseconds, the product of a prefill chunk milliseconds).
class PrimitiveCache {
 public:
  dnnl::matmul& Get(const Shape& shape) {
    auto it = primitives_.find(shape);
    if (it != primitives_.end()) return it->second;
    if (primitives_.size() >= kMaxPrimitives) primitives_.clear();
    return primitives_.emplace(shape, dnnl::matmul(Describe(shape))).first->second;
  }

 private:
  static constexpr size_t kMaxPrimitives = 256;
  std::map<Shape, dnnl::matmul> primitives_;
};

bool ProbeNativeBf16() {
  if (Kernels().isa != CpuIsa::kAvx512 || !DetectCpu().extensions.avx512_bf16) return false;
  PrepareOneDnnOnCallingThread();
  try {
    const char* impl = Describe({64, 64, 64, 64, 64, 64, false}).impl_info_str();
    // A reference kernel would be far slower than widening the weights for SGEMM.
    return impl != nullptr && std::strncmp(impl, "ref", 3) != 0;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

bool NativeBf16GemmAvailable() {
  static const bool available = ProbeNativeBf16();
  return available;
}

void Bf16GemmSingleThread(int64_t m, int64_t n, int64_t k, const uint16_t* a, int64_t lda,
                          const uint16_t* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  PrepareOneDnnOnCallingThread();
  const Shape shape{m, n, k, lda, ldb, ldc, accumulate};
  thread_local PrimitiveCache primitives;
  thread_local dnnl::stream stream(CpuEngine());
  dnnl::matmul& primitive = primitives.Get(shape);
  using dt = dnnl::memory::data_type;
  dnnl::memory a_mem({{m, k}, dt::bf16, {lda, 1}}, CpuEngine(), const_cast<uint16_t*>(a));
  dnnl::memory b_mem({{k, n}, dt::bf16, {ldb, 1}}, CpuEngine(), const_cast<uint16_t*>(b));
  dnnl::memory c_mem({{m, n}, dt::f32, {ldc, 1}}, CpuEngine(), c);
  primitive.execute(stream,
                    {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  stream.wait();
}

#else

bool NativeBf16GemmAvailable() { return false; }
void Bf16GemmSingleThread(int64_t, int64_t, int64_t, const uint16_t*, int64_t, const uint16_t*,
                          int64_t, float*, int64_t, bool) {}

#endif

}  // namespace lantern::tensor
