// Weight upload for the CUDA model: host tensors (F32/F16/BF16, as a checkpoint holds them)
// converted to the device's element type in a pinned staging buffer and copied in chunks,
// two buffers on two streams so that converting one chunk overlaps copying the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/status.h"
#include "model/weights.h"
#include "tensor/cuda/cuda_ops.h"

namespace lantern::model::cuda {

namespace tc = ::lantern::tensor::cuda;

// The element type of a weight on the device.
enum class DeviceType : uint8_t { kF32, kBF16, kF16 };
inline DeviceType ToDeviceType(tc::Half half) {
  return half == tc::Half::kBF16 ? DeviceType::kBF16 : DeviceType::kF16;
}
inline size_t DeviceTypeSize(DeviceType type) { return type == DeviceType::kF32 ? 4 : 2; }

class Uploader {
 public:
  static Result<Uploader> Create(size_t chunk_bytes = size_t{32} << 20);
  // Moves take the streams along (the moved-from uploader owns none).
  Uploader(Uploader&& other) noexcept { *this = std::move(other); }
  Uploader& operator=(Uploader&& other) noexcept;
  ~Uploader();

  // Copies n values of `src` (type src_type) to d_dst as `dst_type`. Asynchronous: the
  // source must stay valid until Finish().
  Status Upload(const void* src, DType src_type, size_t n, void* d_dst, DeviceType dst_type);
  // Waits for every copy.
  Status Finish();
  uint64_t bytes_uploaded() const { return bytes_uploaded_; }

 private:
  Uploader() = default;
  void ReleaseStreams();  // waits for their copies, then destroys them
  tc::PinnedBuffer staging_[2];
  tc::Stream streams_[2] = {nullptr, nullptr};
  bool busy_[2] = {false, false};
  int next_ = 0;
  size_t chunk_bytes_ = 0;
  uint64_t bytes_uploaded_ = 0;
};

// Host conversions of one value.
float HalfBitsToFloat(uint16_t bits, DType type);

}  // namespace lantern::model::cuda
