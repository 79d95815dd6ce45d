// A CUDA graph of one decode step (cudaStreamBeginCapture ... cudaGraphInstantiate), so a
// small decode batch replays its few hundred kernel launches with one.
#pragma once

#include "base/status.h"
#include "tensor/cuda/cuda_ops.h"

namespace lantern::model::cuda {

class StepGraph {
 public:
  StepGraph() = default;
  StepGraph(StepGraph&& other) noexcept;
  StepGraph& operator=(StepGraph&& other) noexcept;
  ~StepGraph();

  // Starts recording the work launched on `stream` (nothing runs until Launch).
  static Status BeginCapture(tensor::cuda::Stream stream);
  // Ends the recording begun on `stream` and instantiates it.
  static Result<StepGraph> EndCapture(tensor::cuda::Stream stream);
  Status Launch(tensor::cuda::Stream stream) const;
  bool valid() const { return exec_ != nullptr; }

 private:
  void Reset();
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
};

}  // namespace lantern::model::cuda
