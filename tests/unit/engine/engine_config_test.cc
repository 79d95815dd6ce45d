// The default KV cache size: a share of what the machine and the container still allow.
#include "engine/engine_config.h"

#include <gtest/gtest.h>

namespace lantern::engine {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;

TEST(DefaultKvCacheMemory, ThirtyPercentOfMemAvailableWithinBounds) {
  EXPECT_EQ(KvCacheMemoryFor(10 * kGiB, std::nullopt), 3 * kGiB);
  EXPECT_EQ(KvCacheMemoryFor(100 * kGiB, std::nullopt), 4 * kGiB);   // capped
  EXPECT_EQ(KvCacheMemoryFor(100 * kMiB, std::nullopt), 64 * kMiB);  // floor
  EXPECT_EQ(KvCacheMemoryFor(0, std::nullopt), 1 * kGiB);            // unknown
}

// A pod limited to 2 GiB on a 128 GiB node must not size its cache from the node.
TEST(DefaultKvCacheMemory, ContainerLimitWins) {
  EXPECT_EQ(KvCacheMemoryFor(100 * kGiB, 2 * kGiB), 2 * kGiB * 3 / 10);
  EXPECT_EQ(KvCacheMemoryFor(1 * kGiB, 10 * kGiB), 1 * kGiB * 3 / 10);  // the machine is tighter
  EXPECT_EQ(KvCacheMemoryFor(0, 10 * kGiB), 3 * kGiB);                  // MemAvailable unknown
  EXPECT_EQ(KvCacheMemoryFor(100 * kGiB, 0), 64 * kMiB);                // at the limit: the floor
}

TEST(DefaultKvCacheMemory, OnThisMachineWithinBounds) {
  int64_t bytes = DefaultKvCacheMemory();
  EXPECT_GE(bytes, 64 * kMiB);
  EXPECT_LE(bytes, 4 * kGiB);
}

}  // namespace
}  // namespace lantern::engine
