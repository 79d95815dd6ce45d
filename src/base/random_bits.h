// The building blocks of the small fast generators (xoshiro) used for sampling and ids.
#pragma once

#include <cstdint>

namespace lantern {

// SplitMix64: advances `state` and returns a well-mixed 64-bit value; spreads any seed
// over a generator's whole state.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace lantern
