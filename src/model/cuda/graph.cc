#include "model/cuda/graph.h"

#include <cuda_runtime.h>

#include <string>
#include <utility>

namespace lantern::model::cuda {
namespace {

Status Check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  cudaGetLastError();
  return Internal(std::string(what) + ": " + cudaGetErrorString(err));
}

}  // namespace

StepGraph::StepGraph(StepGraph&& other) noexcept
    : graph_(std::exchange(other.graph_, nullptr)), exec_(std::exchange(other.exec_, nullptr)) {}

StepGraph& StepGraph::operator=(StepGraph&& other) noexcept {
  if (this != &other) {
    Reset();
    graph_ = std::exchange(other.graph_, nullptr);
    exec_ = std::exchange(other.exec_, nullptr);
  }
  return *this;
}

StepGraph::~StepGraph() { Reset(); }

void StepGraph::Reset() {
  if (exec_ != nullptr) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_ != nullptr) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
  exec_ = graph_ = nullptr;
}

Status StepGraph::BeginCapture(tensor::cuda::Stream stream) {
  return Check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
               "cudaStreamBeginCapture");
}

Result<StepGraph> StepGraph::EndCapture(tensor::cuda::Stream stream) {
  cudaGraph_t graph = nullptr;
  LANTERN_RETURN_IF_ERROR(Check(cudaStreamEndCapture(stream, &graph), "cudaStreamEndCapture"));
  StepGraph result;
  result.graph_ = graph;
  cudaGraphExec_t exec = nullptr;
  LANTERN_RETURN_IF_ERROR(Check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate"));
  result.exec_ = exec;
  return result;
}

Status StepGraph::Launch(tensor::cuda::Stream stream) const {
  return Check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), stream), "cudaGraphLaunch");
}

}  // namespace lantern::model::cuda
