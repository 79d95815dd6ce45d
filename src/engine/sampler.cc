#include "engine/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "base/clock.h"
#include "base/random_bits.h"

namespace lantern::engine {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float MaxOf(const float* x, int n) {
  float m = kNegInf;
  for (int i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Sum with independent lanes so that the compiler vectorizes it.
double SumOf(const float* x, int n) {
  constexpr int kLanes = 16;
  float lanes[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += x[i + l];
  }
  double total = 0;
  for (int l = 0; l < kLanes; ++l) total += lanes[l];
  for (; i < n; ++i) total += x[i];
  return total;
}

// probs[i] = exp((x[i] - max) * inv_t), in one vectorized pass.
void ScaledExp(const float* __restrict x, float* __restrict probs, int n, float max, float inv_t) {
  for (int i = 0; i < n; ++i) probs[i] = FastExp((x[i] - max) * inv_t);
}

}  // namespace

int32_t Argmax(const float* x, int n) {
  const float m = MaxOf(x, n);
  for (int i = 0; i < n; ++i) {
    if (x[i] == m) return i;
  }
  return 0;  // every value NaN
}

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = SplitMix64(seed);
}

uint64_t Rng::Next() {
  const uint64_t result = RotateLeft(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = RotateLeft(s_[3], 45);
  return result;
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

SamplingState::SamplingState(const SamplingParams& p, uint64_t seed,
                             std::span<const int32_t> prompt,
                             const std::vector<int32_t>& eos_token_ids)
    : params(&p), rng(seed) {
  if (p.repetition_penalty != 1.0) {
    prompt_tokens.assign(prompt.begin(), prompt.end());
    std::sort(prompt_tokens.begin(), prompt_tokens.end());
    prompt_tokens.erase(std::unique(prompt_tokens.begin(), prompt_tokens.end()),
                        prompt_tokens.end());
  }
  if (p.min_tokens > 0) {
    if (!p.ignore_eos) min_tokens_blocked = eos_token_ids;
    min_tokens_blocked.insert(min_tokens_blocked.end(), p.stop_token_ids.begin(),
                              p.stop_token_ids.end());
  }
  if (p.grammar) {
    matcher.emplace(p.grammar);
    if (!p.ignore_eos) this->eos_token_ids = eos_token_ids;
  }
}

void SamplingState::Append(int32_t token) {
  ++num_output;
  if (matcher) matcher->Accept(token);  // EOS is no grammar token: refused, state kept
  if (params->repetition_penalty != 1.0 || params->frequency_penalty != 0 ||
      params->presence_penalty != 0) {
    ++output_counts[token];
  }
}

Sampler::Sampler(int vocab_size)
    : vocab_size_(vocab_size), work_(vocab_size), probs_(vocab_size), scratch_(vocab_size) {}

const float* Sampler::Process(const float* logits, const SamplingState& state) {
  const SamplingParams& p = *state.params;
  const bool min_tokens_active =
      state.num_output < p.min_tokens && !state.min_tokens_blocked.empty();
  const bool penalties =
      p.repetition_penalty != 1.0 || p.frequency_penalty != 0 || p.presence_penalty != 0;
  if (!min_tokens_active && p.logit_bias.empty() && !penalties) return logits;

  std::copy(logits, logits + vocab_size_, work_.begin());
  float* x = work_.data();
  if (min_tokens_active) {
    for (int32_t id : state.min_tokens_blocked) {
      if (id >= 0 && id < vocab_size_) x[id] = kNegInf;
    }
  }
  for (const auto& [id, bias] : p.logit_bias) x[id] += static_cast<float>(bias);
  if (p.repetition_penalty != 1.0) {
    const float rp = static_cast<float>(p.repetition_penalty);
    auto penalize = [&](int32_t id) { x[id] = x[id] > 0 ? x[id] / rp : x[id] * rp; };
    for (int32_t id : state.prompt_tokens) {
      if (id >= 0 && id < vocab_size_) penalize(id);
    }
    for (const auto& [id, count] : state.output_counts) {
      // Tokens of both the prompt and the output are penalized once.
      if (!std::binary_search(state.prompt_tokens.begin(), state.prompt_tokens.end(), id)) {
        penalize(id);
      }
    }
  }
  if (p.frequency_penalty != 0 || p.presence_penalty != 0) {
    for (const auto& [id, count] : state.output_counts) {
      x[id] -= static_cast<float>(p.frequency_penalty * count + p.presence_penalty);
    }
  }
  return x;
}

double Sampler::ApplyTopP(double total, double top_p) {
  // vLLM drops the smallest tokens whose cumulative mass stays within (1 - top_p); in
  // descending order that keeps each token while the mass before it is below top_p.
  // Positive floats order like their bit patterns, so one pass buckets the mass by the
  // top bits (exponent and 3 mantissa bits); only the bucket where the nucleus ends is
  // sorted.
  const double limit = top_p * total;
  constexpr int kShift = 20;
  constexpr int kBuckets = 1 << (31 - kShift);
  std::vector<double>& mass = bucket_mass_;
  mass.assign(kBuckets, 0.0);
  const int n = vocab_size_;
  for (int i = 0; i < n; ++i) {
    if (probs_[i] > 0) mass[std::bit_cast<uint32_t>(probs_[i]) >> kShift] += probs_[i];
  }
  double before = 0;
  int boundary = kBuckets - 1;
  for (; boundary > 0; --boundary) {
    if (before + mass[boundary] >= limit) break;
    before += mass[boundary];
  }
  candidates_.clear();
  for (int i = 0; i < n; ++i) {
    if (probs_[i] <= 0) continue;
    const int bucket = static_cast<int>(std::bit_cast<uint32_t>(probs_[i]) >> kShift);
    if (bucket < boundary) {
      probs_[i] = 0;
    } else if (bucket == boundary) {
      candidates_.emplace_back(probs_[i], i);
    }
  }
  std::sort(candidates_.begin(), candidates_.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  double kept = before;
  for (const auto& [p, i] : candidates_) {
    if (before < limit) {
      before += p;
      kept += p;
    } else {
      probs_[i] = 0;
    }
  }
  return kept;
}

int32_t Sampler::SampleRandom(const float* x, SamplingState& state) {
  const SamplingParams& p = *state.params;
  const int n = vocab_size_;
  const float max = MaxOf(x, n);
  if (!std::isfinite(max)) return Argmax(x, n);
  const float inv_t = static_cast<float>(1.0 / p.temperature);
  float* probs = probs_.data();
  // Unnormalized probabilities relative to the most likely token (which gets 1).
  ScaledExp(x, probs, n, max, inv_t);
  if (p.min_p > 0) {
    const float threshold = static_cast<float>(p.min_p);
    for (int i = 0; i < n; ++i) probs[i] = probs[i] < threshold ? 0.0f : probs[i];
  }
  if (p.top_k_enabled() && p.top_k < n) {
    // Keep every token at least as likely as the k-th (ties kept, as vLLM's mask does).
    std::copy(probs, probs + n, scratch_.begin());
    std::nth_element(scratch_.begin(), scratch_.begin() + (p.top_k - 1), scratch_.end(),
                     std::greater<float>());
    const float kth = scratch_[p.top_k - 1];
    for (int i = 0; i < n; ++i) probs[i] = probs[i] < kth ? 0.0f : probs[i];
  }
  double total = SumOf(probs, n);
  if (p.top_p < 1.0) total = ApplyTopP(total, p.top_p);
  if (!(total > 0)) return Argmax(x, n);
  // Inverse CDF with one uniform draw: walk 256-wide chunk sums, then within the chunk.
  const double target = state.rng.Uniform() * total;
  constexpr int kChunk = 256;
  double cumulative = 0;
  int start = 0;
  for (; start + kChunk < n; start += kChunk) {
    const double chunk = SumOf(probs + start, kChunk);
    if (cumulative + chunk > target) break;
    cumulative += chunk;
  }
  int32_t last_nonzero = -1;
  for (int i = start; i < n; ++i) {
    if (probs[i] <= 0) continue;
    cumulative += probs[i];
    last_nonzero = i;
    if (cumulative > target) return i;
  }
  // Rounding left the target just past the end: the last token with mass.
  if (last_nonzero >= 0) return last_nonzero;
  for (int i = n - 1; i >= 0; --i) {
    if (probs[i] > 0) return i;
  }
  return Argmax(x, n);
}

const float* Sampler::ApplyGrammar(const float* logits, SamplingState& state) {
  const SteadyTime start = Now();
  const int n = vocab_size_;
  const size_t words = (static_cast<size_t>(n) + 31) / 32;
  mask_bits_.resize(words);
  state.matcher->FillMask(mask_bits_);
  if (state.matcher->CanEnd()) {
    for (int32_t id : state.eos_token_ids) {
      if (id >= 0 && id < n) mask_bits_[id >> 5] |= 1u << (id & 31);
    }
  }
  masked_.resize(n);
  bool any = false;
  for (size_t w = 0; w < words; ++w) {
    const uint32_t bits = mask_bits_[w];
    any |= bits != 0;
    const int begin = static_cast<int>(w * 32), end = std::min(n, begin + 32);
    if (bits == 0) {
      std::fill(masked_.begin() + begin, masked_.begin() + end, kNegInf);
    } else if (bits == ~0u) {
      std::copy(logits + begin, logits + end, masked_.begin() + begin);
    } else {
      for (int i = begin; i < end; ++i) {
        masked_[i] = (bits >> (i - begin)) & 1 ? logits[i] : kNegInf;
      }
    }
  }
  mask_s_ += SecondsBetween(start, Now());
  return any ? masked_.data() : nullptr;
}

SampleResult Sampler::Sample(const float* logits, SamplingState& state) {
  const SamplingParams& p = *state.params;
  if (state.matcher) {
    const float* masked = ApplyGrammar(logits, state);
    if (!masked) {
      // Nothing fits (the grammar's work budget ran out, or no token spells the byte it
      // needs): end the sequence with EOS where there is one.
      SampleResult stuck;
      stuck.token = state.eos_token_ids.empty() ? Argmax(logits, vocab_size_)
                                                : state.eos_token_ids.front();
      return stuck;
    }
    logits = masked;
  }
  const float* x = Process(logits, state);
  SampleResult result;
  result.token = p.greedy() ? Argmax(x, vocab_size_) : SampleRandom(x, state);
  if (p.logprobs) result.logprobs = Logprobs(logits, result.token, *p.logprobs);
  return result;
}

PositionLogprobs Sampler::Logprobs(const float* logits, int32_t chosen, int top_n) const {
  const int n = vocab_size_;
  const float max = MaxOf(logits, n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  const double log_z = max + std::log(sum);
  auto logprob = [&](int32_t id) { return static_cast<float>(logits[id] - log_z); };

  PositionLogprobs out;
  out.chosen.token_id = chosen;
  out.chosen.logprob = logprob(chosen);
  int rank = 1;
  for (int i = 0; i < n; ++i) rank += logits[i] > logits[chosen];
  out.chosen.rank = rank;
  if (top_n <= 0) return out;
  std::vector<std::pair<float, int32_t>> top;
  top.reserve(top_n + 1);
  using Entry = std::pair<float, int32_t>;
  auto better = [](const Entry& a, const Entry& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  for (int i = 0; i < n; ++i) {
    if (static_cast<int>(top.size()) == top_n && !better(Entry(logits[i], i), top.front()))
      continue;
    top.emplace_back(logits[i], i);
    std::push_heap(top.begin(), top.end(), better);
    if (static_cast<int>(top.size()) > top_n) {
      std::pop_heap(top.begin(), top.end(), better);
      top.pop_back();
    }
  }
  std::sort_heap(top.begin(), top.end(), better);
  for (size_t i = 0; i < top.size(); ++i) {
    out.top.push_back({top[i].second, logprob(top[i].second), static_cast<int>(i) + 1});
  }
  return out;
}

}  // namespace lantern::engine
