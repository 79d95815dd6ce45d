#include "model/cuda/upload.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace lantern::model::cuda {

float HalfBitsToFloat(uint16_t bits, DType type) {
  uint32_t f = 0;
  if (type == DType::kBF16) {
    f = uint32_t{bits} << 16;
  } else {  // IEEE half
    const uint32_t sign = uint32_t{bits & 0x8000u} << 16;
    uint32_t exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ffu;
    if (exponent == 0x1f) {
      f = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
      f = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
      f = sign;
    } else {  // subnormal: normalize
      exponent = 113;
      while ((mantissa & 0x400u) == 0) mantissa <<= 1, --exponent;
      f = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    }
  }
  float value;
  std::memcpy(&value, &f, sizeof(value));
  return value;
}

Result<Uploader> Uploader::Create(size_t chunk_bytes) {
  Uploader u;
  u.chunk_bytes_ = chunk_bytes;
  for (int i = 0; i < 2; ++i) {
    LANTERN_ASSIGN_OR_RETURN(u.staging_[i], tc::PinnedBuffer::Allocate(chunk_bytes));
    LANTERN_ASSIGN_OR_RETURN(u.streams_[i], tc::CreateStream());
  }
  return u;
}

Uploader& Uploader::operator=(Uploader&& other) noexcept {
  if (this == &other) return *this;
  ReleaseStreams();
  for (int i = 0; i < 2; ++i) {
    staging_[i] = std::move(other.staging_[i]);
    streams_[i] = std::exchange(other.streams_[i], nullptr);
    busy_[i] = std::exchange(other.busy_[i], false);
  }
  next_ = other.next_;
  chunk_bytes_ = other.chunk_bytes_;
  bytes_uploaded_ = other.bytes_uploaded_;
  return *this;
}

Uploader::~Uploader() { ReleaseStreams(); }

void Uploader::ReleaseStreams() {
  for (int i = 0; i < 2; ++i) {
    if (streams_[i] == nullptr) continue;
    (void)tc::Synchronize(streams_[i]);  // no copy may still read the staging buffers
    tc::DestroyStream(streams_[i]);
    streams_[i] = nullptr;
  }
}

Status Uploader::Upload(const void* src, DType src_type, size_t n, void* d_dst,
                        DeviceType dst_type) {
  const size_t dst_size = DeviceTypeSize(dst_type);
  const size_t per_chunk = chunk_bytes_ / 4;  // values; room for fp32 either way
  std::vector<float> widened;
  for (size_t done = 0; done < n;) {
    const size_t count = std::min(per_chunk, n - done);
    const int i = next_;
    next_ ^= 1;
    if (busy_[i]) LANTERN_RETURN_IF_ERROR(tc::Synchronize(streams_[i]));
    void* stage = staging_[i].get();
    const std::byte* from = static_cast<const std::byte*>(src) + done * DTypeSize(src_type);
    const bool same = (src_type == DType::kF32 && dst_type == DeviceType::kF32) ||
                      (src_type == DType::kBF16 && dst_type == DeviceType::kBF16) ||
                      (src_type == DType::kF16 && dst_type == DeviceType::kF16);
    if (same) {
      std::memcpy(stage, from, count * dst_size);
    } else {
      const float* f32 = reinterpret_cast<const float*>(from);
      if (src_type != DType::kF32) {
        widened.resize(count);
        const uint16_t* bits = reinterpret_cast<const uint16_t*>(from);
        for (size_t k = 0; k < count; ++k) widened[k] = HalfBitsToFloat(bits[k], src_type);
        f32 = widened.data();
      }
      if (dst_type == DeviceType::kF32) {
        std::memcpy(stage, f32, count * 4);
      } else {
        tc::ConvertF32ToHalf(f32, count,
                             dst_type == DeviceType::kBF16 ? tc::Half::kBF16 : tc::Half::kF16,
                             static_cast<uint16_t*>(stage));
      }
    }
    LANTERN_RETURN_IF_ERROR(tc::CopyToDevice(static_cast<std::byte*>(d_dst) + done * dst_size,
                                             stage, count * dst_size, streams_[i]));
    busy_[i] = true;
    done += count;
    bytes_uploaded_ += count * dst_size;
  }
  return Status::Ok();
}

Status Uploader::Finish() {
  for (int i = 0; i < 2; ++i) {
    if (busy_[i]) LANTERN_RETURN_IF_ERROR(tc::Synchronize(streams_[i]));
    busy_[i] = false;
  }
  return Status::Ok();
}

}  // namespace lantern::model::cuda
