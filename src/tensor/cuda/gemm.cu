// Linear layers through cuBLASLt: bf16/f16 inputs, fp32 accumulation on tensor cores, fp32
// output. Row-major y[rows][out] = x[rows][in] · W^T with W row-major [out][in] is, in
// cuBLAS' column-major terms, y^T (out × rows, ld ldy) = W (A = the [in × out] column-major
// matrix W^T, transposed) · x^T (B = [in × rows] column-major, as stored): the "TN" GEMM,
// m = out, n = rows, k = in.
#include <cublasLt.h>

#include <map>
#include <tuple>

#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/cuda_util.h"

namespace lantern::tensor::cuda {
namespace {

Status LtStatus(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return Internal(std::string("cuBLASLt ") + what + ": " + cublasLtGetStatusName(status) + " (" +
                  cublasLtGetStatusString(status) + ")");
}

// The largest power of two (up to 256) dividing the address: the heuristic must only
// propose algorithms whose vector loads the actual pointers allow.
uint32_t Alignment(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment >>= 1;
  return alignment;
}

// A cached plan: the descriptors and the heuristic's algorithm for one shape.
struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  void Destroy() {
    if (op) cublasLtMatmulDescDestroy(op);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    op = nullptr;
    a = b = c = nullptr;
  }
};

// rows, in, out, ldy, type, and the alignments of x, W and y.
using PlanKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int, uint32_t, uint32_t, uint32_t>;

}  // namespace

struct Gemm::State {
  Stream stream = nullptr;
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  std::map<PlanKey, Plan> plans;

  ~State() {
    for (auto& [key, plan] : plans) plan.Destroy();
    if (workspace) cudaFree(workspace);
    if (handle) cublasLtDestroy(handle);
  }

  Result<const Plan*> GetPlan(const PlanKey& key) {
    auto it = plans.find(key);
    if (it != plans.end()) return &it->second;
    const auto [rows, in, out, ldy, type_index, align_x, align_w, align_y] = key;
    const cudaDataType_t type = type_index == 0 ? CUDA_R_16BF : CUDA_R_16F;
    Plan plan;
    Status status = Build(rows, in, out, ldy, type, align_x, align_w, align_y, &plan);
    if (!status.ok()) {
      plan.Destroy();
      return status;
    }
    return &plans.emplace(key, plan).first->second;
  }

  Status Build(int64_t rows, int64_t in, int64_t out, int64_t ldy, cudaDataType_t type,
               uint32_t align_x, uint32_t align_w, uint32_t align_y, Plan* plan) {
    LANTERN_RETURN_IF_ERROR(LtStatus(
        cublasLtMatmulDescCreate(&plan->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul desc"));
    const cublasOperation_t transpose = CUBLAS_OP_T;
    LANTERN_RETURN_IF_ERROR(
        LtStatus(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose,
                                                sizeof(transpose)),
                 "transa"));
    // A: W^T as stored, [in × out] column-major; B: x^T, [in × rows]; C = D: [out × rows].
    LANTERN_RETURN_IF_ERROR(
        LtStatus(cublasLtMatrixLayoutCreate(&plan->a, type, in, out, in), "layout A"));
    LANTERN_RETURN_IF_ERROR(
        LtStatus(cublasLtMatrixLayoutCreate(&plan->b, type, in, rows, in), "layout B"));
    LANTERN_RETURN_IF_ERROR(
        LtStatus(cublasLtMatrixLayoutCreate(&plan->c, CUDA_R_32F, out, rows, ldy), "layout C"));
    cublasLtMatmulPreference_t preference = nullptr;
    LANTERN_RETURN_IF_ERROR(LtStatus(cublasLtMatmulPreferenceCreate(&preference), "preference"));
    const uint64_t workspace_limit = workspace_bytes;
    cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                         &workspace_limit, sizeof(workspace_limit));
    cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                         &align_w, sizeof(align_w));
    cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                         &align_x, sizeof(align_x));
    cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                         &align_y, sizeof(align_y));
    cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                         &align_y, sizeof(align_y));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t heuristic = cublasLtMatmulAlgoGetHeuristic(
        handle, plan->op, plan->a, plan->b, plan->c, plan->c, preference, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(preference);
    LANTERN_RETURN_IF_ERROR(LtStatus(heuristic, "algorithm heuristic"));
    if (found == 0) {
      return Internal("cuBLASLt has no algorithm for " + std::to_string(rows) + "x" +
                      std::to_string(in) + " · (" + std::to_string(out) + "x" + std::to_string(in) +
                      ")^T");
    }
    plan->algo = result.algo;
    return Status::Ok();
  }
};

Result<Gemm> Gemm::Create(Stream stream, size_t workspace_bytes) {
  Gemm gemm;
  gemm.state_ = new State;
  gemm.state_->stream = stream;
  LANTERN_RETURN_IF_ERROR(LtStatus(cublasLtCreate(&gemm.state_->handle), "create"));
  if (workspace_bytes > 0) {
    LANTERN_RETURN_IF_ERROR(
        CudaStatus(cudaMalloc(&gemm.state_->workspace, workspace_bytes), "GEMM workspace"));
    gemm.state_->workspace_bytes = workspace_bytes;
  }
  return Result<Gemm>(std::move(gemm));
}

Gemm::Gemm(Gemm&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

Gemm& Gemm::operator=(Gemm&& other) noexcept {
  if (this != &other) {
    delete state_;
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

Gemm::~Gemm() { delete state_; }

Status Gemm::Linear(const void* d_x, int64_t rows, int64_t in, const void* d_w, int64_t out,
                    Half type, float* d_y, int64_t ldy, bool accumulate) {
  if (!state_) return FailedPrecondition("Gemm used after move");
  if (rows <= 0 || out <= 0) return Status::Ok();
  if (in <= 0 || ldy < out) return InvalidArgument("Gemm::Linear: bad shape");
  const PlanKey key{
      rows,          in, out, ldy, type == Half::kBF16 ? 0 : 1, Alignment(d_x), Alignment(d_w),
      Alignment(d_y)};
  LANTERN_ASSIGN_OR_RETURN(const Plan* plan, state_->GetPlan(key));
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  return LtStatus(cublasLtMatmul(state_->handle, plan->op, &alpha, d_w, plan->a, d_x, plan->b,
                                 &beta, d_y, plan->c, d_y, plan->c, &plan->algo, state_->workspace,
                                 state_->workspace_bytes, state_->stream),
                  "matmul");
}

}  // namespace lantern::tensor::cuda
