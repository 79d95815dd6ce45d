// Helpers of the CUDA kernel tests: the skip when no device is present, device vectors
// uploaded from and read back into std::vector, and 16-bit rounding on the host.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tensor/cuda/cuda_ops.h"
#include "tensor/half.h"

namespace lantern::tensor::cuda::testing {

// Every test that touches a device starts with this: no device (this machine, CI) skips with
// the driver's reason instead of failing.
#define LANTERN_REQUIRE_CUDA_DEVICE()                        \
  do {                                                       \
    std::string why;                                         \
    if (::lantern::tensor::cuda::DeviceCount(&why) == 0) {   \
      GTEST_SKIP() << "no CUDA device: " << why;             \
    }                                                        \
    ASSERT_TRUE(::lantern::tensor::cuda::SetDevice(0).ok()); \
  } while (0)

// A device copy of a host vector; Read() synchronizes the stream and returns the contents.
template <typename T>
class DeviceVector {
 public:
  DeviceVector(const std::vector<T>& host, Stream stream) : size_(host.size()), stream_(stream) {
    auto buffer = DeviceBuffer::Allocate(std::max<size_t>(1, size_) * sizeof(T));
    EXPECT_TRUE(buffer.ok()) << buffer.status().ToString();
    if (buffer.ok()) buffer_ = std::move(buffer).value();
    EXPECT_TRUE(CopyToDevice(buffer_.get(), host.data(), size_ * sizeof(T), stream).ok());
  }
  DeviceVector(size_t size, Stream stream) : DeviceVector(std::vector<T>(size), stream) {}
  T* get() const { return buffer_.as<T>(); }
  std::vector<T> Read() const {
    std::vector<T> host(size_);
    EXPECT_TRUE(CopyToHost(host.data(), buffer_.get(), size_ * sizeof(T), stream_).ok());
    const Status status = Synchronize(stream_);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return host;
  }

 private:
  size_t size_;
  Stream stream_;
  DeviceBuffer buffer_;
};

// A stream for one test, destroyed with it.
class StreamHolder {
 public:
  StreamHolder() {
    auto stream = CreateStream();
    EXPECT_TRUE(stream.ok()) << stream.status().ToString();
    if (stream.ok()) stream_ = *stream;
  }
  ~StreamHolder() { DestroyStream(stream_); }
  Stream get() const { return stream_; }

 private:
  Stream stream_ = nullptr;
};

inline HalfFormat FormatOf(Half type) {
  return type == Half::kBF16 ? HalfFormat::kBFloat16 : HalfFormat::kFloat16;
}
inline float RoundTo(Half type, float v) {
  return HalfFormatToFloat(FormatOf(type), FloatToHalfFormat(FormatOf(type), v));
}
inline std::vector<float> Widen(Half type, const std::vector<uint16_t>& bits) {
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = HalfFormatToFloat(FormatOf(type), bits[i]);
  return out;
}
inline std::vector<float> RandomFloats(size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}
// Relative precision of the 16-bit type's rounding (half an ulp at 1).
inline float Epsilon(Half type) { return type == Half::kBF16 ? 1.0f / 256 : 1.0f / 2048; }
inline const char* Name(Half type) { return type == Half::kBF16 ? "bf16" : "f16"; }

}  // namespace lantern::tensor::cuda::testing
