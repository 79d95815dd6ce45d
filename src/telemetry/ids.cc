#include "telemetry/ids.h"

#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "base/random_bits.h"

namespace lantern::telemetry {
namespace {

// Bumped in the child after fork; each thread's generator reseeds when it sees a change.
std::atomic<uint64_t> g_fork_generation{0};
std::once_flag g_atfork_once;

void OnForkChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// xoshiro256++: fast, 256 bits of state, passes BigCrush; not for secrets, which trace ids
// are not.
class Generator {
 public:
  uint64_t Next() {
    uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
    if (!seeded_ || generation != generation_) Seed(generation);
    const uint64_t result = RotateLeft(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = RotateLeft(s_[3], 45);
    return result;
  }

 private:
  void Seed(uint64_t generation) {
    std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, OnForkChild); });
    uint64_t seed[4] = {};
    size_t got = 0;
    while (got < sizeof seed) {
      ssize_t n = getrandom(reinterpret_cast<char*>(seed) + got, sizeof seed - got, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    // Mix in time, pid and the thread so that even a failed getrandom gives distinct
    // streams; SplitMix64 spreads any seed over the whole state.
    uint64_t mix =
        seed[0] ^ static_cast<uint64_t>(getpid()) ^
        (std::hash<std::thread::id>()(std::this_thread::get_id()) << 1) ^
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (int i = 0; i < 4; ++i) s_[i] = seed[i] ^ SplitMix64(mix);
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
    generation_ = generation;
    seeded_ = true;
  }

  uint64_t s_[4] = {};
  uint64_t generation_ = 0;
  bool seeded_ = false;
};

thread_local Generator t_generator;

template <size_t N>
void Fill(std::array<uint8_t, N>& out) {
  for (size_t i = 0; i < N; i += 8) {
    uint64_t v = 0;
    // The zero value is invalid; the chance of meeting it is 2^-64 per draw.
    do {
      v = t_generator.Next();
    } while (v == 0);
    std::memcpy(out.data() + i, &v, 8);
  }
}

template <size_t N>
std::string HexOf(const std::array<uint8_t, N>& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kDigits[id[i] >> 4];
    out[2 * i + 1] = kDigits[id[i] & 0xf];
  }
  return out;
}

int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <size_t N>
bool ParseHexInto(std::string_view hex, std::array<uint8_t, N>* id) {
  if (hex.size() != 2 * N) return false;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    int hi = LowerHexValue(hex[2 * i]);
    int lo = LowerHexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  *id = out;
  return true;
}

}  // namespace

TraceId NewTraceId() {
  TraceId id;
  Fill(id);
  return id;
}

SpanId NewSpanId() {
  SpanId id;
  Fill(id);
  return id;
}

void NewTraceAndSpanId(TraceId* trace_id, SpanId* span_id) {
  Generator& generator = t_generator;
  uint64_t v[3];
  for (uint64_t& word : v) {
    // The zero value is invalid; the chance of meeting it is 2^-64 per draw.
    do {
      word = generator.Next();
    } while (word == 0);
  }
  std::memcpy(trace_id->data(), v, 16);
  std::memcpy(span_id->data(), v + 2, 8);
}

std::string ToHex(const TraceId& id) { return HexOf(id); }
std::string ToHex(const SpanId& id) { return HexOf(id); }
bool ParseHex(std::string_view hex, TraceId* id) { return ParseHexInto(hex, id); }
bool ParseHex(std::string_view hex, SpanId* id) { return ParseHexInto(hex, id); }

}  // namespace lantern::telemetry
