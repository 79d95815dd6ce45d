// Device, memory, stream and event helpers of cuda_ops.h over the CUDA runtime.
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <utility>

#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/cuda_util.h"
#include "tensor/half.h"

namespace lantern::tensor::cuda {

int DeviceCount(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // not sticky, but leave nothing for LastLaunchError to report
    if (why) {
      *why = cudaGetErrorString(err);
      // The runtime says "driver version is insufficient" also when there is no driver at
      // all (a machine without a GPU): say which.
      if (err == cudaErrorInsufficientDriver) {
        if (void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
          dlclose(driver);
        } else {
          *why = "no NVIDIA driver (libcuda.so.1 not found)";
        }
      }
    }
    return 0;
  }
  if (count == 0 && why) *why = "no CUDA device";
  return count;
}

Result<DeviceInfo> GetDeviceInfo(int device) {
  cudaDeviceProp prop{};
  LANTERN_RETURN_IF_ERROR(CudaStatus(cudaGetDeviceProperties(&prop, device), "device properties"));
  DeviceInfo info;
  info.name = prop.name;
  info.sm_major = prop.major;
  info.sm_minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  LANTERN_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device), "cudaSetDevice"));
  LANTERN_RETURN_IF_ERROR(
      CudaStatus(cudaMemGetInfo(&info.free_bytes, &info.total_bytes), "cudaMemGetInfo"));
  return info;
}

Status SetDevice(int device) { return CudaStatus(cudaSetDevice(device), "cudaSetDevice"); }

Result<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes) {
  DeviceBuffer buffer;
  if (bytes == 0) return Result<DeviceBuffer>(std::move(buffer));
  const cudaError_t err = cudaMalloc(&buffer.ptr_, bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return ResourceExhausted("cudaMalloc of " + std::to_string(bytes) +
                             " bytes: " + cudaGetErrorString(err));
  }
  buffer.bytes_ = bytes;
  return Result<DeviceBuffer>(std::move(buffer));
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (ptr_) cudaFree(ptr_);
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

Result<PinnedBuffer> PinnedBuffer::Allocate(size_t bytes) {
  PinnedBuffer buffer;
  if (bytes == 0) return Result<PinnedBuffer>(std::move(buffer));
  const cudaError_t err = cudaHostAlloc(&buffer.ptr_, bytes, cudaHostAllocDefault);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return ResourceExhausted("cudaHostAlloc of " + std::to_string(bytes) +
                             " bytes: " + cudaGetErrorString(err));
  }
  buffer.bytes_ = bytes;
  return Result<PinnedBuffer>(std::move(buffer));
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) cudaFreeHost(ptr_);
}

Result<Stream> CreateStream() {
  cudaStream_t stream = nullptr;
  LANTERN_RETURN_IF_ERROR(
      CudaStatus(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate"));
  return stream;
}

void DestroyStream(Stream stream) {
  if (stream) cudaStreamDestroy(stream);
}

Status CopyToDevice(void* d_dst, const void* src, size_t bytes, Stream stream) {
  if (bytes == 0) return Status::Ok();
  return CudaStatus(cudaMemcpyAsync(d_dst, src, bytes, cudaMemcpyHostToDevice, stream),
                    "copy to device");
}

Status CopyToHost(void* dst, const void* d_src, size_t bytes, Stream stream) {
  if (bytes == 0) return Status::Ok();
  return CudaStatus(cudaMemcpyAsync(dst, d_src, bytes, cudaMemcpyDeviceToHost, stream),
                    "copy to host");
}

Status Memset(void* d_dst, int value, size_t bytes, Stream stream) {
  if (bytes == 0) return Status::Ok();
  return CudaStatus(cudaMemsetAsync(d_dst, value, bytes, stream), "cudaMemsetAsync");
}

Status Synchronize(Stream stream) {
  return CudaStatus(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

Result<EventTimer> EventTimer::Create() {
  EventTimer timer;
  cudaEvent_t start = nullptr, stop = nullptr;
  LANTERN_RETURN_IF_ERROR(CudaStatus(cudaEventCreate(&start), "cudaEventCreate"));
  timer.start_ = start;
  LANTERN_RETURN_IF_ERROR(CudaStatus(cudaEventCreate(&stop), "cudaEventCreate"));
  timer.stop_ = stop;
  return Result<EventTimer>(std::move(timer));
}

EventTimer::EventTimer(EventTimer&& other) noexcept
    : start_(std::exchange(other.start_, nullptr)), stop_(std::exchange(other.stop_, nullptr)) {}

EventTimer& EventTimer::operator=(EventTimer&& other) noexcept {
  if (this != &other) {
    this->~EventTimer();
    start_ = std::exchange(other.start_, nullptr);
    stop_ = std::exchange(other.stop_, nullptr);
  }
  return *this;
}

EventTimer::~EventTimer() {
  if (start_) cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  if (stop_) cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
  start_ = stop_ = nullptr;
}

Status EventTimer::RecordStart(Stream stream) {
  return CudaStatus(cudaEventRecord(static_cast<cudaEvent_t>(start_), stream), "event record");
}

Status EventTimer::RecordStop(Stream stream) {
  return CudaStatus(cudaEventRecord(static_cast<cudaEvent_t>(stop_), stream), "event record");
}

Result<double> EventTimer::ElapsedSeconds() {
  LANTERN_RETURN_IF_ERROR(
      CudaStatus(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)), "event synchronize"));
  float ms = 0;
  LANTERN_RETURN_IF_ERROR(CudaStatus(
      cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)),
      "event elapsed time"));
  return ms * 1e-3;
}

void ConvertF32ToHalf(const float* src, size_t n, Half type, uint16_t* dst) {
  if (type == Half::kBF16) {
    for (size_t i = 0; i < n; ++i) dst[i] = FloatToBFloat16Bits(src[i]);
  } else {
    for (size_t i = 0; i < n; ++i) dst[i] = FloatToHalfBits(src[i]);
  }
}

namespace {
thread_local std::string argument_error;
}  // namespace

void SetArgumentError(std::string message) {
  if (argument_error.empty()) argument_error = std::move(message);
}

Status LastLaunchError() {
  if (!argument_error.empty()) {
    Status status = InvalidArgument(std::exchange(argument_error, std::string()));
    cudaGetLastError();
    return status;
  }
  return CudaStatus(cudaGetLastError(), "kernel launch");
}

}  // namespace lantern::tensor::cuda
